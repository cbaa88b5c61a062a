"""The training loop: sampler -> model -> loss -> Adam, with callbacks instead of prints.

A run folder holds `config.json`, `metrics.jsonl` (one JSON record per line, `kind` train,
eval or test), `checkpoint.pt` (latest, the documented format), `checkpoints/step_*.pt`
(kept for the app's step slider) and `train_state.pt` (optimizer and sampler state, so a
cancelled or interrupted run resumes where it stopped). Every file is written atomically.
"""

from __future__ import annotations

import functools
import json
import math
import os
import time
from pathlib import Path

import torch

from demix_core.compile import TRAIN_WORK, decide, maybe_compiled, notices, set_compile
from demix_core.config import TrainConfig
from demix_core.data import load_dataset
from demix_core.errors import DemixError
from demix_core.kg import KG, KGIndex
from demix_core.losses import kge_loss
from demix_core.models import KGEModel
from demix_core.run_state import TrainingRun, pick_device
from demix_core.validation import check_memory


class TrainingDiverged(DemixError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class Callback:
    """Hooks of a training run; subclass and override what you need."""

    def on_step(self, step: int, record: dict) -> None: ...

    def on_eval(self, step: int, record: dict) -> None: ...

    def on_checkpoint(self, step: int, path: Path) -> None: ...

    def should_stop(self) -> bool:
        return False


def _loss_core(scorer, gamma, anchor, rel, target, head, cand, labels, mask, subsample, adv):
    """Loss from gathered embeddings: the part worth compiling (one fused kernel forward and
    one backward). The gathers stay outside, so their backward is `models.rows`' CSR sum
    rather than a compiled scatter with atomics."""
    q = scorer.query(anchor, rel, head)  # (B, De)
    pos_score = scorer.match(q, target, gamma)  # (B,)
    neg_score = scorer.match(q[:, None, :], cand, gamma)  # (B, K)
    return kge_loss(pos_score, neg_score, labels, mask, adv, subsample)


def _step_loss(model, pos, head, neg, subsample, adv, reg_kind, reg_weight, core=_loss_core):
    """Loss of one step from positives `(B, 3)` and a sampler's `Negatives`."""
    anchor = model.ent(torch.where(head, pos[:, 2], pos[:, 0]))  # (B, De)
    target = model.ent(torch.where(head, pos[:, 0], pos[:, 2]))  # (B, De)
    cand = neg.embeddings(model)  # (B, K, De), mixed where the sampler names partners
    loss = core(
        model.scorer,
        model.gamma,
        anchor,
        model.rel(pos[:, 1]),
        target,
        head,
        cand,
        neg.labels,
        neg.mask,
        subsample,
        adv,
    )
    if reg_kind != "none" and reg_weight > 0:
        loss = loss + reg_weight * model.regularizer(pos, reg_kind)
    return loss


def truth_stats(index: KGIndex, pos: torch.Tensor, neg) -> dict:
    """How many candidates are really true facts (measured, never fed back to training).

    fn_rate: candidates that are known true facts absent from train (valid, test, hidden).
    train_rate: candidates that are train positives (an unfiltered draw may hit them).
    MPNE's precision and recall are over the candidates that are *not* train positives, as in
    the lens: MPNE rightly flags a sampled train positive, but finding it is no discovery, and
    on a dense KG (UMLS) such hits would otherwise count as false alarms.
    `guess_precision` is the precision of flagging those candidates at random."""
    tri = neg.triples(pos)
    is_true = index.truth.contains(tri[..., 0], tri[..., 1], tri[..., 2])
    is_train = index.train.contains(tri[..., 0], tri[..., 1], tri[..., 2])
    out = {"fn_rate": float(is_true.double().mean()), "train_rate": float(is_train.double().mean())}
    if neg.mpn is not None:
        from demix_core.demix import fn_precision_recall

        keep = ~is_train if neg.mask is None else neg.mask & ~is_train
        pr = fn_precision_recall(neg.mpn, is_true, keep)
        out.update(
            mpne_precision=pr["precision"], mpne_recall=pr["recall"], guess_precision=pr["fn_rate"]
        )
    return out


def _write(fh, record: dict) -> None:
    fh.write(json.dumps(record) + "\n")
    fh.flush()


def train(
    config: TrainConfig,
    out_dir: str | Path,
    callbacks=(),
    resume: bool = False,
    kg: KG | None = None,
) -> dict:
    """Train to `config.steps`; returns {"status": "done"|"cancelled", "step", ...test metrics}."""
    out = Path(out_dir)
    kg = kg or load_dataset(config.dataset)
    check_memory(config, kg.num_entities, kg.num_relations, pick_device(config.device))
    run = TrainingRun(
        config, out, kg
    )  # validates dataset, model and sampler before any file is written
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / "train_state.pt"
    if resume:
        if not state_path.exists():
            raise DemixError(f"{out}: nothing to resume (no train_state.pt)")
        try:
            run.load_state(torch.load(state_path, map_location=run.device, weights_only=True))
        except (RuntimeError, KeyError, ValueError, EOFError) as exc:
            raise DemixError(f"{state_path}: unreadable training state ({exc})") from None
    tmp = out / ".config.json.tmp"
    tmp.write_text(config.to_json())
    os.replace(tmp, out / "config.json")
    set_compile(decide(config.compile, train_work(config, run.model), threshold=TRAIN_WORK))
    loss_fn = make_loss_fn()
    with open(out / "metrics.jsonl", "a") as fh:
        return _loop(run, loss_fn, callbacks, fh)


def train_work(config: TrainConfig, model) -> float:
    """The run's scoring work for `--compile auto`: steps x batch x negatives x the floats of
    an entity row (2 x dim for RotatE, ComplEx and HAKE, whose rows are pairs per dim)."""
    return config.steps * config.batch_size * config.negatives * model.entity.shape[1]


def make_loss_fn():
    """The step's loss, with its core compiled when compilation is on."""
    return functools.partial(_step_loss, core=maybe_compiled("loss_core", _loss_core))


def train_step(run: TrainingRun, loss_fn, lap=None) -> tuple:
    """One optimisation step; returns (loss, positives, negatives) for logging. `lap(phase)`,
    if given, is called as each phase ends (batch, sample, forward, backward, optimizer):
    bench/demix_cost.py times them."""
    lap = lap or (lambda phase: None)
    cfg, model = run.config, run.model
    pos, sub = run.batch(run.step)
    lap("batch")
    neg = run.sampler.sample(model, pos, run.step, cfg.negatives, cfg.filter_negatives)
    lap("sample")
    loss = loss_fn(
        model, pos, neg.head, neg, sub, cfg.adv_temperature, cfg.regularization, cfg.reg_weight
    )
    lap("forward")
    if not torch.isfinite(loss):
        raise TrainingDiverged(
            f"loss became {loss.item()} at step {run.step}; try a smaller --lr. "
            "The last good checkpoint is kept."
        )
    run.opt.zero_grad(set_to_none=True)
    loss.backward()
    lap("backward")
    run.opt.step()
    lap("optimizer")
    run.step += 1
    return loss, pos, neg


def _loop(run: TrainingRun, loss_fn, callbacks, fh) -> dict:
    cfg, model = run.config, run.model
    t0, last_t, last_step = time.perf_counter() - run.seconds, time.perf_counter(), run.step
    for note in notices:
        _write(fh, {"kind": "notice", "step": run.step, "text": note})
    while run.step < cfg.steps:
        loss, pos, neg = train_step(run, loss_fn)
        run.seconds = time.perf_counter() - t0
        if run.step % cfg.log_every == 0 or run.step == cfg.steps:
            now = time.perf_counter()
            record = {
                "kind": "train",
                "step": run.step,
                "loss": loss.item(),
                "seconds": run.seconds,
                "triples_per_second": (run.step - last_step) * len(pos) / max(now - last_t, 1e-9),
                **neg.stats,
            }
            if cfg.measure_truth:
                record.update(truth_stats(run.index, pos, neg))
            last_t, last_step = now, run.step
            run.check_folder()
            _write(fh, record)
            for cb in callbacks:
                cb.on_step(run.step, record)
        if cfg.eval_every and run.step % cfg.eval_every == 0 and run.step < cfg.steps:
            paused = time.perf_counter()
            stop = _validate(run, callbacks, fh)
            # training seconds leave evaluation out: the same run with or without evaluations
            # reports the same time, and a time budget buys training, not validation
            t0, last_t = t0 + time.perf_counter() - paused, last_t + time.perf_counter() - paused
            if stop:
                break
        elif cfg.checkpoint_every and run.step % cfg.checkpoint_every == 0:
            run.save(callbacks, keep=True)
        if cfg.time_budget and run.seconds >= cfg.time_budget:
            break  # equal wall-clock budgets: stop here and evaluate as if done
        if any(cb.should_stop() for cb in callbacks):
            run.save(callbacks, keep=True)
            return {"status": "cancelled", "step": run.step}
    if cfg.early_stopping and run.best[1] and run.best[1] != run.step:
        best = torch.load(run.out / "checkpoints" / f"step_{run.best[1]:07d}.pt", weights_only=True)
        with torch.no_grad():
            fresh = KGEModel.from_export(best).to(run.device)
            model.load_state_dict(fresh.state_dict())  # every parameter (HAKE's weights too)
    run.save(callbacks, keep=True)
    test = run.evaluate("test")
    result = {k: v for k, v in test.items() if not isinstance(v, dict)}
    train_seconds = run.seconds
    result.update(
        status="done",
        step=run.step,
        steps=run.step,
        train_seconds=train_seconds,
        triples_per_second=run.step
        * min(cfg.batch_size, len(run.train))
        / max(train_seconds, 1e-9),
    )
    _write(fh, {"kind": "test", "step": run.step, "seconds": run.seconds, **result})
    return result


def _validate(run: TrainingRun, callbacks, fh) -> bool:
    """Evaluate on valid, keep a checkpoint; True when early stopping says stop."""
    metrics = run.evaluate("valid")
    record = {
        "kind": "eval",
        "split": "valid",
        "step": run.step,
        "seconds": run.seconds,
        **{k: v for k, v in metrics.items() if not isinstance(v, dict)},
    }
    _write(fh, record)
    for cb in callbacks:
        cb.on_eval(run.step, record)
    run.save(callbacks, keep=True)
    if metrics["mrr"] > run.best[0] or math.isnan(run.best[0]):
        run.best = (metrics["mrr"], run.step)
    patience = run.config.early_stopping
    return bool(patience) and (run.step - run.best[1]) >= patience * run.config.eval_every
