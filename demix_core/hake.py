"""HAKE (Zhang et al., AAAI 2020) as query/match: a modulus part and a phase part.

An entity is `[modulus | phase]` `(2D)`, a relation `[phase | modulus | bias]` `(3D)`. The
distance of `(h, r, t)` is

    |modulus_weight| * || h_m * (|r_m| + b) - t_m * (1 - b) ||_2
    + phase_weight * sum_i |sin((h_p + r_p - t_p)_i / 2)|,

with the mixture bias `b = max(min(r_b, 1), -|r_m|)` (so `|r_m| + b >= 0` and `1 - b >= 0`),
and the score is `gamma - distance`. As in the authors' code, both weights are learned and
the phases are stored divided by `pi / init_range` (`init_range = (gamma + 2) / D`), so Adam's
step size in phase space matches theirs; the match multiplies them back. The checkpoint holds
phases in radians (`KGEModel.export`).

Query layout `(B, 3D + 1)`: `[a | s | p | phase_weight]`, the modulus distance being
`||a - s * c_m||` for a candidate `c` (the modulus weight folded into `a` and `s`).
"""

from __future__ import annotations

import math

import torch


def phase_scale(gamma: float, dim: int) -> float:
    """Radians per stored phase unit: `pi / init_range`."""
    return math.pi * dim / (gamma + 2.0)


class HAKE:
    complex_entities, distance = False, True
    ent_width, rel_width = 2, 3  # entity and relation sizes in units of `dim`

    @staticmethod
    def query(anchor: torch.Tensor, rel: torch.Tensor, head: torch.Tensor) -> torch.Tensor:
        """`anchor (B, 2D)`; `rel (B, 3D + 2)` = the relation row and the two weights."""
        a_m, a_p = anchor.chunk(2, dim=-1)  # (B, D) each
        r_p, r_m, r_b = rel[..., :-2].chunk(3, dim=-1)  # (B, D) each
        p_w, m_w = rel[..., -2:-1], rel[..., -1:]  # (B, 1) each
        r_m = r_m.abs()
        bias = torch.maximum(r_b.clamp(max=1.0), -r_m)
        into, out_of = r_m + bias, 1.0 - bias  # h_m * into - t_m * out_of
        side = head[..., None]
        # tail: ||h_m into - t_m out_of||; head: the same with the roles of the sides swapped
        a = m_w * a_m * torch.where(side, out_of, into)
        s = m_w * torch.where(side, into, out_of)
        # tail: h_p + r_p - t_p = -(t_p - (h_p + r_p)); head: h_p - (t_p - r_p); |sin| is even
        p = a_p + torch.where(side, -r_p, r_p)
        return torch.cat([a, s, p, p_w], dim=-1)

    @staticmethod
    def match(q: torch.Tensor, c: torch.Tensor, gamma: float) -> torch.Tensor:
        """Scores of queries `(..., 3D + 1)` against candidates `(..., 2D)` (broadcast, e.g.
        `(B, 1, 3D + 1)` with `(B, K, 2D)`). With a gradient, `_Match` computes the same
        numbers and has a leaner backward."""
        if torch.is_grad_enabled() and (q.requires_grad or c.requires_grad):
            return _Match.apply(q, c, gamma)
        return _score(q, *_terms(q, c, gamma), gamma)

    @staticmethod
    def prepare(q: torch.Tensor, ent: torch.Tensor, gamma: float):
        """Queries `(B, 3D + 1)` and entities `(E, 2D)` rewritten for scoring every entity
        (`score_prepared`) with no sine and no modulus term per (query, entity, dimension):
        `||a - s c_m||^2 = sum a^2 - 2 (a s) . c_m + s^2 . c_m^2` is two matrix products, and
        with `x = k c_p / 2`, `y = k p / 2`, `|sin(x - y)| = |sin x cos y - cos x sin y|`.
        Returns `(B, 4D + 2)` `[a s | s^2 | sum a^2 | sin y | cos y | phase_weight]` and
        `(E, 4D)` `[c_m | c_m^2 | sin x | cos x]`."""
        dim = ent.shape[-1] // 2
        half = 0.5 * phase_scale(gamma, dim)
        c_m, c_p = ent.chunk(2, dim=-1)
        table = torch.cat([c_m, c_m * c_m, torch.sin(half * c_p), torch.cos(half * c_p)], dim=-1)
        a, s = q[..., :dim], q[..., dim : 2 * dim]
        y = half * q[..., 2 * dim : 3 * dim]
        a2 = (a * a).sum(-1, keepdim=True)
        return torch.cat([a * s, s * s, a2, torch.sin(y), torch.cos(y), q[..., -1:]], -1), table

    @staticmethod
    def score_prepared(q: torch.Tensor, c: torch.Tensor, gamma: float) -> torch.Tensor:
        """Scores `(B, E)` of `prepare`'s queries `(B, 4D + 2)` against its entities
        `(E, 4D)`: `match`'s score up to float rounding (the expanded square loses a few
        digits near 0, where sqrt is clamped as in `match`)."""
        dim = c.shape[-1] // 4
        c_m, c_m2, sin_x, cos_x = c.split(dim, dim=-1)  # (E, D) each
        a_s, s2, a2 = q[:, :dim], q[:, dim : 2 * dim], q[:, 2 * dim]
        sin_y, cos_y = q[:, 2 * dim + 1 : 3 * dim + 1], q[:, 3 * dim + 1 : 4 * dim + 1]
        square = a2[:, None] - 2.0 * (a_s @ c_m.T) + s2 @ c_m2.T  # (B, E)
        modulus = torch.sqrt(square.clamp_min(1e-30))
        phase = (sin_x[None] * cos_y[:, None] - cos_x[None] * sin_y[:, None]).abs().sum(-1)
        return gamma - modulus - q[:, -1:] * phase


