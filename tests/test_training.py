import json

import pytest
import torch

import demix_core.training as training
from demix_core.callbacks import Recorder
from demix_core.checkpoint import load_checkpoint, model_from_checkpoint
from demix_core.config import TrainConfig, make_config
from demix_core.data import load_dataset
from demix_core.errors import ConfigError
from demix_core.evaluation import evaluate
from demix_core.training import Callback, TrainingDiverged, train


def small(**kw):
    base = dict(
        dim=16,
        batch_size=128,
        negatives=16,
        steps=40,
        log_every=10,
        gamma=6.0,
        lr=5e-3,
        compile="off",
    )
    base.update(kw)
    return make_config("nations", "rotate", "uniform", **base)


def lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_training_learns_and_writes_the_contract_files(tmp_path):
    kg = load_dataset("nations")
    cfg = small(steps=150, lr=0.02, dim=32)
    untrained = evaluate(training.KGEModel("rotate", 14, 55, 32, 6.0), kg)["mrr"]
    result = train(cfg, tmp_path)
    assert result["status"] == "done" and result["mrr"] > untrained + 0.1
    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert set(ckpt) >= {
        "model",
        "gamma",
        "entity_embedding",
        "relation_embedding",
        "entities",
        "relations",
        "config",
    }
    assert ckpt["entity_embedding"].shape == (14, 64) and ckpt["relation_embedding"].shape == (
        55,
        32,
    )
    again = evaluate(model_from_checkpoint(load_checkpoint(tmp_path / "checkpoint.pt")), kg)
    assert again["mrr"] == pytest.approx(result["mrr"], abs=1e-9)
    assert TrainConfig.from_dict(json.loads((tmp_path / "config.json").read_text())) == cfg
    recs = lines(tmp_path / "metrics.jsonl")
    assert [r["step"] for r in recs if r["kind"] == "train"] == list(range(10, 151, 10))
    assert recs[-1]["kind"] == "test" and 0 <= recs[0]["fn_rate"] <= 1


def test_seeded_runs_are_identical_and_resume_continues_exactly(tmp_path):
    full = train(small(steps=40), tmp_path / "a")
    same = train(small(steps=40), tmp_path / "b")
    assert full["mrr"] == same["mrr"]

    class StopAt(Callback):
        def should_stop(self):
            return self.step >= 20

        def on_step(self, step, record):
            self.step = step

    stopper = StopAt()
    stopper.step = 0
    part = train(small(steps=40), tmp_path / "c", callbacks=[stopper])
    assert part == {"status": "cancelled", "step": 20}
    resumed = train(small(steps=40), tmp_path / "c", resume=True)
    assert resumed["mrr"] == full["mrr"]
    steps = [r["step"] for r in lines(tmp_path / "c" / "metrics.jsonl") if r["kind"] == "train"]
    assert steps == [10, 20, 30, 40]


def test_divergence_stops_with_a_message_and_keeps_the_checkpoint(tmp_path, monkeypatch):
    real = training._step_loss
    calls = {"n": 0}

    def flaky(*args, **kw):
        calls["n"] += 1
        loss = real(*args, **kw)
        return loss * float("nan") if calls["n"] > 25 else loss

    monkeypatch.setattr(training, "_step_loss", flaky)
    with pytest.raises(TrainingDiverged, match="at step 25"):
        train(small(steps=40, eval_every=20), tmp_path)
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == 20


def test_callbacks_and_eval_records(tmp_path):
    rec = Recorder()
    train(small(steps=40, eval_every=20), tmp_path, callbacks=[rec])
    assert [r["step"] for r in rec.evals] == [20]
    assert (tmp_path / "checkpoints" / "step_0000020.pt").exists()


def test_training_seconds_leave_validation_out(tmp_path, monkeypatch):
    """A slow validation (1 s each, four of them) must not count as training time: the
    reported seconds of a 40-step Nations run stay below what the validations alone took."""
    import time

    from demix_core.run_state import TrainingRun

    real = TrainingRun.evaluate

    def slow(self, split):
        if split == "valid":
            time.sleep(1.0)
        return real(self, split)

    monkeypatch.setattr(TrainingRun, "evaluate", slow)
    rec = Recorder()
    result = train(small(steps=40, eval_every=8), tmp_path, callbacks=[rec])
    assert [r["step"] for r in rec.evals] == [8, 16, 24, 32]
    assert 0 < result["train_seconds"] < 4.0  # four validations slept 4 s
    assert [r["seconds"] for r in rec.evals] == sorted(r["seconds"] for r in rec.evals)


@pytest.mark.parametrize(
    "field,value,msg",
    [
        ("dim", -1, "--dim must be >= 1"),
        ("steps", 0, "--steps must be >= 1"),
        ("lr", 0.0, "--lr must be > 0"),
        ("regularization", "x", "--regularization"),
    ],
)
def test_nonsense_config_is_rejected(field, value, msg):
    with pytest.raises(ConfigError, match=msg):
        small(**{field: value})


def test_unknown_config_key():
    with pytest.raises(ConfigError, match="unknown key"):
        TrainConfig.from_dict({"dataset": "nations", "nope": 1})


