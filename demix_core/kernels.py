"""Fast paths of readable formulas, each tested equal to the function it speeds up.

The maths is written once, plainly, elsewhere; a kernel here computes the same numbers in
fewer passes, and tests/test_kernels.py holds each one against its readable twin:

- `rows(table, ids)`: `table[ids]` whose backward is one CSR product (`F.embedding`).
- `mixed_rows(table, a, b, w)`: AdaMix/MixKG's `w * e(a) + (1 - w) * e(b)` gathered, mixed
  and differentiated in one pass (`demix.adamix` on the gathered rows).
- `top_order(scores, n)`: the head of a stable descending sort via a unique integer key.
- `hard_partners(...)`: the spec's true-negative partners from the top C + 1 only
  (`demix.hard_partners`).

Whether anything is compiled is decided in `demix_core.compile`; timings are in
docs/performance.md (re-measured by bench/kernels.py).
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import Tensor

from demix_core.compile import maybe_compiled

CSR_MIN_ELEMENTS = 1 << 20  # below this many gradient numbers the embedding backward wins


def _sum_into_rows(rows_of: Tensor, cols: Tensor, vals: Tensor, grad: Tensor, n: int) -> Tensor:
    """`out[r] = sum of vals[j] * grad[cols[j]] over j with rows_of[j] == r`, `(n, D)`, as
    one CSR sparse x dense product (MKL's csrmm: parallel over output rows, no atomics, each
    row summed by one thread in a fixed order, so deterministic)."""
    order = torch.argsort(rows_of, stable=True)
    crow = torch.zeros(n + 1, dtype=torch.long)
    torch.cumsum(torch.bincount(rows_of, minlength=n), 0, out=crow[1:])
    with warnings.catch_warnings():  # "sparse CSR support is in beta": used for csrmm only
        warnings.simplefilter("ignore", UserWarning)
        matrix = torch.sparse_csr_tensor(crow, cols[order], vals[order], size=(n, len(grad)))
    return matrix @ grad


def _dense_path(grad: Tensor) -> bool:
    return grad.device.type != "cpu" or grad.numel() < CSR_MIN_ELEMENTS


class _Rows(torch.autograd.Function):
    """`table[ids]` whose backward sums the gradient rows per table row as a CSR sparse
    product on CPU (CUDA and small batches keep the embedding backward): the same sums as
    `F.embedding`'s backward without its per-row loop."""

    @staticmethod
    def forward(ctx, table: Tensor, ids: Tensor) -> Tensor:
        ctx.save_for_backward(ids)
        ctx.num_rows = table.shape[0]
        return F.embedding(ids, table)

    @staticmethod
    def backward(ctx, grad: Tensor):
        (ids,) = ctx.saved_tensors
        flat, g = ids.reshape(-1), grad.reshape(ids.numel(), -1)
        if _dense_path(g):
            return torch.ops.aten.embedding_dense_backward(g, flat, ctx.num_rows, -1, False), None
        cols = torch.arange(len(flat))
        return _sum_into_rows(flat, cols, g.new_ones(len(flat)), g, ctx.num_rows), None


class _MixedRows(torch.autograd.Function):
    """`w * table[a] + (1 - w) * table[b]` (`w` a float or shaped like `a`), differentiable
    in table: both rows' gradients go back in one CSR product with two entries per mixed
    row, instead of two embedding backwards and a (B, K, De) partner gradient."""

    @staticmethod
    def forward(ctx, table, a, b, w):
        ctx.num_rows, ctx.float_w = table.shape[0], not isinstance(w, Tensor)
        ctx.w = w if ctx.float_w else None
        ctx.save_for_backward(a, b, *(() if ctx.float_w else (w,)))
        # compiled: one pass, both rows read and the mixture written once
        return maybe_compiled("mix_block", mix_block, dynamic=False)(table, a, b, w)

    @staticmethod
    def backward(ctx, grad):
        a, b, *rest = ctx.saved_tensors
        fa, fb, g = a.reshape(-1), b.reshape(-1), grad.reshape(a.numel(), -1)
        w = g.new_full((len(fa),), ctx.w) if ctx.float_w else rest[0].reshape(-1).to(g.dtype)
        if _dense_path(g):
            ebd = torch.ops.aten.embedding_dense_backward
            out = ebd(g * w[:, None], fa, ctx.num_rows, -1, False)
            return out + ebd(g * (1.0 - w)[:, None], fb, ctx.num_rows, -1, False), None, None, None
        cols = torch.arange(len(fa)).repeat(2)
        vals = torch.cat([w, 1.0 - w])
        out = _sum_into_rows(torch.cat([fa, fb]), cols, vals, g, ctx.num_rows)
        return out, None, None, None


