"""KGE score functions (TransE, DistMult, ComplEx, RotatE, HAKE) behind one `KGEModel`.

Every score is written as query/match: the kept entity and the relation make a query vector
`q`, and a candidate entity `c` is matched against it. Tail prediction `(h, r, ?)` and head
prediction `(?, r, t)` only differ in how `q` is built, so a batch may corrupt heads in some
rows and tails in others, and scoring K candidates `(B, K)` or all entities `(B, E)` is the
same `match` (a matrix product for the bilinear models). Higher score = more plausible.

Checkpoint contract (score as anyone can recompute it from the stored tensors):
TransE `gamma - ||h + r - t||_1`; DistMult `sum(h*r*t)`; ComplEx `Re(sum(h*r*conj(t)))` with
`[real | imag]` halves; RotatE `gamma - sum_i |h_i * exp(i*theta_i) - t_i|`, relation = theta;
HAKE in `demix_core/hake.py` (and the README).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from demix_core import hake
from demix_core.compile import compile_enabled, maybe_compiled
from demix_core.errors import CheckpointError, ConfigError
from demix_core.kernels import mixed_rows, rows


def _halves(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x.chunk(2, dim=-1)


def _cmul(a: torch.Tensor, b_re: torch.Tensor, b_im: torch.Tensor) -> torch.Tensor:
    """(a_re + i a_im) * (b_re + i b_im) on `[real | imag]` vectors."""
    a_re, a_im = _halves(a)
    return torch.cat([a_re * b_re - a_im * b_im, a_re * b_im + a_im * b_re], dim=-1)


class TransE:
    complex_entities, distance = False, True
    ent_width, rel_width = 1, 1  # entity and relation sizes in units of `dim`

    @staticmethod
    def query(anchor: torch.Tensor, rel: torch.Tensor, head: torch.Tensor) -> torch.Tensor:
        return torch.where(head[..., None], anchor - rel, anchor + rel)  # t - r | h + r

    @staticmethod
    def match(q: torch.Tensor, c: torch.Tensor, gamma: float) -> torch.Tensor:
        return gamma - (c - q).abs().sum(-1)


class DistMult:
    complex_entities, distance = False, False
    ent_width, rel_width = 1, 1

    @staticmethod
    def query(anchor: torch.Tensor, rel: torch.Tensor, head: torch.Tensor) -> torch.Tensor:
        return anchor * rel  # symmetric: the same query for both sides

    @staticmethod
    def match(q: torch.Tensor, c: torch.Tensor, gamma: float) -> torch.Tensor:
        return (q * c).sum(-1)


class ComplEx:
    complex_entities, distance = True, False
    ent_width, rel_width = 2, 2

    @staticmethod
    def query(anchor: torch.Tensor, rel: torch.Tensor, head: torch.Tensor) -> torch.Tensor:
        r_re, r_im = _halves(rel)
        # tail: q = h*r, score Re(q conj(t)); head: Re(h r conj(t)) = Re(conj(h) conj(r) t)
        sign = torch.where(head[..., None], -1.0, 1.0)
        return _cmul(anchor, r_re, sign * r_im)

    @staticmethod
    def match(q: torch.Tensor, c: torch.Tensor, gamma: float) -> torch.Tensor:
        return (q * c).sum(-1)  # q_re.c_re + q_im.c_im = Re(q conj(c))


class RotatE:
    complex_entities, distance = True, True
    ent_width, rel_width = 2, 1

    @staticmethod
    def query(anchor: torch.Tensor, phase: torch.Tensor, head: torch.Tensor) -> torch.Tensor:
        # tail: h * e^{i theta}; head: |h e^{i theta} - t| = |h - t e^{-i theta}|
        sign = torch.where(head[..., None], -1.0, 1.0)
        return _cmul(anchor, torch.cos(phase), sign * torch.sin(phase))

    @staticmethod
    def match(q: torch.Tensor, c: torch.Tensor, gamma: float) -> torch.Tensor:
        d_re, d_im = _halves(c - q)
        # clamp: the gradient of sqrt at an exact 0 is inf (NaN after the chain rule); below
        # 1e-30 it is 0 instead, and the score moves by at most 1e-15 per dimension
        return gamma - torch.sqrt((d_re * d_re + d_im * d_im).clamp_min(1e-30)).sum(-1)


SCORERS = {
    "transe": TransE,
    "distmult": DistMult,
    "complex": ComplEx,
    "rotate": RotatE,
    "hake": hake.HAKE,
}


class KGEModel(nn.Module):
    """Entity `(E, De)` and relation `(R, Dr)` parameters plus one score function.

    `dim` counts complex numbers for ComplEx/RotatE (De = 2*dim), modulus/phase pairs for
    HAKE (De = 2*dim, Dr = 3*dim). Initialisation follows the RotatE code: uniform in
    +-(gamma + 2) / dim. RotatE's relation parameter (and HAKE's phases) is the phase divided
    by pi/range, as in those codes, so Adam's step size in phase space matches theirs. HAKE
    also learns `hake_weights` = (phase weight, modulus weight)."""

    def __init__(self, name: str, num_entities: int, num_relations: int, dim: int, gamma: float):
        super().__init__()
        if name not in SCORERS:
            raise ConfigError(f"--model: unknown model {name!r} (known: {', '.join(SCORERS)})")
        if dim < 1:
            raise ConfigError(f"--dim must be >= 1, got {dim}")
        self.name, self.scorer, self.gamma, self.dim = name, SCORERS[name], float(gamma), dim
        self.init_range = (self.gamma + 2.0) / dim
        self.entity = nn.Parameter(torch.empty(num_entities, dim * self.scorer.ent_width))
        self.relation = nn.Parameter(torch.empty(num_relations, dim * self.scorer.rel_width))
        nn.init.uniform_(self.entity, -self.init_range, self.init_range)
        nn.init.uniform_(self.relation, -self.init_range, self.init_range)
        self.phase_scale = math.pi / self.init_range
        if name == "hake":  # the authors' start: phase weight 0.5 * range, modulus weight 1
            hake.init_relation(self.relation, dim)
            self.hake_weights = nn.Parameter(torch.tensor([0.5 * self.init_range, 1.0]))

    @property
    def num_entities(self) -> int:
        return self.entity.shape[0]

    def ent(self, e: torch.Tensor) -> torch.Tensor:
        """Entity vectors `(*e.shape, De)` (`kernels.rows`: `F.embedding` with a cheaper
        backward)."""
        return rows(self.entity, e)

    def mixed_ent(self, a: torch.Tensor, b: torch.Tensor, w: float | torch.Tensor) -> torch.Tensor:
        """Mixed entity vectors `w * e(a) + (1 - w) * e(b)` (AdaMix, MixKG): `demix.adamix`'s
        embedding on the gathered rows, fused by `kernels.mixed_rows`."""
        return mixed_rows(self.entity, a, b, w)

    def rel(self, r: torch.Tensor) -> torch.Tensor:
        """Relation vectors as the score uses them (phases in radians for RotatE; HAKE's
        rows `(..., 3D + 2)` carry the two learned weights at the end)."""
        emb = F.embedding(r, self.relation)
        if self.name == "hake":
            return torch.cat([emb, self.hake_weights.expand(*emb.shape[:-1], 2)], dim=-1)
        return emb * self.phase_scale if self.name == "rotate" else emb

    def query(self, pos: torch.Tensor, head: torch.Tensor) -> torch.Tensor:
        """Query vectors `(B, De)` for positives `(B, 3)`; `head (B,)` True = predict the head."""
        anchor = torch.where(head, pos[:, 2], pos[:, 0])
        return self.scorer.query(self.ent(anchor), self.rel(pos[:, 1]), head)

    def match(self, q: torch.Tensor, cand: torch.Tensor) -> torch.Tensor:
        return self.scorer.match(q, cand, self.gamma)

    def score_triples(self, triples: torch.Tensor) -> torch.Tensor:
        """Scores `(B,)` of triples `(B, 3)`."""
        head = torch.zeros(len(triples), dtype=torch.bool, device=triples.device)
        return self.match(self.query(triples, head), self.ent(triples[:, 2]))

    def score_candidates(
        self, pos: torch.Tensor, head: torch.Tensor, cand: torch.Tensor
    ) -> torch.Tensor:
        """Scores `(B, K)` of K candidates per positive: `cand` is ids `(B, K)` or entity
        embeddings `(B, K, De)` (e.g. mixed ones) standing in for the corrupted side."""
        emb = self.ent(cand) if cand.dtype == torch.long else cand  # (B, K, De)
        return self.match(self.query(pos, head)[:, None, :], emb)

    @torch.no_grad()
    def score_ids(self, pos: torch.Tensor, head: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Scores `(B, K)` of candidate ids without gradient (samplers ranking candidates).
        Under compilation the gather is fused into the reduction, so the `(B, K, De)`
        candidate embeddings are never materialised."""
        fn = maybe_compiled("candidate_block", _candidate_block, dynamic=False)
        return fn(self.name, self.query(pos, head), self.entity, ids, self.gamma)

    def score_all(self, pos: torch.Tensor, head: torch.Tensor, chunk: int = 0) -> torch.Tensor:
        """Scores `(B, E)` of every entity in the corrupted side."""
        q = self.query(pos, head)  # (B, De)
        if not self.scorer.distance:
            return q @ self.entity.T
        return all_distances(self.name, q, self.entity, self.gamma, chunk)

    def regularizer(self, pos: torch.Tensor, kind: str) -> torch.Tensor:
        """N3 (Lacroix et al. 2018) or L2 of the positives' embeddings, mean over the batch."""
        h, r, t = self.entity[pos[:, 0]], self.relation[pos[:, 1]], self.entity[pos[:, 2]]
        if kind == "l2":
            return (h.square().sum(-1) + r.square().sum(-1) + t.square().sum(-1)).mean()
        if self.scorer.complex_entities:
            h, r, t = (torch.sqrt(sum(x.square() for x in _halves(v)) + 1e-12) for v in (h, r, t))
        return (h.abs().pow(3).sum(-1) + r.abs().pow(3).sum(-1) + t.abs().pow(3).sum(-1)).mean()

    def export(self) -> dict:
        """Plain tensors of the checkpoint contract."""
        ent, rel = self.entity.detach(), self.relation.detach()
        extra = {}
        if self.name == "rotate":
            rel = rel * self.phase_scale
        if self.name == "hake":
            ent, rel = hake.to_radians(ent, rel, self.phase_scale)
            p_w, m_w = self.hake_weights.detach().tolist()
            extra = {"phase_weight": p_w, "modulus_weight": m_w}
        return {
            "model": self.name,
            "gamma": self.gamma,
            "entity_embedding": ent.cpu().clone(),
            "relation_embedding": rel.cpu().clone(),
            **extra,
        }

    @classmethod
    def from_export(cls, data: dict) -> KGEModel:
        ent, rel = data["entity_embedding"], data["relation_embedding"]
        dim = ent.shape[1] // SCORERS[data["model"]].ent_width
        model = cls(data["model"], ent.shape[0], rel.shape[0], dim, float(data["gamma"]))
        with torch.no_grad():
            if model.name == "hake":
                missing = [k for k in ("phase_weight", "modulus_weight") if k not in data]
                if missing:
                    raise CheckpointError(f"HAKE checkpoint: missing field(s) {', '.join(missing)}")
                ent, rel = hake.to_radians(ent, rel, 1.0 / model.phase_scale)
                model.hake_weights.copy_(
                    torch.tensor([data["phase_weight"], data["modulus_weight"]])
                )
            model.entity.copy_(ent)
            model.relation.copy_(rel / model.phase_scale if model.name == "rotate" else rel)
        return model


