"""DeMix math (shared/DEMIX_SPEC.md), one plain function per formula of the spec:

- MPNE: `mpne_threshold` (tau = mean(X) - mu * (mean(X) - min(X))), `mpne_partition`
  (MPN when s >= tau);
- AdaMix partners: `pattern_partners` (an MPN's, uniform over T_q), `hard_partners` (a TN's,
  uniform over the C hardest other TNs of its row), `draw_random_partners` (ablation);
- AdaMix mixing: `adamix` (e_mix, y_mix) with `adamix_label`, its label half;
  `beta_lambda` (lambda_mode "beta");
- diagnostics: `fn_precision_recall`.

Training runs the faster equivalents in `demix_core.kernels` (tested equal to these); the
sampler's wiring is `sampling/demix_steps.py`. Pure, batched tensor functions, torch only. Shapes: B positives in the batch, K sampled
negatives per positive, P known positives per pattern (padded, with a mask), D embedding width.
Every random draw takes an explicit ``torch.Generator`` so that a run replays exactly. Draws
are made on the generator's device, so a seed gives the same draws whatever device the inputs
live on; partner indices are then moved to the input's device.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def mpne_threshold(pos_scores: Tensor, pos_mask: Tensor, mu: float) -> Tensor:
    """Estimation threshold ``tau = mean(X) - mu * (mean(X) - min(X))`` per row.

    pos_scores: (B, P) float, scores of each pattern's known positives (padding arbitrary).
    pos_mask:   (B, P) bool, True = a real positive; every row needs at least one.
    mu:         >= 0; 0 gives the mean, 1 the minimum, larger widens the MPN range.
    Returns tau: (B,).
    """
    if mu < 0:
        raise ValueError(f"mu must be >= 0, got {mu}")
    mask = pos_mask.bool()
    require_rows(mask, "pos_mask")
    count = mask.sum(dim=1)  # (B,)
    mean = torch.where(mask, pos_scores, 0.0).sum(dim=1) / count  # (B,)
    # +inf padding can never be the minimum of a row that holds a real positive.
    minimum = torch.where(mask, pos_scores, math.inf).amin(dim=1)  # (B,)
    return mean - mu * (mean - minimum)


def require_rows(mask: Tensor, name: str) -> None:
    """ValueError unless every row of the bool mask `(B, P)` holds a True entry. Skipped
    while `torch.compile` traces (reading the values would split the graph; the compiled
    caller builds rows that always hold one)."""
    if torch.compiler.is_compiling():
        return
    if bool((mask.sum(dim=1) == 0).any()):
        raise ValueError(f"every row of {name} needs at least one True entry")


def mpne_partition(neg_scores: Tensor, tau: Tensor) -> Tensor:
    """MPNE verdict: (B, K) bool, True = marginal pseudo-negative (score >= tau, ties included).

    neg_scores: (B, K); tau: (B,) from :func:`mpne_threshold`.
    """
    return neg_scores >= tau.unsqueeze(-1)


def adamix(
    neg_emb: Tensor, partner_emb: Tensor, partner_label: Tensor, alpha: float | Tensor
) -> tuple[Tensor, Tensor]:
    """Mix each negative with its partner: ``e = a*e_neg + (1-a)*e_partner``, ``y = (1-a)*y_p``.

    neg_emb, partner_emb: (B, K, D); partner_label: (B, K) in {0, 1}.
    alpha: float in [0, 1] (fixed mode), or a tensor broadcastable to (B, K), e.g. per-triple
        lambda ~ Beta for "beta" mode (not range-checked, to avoid a device sync).
    Returns (mixed_emb (B, K, D), mixed_label (B, K) float). Differentiable in both embeddings.

    Complex models store an embedding as [real | imag] halves along D; elementwise mixing
    with a real weight therefore mixes the real and imaginary parts alike, which is exactly
    the complex mixup ``a*z_neg + (1-a)*z_partner``. Genuinely complex tensors also work.
    """
    if isinstance(alpha, Tensor):
        weight = alpha.to(neg_emb.real.dtype).expand(partner_label.shape)  # (B, K)
        emb_weight = weight.unsqueeze(-1)  # (B, K, 1)
    else:
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
        weight = emb_weight = alpha
    mixed_emb = emb_weight * neg_emb + (1 - emb_weight) * partner_emb  # (B, K, D)
    return mixed_emb, adamix_label(partner_label.to(neg_emb.real.dtype), weight)


def adamix_label(partner_label: Tensor, weight: float | Tensor) -> Tensor:
    """AdaMix's soft label `(B, K)`: `(1 - a) * y_partner` (a sampled negative's y is 0).
    The label half of `adamix`, for callers that mix the embeddings elsewhere."""
    return (1 - weight) * partner_label


def draw_pattern_partners(pattern_mask: Tensor, K: int, generator: torch.Generator) -> Tensor:
    """Column indices (B, K) long, uniform with replacement over each row's True columns.

    pattern_mask: (B, P) bool, True = a known positive of the pattern T_q (>= 1 per row).
    """
    u = torch.rand(len(pattern_mask), K, generator=generator, device=generator.device)
    return pattern_partners(pattern_mask, u.to(pattern_mask.device))


def pattern_partners(pattern_mask: Tensor, u: Tensor) -> Tensor:
    """`draw_pattern_partners` with the draw made: `u` (B, K) uniform in [0, 1)."""
    require_rows(pattern_mask, "pattern_mask")
    cum = pattern_mask.long().cumsum(dim=1)  # (B, P): how many True columns up to each one
    count = cum[:, -1:]  # (B, 1)
    nth = (u * count).long().clamp_max(count - 1)  # (B, K): which True column, uniform
    # the (nth + 1)-th True column is the first whose running count reaches nth + 1
    return torch.searchsorted(cum, nth + 1)  # (B, K)


def draw_hard_partners(
    neg_scores: Tensor, C: int, generator: torch.Generator, eligible: Tensor | None = None
) -> Tensor:
    """`hard_partners` with the draw made from `generator` (on its device)."""
    B, K = neg_scores.shape
    pick = torch.rand(B, K, generator=generator, device=generator.device)
    return hard_partners(neg_scores, C, pick.to(neg_scores.device), eligible)


def hard_partners(
    neg_scores: Tensor, C: int, pick: Tensor, eligible: Tensor | None = None
) -> Tensor:
    """A true negative's partner (B, K) long: uniform among the C highest-scoring *other*
    eligible candidates of its row (the spec's pool: `eligible` = the row's TNs).

    neg_scores: (B, K); pick: (B, K) uniform in [0, 1), the draw; eligible: (B, K) bool,
    None = every candidate. A candidate with no other eligible candidate in its row is its
    own partner (left unmixed); so is every candidate when K == 1. Ties are broken by
    candidate index (as a stable sort), lower index ranking higher. Entries for ineligible
    candidates are valid indices but meaningless. `kernels.hard_partners` is the fast form.
    """
    if C < 1:
        raise ValueError(f"C must be >= 1, got {C}")
    B, K = neg_scores.shape
    if eligible is None:
        eligible = torch.ones_like(neg_scores, dtype=torch.bool)
    self_index = torch.arange(K, device=neg_scores.device).expand(B, K)  # (B, K)
    # each row's candidates, eligible ones first, best first, ties to the lower index
    masked = torch.where(eligible, neg_scores, -math.inf)
    order = torch.sort(masked, dim=1, descending=True, stable=True).indices  # (B, K)
    # pool[b, k, j]: order[b, j] is an eligible candidate other than k, and one of the
    # first C such (in score order)
    other = (order[:, None, :] != self_index[:, :, None]) & eligible.gather(1, order)[:, None]
    pool = other & (other.long().cumsum(dim=2) <= C)  # (B, K, K)
    size = pool.sum(dim=2)  # (B, K)
    nth = (pick * size).long().clamp_max((size - 1).clamp_min(0))  # (B, K) in [0, size)
    # the (nth + 1)-th pool member is the first slot whose running count reaches nth + 1
    slot = torch.searchsorted(pool.long().cumsum(dim=2), (nth + 1)[..., None]).squeeze(2)
    chosen = order.gather(1, slot.clamp_max(K - 1))  # (B, K)
    return torch.where(size > 0, chosen, self_index)


def draw_random_partners(
    B: int, K: int, generator: torch.Generator, device: torch.device | str | None = None
) -> Tensor:
    """Partner index (B, K) long, uniform over the K candidates other than itself (K > 1).

    With K == 1 each candidate is its own partner. ``device`` defaults to the generator's.
    """
    device = generator.device if device is None else torch.device(device)
    if K == 1:
        return torch.zeros(B, 1, dtype=torch.long, device=device)
    pick = torch.randint(0, K - 1, (B, K), generator=generator, device=generator.device)
    self_index = torch.arange(K, device=generator.device)  # (K,)
    return (pick + (pick >= self_index).long()).to(device)  # skip over itself


def _log_gamma(n: int, a: float, generator: torch.Generator) -> Tensor:
    """log of n Gamma(a, 1) draws, (n,) float64, for any a > 0.

    Marsaglia-Tsang (2000) samples Gamma(a + 1) (shape >= 1, where it is valid), and
    Gamma(a) = Gamma(a + 1) * U**(1/a) boosts it back down; working in logs keeps tiny a
    from underflowing to 0 (which would make the Beta ratio 0/0).
    """
    kw = {"device": generator.device, "dtype": torch.float64}
    d = a + 1.0 - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    out = torch.empty(n, **kw)
    todo = torch.arange(n, device=generator.device)
    while todo.numel():  # rejection rounds (acceptance > 95%), not a loop over the batch
        x = torch.randn(todo.numel(), generator=generator, **kw)
        v = (1.0 + c * x) ** 3
        u = torch.rand(todo.numel(), generator=generator, **kw)
        log_v = torch.log(v.clamp_min(1e-300))
        ok = (v > 0) & (torch.log(u) < 0.5 * x**2 + d - d * v + d * log_v)
        out[todo[ok]] = math.log(d) + log_v[ok]
        todo = todo[~ok]
    # log(1 - U) with 1 - U in (0, 1]: never log(0).
    return out + torch.log1p(-torch.rand(n, generator=generator, **kw)) / a


def beta_lambda(
    shape: tuple[int, ...] | torch.Size, alpha: float, generator: torch.Generator
) -> Tensor:
    """Per-triple mixup weights lambda ~ Beta(alpha, alpha), seeded by ``generator``.

    torch.distributions cannot take a generator, so the draw is built from two seeded Gamma
    draws: lambda = G1 / (G1 + G2) = sigmoid(log G1 - log G2). alpha == 1 is Uniform(0, 1);
    alpha == 0 is the limit Bernoulli(0.5) on {0, 1}. Returns a default-dtype tensor of
    ``shape`` on the generator's device.
    """
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    shape = torch.Size(shape)
    dtype, device = torch.get_default_dtype(), generator.device
    if alpha == 0:
        return (torch.rand(shape, generator=generator, device=device) < 0.5).to(dtype)
    if alpha == 1:
        return torch.rand(shape, generator=generator, device=device, dtype=dtype)
    n = shape.numel()
    lam = torch.sigmoid(_log_gamma(n, alpha, generator) - _log_gamma(n, alpha, generator))
    return lam.reshape(shape).to(dtype)


def fn_precision_recall(is_mpn: Tensor, is_true: Tensor, mask: Tensor | None = None) -> dict:
    """How well MPNE spots real false negatives among the sampled negatives.

    is_mpn:  bool, MPNE verdict per sampled negative (any shape, e.g. (B, K)).
    is_true: bool, same shape, True = the "negative" is actually a true fact.
    mask:    bool, same shape, entries to count (None = all).
    Returns python numbers: n_total, n_mpn, n_tn, n_true (false negatives of the base
    sampler), precision = |true & mpn| / |mpn|, recall = |true & mpn| / |true|,
    fn_rate = |true| / n_total; a ratio with a zero denominator is float('nan').
    """
    is_mpn, is_true = is_mpn.bool(), is_true.bool()
    keep = torch.ones_like(is_mpn) if mask is None else mask.bool()
    n_total = int(keep.sum())
    n_mpn = int((is_mpn & keep).sum())
    n_true = int((is_true & keep).sum())
    hits = int((is_mpn & is_true & keep).sum())

    def ratio(num: int, den: int) -> float:
        return num / den if den else float("nan")

    return {
        "n_total": n_total,
        "n_mpn": n_mpn,
        "n_tn": n_total - n_mpn,
        "n_true": n_true,
        "precision": ratio(hits, n_mpn),
        "recall": ratio(hits, n_true),
        "fn_rate": ratio(n_true, n_total),
    }
