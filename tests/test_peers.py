"""NSCaching, SANS / RW-SANS and MixKG against hand-built models and brute-force references."""

from collections import deque

import pytest
import torch

from demix_core.data import load_dataset
from demix_core.errors import ConfigError
from demix_core.kg import KG, KGIndex
from demix_core.models import KGEModel
from demix_core.sampling import build_sampler

HIGH = [7, 42, 99]  # the entities the hand-built model scores far above the rest


@pytest.fixture(scope="module")
def synth():
    kg = load_dataset("synthetic:entities=300,hidden=0.3,seed=1")
    return kg, KGIndex.build(kg)


def peaked_model(kg, dim=1):
    """DistMult whose first coordinate is 1 for every entity but HIGH (50) and whose relations
    read only that coordinate: s(h, r, t) = e_h[0] * e_t[0], so HIGH wins every query."""
    model = KGEModel("distmult", kg.num_entities, kg.num_relations, dim, gamma=0.0)
    with torch.no_grad():
        model.entity.normal_(generator=torch.Generator().manual_seed(0))
        model.entity[:, 0] = 1.0
        model.entity[HIGH, 0] = 50.0
        model.relation.zero_()
        model.relation[:, 0] = 1.0
    return model


def train_answers(kg, pos, head: bool) -> list[set[int]]:
    known = {tuple(t) for t in kg.train.tolist()}
    out = []
    for h, r, t in pos.tolist():
        out.append(
            {e for e in range(kg.num_entities) if ((e, r, t) if head else (h, r, e)) in known}
        )
    return out


# --------------------------------------------------------------------------- NSCaching


@pytest.mark.parametrize("update", ["top", "sample"])
def test_nscaching_refresh_moves_the_cache_to_high_scorers(update, synth):
    kg, index = synth
    options = {"cache_size": 5, "cache_candidates": 100, "cache_update": update}
    sampler = build_sampler("nscaching", kg, index, options, 0, "cpu")
    model = peaked_model(kg)
    pos = kg.train[torch.randperm(len(kg.train), generator=torch.Generator().manual_seed(0))[:48]]

    def missing(head: bool) -> int:
        rows = sampler.cached(pos, head).tolist()
        return sum(
            len(set(HIGH) - answers - set(row))
            for row, answers in zip(rows, train_answers(kg, pos, head), strict=True)
        )

    before = missing(False) + missing(True)
    for _ in range(30):
        for head in (False, True):
            sampler.refresh(model, pos, torch.full((len(pos),), head))
    assert before > 0.8 * 2 * len(pos) * len(HIGH)  # a random cache rarely holds them
    assert missing(False) == 0 and missing(True) == 0
    for head, answers in ((False, train_answers(kg, pos, False)), (True, None)):
        rows = sampler.cached(pos, head)
        assert all(len(set(r)) == len(r) for r in rows.tolist()), "repeated ids in a cache row"
        if answers is not None:
            assert all(not (set(r) & a) for r, a in zip(rows.tolist(), answers, strict=True))


def test_nscaching_negatives_come_from_the_cache(synth):
    kg, index = synth
    sampler = build_sampler("nscaching", kg, index, {"cache_size": 4}, 3, "cpu")
    pos = kg.train[:32]
    neg = sampler.sample(None, pos, 0, 16)  # no model: drawn, not refreshed
    for head in (False, True):
        rows = neg.head == head
        cache = sampler.cached(pos[rows], head)
        for ids, row in zip(neg.ids[rows].tolist(), cache.tolist(), strict=True):
            assert set(ids) <= set(row)


def test_nscaching_clamps_sizes_with_a_warning():
    kg = load_dataset("nations")
    with pytest.warns(UserWarning, match="--cache-size 50 > 14 entities"):
        sampler = build_sampler(
            "nscaching", kg, KGIndex.build(kg), {"cache_candidates": 9}, 0, "cpu"
        )
    assert (sampler.n1, sampler.n2) == (14, 9)


# --------------------------------------------------------------------------- SANS


def toy_kg() -> KG:
    """Path 0-1-2-3-4-5, a branch 2-6, a self-loop at 3, and 7 only in test (no train edge)."""
    train = [(0, 0, 1), (1, 1, 0), (0, 1, 1), (1, 0, 2), (2, 0, 3), (3, 1, 3), (4, 0, 3)]
    train += [(4, 1, 5), (6, 0, 2)]
    return KG(
        name="toy",
        entities=[f"e{i}" for i in range(8)],
        relations=["a", "b"],
        train=torch.tensor(train),
        valid=torch.tensor([(5, 0, 6)]),
        test=torch.tensor([(7, 0, 0)]),
    )


def bfs(kg: KG, start: int, hops: int) -> set[int]:
    nbrs = {e: set() for e in range(kg.num_entities)}
    for h, _, t in kg.train.tolist():
        nbrs[h].add(t)
        nbrs[t].add(h)
    dist, todo = {start: 0}, deque([start])
    while todo:
        e = todo.popleft()
        for n in nbrs[e] - dist.keys():
            dist[n] = dist[e] + 1
            todo.append(n)
    return {e for e, d in dist.items() if d <= hops} if nbrs[start] - {start} else set()


