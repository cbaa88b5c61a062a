"""The DeMix lens: hand values on the tiny KG, and the cheap slider paths (repartition,
remix) against a full recomputation on UMLS."""

from dataclasses import fields

import pytest
import torch
from test_demix_sampler import CAND, MPN_AT, POS, hand_model, tiny_kg

from demix_core.data import load_dataset
from demix_core.demix import adamix
from demix_core.errors import ConfigError
from demix_core.kg import KGIndex
from demix_core.lens import demix_lens, pr_curve, remix, repartition
from demix_core.models import KGEModel
from demix_core.sampling.uniform import UniformSampler


@pytest.fixture
def fixed_draws(monkeypatch):
    """The uniform base draws CAND for every row, so verdicts can be worked by hand."""
    monkeypatch.setattr(UniformSampler, "draw", lambda self, pos, head, k: CAND.expand(len(pos), 4))


@pytest.fixture(scope="module")
def umls():
    kg = load_dataset("umls")
    return kg, KGIndex.build(kg), kg.train[::41][:128]  # (128, 3) positives


def umls_model(name: str) -> KGEModel:
    torch.manual_seed(0)
    kg = load_dataset("umls")
    return KGEModel(name, kg.num_entities, kg.num_relations, 16, 6.0)


def assert_same(a, b):
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, torch.Tensor) and x.is_floating_point():
            assert torch.allclose(x, y, atol=1e-5), f.name
        elif isinstance(x, torch.Tensor):
            assert torch.equal(x, y), f.name
        else:
            assert x == y, f.name


@pytest.mark.parametrize("mu", sorted(MPN_AT))
def test_hand_partition_and_truth(fixed_draws, mu):
    res = demix_lens(hand_model(), tiny_kg(), POS, mu=mu, alpha=0.5, k=4)
    assert res.candidates.tolist() == [CAND.tolist()]
    assert res.cand_scores.tolist() == [[2.5, 0.5, -1.0, 1.0]]
    assert res.tau.tolist() == [2.0 - mu]
    assert res.is_mpn.tolist() == [[bool(x) for x in MPN_AT[mu]]]
    assert res.pattern_ids[res.pattern_mask].tolist() == [1, 2]
    assert res.is_true.tolist() == [[True, False, False, False]]  # (0, r, 3) is in valid
    assert not res.is_train_positive.any()
    assert torch.equal(res.partner_label, res.is_mpn.float())
    assert set(res.partner_ids[res.is_mpn].tolist()) <= {1, 2}


def test_head_side_uses_the_head_pattern(fixed_draws):
    # (?, r, 1) has train heads {0}: tau = s(0, r, 1) = 3; candidate heads score 7.5, 1.5, -3, 3.
    res = demix_lens(hand_model(), tiny_kg(), POS, mu=2.0, alpha=0.5, k=4, side="head")
    assert res.head.tolist() == [True] and res.tau.tolist() == [3.0]
    assert res.is_mpn.tolist() == [[True, False, False, True]]
    assert set(res.partner_ids[res.is_mpn].tolist()) == {0}


def test_pr_curve_by_hand(fixed_draws):
    res = demix_lens(hand_model(), tiny_kg(), POS, mu=1.0, alpha=0.5, k=4)
    # The one false negative (candidate 3) scores highest: every mu finds it (recall 1), and
    # precision falls as the MPN set grows: {3}, {3, 0}, all four.
    assert pr_curve(res, [0, 1, 3]) == [(0.0, 1.0, 1.0, 1), (1.0, 0.5, 1.0, 2), (3.0, 0.25, 1.0, 4)]


def test_alpha_one_puts_the_mix_on_the_candidates(umls):
    kg, index, pos = umls
    res = demix_lens(umls_model("rotate"), kg, pos, mu=3.0, alpha=1.0, index=index)
    assert res.is_mpn.any()
    assert torch.equal(res.mixed_emb, res.cand_emb)
    assert torch.equal(res.mixed_label, torch.zeros_like(res.mixed_label))
    assert torch.allclose(res.mixed_scores, res.cand_scores, atol=1e-5)


