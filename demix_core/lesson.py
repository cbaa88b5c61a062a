"""The guided lesson: its steps, and the one-sentence takeaway of each, computed from the
data the step shows (never fixed text). Pure: numbers, frames and lens results in, strings
and frames out; the page (`pages/lesson.py`) only draws.

Results of the project's experiments are read in one place, `lesson_evidence`, so a step can
show them where they exist and fall back to what it measures live where they do not.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import torch

from demix_core.lens import LensResult

ROOT = Path(__file__).resolve().parent.parent
STEPS = (
    "What is a false negative?",
    "How often does each sampler draw them?",
    "What do they cost?",
    "MPNE: spotting them (mu)",
    "AdaMix: mixing them (alpha)",
    "Does it help?",
    "Now try it yourself",
)


def lesson_evidence(name: str, root: Path | None = None) -> dict | None:
    """The saved record of an experiment (`fn-cost`, `ablation`, ...; see
    `demix_core.experiments`), or None when it has not been run (the step then measures live)."""
    from demix_core.experiments import load

    return load(name, root)


def evidence_sentence(name: str, record: dict) -> str:
    """The experiment's own conclusion, computed from its numbers."""
    from demix_core.experiments import get

    return f"The {name} experiment: {get(name).conclude(record['data'])}"


def _pct(x: float) -> str:
    return "-" if x != x else f"{100 * x:.1f}%"


def false_negative_example(result: LensResult, names: tuple[list[str], list[str]]) -> tuple | None:
    """(head, relation, tail) names of the first candidate that is a known true fact."""
    hit = (result.is_true & ~result.is_train_positive).nonzero()
    if len(hit) == 0:
        return None
    row, k = hit[0].tolist()
    h, r, t = result.positives[row].tolist()
    e = int(result.candidates[row, k])
    h, t = (e, t) if bool(result.head[row]) else (h, e)
    entities, relations = names
    return entities[h], relations[r], entities[t]


def takeaway_false_negatives(summary: dict, positives: int, example: tuple | None) -> str:
    """Step 1: how many of the drawn negatives are true facts, with one of them."""
    n, fn = summary["candidates"], summary["n_true"]
    text = (
        f"Of the {n:,} negatives that uniform sampling drew for {positives:,} training facts, "
        f"{fn:,} ({_pct(fn / n if n else math.nan)}) are true facts missing from the graph"
    )
    if example is None:
        return text + "."
    return text + f": ({', '.join(example)}) is one, and training would push it down."


def takeaway_samplers(summary: pd.DataFrame) -> str:
    """Step 2: which sampler draws the most and the fewest false negatives."""
    rates = summary.set_index("sampler")["fn_rate"].dropna()
    if rates.empty:
        return "No sampler drew a candidate here."
    hi, lo = rates.idxmax(), rates.idxmin()
    text = (
        f"{hi} draws the most false negatives ({_pct(rates[hi])} of its candidates), "
        f"{lo} the fewest ({_pct(rates[lo])})"
    )
    if "uniform" in rates and "uniform" not in (hi, lo):
        text += f"; uniform sampling {_pct(rates['uniform'])}"
    return text + "."


def score_groups(result: LensResult) -> dict[str, float]:
    """Mean model score of a query's known answers, of the candidates that are known true
    facts (false negatives) and of the other candidates, and where the false negatives sit
    between the two (`position`: 0 = like the other negatives, 1 = like the answers)."""
    keep = ~result.is_train_positive
    fn, other = (
        result.cand_scores[result.is_true & keep],
        result.cand_scores[~result.is_true & keep],
    )
    answers = result.pattern_scores[result.pattern_mask]
    means = {k: float(v.mean()) if len(v) else math.nan for k, v in
             (("answers", answers), ("false negatives", fn), ("other negatives", other))}  # fmt: skip
    span = means["answers"] - means["other negatives"]
    means["position"] = (
        (means["false negatives"] - means["other negatives"]) / span if span else math.nan
    )
    means["n_fn"] = int(len(fn))
    return means