def test_batches_are_epochs_of_a_seeded_permutation_in_any_call_order(tmp_path):
    run = training.TrainingRun(small(seed=4), tmp_path, None)
    n, b = len(run.train), 128
    per_epoch = n // b  # Nations: 1592 train triples -> 12 batches per epoch

    def expected(step):
        epoch, i = divmod(step, per_epoch)
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(4 * 1_000_003 + epoch))
        return run.train[perm[i * b : (i + 1) * b]]

    for step in (5, 0, 11, 12, 30, 3, 12, 100, 99):  # across epochs, backwards, repeated
        assert torch.equal(run.batch(step)[0], expected(step)), step
    epochs = [run.batch(e * per_epoch)[0] for e in range(2)]
    assert not torch.equal(epochs[0], epochs[1])


def test_batch_larger_than_train_set_works(tmp_path):
    out = train(
        make_config(
            "synthetic:entities=40,hidden=0.2",
            "transe",
            steps=3,
            batch_size=100000,
            dim=4,
            negatives=4,
            compile="off",
        ),
        tmp_path,
    )
    assert out["status"] == "done"


@pytest.mark.parametrize("model", ["transe", "distmult", "complex"])
@pytest.mark.parametrize("sampler", ["uniform", "bernoulli"])
def test_every_model_trains_with_each_base_sampler(tmp_path, model, sampler):
    cfg = make_config(
        "nations",
        model,
        sampler,
        dim=8,
        steps=20,
        batch_size=64,
        negatives=8,
        log_every=5,
        compile="off",
        filter_negatives=True,
        subsampling=True,
    )
    assert train(cfg, tmp_path)["status"] == "done"


def test_fused_mixing_in_the_loss_equals_adamix_embeddings():
    """The step mixes e(ids) and e(partner) inside the loss kernel; it must give the loss
    (and gradients) of scoring the adamix() embeddings directly."""
    from demix_core.demix import adamix
    from demix_core.kg import KGIndex
    from demix_core.sampling import build_sampler

    kg = load_dataset("nations")
    model = training.KGEModel("rotate", kg.num_entities, kg.num_relations, 8, 6.0)
    sampler = build_sampler("demix", kg, KGIndex.build(kg), {"alpha": 0.3}, 0, "cpu")
    pos = kg.train[:64]
    neg = sampler.sample(model, pos, 0, 16)
    assert neg.partner is not None
    fused = training._step_loss(model, pos, neg.head, neg, None, 1.0, "none", 0.0)
    (g_fused,) = torch.autograd.grad(fused, model.entity)
    head = neg.head
    cand, _ = adamix(model.entity[neg.ids], model.entity[neg.partner], neg.labels, 0.3)
    plain = training._loss_core(
        model.scorer,
        model.gamma,
        model.entity[torch.where(head, pos[:, 2], pos[:, 0])],
        model.rel(pos[:, 1]),
        model.entity[torch.where(head, pos[:, 0], pos[:, 2])],
        head,
        cand,
        neg.labels,
        neg.mask,
        None,
        1.0,
    )
    (g_plain,) = torch.autograd.grad(plain, model.entity)
    assert fused.item() == pytest.approx(plain.item(), rel=1e-6)
    assert torch.allclose(g_fused, g_plain, atol=1e-7)


def test_truth_stats_leave_sampled_train_positives_out_of_mpne_precision(tiny_kg):
    from demix_core.kg import KGIndex
    from demix_core.sampling.base import Negatives

    index = KGIndex.build(tiny_kg)
    pos = torch.tensor([[0, 0, 1]])  # query (0, r0, ?), tails corrupted
    # candidates: 2 = train positive (0 r0 2), 3 = test fact (0 r0 3), 4 and 5 = unknown
    neg = Negatives(
        ids=torch.tensor([[2, 3, 4, 5]]),
        head=torch.tensor([False]),
        mpn=torch.tensor([[True, True, True, False]]),
    )
    stats = training.truth_stats(index, pos, neg)
    # over all four: one known true fact, one train positive
    assert stats["fn_rate"] == 1 / 4 and stats["train_rate"] == 1 / 4
    # over the three that are not train positives: MPN {3, 4} holds the one true fact 3
    assert stats["mpne_precision"] == 1 / 2 and stats["mpne_recall"] == 1.0
    assert stats["guess_precision"] == 1 / 3


def test_auto_compile_counts_the_floats_of_an_entity_row():
    """Nations' RotatE row (1500 x 512 x 64 x dim 200, complex: 400 floats a row) is past the
    threshold, its TransE row (dim 100, real) is not, and HAKE counts like RotatE."""
    from demix_core.compile import TRAIN_WORK, decide
    from demix_core.models import KGEModel
    from demix_core.training import train_work

    def compiles(model_name: str) -> bool:
        cfg = make_config("nations", model_name, "uniform")
        model = KGEModel(model_name, 14, 55, cfg.dim, cfg.gamma)
        assert train_work(cfg, model) == cfg.steps * 512 * 64 * model.entity.shape[1]
        return decide("auto", train_work(cfg, model), TRAIN_WORK)

    assert compiles("rotate") and compiles("hake") and not compiles("transe")
