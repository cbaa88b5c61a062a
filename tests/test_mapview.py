"""The AdaMix map's entity details against brute force."""

import numpy as np
import pytest
import torch

from demix_core.data import load_dataset
from demix_core.lens import demix_lens
from demix_core.mapview import clicked_entity, entity_detail, find_entity, nearest, verdict
from demix_core.models import KGEModel


@pytest.fixture(scope="module")
def setup():
    kg = load_dataset("nations")
    torch.manual_seed(0)
    model = KGEModel("rotate", kg.num_entities, kg.num_relations, dim=8, gamma=6.0)
    result = demix_lens(model, kg, kg.train[:16], mu=1.0, alpha=0.5, k=6)
    return kg, model, result


def test_nearest_is_the_brute_force_order():
    rng = np.random.default_rng(0)
    table = rng.normal(size=(30, 4))
    got = nearest(table, 7, 4)
    dists = sorted(
        (float(np.sqrt(((table[i] - table[7]) ** 2).sum())), i) for i in range(30) if i != 7
    )
    assert [i for i, _ in got] == [i for _, i in dists[:4]]
    assert [d for _, d in got] == pytest.approx([d for d, _ in dists[:4]])


def test_detail_score_and_verdict(setup):
    kg, model, r = setup
    row, k = 3, 2
    e = int(r.candidates[row, k])
    d = entity_detail(r, kg, model.entity.detach().numpy(), row, e)
    assert d["score"] == pytest.approx(float(r.cand_scores[row, k]), abs=1e-5)
    assert d["verdict"].startswith("candidate, MPN" if r.is_mpn[row, k] else "candidate, TN")
    drawn = set(r.candidates[row].tolist()) | set(r.pattern_ids[row][r.pattern_mask[row]].tolist())
    absent = next(i for i in range(kg.num_entities) if i not in drawn)
    assert verdict(r, row, absent) == "not drawn for this query"
    answer = int(r.pattern_ids[row][r.pattern_mask[row]][0])
    if answer not in set(r.candidates[row].tolist()):
        assert verdict(r, row, answer) == "a known answer of the query (train)"


def test_clicks_and_search():
    assert clicked_entity([{"x": 1}, {"customdata": 5}]) == 5
    assert clicked_entity([{"customdata": [9]}]) == 9
    assert clicked_entity([]) is None
    kg = load_dataset("nations")
    assert kg.entities[find_entity(kg, "us")].lower().startswith("us")
    assert find_entity(kg, "  ") is None and find_entity(kg, "zzzz") is None