@pytest.mark.parametrize("hops", [1, 2, 3, 5])
def test_sans_neighbourhoods_equal_bfs(hops):
    kg = toy_kg()
    sampler = build_sampler("sans", kg, KGIndex.build(kg), {"hops": hops}, 0, "cpu")
    for e in range(kg.num_entities):
        got = sampler.neighbourhoods.of(e).tolist()
        assert sorted(got) == sorted(bfs(kg, e, hops)), f"entity {e}"


@pytest.mark.parametrize("hops", [1, 2, 3])
def test_rw_sans_endpoints_lie_within_k_hops(hops):
    kg = toy_kg()
    sampler = build_sampler(
        "rw-sans", kg, KGIndex.build(kg), {"hops": hops, "walks": 300}, 0, "cpu"
    )
    nb = sampler.neighbourhoods
    assert nb.weights is not None and int(nb.weights.min()) >= 1
    for e in range(kg.num_entities):
        got = set(nb.of(e).tolist())
        assert got <= bfs(kg, e, hops), f"entity {e}"
        if hops == 1:  # one step reaches exactly the neighbours, each often over 300 walks
            assert got == bfs(kg, e, 1) - {e}
    assert len(nb.of(7)) == 0  # no train edge, no walk


def test_sans_draws_near_the_kept_entity_without_train_answers():
    kg = toy_kg()
    index = KGIndex.build(kg)
    known = {tuple(t) for t in kg.train.tolist()}
    pos = torch.tensor([(0, 0, 1), (4, 0, 3), (1, 0, 2), (7, 0, 0)])
    for name in ("sans", "rw-sans"):
        sampler = build_sampler(name, kg, index, {"hops": 2}, 0, "cpu")
        for step in (0, 1):
            neg = sampler.sample(None, pos, step, 32)
            for row, (p, head) in enumerate(zip(pos.tolist(), neg.head.tolist(), strict=True)):
                kept = p[2] if head else p[0]
                near = {e for e in bfs(kg, kept, 2) if _triple(p, e, head) not in known}
                ids = set(neg.ids[row].tolist())
                assert not any(_triple(p, e, head) in known for e in ids)
                if near and name == "sans":
                    assert ids <= near, (name, p, head, ids, near)
    assert set(neg.ids[3].tolist()) != {0}  # entity 7 has no neighbourhood: uniform fallback


def _triple(p, e, head):
    return (e, p[1], p[2]) if head else (p[0], p[1], e)


# --------------------------------------------------------------------------- MixKG


def test_mixkg_mixtures_lie_on_segments_between_hard_candidates(synth):
    kg, index = synth
    model = peaked_model(kg, dim=4)
    sampler = build_sampler(
        "mixkg", kg, index, {"pool": 3000, "hard": 3, "exclude_train": False}, 0, "cpu"
    )
    pos = kg.train[:16]
    neg = sampler.sample(model, pos, 0, 8)
    assert set(neg.ids.unique().tolist()) <= set(HIGH)
    emb = neg.embeddings(model)  # (B, K, De): what the loss scores
    e = model.entity.detach()
    for b in range(len(pos)):
        for k in range(8):
            a, mix = int(neg.ids[b, k]), emb[b, k].detach()
            fits = []
            for other in set(HIGH) - {a}:
                d = e[a] - e[other]
                lam = float((mix - e[other]) @ d / (d @ d))
                fits.append(0 <= lam <= 1 and torch.allclose(e[other] + lam * d, mix, atol=1e-4))
            assert any(fits), (b, k)
    emb.sum().backward()
    touched = (model.entity.grad.abs().sum(1) > 0).nonzero().squeeze(1).tolist()
    assert sorted(touched) == HIGH  # both ends of the pairs receive gradient


def test_mixkg_beta_lambdas_are_seeded(synth):
    kg, index = synth
    model = peaked_model(kg, dim=4)
    opts = {"mix_lambda": "beta", "mix_beta": 0.5}
    a, b = (build_sampler("mixkg", kg, index, opts, 0, "cpu") for _ in range(2))
    pos = kg.train[:8]
    first, second = a.sample(model, pos, 0, 4), b.sample(model, pos, 0, 4)
    assert torch.equal(first.embeddings(model), second.embeddings(model))


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("sans", {"hops": 0}, "--hops must be >= 1"),
        ("rw-sans", {"hops": 0}, "--hops must be >= 1"),
        ("rw-sans", {"walks": 0}, "--walks must be >= 1"),
        ("rw-sans", {"weighting": "degree"}, "--weighting must be one of"),
        ("nscaching", {"cache_size": 0}, "--cache-size must be >= 1"),
        ("nscaching", {"cache_candidates": 0}, "--cache-candidates must be >= 1"),
        ("nscaching", {"cache_update": "best"}, "--cache-update must be one of"),
        ("mixkg", {"pool": 4, "hard": 8}, "--hard must be <= --pool"),
        ("mixkg", {"pool": -1}, "--pool must be >= 0"),
        ("mixkg", {"mix_lambda": "gauss"}, "--mix-lambda must be one of"),
        ("mixkg", {"mix_beta": 0.0}, "--mix-beta must be > 0"),
        ("sans", {"walks": 3}, "unknown option"),
    ],
)
def test_bad_options_raise_config_error(name, options, message):
    kg = toy_kg()
    with pytest.raises(ConfigError, match=message):
        build_sampler(name, kg, KGIndex.build(kg), options, 0, "cpu")