def _split(q: torch.Tensor, c: torch.Tensor, gamma: float):
    """`(a, s, p, phase_weight (..., 1), c_m, c_p, half)`: the query's parts, the
    candidate's, and radians per stored phase unit over 2."""
    dim = c.shape[-1] // 2
    a, s, p, p_w = q[..., :dim], q[..., dim : 2 * dim], q[..., 2 * dim : 3 * dim], q[..., -1:]
    return a, s, p, p_w, c[..., :dim], c[..., dim:], 0.5 * phase_scale(gamma, dim)


def _terms(q: torch.Tensor, c: torch.Tensor, gamma: float):
    """`||a - s c_m||^2` and `sum_i |sin(half (c_p - p))_i|`, each `(...)` (broadcast)."""
    a, s, p, _, c_m, c_p, half = _split(q, c, gamma)
    d = a - s * c_m
    return (d * d).sum(-1), torch.sin(half * (c_p - p)).abs().sum(-1)


def _score(q: torch.Tensor, square: torch.Tensor, phase: torch.Tensor, gamma: float):
    # clamp: sqrt's gradient at an exact 0 is inf (as RotatE's match)
    return gamma - torch.sqrt(square.clamp_min(1e-30)) - q[..., -1] * phase


class _Match(torch.autograd.Function):
    """`HAKE.match` with a hand-written backward: autograd's, compiled, took a training step
    to ~2x RotatE's (its sine and cosine recomputed in two passes over `(B, K, D)` and the
    query's sums over K done in a third), this one takes one trigonometric pass that writes
    the candidates' gradient and sums over K that read it (docs/defaults.md, "HAKE speed")."""

    @staticmethod
    def forward(ctx, q: torch.Tensor, c: torch.Tensor, gamma: float) -> torch.Tensor:
        square, phase = _terms(q, c, gamma)
        ctx.save_for_backward(q, c, square, phase)
        ctx.gamma = gamma
        return _score(q, square, phase, gamma)

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        q, c, square, phase = ctx.saved_tensors
        a, s, p, p_w, c_m, c_p, half = _split(q, c, ctx.gamma)
        # d score / d square = -1 / (2 sqrt), 0 where the clamp holds (as clamp_min's grad)
        w = torch.where(square >= 1e-30, g / torch.sqrt(square.clamp_min(1e-30)), 0.0)
        wd = w[..., None] * (a - s * c_m)  # (..., D): minus the gradient of a
        u = half * (c_p - p)
        # d|sin u|/du = sign(sin u) cos u (0 at sin u = 0, as abs's grad)
        g_cp = (-half) * (g[..., None] * p_w) * torch.sign(torch.sin(u)) * torch.cos(u)
        grad_c = torch.cat([s * wd, g_cp], dim=-1)
        # the query's pieces summed over the broadcast dims one by one: a cat first would
        # materialise a (B, K, 3D + 1) gradient
        pieces = (-wd, wd * c_m, -g_cp, -(g * phase)[..., None])
        grad_q = torch.cat([_sum_to(x, q.shape[:-1]) for x in pieces], dim=-1)
        return grad_q, _sum_to(grad_c, c.shape[:-1]), None


def _sum_to(x: torch.Tensor, lead: torch.Size) -> torch.Tensor:
    """`x (..., W)` summed down to `(*lead, W)` (undoing broadcasting)."""
    return x.sum_to_size(*lead, x.shape[-1])


def init_relation(relation: torch.Tensor, dim: int) -> None:
    """The authors' start: moduli 1, biases 0 (phases keep the uniform draw)."""
    with torch.no_grad():
        relation[:, dim : 2 * dim] = 1.0
        relation[:, 2 * dim :] = 0.0


def to_radians(entity: torch.Tensor, relation: torch.Tensor, scale: float):
    """Stored `(entity (E, 2D), relation (R, 3D))` -> the checkpoint's (phases in radians);
    `scale` = 1 / phase_scale goes back."""
    dim = entity.shape[1] // 2
    ent, rel = entity.clone(), relation.clone()
    ent[:, dim:] *= scale
    rel[:, :dim] *= scale
    return ent, rel
