"""The DeMix sampler (shared/DEMIX_SPEC.md): MPNE + AdaMix on top of any base sampler.

The base sampler draws K candidates per positive; MPNE sorts them into marginal
pseudo-negatives (MPN) and true negatives (TN) against a threshold built from the scores of
the pattern's *train* positives; AdaMix mixes each candidate with a partner chosen by that
verdict. The maths lives in `demix_core.demix`; this module wires it onto the sampler contract
and holds the pieces the training-free lens (`demix_core.lens`) reuses.

Truth (valid/test/hidden facts) is never read here: the verdict must be made from train alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from demix_core.compile import maybe_compiled
from demix_core.data import KGIndex
from demix_core.demix import (
    adamix_label,
    beta_lambda,
    draw_random_partners,
    hard_partners,
    hard_picks,
    mpne_partition,
    mpne_tau,
    pattern_partners,
    require_rows,
)
from demix_core.errors import ConfigError
from demix_core.sampling.base import Negatives, Sampler, check_positive

LAMBDA_MODES = ("fixed", "beta")
PARTNERS = ("verdict", "random")


@dataclass(frozen=True)
class DemixOptions:
    base_sampler: str = "uniform"  # draws the K candidates (and chooses the corrupted side)
    mu: float = 1.0  # MPNE range: 0 = above the mean positive, 1 = above the weakest one
    alpha: float = 0.5  # AdaMix balance: weight of the candidate; 1 turns mixing off
    lambda_mode: str = "fixed"  # "fixed": weight alpha; "beta": lambda ~ Beta(alpha, alpha)
    pattern_cap: int = 32  # P: at most this many train positives of the pattern are scored
    partner_cap: int = 8  # C: a TN's partner comes from the C hardest other TNs of its row
    mpne: bool = True  # False: every candidate is a TN (ablation)
    adamix: bool = True  # False: no mixing, MPNs are dropped from the loss (ablation)
    partner: str = "verdict"  # "random": partners uniform over the K candidates (ablation)
    base_options: dict = field(default_factory=dict)  # forwarded to the base sampler


def validate(options: DemixOptions) -> None:
    """ConfigError naming the flag of the first option that makes no sense."""
    if options.mu < 0:
        raise ConfigError(f"--mu must be >= 0, got {options.mu}")
    if not 0.0 <= options.alpha <= 1.0:
        raise ConfigError(f"--alpha must be in [0, 1], got {options.alpha}")
    check_positive("pattern_cap", options.pattern_cap)
    check_positive("partner_cap", options.partner_cap)
    if options.lambda_mode not in LAMBDA_MODES:
        raise ConfigError(
            f"--lambda-mode must be one of {LAMBDA_MODES}, got {options.lambda_mode!r}"
        )
    if options.partner not in PARTNERS:
        raise ConfigError(f"--partner must be one of {PARTNERS}, got {options.partner!r}")
    if options.base_sampler == "demix":
        raise ConfigError("--base-sampler may not be 'demix' (DeMix refines another sampler)")


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
    pick = hard_picks(B, K, partner_cap, generator)  # (B, K) uniform, always drawn
    u = torch.rand(B, K, generator=generator, device=generator.device) if with_pattern else None
    return tuple(None if x is None else x.to(device) for x in (pick, u))


def partner_columns(
    is_mpn: Tensor,
    pattern_mask: Tensor | None,
    cand_scores: Tensor,
    partner_cap: int,
    draws: tuple[Tensor | None, ...],
    valid: Tensor | None = None,
) -> Tensor:
    """Each candidate's partner as a column `(B, K)` of `[candidates (K) | pattern (P)]`.

    verdict: an MPN gets a train positive of its pattern (column >= K, label 1), a TN one of
    the `partner_cap` hardest other *TNs* of its row (label 0; MPNs never, and a TN with no
    other TN is its own partner, i.e. unmixed). `valid` (B, K) bool: candidates the base
    sampler masked out are no partners either. `draws` from `partner_draws`; a one-element
    tuple holds partner="random"'s columns (any other candidate)."""
    if len(draws) == 1:
        return draws[0]
    pick, u = draws
    tn = ~is_mpn if valid is None else ~is_mpn & valid  # (B, K)
    hard = hard_partners(cand_scores, partner_cap, pick, tn)  # (B, K) in [0, K)
    if pattern_mask is None:
        return hard
    picks = pattern_partners(pattern_mask, u)  # (B, K) in [0, P)
    return torch.where(is_mpn, cand_scores.shape[1] + picks, hard)


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
    if pattern_mask is not None:
        require_rows(pattern_mask, "pattern_mask")
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
        tau = mpne_tau(pat_scores, pat_mask, mu)  # (B,)
        is_mpn = mpne_partition(cand_scores, tau)  # (B, K)
        summary = (pat_scores, pat_mask, tau)
    if draws is None:
        return is_mpn, None, None, stat_values(valid, is_mpn, cand_scores, None, summary)
    col = partner_columns(is_mpn, pat_mask, cand_scores, partner_cap, draws, valid)
    table = cand if pat_ids is None else torch.cat([cand, pat_ids], dim=1)  # (B, K + P)
    partner_ids = table.gather(1, col)  # (B, K)
    partner_label = (col >= cand.shape[1]).to(cand_scores.dtype)  # 1 = a train positive
    labels = adamix_label(partner_label, weight)  # (B, K)
    return is_mpn, partner_ids, labels, stat_values(valid, is_mpn, cand_scores, labels, summary)


