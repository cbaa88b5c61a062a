"""The DeMix lens: what DeMix would do to a batch, for a trained model, without training.

`demix_lens` does the slow part once (draw candidates, score them and the pattern positives)
and keeps every embedding that a new slider value needs. `repartition` (new mu) and `remix`
(new alpha / lambda mode / seed) then recompute thresholds, verdicts, partners and mixes from
those tensors alone; the only scoring left is of the mixed embeddings, done with the model's
score function on stored query vectors. A result is plain tensors and scalars, so it pickles
(and caches) without the model.

Unlike the sampler, the lens also reads the truth (valid + test + hidden facts) to mark each
candidate as a real false negative or not: a measurement for display, never an input.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor

from demix_core.demix import adamix, fn_precision_recall, mpne_partition, mpne_threshold
from demix_core.errors import ConfigError
from demix_core.kg import KG, KGIndex, corrupt
from demix_core.models import SCORERS
from demix_core.sampling.demix import DemixOptions, DemixSampler
from demix_core.sampling.demix_steps import draw_partners, mix_weight, pattern_positives
from demix_core.sampling.registry import base_class, build_sampler

SIDES = ("tail", "head", "both")


@dataclass
class LensResult:
    """B rows (2x the positives for side "both": tail rows first), K candidates, P pattern
    positives per row, De entity width. Labels: 1 = train positive of the pattern."""

    positives: Tensor  # (B, 3) the positive of each row
    head: Tensor  # (B,) bool, True = the head is corrupted
    candidates: Tensor  # (B, K) candidate ids from the base sampler
    cand_scores: Tensor  # (B, K)
    pattern_ids: Tensor  # (B, P) train answers T_q of the row's pattern (padded)
    pattern_mask: Tensor  # (B, P) bool, True = a real answer
    pattern_scores: Tensor  # (B, P)
    tau: Tensor  # (B,) MPNE threshold
    is_mpn: Tensor  # (B, K) bool, MPNE verdict
    partner_ids: Tensor  # (B, K) entity id of each candidate's AdaMix partner
    partner_label: Tensor  # (B, K) float, 1 = partner from T_q (MPN), 0 = a hard TN of the row
    mixed_emb: Tensor  # (B, K, De)
    mixed_label: Tensor  # (B, K) soft label of the mixed triple
    mixed_scores: Tensor  # (B, K) model score of the mixed triple
    is_true: Tensor  # (B, K) bool, candidate is a known true fact missing from train
    is_train_positive: Tensor  # (B, K) bool, candidate triple is in train (unfiltered draw)
    query: Tensor  # (B, De) the model's query vector for each row
    emb_table: Tensor  # (B, K + P, De) embeddings of [candidates | pattern positives]
    model_name: str
    gamma: float
    mu: float
    alpha: float
    lambda_mode: str
    seed: int
    partner_cap: int

    @property
    def cand_emb(self) -> Tensor:  # (B, K, De)
        return self.emb_table[:, : self.candidates.shape[1]]

    @property
    def pattern_emb(self) -> Tensor:  # (B, P, De)
        return self.emb_table[:, self.candidates.shape[1] :]


def demix_lens(
    model,
    kg: KG,
    positives: Tensor,
    *,
    mu: float,
    alpha: float,
    k: int = 64,
    base_sampler: str = "uniform",
    side: str = "tail",
    pattern_cap: int = 32,
    partner_cap: int = 8,
    lambda_mode: str = "fixed",
    seed: int = 0,
    index: KGIndex | None = None,
    base_options: dict | None = None,
) -> LensResult:
    """Draw K candidates per positive `(B, 3)` with the base sampler (its `draw`, on the side
    asked for), score them and the pattern positives, then partition and mix them."""
    DemixOptions(  # ConfigError, with its field, for a value the sampler would refuse
        base_sampler=base_sampler,
        mu=mu,
        alpha=alpha,
        lambda_mode=lambda_mode,
        pattern_cap=pattern_cap,
        partner_cap=partner_cap,
    )
    base_class("demix", base_sampler)
    if side not in SIDES:
        raise ConfigError(f"--side must be one of {SIDES}, got {side!r}", field="side")
    if k < 1:
        raise ConfigError(f"--k must be >= 1, got {k}", field="k")
    DemixSampler.check_model(model)
    device = model.entity.device
    index = index if index is not None else KGIndex.build(kg).to(device)
    base = build_sampler(base_sampler, kg, index, base_options or {}, seed, device)
    pos, head = _rows(positives.to(device), side)  # (B, 3), (B,)
    cand = base.draw(pos, head, k)  # (B, K)
    pat_ids, pat_mask = pattern_positives(index, pos, head, pattern_cap, base.generator)
    h, r, t = corrupt(pos, cand, head).unbind(-1)  # (B, K) each
    with torch.no_grad():
        query = model.query(pos, head)  # (B, De)
        table = model.entity[torch.cat([cand, pat_ids], dim=1)]  # (B, K + P, De)
        scores = model.match(query[:, None, :], table)  # (B, K + P)
    tau = mpne_threshold(scores[:, k:], pat_mask, mu)  # (B,)
    empty = torch.empty(0)  # partner and mix fields: filled in by remix below
    result = LensResult(
        positives=pos,
        head=head,
        candidates=cand,
        cand_scores=scores[:, :k],
        pattern_ids=pat_ids,
        pattern_mask=pat_mask,
        pattern_scores=scores[:, k:],
        tau=tau,
        is_mpn=mpne_partition(scores[:, :k], tau),
        partner_ids=empty.long(),
        partner_label=empty,
        mixed_emb=empty,
        mixed_label=empty,
        mixed_scores=empty,
        is_true=index.truth.contains(h, r, t),
        is_train_positive=index.train.contains(h, r, t),
        query=query,
        emb_table=table,
        model_name=model.name,
        gamma=float(model.gamma),
        mu=mu,
        alpha=alpha,
        lambda_mode=lambda_mode,
        seed=seed,
        partner_cap=partner_cap,
    )
    return remix(result, alpha, lambda_mode, seed)


def _rows(pos: Tensor, side: str) -> tuple[Tensor, Tensor]:
    """Positives and corrupted side per row; "both" stacks tail rows, then head rows."""
    tail = torch.zeros(len(pos), dtype=torch.bool, device=pos.device)
    if side == "both":
        return torch.cat([pos, pos]), torch.cat([tail, ~tail])
    return pos, ~tail if side == "head" else tail


def _partition(result: LensResult, mu: float) -> tuple[Tensor, Tensor]:
    DemixOptions(mu=mu)  # ConfigError for a mu the sampler would refuse
    tau = mpne_threshold(result.pattern_scores, result.pattern_mask, mu)  # (B,)
    return tau, mpne_partition(result.cand_scores, tau)  # (B,), (B, K)


def repartition(result: LensResult, mu: float) -> LensResult:
    """New threshold and verdicts for `mu`; partners and mixes follow (same alpha, seed).

    The random draws do not depend on the verdicts (see `draw_partners`), so only the
    candidates whose partner changed (a flipped verdict, or a TN whose row's TN pool
    changed) get a new mix and score."""
    tau, is_mpn = _partition(result, mu)
    col, weight = _draws(result, is_mpn, result.alpha, result.lambda_mode, result.seed)
    partner_ids, partner_label = _partners(result, col)  # (B, K) each
    changed = (is_mpn != result.is_mpn) | (partner_ids != result.partner_ids)  # (B, K)
    r, c = changed.nonzero(as_tuple=True)  # (n,), (n,)
    table = result.emb_table
    w = weight[r, c] if isinstance(weight, Tensor) else weight  # (n,) or float
    emb, label = adamix(table[r, c], table[r, col[r, c]], partner_label[r, c], w)  # (n, De)
    scores = _score(result, result.query[r], emb)  # (n,)
    return replace(
        result,
        partner_ids=partner_ids,
        partner_label=partner_label,
        mixed_emb=result.mixed_emb.index_put((r, c), emb),
        mixed_label=result.mixed_label.index_put((r, c), label),
        mixed_scores=result.mixed_scores.index_put((r, c), scores),
        mu=mu,
        tau=tau,
        is_mpn=is_mpn,
    )


def remix(
    result: LensResult, alpha: float, lambda_mode: str = "fixed", seed: int = 0
) -> LensResult:
    """New partners and mixes for the current verdicts. With the same seed the partner draws
    are the same, so moving alpha only moves the mixed points along their segments."""
    options = DemixOptions(alpha=alpha, lambda_mode=lambda_mode)  # ConfigError if invalid
    col, weight = _draws(result, result.is_mpn, options.alpha, options.lambda_mode, seed)
    partner_ids, partner_label = _partners(result, col)  # (B, K) each
    rows = torch.arange(len(col), device=col.device)[:, None]  # (B, 1)
    partner_emb = result.emb_table[rows, col]  # (B, K, De)
    emb, label = adamix(result.cand_emb, partner_emb, partner_label, weight)  # (B, K, De)
    return replace(
        result,
        partner_ids=partner_ids,
        partner_label=partner_label,
        mixed_emb=emb,
        mixed_label=label,
        mixed_scores=_score(result, result.query[:, None, :], emb),
        alpha=alpha,
        lambda_mode=lambda_mode,
        seed=seed,
    )


def _draws(
    result: LensResult, is_mpn: Tensor, alpha: float, lambda_mode: str, seed: int
) -> tuple[Tensor, float | Tensor]:
    """Partner columns `(B, K)` into `[candidates | pattern]` and the mixing weight, drawn
    from a fresh generator so that the same seed gives the same draws."""
    device = result.cand_scores.device
    generator = torch.Generator(device=device).manual_seed(seed)
    col = draw_partners(
        is_mpn, result.pattern_mask, result.cand_scores, result.partner_cap, generator
    )
    return col, mix_weight(tuple(col.shape), alpha, lambda_mode, generator, device)


def _partners(result: LensResult, col: Tensor) -> tuple[Tensor, Tensor]:
    """Partner ids `(B, K)` of the columns `col` and their labels (1 = from T_q)."""
    ids = torch.cat([result.candidates, result.pattern_ids], dim=1)  # (B, K + P)
    label = (col >= result.candidates.shape[1]).to(result.cand_scores.dtype)  # (B, K)
    return ids.gather(1, col), label


def _score(result: LensResult, query: Tensor, emb: Tensor) -> Tensor:
    """The model's score of mixed embeddings `(..., De)` against stored queries."""
    return SCORERS[result.model_name].match(query, emb, result.gamma)


def pr_curve(result: LensResult, mus) -> list[tuple[float, float, float, int]]:
    """(mu, precision, recall, n_mpn) of MPNE at spotting real false negatives, per mu.

    Candidates that are train positives are left out: they are known, not false negatives
    waiting to be found (a filtered sampler would not draw them)."""
    keep = ~result.is_train_positive
    curve = []
    for mu in mus:
        _, is_mpn = _partition(result, float(mu))
        pr = fn_precision_recall(is_mpn, result.is_true, keep)
        curve.append((float(mu), pr["precision"], pr["recall"], pr["n_mpn"]))
    return curve
