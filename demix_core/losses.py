"""The RotatE-style loss, extended to soft labels so mixed triples fit in the same formula.

For a positive with score s+ and candidates with scores s_k and labels y_k in [0, 1]:

    L = ( -log sigmoid(s+)  +  sum_k w_k * BCE(sigmoid(s_k), y_k) ) / 2

With y_k = 0 the candidate term is RotatE's `-log sigmoid(-s_k)`. The halving follows the
RotatE code (mean of positive and negative parts). `w_k` is 1/K, or the self-adversarial
softmax of the scores (no gradient through it). Subsampling weights average over positives.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def negative_weights(
    neg_score: torch.Tensor, mask: torch.Tensor | None, adv_temperature: float
) -> torch.Tensor:
    """`(B, K)` weights summing to 1 per row over the candidates that enter the loss."""
    if adv_temperature > 0:
        logits = (neg_score.detach() * adv_temperature).masked_fill(
            mask.logical_not()
            if mask is not None
            else torch.zeros_like(neg_score, dtype=torch.bool),
            float("-inf"),
        )
        w = torch.softmax(logits, dim=1)
        return torch.nan_to_num(w, nan=0.0)  # a row with no candidate left weighs nothing
    w = torch.ones_like(neg_score) if mask is None else mask.to(neg_score.dtype)
    return w / w.sum(1, keepdim=True).clamp(min=1.0)


def kge_loss(
    pos_score: torch.Tensor,
    neg_score: torch.Tensor,
    labels: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
    adv_temperature: float = 0.0,
    subsample: torch.Tensor | None = None,
) -> torch.Tensor:
    """Scalar loss from `pos_score (B,)`, `neg_score (B, K)`, soft `labels (B, K)`,
    `mask (B, K)` and per-positive `subsample (B,)` weights."""
    pos_term = -F.logsigmoid(pos_score)  # (B,)
    if labels is None:
        neg_term = -F.logsigmoid(-neg_score)  # (B, K)
    else:
        neg_term = F.binary_cross_entropy_with_logits(neg_score, labels, reduction="none")
    w = negative_weights(neg_score, mask, adv_temperature)
    per_pos = (pos_term + (w * neg_term).sum(1)) / 2  # (B,)
    if subsample is None:
        return per_pos.mean()
    return (subsample * per_pos).sum() / subsample.sum()


def subsampling_weights(train: torch.Tensor, num_entities: int, num_relations: int) -> torch.Tensor:
    """RotatE's frequency weights `(N,)`: 1/sqrt(#(h,r) + #(t,r) + 6), the +6 being its
    counts starting at 4 for each of the two patterns."""
    E, R = num_entities, num_relations
    hr = train[:, 0] * R + train[:, 1]
    tr = train[:, 2] * R + train[:, 1]
    c_hr = torch.bincount(hr, minlength=E * R)[hr]
    c_tr = torch.bincount(tr, minlength=E * R)[tr]
    return (c_hr + c_tr + 6).double().rsqrt().float()
