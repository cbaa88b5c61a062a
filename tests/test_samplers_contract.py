"""One contract, every registered sampler, on Nations (a sampler added later is covered too)."""

import pytest
import torch

from demix_core.data import load_dataset
from demix_core.kg import KGIndex
from demix_core.models import KGEModel
from demix_core.sampling import SAMPLERS, build_sampler

B, K = 64, 16
# Nations has 14 entities: NSCaching warns that it clamps its default cache sizes.
pytestmark = pytest.mark.filterwarnings("ignore:nscaching:UserWarning")


@pytest.fixture(scope="module")
def nations():
    kg = load_dataset("nations")
    return kg, KGIndex.build(kg)


@pytest.fixture(scope="module")
def model(nations):
    kg, _ = nations
    torch.manual_seed(0)
    return KGEModel("rotate", kg.num_entities, kg.num_relations, dim=8, gamma=6.0)


def make(name, nations, seed=0):
    kg, index = nations
    return build_sampler(name, kg, index, None, seed, "cpu")


def positives(kg, n=B, seed=0):
    g = torch.Generator().manual_seed(seed)
    return kg.train[torch.randperm(len(kg.train), generator=g)[:n]]


def model_for(name, model):
    return model if SAMPLERS[name].needs_model else None


@pytest.mark.parametrize("name", list(SAMPLERS))
@pytest.mark.parametrize("step", [0, 1])
def test_shape_range_and_one_side(name, step, nations, model):
    kg, _ = nations
    pos = positives(kg)
    out = make(name, nations).corrupt_batch(pos, K, step, model_for(name, model))
    assert out.shape == (B, K, 3) and out.dtype == torch.int64
    assert int(out[..., [0, 2]].min()) >= 0 and int(out[..., [0, 2]].max()) < kg.num_entities
    assert torch.equal(out[..., 1], pos[:, None, 1].expand(B, K))
    head_kept = (out[..., 0] == pos[:, None, 0]).all(1)  # (B,)
    tail_kept = (out[..., 2] == pos[:, None, 2]).all(1)
    assert bool((head_kept | tail_kept).all()), "a row corrupted both sides"
    assert int((head_kept & tail_kept).sum()) <= 1, "rows where nothing was corrupted"


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_sample_extras_are_well_formed(name, nations, model):
    kg, _ = nations
    pos = positives(kg)
    neg = make(name, nations).sample(model_for(name, model), pos, 0, K, filtered=True)
    assert neg.ids.shape == (B, K) and neg.head.shape == (B,) and neg.head.dtype == torch.bool
    if neg.partner is not None:  # mixing samplers: a partner id and a weight per candidate
        assert neg.partner.shape == (B, K) and neg.partner.dtype == torch.long
        w = torch.as_tensor(neg.weight)
        assert w.shape in ((), (B, K)) and float(w.min()) >= 0 and float(w.max()) <= 1
    assert neg.embeddings(model).shape == (B, K, model.entity.shape[1])
    if neg.labels is not None:
        assert neg.labels.shape == (B, K)
        assert float(neg.labels.min()) >= 0 and float(neg.labels.max()) <= 1


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_filtering_removes_train_positives(name, nations, model):
    kg, _ = nations
    known = {tuple(t) for t in kg.train.tolist()}
    pos = positives(kg, 128, seed=3)
    sampler = make(name, nations)
    for step in (0, 1):
        neg = sampler.sample(model_for(name, model), pos, step, K, filtered=True)
        triples = [tuple(t) for t in neg.triples(pos).reshape(-1, 3).tolist()]
        mask = torch.ones(len(triples), dtype=torch.bool)
        if neg.mask is not None:
            mask = neg.mask.reshape(-1)
        kept = [t for t, m in zip(triples, mask.tolist(), strict=True) if m]
        assert len(kept) >= 0.9 * len(triples), "filtering masked out most candidates"
        leaked = [t for t in kept if t in known]
        assert not leaked and not (neg.mask is None and any(t in known for t in triples))


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_seeded_reproducibility(name, nations, model):
    kg, _ = nations
    pos = positives(kg)
    m = model_for(name, model)

    def run(seed):
        sampler = make(name, nations, seed)
        return [sampler.corrupt_batch(pos, K, step, m, filtered=True) for step in range(3)]

    a, b, c = run(0), run(0), run(1)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(torch.equal(x, z) for x, z in zip(a, c, strict=True))


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_state_dict_resumes_the_stream(name, nations, model):
    kg, _ = nations
    pos = positives(kg)
    m = model_for(name, model)
    first = make(name, nations, 5)
    first.corrupt_batch(pos, K, 0, m)
    state = first.state_dict()
    expected = first.corrupt_batch(pos, K, 1, m)
    second = make(name, nations, 99)
    second.load_state_dict(state)
    assert torch.equal(second.corrupt_batch(pos, K, 1, m), expected)
