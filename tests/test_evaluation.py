import pytest
import torch

from demix_core.data import load_dataset
from demix_core.evaluation import evaluate
from demix_core.models import SCORERS, KGEModel


def brute_force(model, kg, split):
    """Every candidate scored one triple at a time; filter from a Python set."""
    known = {tuple(x) for x in kg.all_true().tolist()}
    ranks = {"tail": [], "head": []}
    with torch.no_grad():
        for h, r, t in kg.split(split).tolist():
            for side in ("tail", "head"):
                target = model.score_triples(torch.tensor([[h, r, t]])).item()
                greater = tied = 0
                for e in range(kg.num_entities):
                    tri = (h, r, e) if side == "tail" else (e, r, t)
                    if tri in known:
                        continue
                    s = model.score_triples(torch.tensor([tri])).item()
                    greater += s > target
                    tied += s == target
                ranks[side].append(1 + greater + tied / 2)
    allr = torch.tensor(ranks["tail"] + ranks["head"], dtype=torch.float64)
    return {
        "mrr": float((1 / allr).mean()),
        "mr": float(allr.mean()),
        **{f"hits@{k}": float((allr <= k).double().mean()) for k in (1, 3, 10)},
    }


@pytest.mark.parametrize("name", sorted(SCORERS))
def test_filtered_evaluation_equals_brute_force(name):
    torch.manual_seed(1)
    kg = load_dataset("nations")
    model = KGEModel(name, kg.num_entities, kg.num_relations, 8, 3.0)
    got = evaluate(model, kg, "test", batch_size=37)
    want = brute_force(model, kg, "test")
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-6), key


def test_ties_use_the_realistic_rank(tiny_kg):
    """A model that scores everything equal: rank = 1 + (#unfiltered others)/2."""
    model = KGEModel("distmult", 6, 2, 2, 1.0)
    with torch.no_grad():
        model.entity.zero_()
    got = evaluate(model, tiny_kg, "test")
    known = {tuple(x) for x in tiny_kg.all_true().tolist()}
    ranks = []
    for h, r, t in tiny_kg.test.tolist():
        ranks.append(1 + sum((h, r, e) not in known for e in range(6)) / 2)
        ranks.append(1 + sum((e, r, t) not in known for e in range(6)) / 2)
    assert got["mr"] == pytest.approx(sum(ranks) / len(ranks))


def test_per_relation_and_progress():
    kg = load_dataset("nations")
    model = KGEModel("transe", kg.num_entities, kg.num_relations, 4, 2.0)
    seen = []
    out = evaluate(model, kg, "valid", per_relation=True, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (2 * len(kg.valid), 2 * len(kg.valid))
    total = sum(v["queries"] for v in out["per_relation"].values())
    assert total == 2 * len(kg.valid)
    weighted = sum(v["mrr"] * v["queries"] for v in out["per_relation"].values()) / total
    assert weighted == pytest.approx(out["mrr"])