def mix_block(table: Tensor, a: Tensor, b: Tensor, w: float | Tensor) -> Tensor:
    """`w * table[a] + (1 - w) * table[b]`, exact at w = 0 and 1 (lerp), no gradient."""
    w_ = w if not isinstance(w, Tensor) else w.to(table.dtype)[..., None]
    return torch.lerp(F.embedding(b, table), F.embedding(a, table), w_)


def rows(table: Tensor, ids: Tensor) -> Tensor:
    """Rows of `table` for `ids` (any shape) -> `(*ids.shape, D)`, differentiable in table."""
    if torch.is_grad_enabled() and table.requires_grad:
        return _Rows.apply(table, ids)
    return F.embedding(ids, table)


def mixed_rows(table: Tensor, a: Tensor, b: Tensor, w: float | Tensor) -> Tensor:
    """`w * table[a] + (1 - w) * table[b]` -> `(*a.shape, D)`, differentiable in table."""
    if torch.is_grad_enabled() and table.requires_grad:
        return _MixedRows.apply(table, a, b, w)
    return mix_block(table, a, b, w)


def top_order(scores: Tensor, n: int) -> Tensor:
    """Indices (B, n) of each row's n highest scores, highest first, ties to the lower
    index: the first n of a stable descending sort, found by `topk` on a unique integer key
    (float32 bits mapped to an order-preserving int32 in the high half, K - 1 - index in
    the low half)."""
    K = scores.shape[1]
    if scores.dtype != torch.float32:
        return torch.sort(scores, dim=1, descending=True, stable=True).indices[:, :n]
    bits = (scores + 0.0).view(torch.int32)  # + 0.0: -0.0 becomes +0.0, as the sort sees it
    # negative floats order backwards as integers: flipping their 31 low bits mends that
    key = torch.where(bits >= 0, bits, bits ^ 0x7FFFFFFF).long() * 2**32
    key = key + (K - 1 - torch.arange(K, device=scores.device))
    return torch.topk(key, n, dim=1).indices


def hard_partners(neg_scores: Tensor, C: int, pick: Tensor, eligible: Tensor) -> Tensor:
    """`demix.hard_partners` for the eligible candidates (the others get some valid index),
    from the top C + 1 of each row alone instead of a per-candidate pool `(B, K, K)`.

    neg_scores (B, K); pick (B, K) uniform in [0, 1); eligible (B, K) bool."""
    B, K = neg_scores.shape
    self_index = torch.arange(K, device=neg_scores.device).expand(B, K)  # (B, K)
    if K == 1:
        return self_index.clone()
    C = min(C, K - 1)
    # Ineligible candidates sink below every eligible one (scores are finite).
    masked = torch.where(eligible, neg_scores, -math.inf)  # (B, K)
    top = top_order(masked, C + 1)  # (B, C + 1), best first; the first m are eligible
    count = eligible.sum(dim=1, keepdim=True)  # (B, 1): m
    # pool size of an eligible candidate: min(C, m - 1) others (0: it stays unmixed)
    size = torch.minimum(count - 1, torch.full_like(count, C)).clamp_min(0)  # (B, 1)
    nth = (pick * size).long().clamp_max((size - 1).clamp_min(0))  # (B, K) in [0, size)
    ranks = torch.arange(C + 1, device=neg_scores.device).expand(B, C + 1)
    # rank of each candidate among the top C + 1; K (>= C + 1) for the others
    rank = torch.full_like(nth, K).scatter_(1, top, ranks)  # (B, K)
    # A candidate inside the top `size` skips its own slot, so it draws from the other
    # `size` of the top size + 1 (all eligible, since size + 1 <= m); one further down
    # (rank >= size > nth) draws straight from the top `size`.
    chosen = top.gather(1, nth + (nth >= rank).long())  # (B, K)
    return torch.where(size > 0, chosen, self_index)
