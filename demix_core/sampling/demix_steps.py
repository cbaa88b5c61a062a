"""The steps of a DeMix sampler's draw once the base sampler has drawn (shared/DEMIX_SPEC.md):
the pattern's train positives, the partner draws, the partner rule and `refine`, which
runs MPNE and AdaMix's labels on the scores in one graph-friendly pass. The formulas are
`demix_core.demix`'s; this module wires them onto batches and holds the pieces the
training-free lens (`demix_core.lens`) reuses.

Truth (valid/test/hidden facts) is never read here: the verdict must be made from train alone.
"""

from __future__ import annotations

import torch
from torch import Tensor

from demix_core import kernels
from demix_core.demix import (
    adamix_label,
    beta_lambda,
    draw_random_partners,
    hard_partners,
    mpne_partition,
    mpne_threshold,
    pattern_partners,
)
from demix_core.kg import KGIndex


def pattern_positives(
    index: KGIndex, pos: Tensor, head: Tensor, cap: int, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Train answers T_q of each row's pattern, ids `(B, P)` and mask `(B, P)`, P = cap.

    Rows with head False use `(h, r, ?)`, head True `(?, r, t)`; both gathers run on the whole
    batch (cheap: B x P) and `where` picks per row. A positive that is not a train triple and
    whose pattern has no train answer falls back to its own answer, so every row has one."""
    t_ids, t_mask = index.tails.gather(index.tails.key(pos), cap, generator)  # (B, P)
    h_ids, h_mask = index.heads.gather(index.heads.key(pos), cap, generator)  # (B, P)
    ids = torch.where(head[:, None], h_ids, t_ids)
    mask = torch.where(head[:, None], h_mask, t_mask)
    empty = ~mask[:, 0]  # gather fills from column 0, so an empty row is False there
    ids[:, 0] = torch.where(empty, torch.where(head, pos[:, 0], pos[:, 2]), ids[:, 0])
    mask[:, 0] |= empty
    return ids, mask


def partner_draws(
    shape: tuple[int, int],
    with_pattern: bool,
    partner_cap: int,
    generator: torch.Generator,
    partner: str = "verdict",
    device=None,
) -> tuple[Tensor | None, ...]:
    """The random numbers behind `partner_columns`, drawn from `generator` in a fixed order:
    `(pick, u)` for verdict partners (pick for the TN draw, u for the MPN one; u is None
    without MPNE), `(columns,)` for partner="random". None of them depends on a verdict."""
    B, K = shape
    device = generator.device if device is None else device
    if partner == "random":
        return (draw_random_partners(B, K, generator, device),)
    if partner_cap < 1:
        raise ValueError(f"C must be >= 1, got {partner_cap}")
    pick = torch.rand(B, K, generator=generator, device=generator.device)  # always drawn
    u = torch.rand(B, K, generator=generator, device=generator.device) if with_pattern else None
    return tuple(None if x is None else x.to(device) for x in (pick, u))


def partner_columns(
    is_mpn: Tensor,
    pattern_mask: Tensor | None,
    cand_scores: Tensor,
    partner_cap: int,
    draws: tuple[Tensor | None, ...],
    valid: Tensor | None = None,
    hard=hard_partners,
) -> Tensor:
    """Each candidate's partner as a column `(B, K)` of `[candidates (K) | pattern (P)]`.

    verdict: an MPN gets a train positive of its pattern (column >= K, label 1), a TN one of
    the `partner_cap` hardest other *TNs* of its row (label 0; MPNs never, and a TN with no
    other TN is its own partner, i.e. unmixed). `valid` (B, K) bool: candidates the base
    sampler masked out are no partners either. `draws` from `partner_draws`; a one-element
    tuple holds partner="random"'s columns (any other candidate). `hard`: the TN partner
    rule, `demix.hard_partners` or its fast form `kernels.hard_partners`."""
    if len(draws) == 1:
        return draws[0]
    pick, u = draws
    tn = ~is_mpn if valid is None else ~is_mpn & valid  # (B, K)
    tn_partner = hard(cand_scores, partner_cap, pick, tn)  # (B, K) in [0, K)
    if pattern_mask is None:
        return tn_partner
    picks = pattern_partners(pattern_mask, u)  # (B, K) in [0, P)
    return torch.where(is_mpn, cand_scores.shape[1] + picks, tn_partner)


def draw_partners(
    is_mpn: Tensor,
    pattern_mask: Tensor | None,
    cand_scores: Tensor,
    partner_cap: int,
    generator: torch.Generator,
    partner: str = "verdict",
) -> Tensor:
    """`partner_columns` with fresh draws. Both verdict draws are always made, so for a
    fixed generator state the draws never depend on the verdicts; the partners do, through
    which of the two each candidate takes and through which of its row are TNs."""
    draws = partner_draws(
        tuple(cand_scores.shape),
        pattern_mask is not None,
        partner_cap,
        generator,
        partner,
        cand_scores.device,
    )
    return partner_columns(is_mpn, pattern_mask, cand_scores, partner_cap, draws)


def mix_weight(
    shape: torch.Size | tuple[int, ...], alpha: float, lambda_mode: str, generator, device
) -> float | Tensor:
    """AdaMix weight of the candidate: alpha, or per-triple lambda ~ Beta(alpha, alpha)."""
    if lambda_mode == "beta":
        return beta_lambda(shape, alpha, generator).to(device)  # (B, K)
    return alpha


STATS = (
    "n_mpn",
    "n_tn",
    "tau_mean",
    "score_pos_mean",
    "score_mpn_mean",
    "score_tn_mean",
    "soft_label_mpn_mean",
)


def stat_values(
    valid: Tensor,
    is_mpn: Tensor,
    cand_scores: Tensor,
    labels: Tensor | None,
    pattern: tuple[Tensor, Tensor, Tensor] | None,
) -> Tensor:
    """Step diagnostics, one tensor `(7,)` in the order of `STATS`; means over no entries
    are NaN. `valid`, `is_mpn`, `cand_scores`, `labels`: (B, K); `pattern`: (scores (B, P),
    mask (B, P), tau (B,)), None when MPNE is off."""
    mpn, tn = is_mpn & valid, ~is_mpn & valid
    nan = cand_scores.new_tensor(float("nan"))

    def mean(x: Tensor | None, mask: Tensor | None) -> Tensor:
        if x is None or mask is None:
            return nan
        n = mask.sum()
        return torch.where(n > 0, torch.where(mask, x, 0.0).sum() / n.clamp(min=1), nan)

    pat_scores, pat_mask, tau = pattern if pattern is not None else (None, None, None)
    values = (
        mpn.sum(),
        tn.sum(),
        nan if tau is None else tau.mean(),
        mean(pat_scores, pat_mask),
        mean(cand_scores, mpn),
        mean(cand_scores, tn),
        mean(labels, mpn),
    )
    return torch.stack([v.to(nan.dtype) for v in values])


def stats_dict(values: Tensor) -> dict[str, float]:
    """`stat_values` as python numbers (one transfer), the counts as ints."""
    stats = dict(zip(STATS, values.tolist(), strict=True))
    stats["n_mpn"], stats["n_tn"] = int(stats["n_mpn"]), int(stats["n_tn"])
    return stats


def refine(
    cand: Tensor,
    cand_scores: Tensor,
    pattern: tuple[Tensor, Tensor, Tensor] | None,
    valid: Tensor,
    draws: tuple[Tensor | None, ...] | None,
    weight: float | Tensor,
    mu: float,
    partner_cap: int,
) -> tuple[Tensor, Tensor | None, Tensor | None, Tensor]:
    """Everything DeMix decides once the scores are in: MPNE's verdict, the AdaMix partners
    (ids `(B, K)`) and soft labels, and the diagnostics (`stat_values`). Deterministic (the
    draws come in from `partner_draws`) and free of host reads, so under compilation it is
    one graph instead of some forty small kernels.

    cand: ids (B, K); pattern: (ids (B, P), scores (B, P), mask (B, P)), None = MPNE off;
    draws None = AdaMix off (no partners, no labels)."""
    if pattern is None:
        is_mpn, summary, pat_ids, pat_mask = torch.zeros_like(valid), None, None, None
    else:
        pat_ids, pat_scores, pat_mask = pattern
        tau = mpne_threshold(pat_scores, pat_mask, mu)  # (B,)
        is_mpn = mpne_partition(cand_scores, tau)  # (B, K)
        summary = (pat_scores, pat_mask, tau)
    if draws is None:
        return is_mpn, None, None, stat_values(valid, is_mpn, cand_scores, None, summary)
    col = partner_columns(
        is_mpn, pat_mask, cand_scores, partner_cap, draws, valid, kernels.hard_partners
    )
    table = cand if pat_ids is None else torch.cat([cand, pat_ids], dim=1)  # (B, K + P)
    partner_ids = table.gather(1, col)  # (B, K)
    partner_label = (col >= cand.shape[1]).to(cand_scores.dtype)  # 1 = a train positive
    labels = adamix_label(partner_label, weight)  # (B, K)
    return is_mpn, partner_ids, labels, stat_values(valid, is_mpn, cand_scores, labels, summary)
