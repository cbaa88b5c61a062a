"""DeMix math against hand-computed values and brute-force references."""

import math
from collections import Counter

import pytest
import torch

from demix_core.demix import (
    adamix,
    beta_lambda,
    draw_hard_partners,
    draw_pattern_partners,
    draw_random_partners,
    fn_precision_recall,
    mpne_partition,
    mpne_threshold,
)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# Row 0: X = {1, 2, 6}: mean 3, min 1.
# Row 1: one positive, 4 (padding 100 and -50 must be ignored): mean = min = 4.
# Row 2: X = {2, 4} (padding 999 and -999 ignored): mean 3, min 2.
POS = torch.tensor([[1.0, 2.0, 6.0, 0.0], [4.0, 100.0, -50.0, 0.0], [2.0, 999.0, 4.0, -999.0]])
MASK = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0], [1, 0, 1, 0]], dtype=torch.bool)


@pytest.mark.parametrize(
    "mu, expected",
    [
        (0.0, [3.0, 4.0, 3.0]),  # tau = mean
        (1.0, [1.0, 4.0, 2.0]),  # tau = min
        # 3 - 3*(3-1) = -3;  4 - 3*0 = 4;  3 - 3*(3-2) = 0
        (3.0, [-3.0, 4.0, 0.0]),
    ],
)
def test_threshold_hand_values(mu, expected):
    assert torch.equal(mpne_threshold(POS, MASK, mu), torch.tensor(expected))


def test_threshold_rejects_negative_mu_and_empty_rows():
    with pytest.raises(ValueError):
        mpne_threshold(POS, MASK, -0.5)
    with pytest.raises(ValueError):
        mpne_threshold(POS, torch.zeros_like(MASK), 1.0)


def test_partition_ties_count_as_mpn():
    tau = mpne_threshold(POS, MASK, 0.0)  # [3, 4, 3], computed exactly
    neg = torch.tensor([[2.5, 3.0, 3.5], [4.0, 3.999, 7.0], [-1.0, 3.0, 2.0]])
    expected = torch.tensor([[0, 1, 1], [1, 0, 1], [0, 1, 0]], dtype=torch.bool)
    assert torch.equal(mpne_partition(neg, tau), expected)


# One positive, K = 2 negatives, D = 4 laid out as [re1, re2 | im1, im2].
NEG = torch.tensor([[[2.0, 0.0, 4.0, -2.0], [1.0, 1.0, 1.0, 1.0]]])
PARTNER = torch.tensor([[[0.0, 2.0, 0.0, 6.0], [3.0, -1.0, 5.0, 1.0]]])
LABEL = torch.tensor([[1, 0]])


def test_adamix_endpoints():
    emb, label = adamix(NEG, PARTNER, LABEL, 0.0)
    assert torch.equal(emb, PARTNER) and torch.equal(label, torch.tensor([[1.0, 0.0]]))
    emb, label = adamix(NEG, PARTNER, LABEL, 1.0)
    assert torch.equal(emb, NEG) and torch.equal(label, torch.tensor([[0.0, 0.0]]))


def test_adamix_half_on_complex_embedding():
    emb, label = adamix(NEG, PARTNER, LABEL, 0.5)
    # k=0: 0.5*[2,0,4,-2] + 0.5*[0,2,0,6] = [1,1,2,2]
    # k=1: 0.5*[1,1,1,1] + 0.5*[3,-1,5,1] = [2,0,3,1]
    assert torch.equal(emb, torch.tensor([[[1.0, 1.0, 2.0, 2.0], [2.0, 0.0, 3.0, 1.0]]]))
    assert torch.equal(label, torch.tensor([[0.5, 0.0]]))  # (1-0.5)*1, (1-0.5)*0
    # As complex numbers, k=0: 0.5*(2+4i) + 0.5*(0+0i) = 1+2i; 0.5*(0-2i) + 0.5*(2+6i) = 1+2i.
    z = torch.complex(emb[..., :2], emb[..., 2:])
    assert torch.equal(z[0, 0], torch.tensor([1 + 2j, 1 + 2j], dtype=torch.complex64))
    # Same answer when the caller holds real complex tensors.
    zn, zp = (torch.complex(e[..., :2], e[..., 2:]) for e in (NEG, PARTNER))
    z_mix, z_label = adamix(zn, zp, LABEL, 0.5)
    assert torch.equal(z_mix, z) and torch.equal(z_label, label)


def test_adamix_tensor_alpha_matches_per_triple_floats():
    alpha = torch.tensor([[0.25, 0.75]])  # (B, K)
    emb, label = adamix(NEG, PARTNER, LABEL, alpha)
    for k, a in enumerate([0.25, 0.75]):
        e_k, y_k = adamix(NEG[:, k : k + 1], PARTNER[:, k : k + 1], LABEL[:, k : k + 1], a)
        assert torch.allclose(emb[:, k : k + 1], e_k) and torch.allclose(label[:, k : k + 1], y_k)
    # A (B, 1) tensor broadcasts over K like the float.
    emb_b, label_b = adamix(NEG, PARTNER, LABEL, torch.tensor([[0.25]]))
    emb_f, label_f = adamix(NEG, PARTNER, LABEL, 0.25)
    assert torch.equal(emb_b, emb_f) and torch.equal(label_b, label_f)


