"""CANS and ESNS against hand-computed pools and a brute-force similarity."""

import math
from collections import defaultdict

import pytest
import torch

from demix_core.data import load_dataset
from demix_core.errors import ConfigError
from demix_core.kg import KG, KGIndex
from demix_core.sampling import build_sampler


def kg_of(train, num_entities, num_relations) -> KG:
    t = torch.tensor(train, dtype=torch.long)
    return KG(
        name="hand",
        entities=[f"e{i}" for i in range(num_entities)],
        relations=[f"r{i}" for i in range(num_relations)],
        train=t,
        valid=t[:1],
        test=t[:1],
    )


@pytest.fixture
def hand_kg():
    # r0 is 1-1; r1 is 1-N (tails per head 4/2 = 2, heads per tail 4/4 = 1); r2 has one triple
    train = [[0, 0, 1], [2, 0, 3], [4, 0, 5], [0, 1, 2], [0, 1, 3], [0, 1, 4], [6, 1, 7]]
    return kg_of(train + [[5, 2, 6]], 8, 3)


def test_cans_pools_follow_the_relation_cardinality(hand_kg):
    s = build_sampler("cans", hand_kg, KGIndex.build(hand_kg), None, 0, "cpu")
    pools = {(r, side): set(s.pool(r, side).tolist()) for r in range(3) for side in (0, 1)}
    assert pools[(0, 0)] == {1, 3, 5} and pools[(0, 1)] == {0, 2, 4}  # 1-1: inside
    assert pools[(1, 0)] == {0, 1, 5, 6}  # the N side: outside the range {2, 3, 4, 7}
    assert pools[(1, 1)] == {0, 6}  # the 1 side: inside the domain
    assert pools[(2, 0)] == {6} and pools[(2, 1)] == {5}  # single entities: uniform instead


def test_cans_draws_cover_exactly_their_pool(hand_kg):
    s = build_sampler("cans", hand_kg, KGIndex.build(hand_kg), None, 0, "cpu")
    cases = {(1, False): {0, 1, 5, 6}, (1, True): {0, 6}, (0, False): {1, 3, 5}}
    for (r, head), want in cases.items():
        pos = torch.tensor([[0, r, 2]])
        got = set(s.draw(pos, torch.tensor([head]), 400).reshape(-1).tolist())
        assert got == want, (r, head)
    fallback = s.draw(torch.tensor([[5, 2, 6]]), torch.tensor([False]), 400)
    assert set(fallback.reshape(-1).tolist()) == set(range(8))


def test_cans_rejects_a_bad_threshold(hand_kg):
    with pytest.raises(ConfigError, match="--cardinality-threshold must be >= 1"):
        build_sampler(
            "cans", hand_kg, KGIndex.build(hand_kg), {"cardinality_threshold": 0.5}, 0, "cpu"
        )


def brute_similarity(kg: KG) -> dict:
    """idf-weighted shared contexts of every pair, from Python sets."""
    E = kg.num_entities
    ctx = defaultdict(set)
    for h, r, t in kg.train.tolist():
        ctx[h].add((r, t, "out"))
        ctx[t].add((r, h, "in"))
    holders = defaultdict(int)
    for c in ctx.values():
        for x in c:
            holders[x] += 1
    return {
        (a, b): sum(math.log(E / holders[x]) for x in ctx[a] & ctx[b])
        for a in range(E)
        for b in range(E)
        if a != b
    }


def test_esns_lists_are_the_most_similar_entities():
    kg = load_dataset("nations")
    sim = brute_similarity(kg)
    m = 5
    s = build_sampler("esns", kg, KGIndex.build(kg), {"similar": m, "uniform": 0.0}, 0, "cpu")
    for e in range(kg.num_entities):
        got = s.similar_to(e).tolist()
        want = sorted((v for (a, _), v in sim.items() if a == e and v > 0), reverse=True)[:m]
        assert e not in got and len(got) == len(want) == len(set(got))
        assert [sim[(e, x)] for x in got] == pytest.approx(want, rel=1e-5)
        drawn = s.draw(torch.tensor([[0, 0, e]]), torch.tensor([False]), 200)
        assert set(drawn.reshape(-1).tolist()) == set(got)


def test_esns_draws_its_uniform_share_from_every_entity():
    kg = load_dataset("nations")
    s = build_sampler("esns", kg, KGIndex.build(kg), {"similar": 3, "uniform": 0.25}, 0, "cpu")
    e = 5
    drawn = s.draw(torch.tensor([[0, 0, e]] * 50), torch.tensor([False] * 50), 8)  # (50, 8)
    listed = set(s.similar_to(e).tolist())
    assert set(drawn[:, :6].reshape(-1).tolist()) == listed  # 8 - round(0.25 * 8) columns
    anyone = set(drawn[:, 6:].reshape(-1).tolist())  # 100 uniform draws over 14 entities
    assert anyone | listed == set(range(kg.num_entities)) and anyone - listed
    with pytest.raises(ConfigError, match="--uniform"):
        build_sampler("esns", kg, KGIndex.build(kg), {"uniform": 1.5}, 0, "cpu")


def test_esns_falls_back_to_uniform_without_shared_contexts():
    kg = kg_of([[0, 0, 1], [2, 0, 1], [3, 1, 4]], 5, 2)  # 0 and 2 share (r0, 1, out)
    s = build_sampler("esns", kg, KGIndex.build(kg), None, 0, "cpu")
    assert s.similar_to(0).tolist() == [2] and s.similar_to(2).tolist() == [0]
    assert s.similar_to(3).tolist() == []
    lonely = s.draw(torch.tensor([[3, 1, 4]]), torch.tensor([True]), 300)
    assert set(lonely.reshape(-1).tolist()) == set(range(5))


@pytest.mark.parametrize("base", ["cans", "esns"])
def test_demix_over_cans_and_esns_keeps_their_candidates(base):
    """As DeMix's base sampler, the candidates DeMix mixes are the base's own draws."""
    from demix_core.models import KGEModel

    kg = load_dataset("nations")
    index = KGIndex.build(kg)
    torch.manual_seed(0)
    model = KGEModel("rotate", kg.num_entities, kg.num_relations, 8, 6.0)
    demix = build_sampler("demix", kg, index, {"base_sampler": base}, 0, "cpu")
    plain = build_sampler(base, kg, index, None, 0, "cpu")
    pos = kg.train[:32]
    for step in (0, 1):
        neg = demix.sample(model, pos, step, 8)
        assert torch.equal(neg.ids, plain.sample(None, pos, step, 8).ids)