@pytest.mark.parametrize("name", ["transe", "complex"])
def test_mix_matches_adamix_and_the_model(umls, name):
    kg, index, pos = umls
    model = umls_model(name)
    res = demix_lens(model, kg, pos, mu=1.0, alpha=0.3, k=16, side="both", index=index)
    assert len(res.positives) == 2 * len(pos) and res.head.tolist() == [False] * 128 + [True] * 128
    emb, label = adamix(
        res.cand_emb, model.entity.detach()[res.partner_ids], res.partner_label, 0.3
    )
    assert torch.allclose(res.mixed_emb, emb, atol=1e-6) and torch.equal(res.mixed_label, label)
    with torch.no_grad():
        scores = model.score_candidates(res.positives, res.head, res.mixed_emb)
        direct = model.score_candidates(res.positives, res.head, res.candidates)
    assert torch.allclose(res.mixed_scores, scores, atol=1e-4)
    assert torch.allclose(res.cand_scores, direct, atol=1e-4)
    in_pattern = (res.partner_ids[..., None] == res.pattern_ids[:, None, :]) & res.pattern_mask[
        :, None, :
    ]
    assert bool(in_pattern.any(-1)[res.is_mpn].all())  # MPN partners come from T_q


def test_larger_mu_never_loses_an_mpn(umls):
    kg, index, pos = umls
    res = demix_lens(umls_model("distmult"), kg, pos, mu=0.0, alpha=0.5, index=index)
    previous, counts = res.is_mpn, []
    for mu in [0.25, 0.5, 1.0, 2.0, 3.0, 5.0]:
        now = repartition(res, mu).is_mpn
        assert bool((previous <= now).all())  # each verdict only flips TN -> MPN
        previous = now
        counts.append(int((now & ~res.is_train_positive).sum()))
    assert counts[-1] > counts[0]
    # pr_curve counts the same verdicts, train positives left out
    assert [n for _, _, _, n in pr_curve(res, [0.25, 0.5, 1.0, 2.0, 3.0, 5.0])] == counts


@pytest.mark.parametrize("lambda_mode", ["fixed", "beta"])
def test_sliders_equal_a_fresh_lens(umls, lambda_mode):
    kg, index, pos = umls
    model = umls_model("rotate")
    kw = dict(k=32, side="both", index=index, lambda_mode=lambda_mode, seed=4)
    res = demix_lens(model, kg, pos, mu=1.0, alpha=0.5, **kw)
    for mu in [3.0, 0.0, 1.5]:  # the incremental path must agree with a full recomputation
        res = repartition(res, mu)
        assert_same(res, demix_lens(model, kg, pos, mu=mu, alpha=0.5, **kw))
    moved = remix(res, 0.8, lambda_mode, seed=4)
    assert_same(moved, demix_lens(model, kg, pos, mu=1.5, alpha=0.8, **kw))
    assert torch.equal(moved.partner_ids, res.partner_ids)  # same seed: same partners
    assert not torch.equal(remix(res, 0.8, lambda_mode, seed=5).partner_ids, res.partner_ids)


def test_bad_arguments_raise_config_error(umls):
    kg, index, pos = umls
    model = umls_model("transe")
    for kw, flag in [
        ({"mu": -1.0}, "--mu"),
        ({"alpha": 2.0}, "--alpha"),
        ({"side": "up"}, "--side"),
    ]:
        args = {"mu": 1.0, "alpha": 0.5, "index": index, **kw}
        with pytest.raises(ConfigError, match=flag):
            demix_lens(model, kg, pos, **args)
    res = demix_lens(model, kg, pos, mu=1.0, alpha=0.5, index=index)
    with pytest.raises(ConfigError, match="--mu"):
        repartition(res, -2.0)
    with pytest.raises(ConfigError, match="--lambda-mode"):
        remix(res, 0.5, "gauss")