def test_adamix_gradients_reach_both_embeddings():
    neg, partner = NEG.clone().requires_grad_(), PARTNER.clone().requires_grad_()
    upstream = torch.arange(1.0, 9.0).reshape(1, 2, 4)
    emb, _ = adamix(neg, partner, LABEL, 0.25)
    emb.backward(upstream)
    # d(a*n + (1-a)*p)/dn = a, /dp = 1-a
    assert torch.equal(neg.grad, 0.25 * upstream)
    assert torch.equal(partner.grad, 0.75 * upstream)
    assert (neg.grad != 0).all() and (partner.grad != 0).all()


@pytest.mark.parametrize("alpha", [-0.1, 1.1])
def test_adamix_rejects_alpha_outside_unit_interval(alpha):
    with pytest.raises(ValueError):
        adamix(NEG, PARTNER, LABEL, alpha)


def test_pattern_partners_uniform_over_true_columns():
    mask = torch.tensor([[1, 0, 1, 1, 0, 0], [0, 0, 0, 0, 0, 1], [1, 1, 0, 1, 1, 1]]).bool()
    draws = draw_pattern_partners(mask, 30_000, gen(1))
    assert draws.shape == (3, 30_000) and draws.dtype == torch.long
    for row in range(3):
        allowed = set(mask[row].nonzero().flatten().tolist())
        counts = Counter(draws[row].tolist())
        assert set(counts) == allowed  # only True columns, and every one of them
        expected = 30_000 / len(allowed)
        assert all(abs(c - expected) < 0.05 * expected for c in counts.values())
    assert torch.equal(draws, draw_pattern_partners(mask, 30_000, gen(1)))
    with pytest.raises(ValueError):
        draw_pattern_partners(torch.zeros(1, 3, dtype=torch.bool), 4, gen())


def brute_top_others(scores: list[float], k: int, C: int, eligible: list[bool]) -> set[int]:
    """Top C eligible candidates other than k; ties go to the lower index; {k} when none."""
    others = [j for j in range(len(scores)) if j != k and eligible[j]]
    others.sort(key=lambda j: (-scores[j], j))
    return set(others[:C]) or {k}


@pytest.mark.parametrize("C", [1, 3, 9, 50])
@pytest.mark.parametrize("with_mask", [False, True])
def test_hard_partners_match_brute_force(C, with_mask):
    # Integer scores in [0, 5) give plenty of ties, which the stable order must break by index.
    scores = torch.randint(0, 5, (12, 10), generator=gen(2)).float()
    eligible = torch.ones(12, 10, dtype=torch.bool)
    if with_mask:  # MPNs among the hardest, rows with one or no TN, a row of TNs
        eligible = torch.rand(12, 10, generator=gen(9)) < 0.5
        eligible[0] = scores[0] < scores[0].max()  # the hardest candidates are MPNs
        eligible[1] = False
        eligible[1, 4] = True  # a single TN
        eligible[2] = False
    g = gen(3)
    seen = [[set() for _ in range(10)] for _ in range(12)]
    for _ in range(300):
        draws = draw_hard_partners(scores, C, g, eligible if with_mask else None)
        for b in range(12):
            for k in range(10):
                if eligible[b, k]:
                    seen[b][k].add(int(draws[b, k]))
    for b in range(12):
        for k in range(10):
            if eligible[b, k]:
                # Never itself unless alone; exactly the top min(C, K-1) other eligible ones
                # turn up over 300 draws.
                expected = brute_top_others(scores[b].tolist(), k, min(C, 9), eligible[b].tolist())
                assert seen[b][k] == expected, (b, k)
    assert torch.equal(draw_hard_partners(scores, C, gen(4)), draw_hard_partners(scores, C, gen(4)))


def test_tn_partners_by_hand():
    # Scores rank candidates 2, 0, 3, 1, 4; candidates 2 and 3 are MPNs (not eligible).
    # TNs by score: 0 (5.0), 1 (2.0), 4 (1.0). With C = 1 each TN pairs with the hardest
    # *other* TN: 0 -> 1, 1 -> 0, 4 -> 0; the MPN at the top (2) is never a partner.
    scores = torch.tensor([[5.0, 2.0, 9.0, 3.0, 1.0]])
    eligible = torch.tensor([[True, True, False, False, True]])
    draws = torch.cat([draw_hard_partners(scores, 1, gen(s), eligible) for s in range(20)])
    assert set(draws[:, 0].tolist()) == {1}
    assert set(draws[:, 1].tolist()) == {0}
    assert set(draws[:, 4].tolist()) == {0}
    # C = 8 > TNs: each TN pairs uniformly with the two other TNs, never an MPN.
    draws = torch.cat([draw_hard_partners(scores, 8, gen(s), eligible) for s in range(200)])
    assert set(draws[:, 0].tolist()) == {1, 4}
    assert set(draws[:, 4].tolist()) == {0, 1}
    # A single TN stays unmixed (its own partner).
    single = torch.tensor([[False, False, True, False, False]])
    assert draw_hard_partners(scores, 8, gen(), single)[0, 2] == 2