def _candidate_block(name: str, q, entity, ids, gamma: float) -> torch.Tensor:
    """`(B, K)` scores of queries `(B, De)` against candidates `ids (B, K)`."""
    return SCORERS[name].match(q[:, None, :], F.embedding(ids, entity), gamma)


def _distance_block(name: str, q: torch.Tensor, ent: torch.Tensor, gamma: float) -> torch.Tensor:
    """Distance scores `(B, E)` of queries `(B, De)` against all entities `(E, De)` (HAKE:
    the forms of `HAKE.prepare`)."""
    scorer = SCORERS[name]
    if hasattr(scorer, "score_prepared"):
        return scorer.score_prepared(q, ent, gamma)
    return scorer.match(q[:, None, :], ent[None, :, :], gamma)


def all_distances(name: str, q: torch.Tensor, ent: torch.Tensor, gamma: float, chunk: int = 0):
    """`(B, E)` scores for the distance models, in query chunks.

    Eager, the broadcast `(chunk, E, De)` difference is materialised, so chunks are sized to
    bound memory. Under `torch.compile` (see `demix_core.compile`) it becomes one fused
    reduction that never materialises it; chunks are then a fixed 64 queries (the last one
    padded) so one static-shape kernel serves every call."""
    if hasattr(SCORERS[name], "prepare"):
        q, ent = SCORERS[name].prepare(q, ent, gamma)
    if compile_enabled():
        fn, chunk = maybe_compiled("distance_block", _distance_block, dynamic=False), 64
    else:
        fn = _distance_block
        chunk = chunk or max(1, int(2**25 // max(1, ent.shape[0] * ent.shape[1])))
    out = []
    for i in range(0, len(q), chunk):
        block = q[i : i + chunk]
        n = len(block)
        if compile_enabled() and n < chunk:
            block = torch.cat([block, block.new_zeros(chunk - n, block.shape[1])])
        out.append(fn(name, block, ent, gamma)[:n])
    return torch.cat(out) if out else q.new_zeros(0, ent.shape[0])
