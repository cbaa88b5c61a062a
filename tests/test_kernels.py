"""Each kernel of demix_core/kernels.py equals the readable function it speeds up (and a
brute-force loop where the readable function is itself vectorised)."""

import math

import pytest
import torch

from demix_core import kernels
from demix_core.demix import adamix, hard_partners
from demix_core.kernels import mixed_rows, rows, top_order


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def brute_row_sums(table_rows: int, pairs) -> torch.Tensor:
    """sum over (id, weight, grad row) of weight * grad row into out[id], one at a time."""
    out = torch.zeros(table_rows, pairs[0][2].shape[-1], dtype=torch.float64)
    for e, w, g in pairs:
        out[e] += w * g.double()
    return out


@pytest.mark.parametrize("path", ["csr", "dense"])
def test_row_gradients_equal_a_loop_over_rows(path, monkeypatch):
    """kernels.rows / mixed_rows: the gradient of the table, by the CSR product (forced for
    this small case) or the embedding backward, against a Python loop. Repeated ids, a
    mixed row whose partner is itself, float and per-row weights."""
    monkeypatch.setattr(kernels, "CSR_MIN_ELEMENTS", 0 if path == "csr" else 1 << 60)
    gen = torch.Generator().manual_seed(0)
    table = torch.randn(7, 5, generator=gen, requires_grad=True)
    ids = torch.tensor([[0, 3, 3], [6, 0, 3]])
    upstream = torch.randn(2, 3, 5, generator=gen)
    (grad,) = torch.autograd.grad((rows(table, ids) * upstream).sum(), table)
    flat = list(zip(ids.reshape(-1).tolist(), [1.0] * 6, upstream.reshape(6, 5), strict=True))
    assert torch.allclose(grad.double(), brute_row_sums(7, flat), atol=1e-6)
    assert torch.equal(rows(table, ids), table.detach()[ids])

    partner = torch.tensor([[3, 3, 1], [6, 6, 2]])  # (1, 0) and (1, 2): partner == itself
    for w in (0.3, torch.rand(2, 3, generator=gen)):
        mixed = mixed_rows(table, ids, partner, w)
        w_ = torch.full((2, 3), w) if isinstance(w, float) else w
        want = w_[..., None] * table.detach()[ids] + (1 - w_[..., None]) * table.detach()[partner]
        assert torch.allclose(mixed, want, atol=1e-6)
        (grad,) = torch.autograd.grad((mixed * upstream).sum(), table)
        pairs = []
        for i, (a, b, wi) in enumerate(
            zip(ids.reshape(-1).tolist(), partner.reshape(-1).tolist(), w_.reshape(-1).tolist())
        ):
            pairs += [(a, wi, upstream.reshape(6, 5)[i]), (b, 1 - wi, upstream.reshape(6, 5)[i])]
        assert torch.allclose(grad.double(), brute_row_sums(7, pairs), atol=1e-6)


def test_mixed_rows_are_exact_at_the_ends():
    """alpha 1 is 'no mixing' (the candidate itself), 0 the partner itself: exactly."""
    table = torch.randn(5, 4)
    a, b = torch.tensor([[0, 1]]), torch.tensor([[2, 3]])
    assert torch.equal(mixed_rows(table, a, b, 1.0), table[a])
    assert torch.equal(mixed_rows(table, a, b, 0.0), table[b])


@pytest.mark.parametrize("grad", [False, True])
def test_mixed_rows_equal_adamix_on_the_gathered_rows(grad):
    """The fused gather-and-mix is `demix.adamix`'s embedding (float and per-row weights)."""
    table = torch.randn(50, 16, generator=gen(1), requires_grad=grad)
    a = torch.randint(0, 50, (8, 12), generator=gen(2))
    b = torch.randint(0, 50, (8, 12), generator=gen(3))
    label = torch.zeros(8, 12)
    for w in (0.3, torch.rand(8, 12, generator=gen(4))):
        want, _ = adamix(table.detach()[a], table.detach()[b], label, w)
        assert torch.allclose(mixed_rows(table, a, b, w).detach(), want, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_top_order_is_the_head_of_a_stable_descending_sort(dtype):
    g = gen(7)
    # negatives, both zeros, infinities and many exact ties (values on a coarse grid)
    scores = torch.randint(-6, 7, (40, 128), generator=g).to(dtype) / 4
    scores[0, :4] = torch.tensor([0.0, -0.0, -0.0, 0.0], dtype=dtype)
    scores[1, 5], scores[1, 9] = math.inf, -math.inf
    scores[2:] += torch.randn(38, 128, generator=g, dtype=dtype) * (torch.arange(38) % 2)[:, None]
    for n in (1, 9, 128):
        expected = [
            sorted(range(128), key=lambda j, r=row: (-r[j], j))[:n] for row in scores.tolist()
        ]
        assert top_order(scores, n).tolist() == expected


@pytest.mark.parametrize("C", [1, 3, 8, 20])
def test_hard_partners_kernel_equals_the_readable_rule(C):
    """Same draws, same partners for every eligible candidate: ties, rows with one or no
    eligible candidate, C above the row's TNs, float32 (the sort key) and float64."""
    for dtype in (torch.float32, torch.float64):
        scores = (torch.randint(0, 6, (64, 24), generator=gen(5)) / 2).to(dtype)
        scores += (
            torch.randn(64, 24, generator=gen(6), dtype=dtype) * (torch.arange(64) % 2)[:, None]
        )
        eligible = torch.rand(64, 24, generator=gen(7)) < 0.6
        eligible[0], eligible[1] = False, torch.arange(24) == 3
        pick = torch.rand(64, 24, generator=gen(8))
        fast = kernels.hard_partners(scores, C, pick, eligible)
        plain = hard_partners(scores, C, pick, eligible)
        assert torch.equal(fast[eligible], plain[eligible])
    one = torch.randn(5, 1)
    assert torch.equal(
        kernels.hard_partners(one, C, torch.rand(5, 1), one > -9), torch.zeros(5, 1).long()
    )