class DemixSampler(Sampler):
    """DeMix over a base sampler: `sample` returns mixed embeddings `(B, K, De)` and labels."""

    name = "demix"
    Options = DemixOptions
    needs_model = True

    def __init__(self, kg, index, options=None, seed: int = 0, device="cpu"):
        super().__init__(kg, index, options, seed, device)
        validate(self.options)
        from demix_core.sampling.registry import SAMPLERS, build_sampler  # imports this module

        name = self.options.base_sampler
        if name not in SAMPLERS:
            raise ConfigError(
                f"--base-sampler: unknown sampler {name!r} (known: {', '.join(SAMPLERS)})"
            )
        try:
            self.base = build_sampler(
                name, kg, index, dict(self.options.base_options), seed, device
            )
        except ConfigError as exc:
            raise ConfigError(f"--base-options: {exc}") from None
        # The base draws with `seed`; DeMix's own draws use a derived seed so the two streams
        # are not the same random bits.
        self.generator.manual_seed((seed + 0x9E3779B9) % 2**63)

    @classmethod
    def check_model(cls, model) -> None:
        """ConfigError unless the model can score candidate ids and mixed embeddings."""
        if not callable(getattr(model, "score_candidates", None)) or not isinstance(
            getattr(model, "entity", None), Tensor
        ):
            kind = type(model).__name__
            raise ConfigError(
                f"--sampler demix needs a model with score_candidates and an entity table, "
                f"got {kind}"
            )

    def sample(self, model, pos: Tensor, step: int, k: int, filtered: bool = False) -> Negatives:
        self.check_model(model)
        opt = self.options
        base = self.base.sample(model, pos, step, k, filtered)
        if base.emb is not None:
            raise ConfigError(f"--base-sampler {opt.base_sampler!r} mixes embeddings itself")
        head, cand = base.head, base.ids  # (B,), (B, K)
        valid = base.mask if base.mask is not None else torch.ones_like(cand, dtype=torch.bool)
        pattern = None
        with torch.no_grad():
            if opt.mpne:
                pat_ids, pat_mask = pattern_positives(
                    self.index, pos, head, opt.pattern_cap, self.generator
                )  # (B, P)
                # candidates and pattern positives scored in one pass: (B, K + P)
                both = model.score_ids(pos, head, torch.cat([cand, pat_ids], dim=1))
                cand_scores, pat_scores = both[:, : cand.shape[1]], both[:, cand.shape[1] :]
                pattern = (pat_ids, pat_scores, pat_mask)
            else:
                cand_scores = model.score_ids(pos, head, cand)  # (B, K)
            draws, weight = None, opt.alpha
            if opt.adamix:
                draws = partner_draws(
                    tuple(cand.shape),
                    opt.mpne,
                    opt.partner_cap,
                    self.generator,
                    opt.partner,
                    cand.device,
                )
                weight = mix_weight(
                    cand.shape, opt.alpha, opt.lambda_mode, self.generator, cand.device
                )
            step_fn = maybe_compiled("demix_refine", refine, dynamic=False)
            is_mpn, partner_ids, labels, values = step_fn(
                cand, cand_scores, pattern, valid, draws, weight, opt.mu, opt.partner_cap
            )
        stats = stats_dict(values)
        if not opt.adamix:
            return Negatives(cand, head, mask=valid & ~is_mpn, mpn=is_mpn, stats=stats)
        # Labels by AdaMix's rule; the embeddings are mixed by the training step
        # (Negatives.partner/weight -> KGEModel.mixed_ent: one gather-and-mix pass and one CSR
        # backward for both rows), which equals adamix() on the gathered rows
        # (Negatives.mixed_embeddings; tests/test_training.py checks loss and gradients).
        return Negatives(
            cand,
            head,
            labels=labels,
            mask=base.mask,
            mpn=is_mpn,
            stats=stats,
            partner=partner_ids,
            weight=weight,
        )

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state(), "base": self.base.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.base.load_state_dict(state["base"])
