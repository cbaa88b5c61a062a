"""Negative-sample audit: what each sampler hands the loss, for the same positives and model.

Every sampler gets the same seeded sample of train positives and the same model. Each positive
is corrupted at two consecutive steps (so samplers that alternate sides show both), after
`warmup` steps on the same positives that let stateful samplers (NSCaching's cache) reach the
model. Per sampler: the share of candidates that are known true facts (`kg.truth()`: valid +
test + a synthetic KG's hidden facts) = false-negative rate; the share that are train
positives; score mean and quantiles; the mean entropy of the self-adversarial weights
`softmax(adv_temperature * score)` over each positive's K candidates (low = a few hard ones
dominate); for DeMix its MPN / TN split and MPNE precision / recall against the truth; and
the false-negative rate per relation category (1-1, 1-N, N-1, N-N: `relcat`).
Candidates are counted where they enter the loss (`Negatives.mask`). A mixing sampler's truth
is judged on `ids` (for MixKG the first of each mixed pair); its scores are the mixtures'.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from demix_core.demix import fn_precision_recall
from demix_core.errors import CheckpointError, ConfigError
from demix_core.kg import KG, KGIndex, corrupt
from demix_core.relcat import CATEGORIES, category_ids, kg_categories
from demix_core.sampling import SAMPLERS, build_sampler, sampler_class


@dataclass
class Candidates:
    """Raw candidates of one sampler, N = 2 * positives rows (two steps), for plotting."""

    pos: torch.Tensor  # (N, 3) the positive of each row
    head: torch.Tensor  # (N,) bool, True = head corrupted
    ids: torch.Tensor  # (N, K) candidate ids
    scores: torch.Tensor  # (N, K) model score of what the loss sees (the mixture, if mixed)
    is_true: torch.Tensor  # (N, K) bool, the candidate triple is a known true non-train fact
    is_train: torch.Tensor  # (N, K) bool, the candidate triple is a train positive
    mask: torch.Tensor  # (N, K) bool, candidates that enter the loss
    mpn: torch.Tensor | None = None  # (N, K) bool, DeMix's verdict (True = pseudo-negative)


def _check(model, kg: KG, samplers: list[str], positives: int, negatives: int) -> None:
    for name in samplers:
        sampler_class(name, "samplers")
    if not samplers:
        raise ConfigError(f"--samplers: name at least one (known: {', '.join(SAMPLERS)})")
    if positives < 1 or negatives < 1:
        raise ConfigError(f"--positives and --negatives must be >= 1, got {positives}, {negatives}")
    if model.entity.shape[0] != kg.num_entities or model.relation.shape[0] != kg.num_relations:
        raise CheckpointError(
            f"model has {model.entity.shape[0]} entities / {model.relation.shape[0]} relations, "
            f"dataset {kg.name} has {kg.num_entities} / {kg.num_relations}"
        )


def audit_positives(kg: KG, positives: int, seed: int) -> torch.Tensor:
    """The seeded sample of train positives every sampler is audited on, `(P, 3)`."""
    g = torch.Generator().manual_seed(seed)
    return kg.train[torch.randperm(len(kg.train), generator=g)[:positives]]


def sampler_candidates(
    model, kg: KG, samplers: list[str], positives: int, negatives: int, seed: int, **draw
) -> dict[str, Candidates]:
    """Raw candidates of each sampler on the same seeded positives (see the module
    docstring); `draw`: `draw_candidates`' options, filtered and warmup."""
    _check(model, kg, samplers, positives, negatives)
    pos = audit_positives(kg, positives, seed)  # (P, 3)
    return draw_candidates(model, kg, pos, samplers, negatives, seed, **draw)


@torch.no_grad()
def draw_candidates(
    model,
    kg: KG,
    pos: torch.Tensor,
    samplers: list[str],
    negatives: int,
    seed: int,
    options: dict[str, dict] | None = None,
    filtered: bool = False,
    warmup: int = 10,
) -> dict[str, Candidates]:
    """Candidates of each sampler for positives `pos (P, 3)`, every sampler seeded alike:
    `warmup` steps first (samplers with a cache fill it), then two steps (tail, head)."""
    device = model.entity.device
    index = KGIndex.build(kg).to(device)
    pos = pos.to(device)
    out = {}
    for name in samplers:
        sampler = build_sampler(name, kg, index, (options or {}).get(name), seed, device)
        for step in range(warmup):
            sampler.sample(model, pos, step, negatives, filtered)
        negs = [sampler.sample(model, pos, warmup + i, negatives, filtered) for i in (0, 1)]
        out[name] = _candidates(model, index, pos, negs)
    return out


