"""The DeMix sampler (shared/DEMIX_SPEC.md): MPNE + AdaMix on top of any base sampler.

The base sampler draws K candidates per positive; MPNE sorts them into marginal
pseudo-negatives (MPN) and true negatives (TN) against a threshold built from the scores of
the pattern's *train* positives; AdaMix mixes each candidate with a partner chosen by that
verdict. The maths lives in `demix_core.demix`, its wiring onto batches in `demix_steps`;
this module holds the options and the sampler.

Truth (valid/test/hidden facts) is never read here: the verdict must be made from train alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from demix_core.compile import maybe_compiled
from demix_core.errors import ConfigError
from demix_core.sampling.base import Negatives, Sampler, check_positive
from demix_core.sampling.demix_steps import (
    mix_weight,
    partner_draws,
    pattern_positives,
    refine,
    stats_dict,
)
from demix_core.validation import check_choice

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

    def __post_init__(self) -> None:
        """ConfigError naming the first option that makes no sense (`field` set). Whether
        `base_sampler` can be a base is the registry's to say (`registry.base_class`)."""
        check_positive("mu", self.mu, 0)
        if not 0.0 <= self.alpha <= 1.0:
            raise ConfigError(f"--alpha must be in [0, 1], got {self.alpha}", field="alpha")
        check_positive("pattern_cap", self.pattern_cap)
        check_positive("partner_cap", self.partner_cap)
        check_choice("lambda_mode", self.lambda_mode, LAMBDA_MODES)
        check_choice("partner", self.partner, PARTNERS)


class DemixSampler(Sampler):
    """DeMix over a base sampler: `sample` returns each candidate's AdaMix partner and
    weight, soft labels and MPNE's verdict."""

    name = "demix"
    Options = DemixOptions
    needs_model = True

    can_be_base = False  # it mixes: a refiner could not read its candidates alone

    def __init__(self, kg, index, options=None, seed: int = 0, device="cpu", base=None):
        """`base`: the base sampler, built by `registry.build_sampler` from the options."""
        super().__init__(kg, index, options, seed, device)
        if base is None:
            raise ConfigError("DeMix needs its base sampler: build it with build_sampler")
        self.base = base
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
        # Labels by AdaMix's rule; the training step mixes the embeddings
        # (Negatives.embeddings -> kernels.mixed_rows, equal to demix.adamix on the rows).
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
