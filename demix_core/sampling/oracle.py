"""The oracle sampler: a base sampler's candidates, edited with the *known* truth.

Not a training method (no real sampler can see the truth): a measuring device for the question
"how much do false negatives cost?" (the DeMix paper's Figure 1b, `experiment fn-cost`).
- `oracle_mode="filter"`: candidates that are known true facts (valid + test + hidden) are
  redrawn (masked out if still true after 8 redraws), the bound any denoising sampler could
  reach;
- `oracle_mode="leak"`: each candidate is replaced, with probability `leak_rate`, by a known
  true answer of its pattern (where the pattern has one), so false negatives are forced in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from demix_core.demix import pattern_partners
from demix_core.errors import ConfigError
from demix_core.kg import PatternIndex, corrupt
from demix_core.sampling.base import Negatives, Sampler
from demix_core.validation import check_choice

ORACLE_MODES = ("filter", "leak")


@dataclass(frozen=True)
class OracleOptions:
    base_sampler: str = "uniform"  # uniform | bernoulli: draws the candidates the truth edits
    oracle_mode: str = "filter"  # filter: known true facts leave; leak: they are forced in
    leak_rate: float = 0.05  # leak: probability that a candidate becomes a true answer
    base_options: dict = field(default_factory=dict)  # forwarded to the base sampler

    def __post_init__(self) -> None:
        check_choice("oracle_mode", self.oracle_mode, ORACLE_MODES)
        if not 0.0 <= self.leak_rate <= 1.0:
            raise ConfigError(
                f"--leak-rate must be in [0, 1], got {self.leak_rate}", field="leak_rate"
            )


class OracleSampler(Sampler):
    name = "oracle"
    Options = OracleOptions
    bases = ("uniform", "bernoulli")  # the truth edits plain draws

    def __init__(self, kg, index, options=None, seed: int = 0, device="cpu", base=None):
        """`base`: the base sampler, built by `registry.build_sampler` from the options."""
        super().__init__(kg, index, options, seed, device)
        if base is None:
            raise ConfigError("the oracle needs its base sampler: build it with build_sampler")
        self.base = base
        self.needs_model = self.base.needs_model
        self.generator.manual_seed((seed + 0x5BD1E995) % 2**63)
        self._truth: dict[str, PatternIndex] = {}

    def truth_answers(self, side: str) -> PatternIndex:
        """Known true answers absent from train, per pattern (built on first use)."""
        if side not in self._truth:
            E, R = self.kg.num_entities, self.kg.num_relations
            self._truth[side] = PatternIndex(self.kg.truth(), E, R, side).to(self.device)
        return self._truth[side]

    def without_truth(
        self, pos: Tensor, head: Tensor, cand: Tensor, filtered: bool, rounds: int = 8
    ) -> tuple[Tensor, Tensor]:
        """Redraw candidates that are known true facts (and train positives when `filtered`);
        `(ids (B, K), mask (B, K))`, mask False for the few still bad after `rounds`."""

        def bad(c: Tensor) -> Tensor:
            tri = corrupt(pos, c, head)  # (B, K, 3)
            out = self.index.truth.contains(tri[..., 0], tri[..., 1], tri[..., 2])
            return out | self.is_train_positive(pos, head, c) if filtered else out

        for _ in range(rounds):
            wrong = bad(cand)
            if not wrong.any():
                break
            rows = wrong.any(1).nonzero().squeeze(1)
            fresh = self.base.draw(pos[rows], head[rows], cand.shape[1])
            cand = cand.clone()
            cand[rows] = torch.where(wrong[rows], fresh, cand[rows])
        return cand, ~bad(cand)

    def sample(self, model, pos: Tensor, step: int, k: int, filtered: bool = False) -> Negatives:
        base = self.base.sample(model, pos, step, k, filtered)
        ids, head = base.ids, base.head  # (B, K), (B,)
        if self.options.oracle_mode == "filter":
            ids, mask = self.without_truth(pos, head, ids, filtered)
            return Negatives(ids, head, mask=mask)
        t_ids, t_mask = self.truth_answers("tail").gather(
            self.truth_answers("tail").key(pos), k, self.generator
        )  # (B, k)
        h_ids, h_mask = self.truth_answers("head").gather(
            self.truth_answers("head").key(pos), k, self.generator
        )
        answers = torch.where(head[:, None], h_ids, t_ids)  # (B, k)
        has = torch.where(head[:, None], h_mask, t_mask)  # (B, k)
        some = has.any(dim=1)  # (B,) rows whose pattern has a known true answer
        has = has | ~some[:, None]  # pattern_partners needs one True per row (unused there)
        u = torch.rand(ids.shape, generator=self.generator, device=self.device)
        pick = answers.gather(1, pattern_partners(has, u))  # (B, K)
        leak = torch.rand(ids.shape, generator=self.generator, device=self.device)
        leak = (leak < self.options.leak_rate) & some[:, None]
        return Negatives(torch.where(leak, pick, ids), head, mask=base.mask)

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state(), "base": self.base.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.base.load_state_dict(state["base"])