def _candidates(model, index: KGIndex, pos: torch.Tensor, negs: list) -> Candidates:
    rows, heads, ids, scores, masks, mpns = [], [], [], [], [], []
    for neg in negs:
        rows.append(pos)
        heads.append(neg.head)
        ids.append(neg.ids)
        cand = neg.embeddings(model)  # (P, K, De): what the loss scores (mixed, if mixed)
        scores.append(model.score_candidates(pos, neg.head, cand).float())  # (P, K)
        masks.append(neg.mask if neg.mask is not None else torch.ones_like(neg.ids, dtype=bool))
        mpns.append(neg.mpn)
    pos, head, ids = torch.cat(rows), torch.cat(heads), torch.cat(ids)  # (N, 3), (N,), (N, K)
    h, r, t = corrupt(pos, ids, head).unbind(-1)  # (N, K) each
    return Candidates(
        pos=pos,
        head=head,
        ids=ids,
        scores=torch.cat(scores),
        is_true=index.truth.contains(h, r, t),
        is_train=index.train.contains(h, r, t),
        mask=torch.cat(masks),
        mpn=None if any(m is None for m in mpns) else torch.cat(mpns),
    )


def json_ready(x):
    """NaN as None (JSON has no NaN), in nested dicts too."""
    if isinstance(x, dict):
        return {k: json_ready(v) for k, v in x.items()}
    return None if isinstance(x, float) and math.isnan(x) else x


def fn_by_category(c: Candidates, categories: list[str]) -> dict[str, dict]:
    """False-negative rate of the candidates that enter the loss, per relation category
    (`relcat.CATEGORIES`; `categories[r]` is relation r's): {cat: {candidates, fn_rate}}."""
    cat = category_ids(categories).to(c.pos.device)[c.pos[:, 1]]  # (N,) category of each row
    out = {}
    for i, name in enumerate(CATEGORIES):
        keep = c.mask & (cat == i)[:, None]  # (N, K)
        n = int(keep.sum())
        out[name] = {
            "candidates": n,
            "fn_rate": int((c.is_true & keep).sum()) / n if n else math.nan,
        }
    return out


def summarise(
    c: Candidates, adv_temperature: float = 1.0, categories: list[str] | None = None
) -> dict:
    """The audit figures of one sampler's candidates (python numbers; NaN where undefined);
    with the relations' `categories`, also `by_category` (`fn_by_category`)."""
    keep = c.mask
    n = int(keep.sum())
    kept = c.scores[keep]
    q = kept.quantile(torch.tensor([0.1, 0.5, 0.9])).tolist() if n else [math.nan] * 3
    logits = (adv_temperature * c.scores).masked_fill(~keep, -math.inf)  # (N, K)
    live = keep.any(1)
    p = logits[live].softmax(1)
    entropy = -torch.where(p > 0, p * p.log(), 0.0).sum(1)  # (N_live,)
    out = {
        "candidates": n,
        "fn_rate": int((c.is_true & keep).sum()) / n if n else math.nan,
        "train_rate": int((c.is_train & keep).sum()) / n if n else math.nan,
        "score_mean": float(kept.mean()) if n else math.nan,
        "score_q10": q[0],
        "score_q50": q[1],
        "score_q90": q[2],
        "adv_entropy": float(entropy.mean()) if len(entropy) else math.nan,
        "adv_entropy_max": math.log(c.scores.shape[1]),
    }
    if c.mpn is not None:
        # precision and recall over the candidates that are not train positives, as in
        # training.truth_stats; the verdict counts over every candidate
        pr = fn_precision_recall(c.mpn, c.is_true, keep & ~c.is_train)
        n_mpn = int((c.mpn & keep).sum())
        out.update(
            n_mpn=n_mpn,
            n_tn=n - n_mpn,
            mpne_precision=pr["precision"],
            mpne_recall=pr["recall"],
        )
    if categories is not None:
        out["by_category"] = fn_by_category(c, categories)
    return out


def audit_samplers(
    model,
    kg: KG,
    samplers: list[str],
    positives: int,
    negatives: int,
    seed: int,
    adv_temperature: float = 1.0,
    options: dict[str, dict] | None = None,
    filtered: bool = False,
    warmup: int = 10,
) -> dict:
    """Audit figures per sampler for the same positives under the same model."""
    draw = {"options": options, "filtered": filtered, "warmup": warmup}
    cands = sampler_candidates(model, kg, samplers, positives, negatives, seed, **draw)
    categories = kg_categories(kg)
    return {
        "dataset": kg.name,
        "positives": min(positives, len(kg.train)),
        "negatives": negatives,
        "seed": seed,
        "adv_temperature": adv_temperature,
        "filtered": filtered,
        "warmup": warmup,
        "relation_categories": dict(zip(kg.relations, categories)),
        "samplers": {name: summarise(c, adv_temperature, categories) for name, c in cands.items()},
    }
