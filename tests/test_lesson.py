"""Lesson takeaways: each sentence carries the numbers of the data it is given, checked
against hand-made inputs and brute-force means; and the one reader of experiment results."""

import json
import math

import pandas as pd
import pytest
import torch

from demix_core import lesson
from demix_core.data import load_dataset
from demix_core.lens import demix_lens
from demix_core.models import KGEModel


@pytest.fixture(scope="module")
def result():
    kg = load_dataset("synthetic:entities=200,hidden=0.3,seed=2")
    torch.manual_seed(0)
    model = KGEModel("rotate", kg.num_entities, kg.num_relations, dim=8, gamma=6.0)
    return demix_lens(model, kg, kg.train[:64], mu=1.0, alpha=0.5, k=16), kg


def test_evidence_is_read_or_none(tmp_path):
    assert lesson.lesson_evidence("fn-cost", tmp_path) is None
    (tmp_path / "fn-cost").mkdir()
    (tmp_path / "fn-cost" / "results.json").write_text("{broken")
    assert lesson.lesson_evidence("fn-cost", tmp_path) is None
    (tmp_path / "fn-cost" / "results.json").write_text(json.dumps({"rows": [1, 2]}))
    assert lesson.lesson_evidence("fn-cost", tmp_path) is None  # not an experiment record
    runs = [
        {"dataset": "x", "seed": 0, "mode": m, "valid_mrr": v, "fn_rate": 0.0, "curve": []}
        for m, v in (("oracle-filtered", 0.6), ("normal", 0.5), ("leakage", 0.4))
    ]
    record = {"name": "fn-cost", "data": {"runs": runs, "leak_rate": 0.05}}
    (tmp_path / "fn-cost" / "results.json").write_text(json.dumps(record))
    assert lesson.lesson_evidence("fn-cost", tmp_path) == record
    assert "on 1 of 1 datasets" in lesson.evidence_sentence("fn-cost", record)


def test_samplers_takeaway_names_the_extremes():
    frame = pd.DataFrame({"sampler": ["uniform", "a", "b"], "fn_rate": [0.02, 0.05, 0.01]})
    assert lesson.takeaway_samplers(frame) == (
        "a draws the most false negatives (5.0% of its candidates), b the fewest (1.0%); "
        "uniform sampling 2.0%."
    )


def test_score_groups_against_loops(result):
    r, _ = result
    fn, other, answers = [], [], []
    for i in range(r.candidates.shape[0]):
        for k in range(r.candidates.shape[1]):
            if r.is_train_positive[i, k]:
                continue
            (fn if r.is_true[i, k] else other).append(float(r.cand_scores[i, k]))
        answers += [float(s) for s, m in zip(r.pattern_scores[i], r.pattern_mask[i]) if m]
    got = lesson.score_groups(r)
    mean = lambda x: sum(x) / len(x)  # noqa: E731
    assert got["n_fn"] == len(fn) > 0
    assert got["false negatives"] == pytest.approx(mean(fn), rel=1e-5)
    assert got["answers"] == pytest.approx(mean(answers), rel=1e-5)
    want = (mean(fn) - mean(other)) / (mean(answers) - mean(other))
    assert got["position"] == pytest.approx(want, rel=1e-4)


def test_cost_takeaway_follows_the_positions():
    plain = {"n_fn": 12, "position": 0.3}
    text = lesson.takeaway_cost(plain, {"n_fn": 12, "position": 0.7})
    assert "12 false negatives 0.30 of the way" in text and "closer to the negatives" in text
    assert "sit at 0.70, higher" in text
    text = lesson.takeaway_cost({"n_fn": 3, "position": 0.8}, {"n_fn": 3, "position": 0.6})
    assert "closer to the true answers" in text and "0.60, no higher" in text
    assert "no cost" in lesson.takeaway_cost({"n_fn": 0, "position": math.nan}, None)


def test_mpne_takeaway_numbers():
    s = {"candidates": 1000, "n_mpn": 40, "n_true_mpn": 20, "n_true": 50}
    s.update(precision=0.5, recall=0.4)
    text = lesson.takeaway_mpne(s, 1.5, 0.05)
    assert "At mu = 1.5, MPNE flags 40 of the 1,000 candidates" in text
    assert "20 of them are known true facts (precision 0.50), catching 40.0% of all" in text
    assert "10.0x the 5.0%" in text


def test_adamix_scores_against_masks(result):
    r, _ = result
    got = lesson.adamix_scores(r)
    tn = ~r.is_mpn
    assert got["n_tn"] == int(tn.sum()) and got["n_mpn"] == int(r.is_mpn.sum())
    assert got["tn_after"] == pytest.approx(float(r.mixed_scores[tn].mean()))
    text = lesson.takeaway_adamix(got, 0.5)
    assert f"the {got['n_tn']:,} TN" in text and f"{got['tn_after']:.2f}" in text


def test_false_negative_example_is_a_known_true_fact(result):
    r, kg = result
    h, rel, t = lesson.false_negative_example(r, (kg.entities, kg.relations))
    triple = (kg.entities.index(h), kg.relations.index(rel), kg.entities.index(t))
    assert triple in {tuple(x) for x in kg.truth().tolist()}


def test_results_table_and_takeaway():
    records = [
        {"name": "Example: RotatE + uniform on A", "sampler": "uniform", "final": {"mrr": 0.5}},
        {"name": "Example: RotatE + DeMix on A", "sampler": "demix", "final": {"mrr": 0.6}},
        {"name": "Example: RotatE + uniform on B", "sampler": "uniform", "final": {"mrr": 0.7}},
        {"name": "Example: RotatE + DeMix on B", "sampler": "demix", "final": {"mrr": 0.6}},
    ]
    table = lesson.example_results(records)
    assert table.to_dict("list") == {
        "dataset": ["A", "B"],
        "uniform": [0.5, 0.7],
        "demix": [0.6, 0.6],
    }
    assert lesson.takeaway_results(table).startswith(
        "DeMix reached a higher test MRR on 1 of 2 datasets (mean change +0.000)"
    )