def test_hard_partners_edge_cases():
    assert torch.equal(draw_hard_partners(torch.randn(3, 1), 8, gen()), torch.zeros(3, 1).long())
    with pytest.raises(ValueError):
        draw_hard_partners(torch.randn(2, 4), 0, gen())


def test_random_partners_never_self_and_cover_all_others():
    K = 5
    g = gen(5)
    draws = torch.cat([draw_random_partners(4, K, g, "cpu") for _ in range(200)])  # (800, K)
    for k in range(K):
        assert set(draws[:, k].tolist()) == set(range(K)) - {k}
    assert torch.equal(draw_random_partners(4, K, gen(6)), draw_random_partners(4, K, gen(6)))
    assert torch.equal(draw_random_partners(2, 1, gen()), torch.zeros(2, 1).long())


@pytest.mark.parametrize(
    "alpha, cdf_at_0_1",
    [
        (0.5, 2 / math.pi * math.asin(math.sqrt(0.1))),  # arcsine law: ~0.2048
        (1.0, 0.1),  # uniform
        (2.0, 3 * 0.1**2 - 2 * 0.1**3),  # Beta(2,2) CDF 3x^2 - 2x^3 = 0.028
        (5.0, None),
    ],
)
def test_beta_lambda_moments(alpha, cdf_at_0_1):
    n = 200_000
    lam = beta_lambda((n,), alpha, gen(7))
    assert lam.dtype == torch.get_default_dtype() and lam.shape == (n,)
    assert ((lam >= 0) & (lam <= 1)).all()
    # Beta(a, a): mean 1/2, variance a^2 / ((2a)^2 (2a + 1)) = 1 / (4 (2a + 1)).
    var = 1 / (4 * (2 * alpha + 1))
    assert abs(lam.double().mean().item() - 0.5) < 5 * math.sqrt(var / n)
    assert abs(lam.double().var().item() - var) < 0.03 * var
    if cdf_at_0_1 is not None:
        assert abs((lam < 0.1).double().mean().item() - cdf_at_0_1) < 0.005
    assert torch.equal(lam, beta_lambda((n,), alpha, gen(7)))


def test_beta_lambda_limits_and_errors():
    coin = beta_lambda((4, 5_000), 0.0, gen(8))  # Bernoulli(0.5) on {0, 1}
    assert set(coin.unique().tolist()) == {0.0, 1.0}
    assert abs(coin.mean().item() - 0.5) < 0.02
    tiny = beta_lambda((10_000,), 0.01, gen(9))  # must not underflow to 0/0
    assert not tiny.isnan().any()
    assert ((tiny < 0.01) | (tiny > 0.99)).double().mean().item() > 0.9
    with pytest.raises(ValueError):
        beta_lambda((3,), -1.0, gen())


def test_fn_precision_recall_hand_example():
    mpn = torch.tensor([1, 1, 0, 0, 1, 0]).bool()
    true = torch.tensor([1, 0, 1, 0, 0, 0]).bool()
    # mpn & true = {0}: precision 1/3, recall 1/2, fn_rate 2/6.
    assert fn_precision_recall(mpn, true) == {
        "n_total": 6,
        "n_mpn": 3,
        "n_tn": 3,
        "n_true": 2,
        "precision": 1 / 3,
        "recall": 1 / 2,
        "fn_rate": 2 / 6,
    }
    # Masking out the last two: mpn {0, 1}, true {0, 2}: precision 1/2, recall 1/2, rate 2/4.
    keep = torch.tensor([1, 1, 1, 1, 0, 0]).bool()
    stats = fn_precision_recall(mpn, true, keep)
    assert (stats["n_total"], stats["n_mpn"], stats["n_tn"], stats["n_true"]) == (4, 2, 2, 2)
    assert (stats["precision"], stats["recall"], stats["fn_rate"]) == (0.5, 0.5, 0.5)


def test_fn_precision_recall_undefined_ratios_are_nan():
    none = torch.zeros(4, dtype=torch.bool)
    stats = fn_precision_recall(none, none)
    assert stats["fn_rate"] == 0.0
    assert math.isnan(stats["precision"]) and math.isnan(stats["recall"])
    empty = fn_precision_recall(none, none, mask=none)
    assert empty["n_total"] == 0 and math.isnan(empty["fn_rate"])