def takeaway_cost(plain: dict, demix: dict | None) -> str:
    """Step 3: where the uniform-trained model puts the false negatives, and the DeMix one."""
    if plain["n_fn"] == 0 or plain["position"] != plain["position"]:
        return "No drawn candidate is a known true fact here, so there is no cost to show."
    pos = plain["position"]
    side = "the negatives" if pos < 0.5 else "the true answers"
    text = (
        f"The model trained with uniform negatives scores the {plain['n_fn']} false negatives "
        f"{pos:.2f} of the way from the other negatives to the true answers: closer to {side}"
    )
    if demix is not None and demix["position"] == demix["position"]:
        verb = "higher" if demix["position"] > pos else "no higher"
        text += (
            f"; trained with DeMix, the same facts sit at {demix['position']:.2f}, {verb}: "
            f"{'less' if demix['position'] > pos else 'not less'} of the truth unlearned"
        )
    return text + "."


def takeaway_mpne(summary: dict, mu: float, base_rate: float) -> str:
    """Step 4: how many MPNE flags at this mu, and how many of those are really true."""
    n, mpn, caught = summary["candidates"], summary["n_mpn"], summary["n_true_mpn"]
    prec, rec = summary["precision"], summary["recall"]
    text = f"At mu = {mu:g}, MPNE flags {mpn:,} of the {n:,} candidates as probable false negatives"
    if summary["n_true"] == 0:
        return (
            text + "; none of the candidates is a known true fact, so their precision is unknown."
        )
    text += f"; {caught:,} of them are known true facts (precision {prec:.2f}), catching {_pct(rec)} of all"
    if base_rate > 0 and prec == prec:
        text += f", {prec / base_rate:.1f}x the {_pct(base_rate)} a random pick would hit"
    return text + "."


def adamix_scores(result: LensResult) -> dict[str, float]:
    """Mean score of the TN candidates before and after mixing, and the mean soft label and
    count of the partially positive (MPN) mixes."""
    tn, mpn = ~result.is_mpn, result.is_mpn

    def mean(x: torch.Tensor) -> float:
        return float(x.mean()) if x.numel() else math.nan

    return {
        "n_mpn": int(mpn.sum()),
        "n_tn": int(tn.sum()),
        "tn_before": mean(result.cand_scores[tn]),
        "tn_after": mean(result.mixed_scores[tn]),
        "soft_label": mean(result.mixed_label[mpn]),
    }


def takeaway_adamix(scores: dict, alpha: float) -> str:
    """Step 5: what mixing at this alpha makes of MPN and TN."""
    text = f"With alpha = {alpha:g}, the {scores['n_mpn']:,} MPN become partially positive triples"
    if scores["soft_label"] == scores["soft_label"]:
        text += f" (mean soft label {scores['soft_label']:.2f})"
    change = scores["tn_after"] - scores["tn_before"]
    if change != change:
        return text + "."
    word = "harder" if change > 0 else "not harder"
    return (
        text
        + f", and the {scores['n_tn']:,} TN, mixed with hard TNs, score {scores['tn_after']:.2f} "
        f"instead of {scores['tn_before']:.2f} on average: {word} negatives."
    )


def example_results(records: list[dict]) -> pd.DataFrame:
    """Test MRR of each example dataset trained with uniform negatives and with DeMix (as
    measured when the examples were built), one row per dataset."""
    rows: dict[str, dict] = {}
    for r in records:
        name = r["name"].split(" on ", 1)[-1]
        rows.setdefault(name, {"dataset": name})[r["sampler"]] = r["final"].get("mrr")
    frame = pd.DataFrame(list(rows.values()))
    for col in ("uniform", "demix"):
        if col not in frame:
            frame[col] = math.nan
    return frame[["dataset", "uniform", "demix"]]


def takeaway_results(table: pd.DataFrame) -> str:
    """Step 6: on how many datasets the DeMix example beats the uniform one."""
    both = table.dropna(subset=["uniform", "demix"])
    if both.empty:
        return "No pair of examples to compare."
    better = both[both["demix"] > both["uniform"]]
    gain = (both["demix"] - both["uniform"]).mean()
    return (
        f"DeMix reached a higher test MRR on {len(better)} of {len(both)} datasets "
        f"(mean change {gain:+.3f}); these are small, single-seed examples, not a benchmark."
    )
