"""Relation categories (TransH's 1-1 / 1-N / N-1 / N-N) on a hand-made KG, and their use in
the audit and the per-relation evaluation, checked against counts done by hand in Python."""

import math

import pytest
import torch

from demix_core.audit import Candidates, fn_by_category, sampler_candidates
from demix_core.data import load_dataset
from demix_core.evaluation import FilterIndex, evaluate, rank_queries, summarize
from demix_core.kg import KG
from demix_core.models import KGEModel
from demix_core.relcat import categorise, relation_categories, relation_stats

# relation 0: 1-1 (a matching); 1: 1-N (0 -> 1, 2, 3 and 4 -> 5, 6: 5 triples over 2 heads);
# 2: N-1 (relation 1 reversed); 3: N-N (heads {0, 1} x tails {2, 3}); 4: tph exactly 1.5
# (0 -> 1, 2 and 3 -> 4), which TransH counts as N; 5: no triple at all.
HAND = [
    (0, 0, 1), (2, 0, 3), (4, 0, 5),
    (0, 1, 1), (0, 1, 2), (0, 1, 3), (4, 1, 5), (4, 1, 6),
    (1, 2, 0), (2, 2, 0), (3, 2, 0), (5, 2, 4), (6, 2, 4),
    (0, 3, 2), (0, 3, 3), (1, 3, 2), (1, 3, 3),
    (0, 4, 1), (0, 4, 2), (3, 4, 4),
    (0, 1, 1),  # a duplicate: counted once
]  # fmt: skip


def test_hand_made_kg_categories():
    triples = torch.tensor(HAND)
    tph, hpt = relation_stats(triples, 6)
    assert tph[:5].tolist() == [1.0, 2.5, 1.0, 2.0, 1.5]
    assert hpt[:5].tolist() == [1.0, 1.0, 2.5, 2.0, 1.0]
    assert math.isnan(tph[5]) and math.isnan(hpt[5])
    assert relation_categories(triples, 6) == ["1-1", "1-N", "N-1", "N-N", "1-N", "1-1"]


@pytest.mark.parametrize(
    "tph, hpt, want",
    [(1.49, 1.49, "1-1"), (1.5, 1.0, "1-N"), (1.0, 1.5, "N-1"), (7.0, 3.0, "N-N")],
)
def test_threshold_is_inclusive(tph, hpt, want):
    assert categorise(tph, hpt) == want


def test_fn_rate_by_category_counts_by_hand():
    """Rows of relations 0 (1-1), 1 (1-N) and 3 (N-N); masked-out candidates never count."""
    pos = torch.tensor([[0, 0, 1], [0, 1, 1], [0, 1, 2], [0, 3, 2]])
    is_true = torch.tensor([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 0]], dtype=torch.bool)
    mask = torch.tensor([[1, 1, 1], [1, 1, 0], [1, 0, 1], [1, 1, 1]], dtype=torch.bool)
    c = Candidates(
        pos=pos,
        head=torch.zeros(4, dtype=torch.bool),
        ids=torch.zeros(4, 3, dtype=torch.long),
        scores=torch.zeros(4, 3),
        is_true=is_true,
        is_train=torch.zeros(4, 3, dtype=torch.bool),
        mask=mask,
    )
    got = fn_by_category(c, ["1-1", "1-N", "N-1", "N-N"])
    assert got["1-1"] == {"candidates": 3, "fn_rate": 1 / 3}
    assert got["1-N"] == {"candidates": 4, "fn_rate": 2 / 4}  # (1, 1) masked, (2, 1) masked
    assert got["N-N"] == {"candidates": 3, "fn_rate": 0.0}
    assert got["N-1"]["candidates"] == 0 and math.isnan(got["N-1"]["fn_rate"])


def test_audit_categories_add_up_to_the_overall_rate():
    kg = load_dataset("synthetic:entities=200,hidden=0.3,seed=2")
    torch.manual_seed(0)
    model = KGEModel("rotate", kg.num_entities, kg.num_relations, dim=8, gamma=6.0)
    cats = relation_categories(kg.all_true(), kg.num_relations)
    cands = sampler_candidates(model, kg, ["uniform"], 80, 8, seed=0, warmup=1)["uniform"]
    parts = fn_by_category(cands, cats)
    n = sum(p["candidates"] for p in parts.values())
    fn = sum(p["fn_rate"] * p["candidates"] for p in parts.values() if p["candidates"])
    assert n == int(cands.mask.sum())
    assert fn == pytest.approx(int((cands.is_true & cands.mask).sum()))


def test_evaluate_per_category_matches_ranks_by_hand():
    kg = load_dataset("nations")
    torch.manual_seed(3)
    model = KGEModel("transe", kg.num_entities, kg.num_relations, 4, 2.0)
    out = evaluate(model, kg, "valid", per_relation=True)
    cats = relation_categories(kg.all_true(), kg.num_relations)
    filt = FilterIndex(kg)
    tail = rank_queries(model, kg.valid, False, filt)
    head = rank_queries(model, kg.valid, True, filt)
    for name, sides in out["per_category"].items():
        rows = torch.tensor([cats[r] == name for r in kg.valid[:, 1].tolist()])
        assert sides["tail"]["mrr"] == pytest.approx(summarize(tail[rows])["mrr"])
        assert sides["head"]["mrr"] == pytest.approx(summarize(head[rows])["mrr"])
        assert sides["both"]["queries"] == 2 * int(rows.sum())
    total = sum(s["both"]["queries"] for s in out["per_category"].values())
    assert total == 2 * len(kg.valid)


def test_kg_helper_uses_every_split():
    """A relation that is 1-1 in train alone but 1-N once valid and test are counted."""
    t = torch.tensor
    kg = KG(
        name="hand",
        entities=[str(i) for i in range(4)],
        relations=["r"],
        train=t([[0, 0, 1]]),
        valid=t([[0, 0, 2]]),
        test=t([[0, 0, 3]]),
        hidden=t([]).reshape(0, 3).long(),
    )
    from demix_core.relcat import kg_categories

    assert relation_categories(kg.train, 1) == ["1-1"]
    assert kg_categories(kg) == ["1-N"]


def test_cli_per_relation_json_has_the_categories(capsys):
    import json

    from demix_core.cli import main
    from demix_core.examples import ExampleShelf

    shelf = ExampleShelf()
    path = shelf.run_dir("example-nations-uniform") / "checkpoints" / "step_0000600.pt"
    args = ["evaluate", "--checkpoint", str(path), "--dataset", "nations", "--per-relation"]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    kg = load_dataset("nations")
    cats = relation_categories(kg.all_true(), kg.num_relations)
    assert set(out["per_category"]) == {cats[r] for r in kg.test[:, 1].tolist()}
    assert sum(c["both"]["queries"] for c in out["per_category"].values()) == out["queries"]
    assert set(out["per_relation"]) <= set(kg.relations)
    assert main(args) == 0
    assert "MRR tail" in capsys.readouterr().out
