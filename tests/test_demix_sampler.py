"""The DeMix sampler on a hand-made KG whose scores, thresholds and verdicts are worked out
by hand, plus the contract over every model and base sampler."""

import math
from dataclasses import replace

import pytest
import torch

from demix_core.errors import ConfigError
from demix_core.kg import KG, KGIndex, TripleIndex
from demix_core.models import KGEModel
from demix_core.sampling.demix import DemixOptions, DemixSampler
from demix_core.sampling.demix_steps import pattern_positives
from demix_core.sampling.registry import build_sampler
from demix_core.sampling.uniform import BernoulliSampler

# Six entities, one relation. DistMult with r = [1, 0] and e0 = [1, 0.3] scores the tail
# pattern (0, r, ?) as the first coordinate of the tail: s(0, r, t) = E[t, 0].
E = torch.tensor([[1.0, 0.3], [3.0, 1.0], [1.0, -1.0], [2.5, 2.0], [0.5, 0.0], [-1.0, 0.5]])
TRAIN = torch.tensor([[0, 0, 1], [0, 0, 2], [3, 0, 4]])  # T_(0,r,?) = {1, 2}: X = {3, 1}
VALID = torch.tensor([[0, 0, 3]])  # a fact train lacks: candidate 3 is a false negative
POS = torch.tensor([[0, 0, 1]])
# Candidate tails 3, 4, 5, 0 score 2.5, 0.5, -1, 1. mean(X) = 2, min(X) = 1, so
# tau = 2 - mu: mu=0 -> 2 (MPN: 3); mu=1 -> 1 (MPN: 3, 0, a tie); mu=3 -> -1 (all four).
CAND = torch.tensor([3, 4, 5, 0])
MPN_AT = {0.0: [1, 0, 0, 0], 1.0: [1, 0, 0, 1], 3.0: [1, 1, 1, 1]}


def tiny_kg() -> KG:
    return KG(
        name="tiny",
        entities=[f"e{i}" for i in range(6)],
        relations=["r"],
        train=TRAIN,
        valid=VALID,
        test=torch.empty(0, 3, dtype=torch.long),
    )


def hand_model() -> KGEModel:
    model = KGEModel("distmult", 6, 1, 2, 0.0)
    with torch.no_grad():
        model.entity.copy_(E)
        model.relation.copy_(torch.tensor([[1.0, 0.0]]))
    return model


def demix(kg=None, seed=0, fixed=True, **options) -> DemixSampler:
    kg = kg or tiny_kg()
    sampler = build_sampler("demix", kg, KGIndex.build(kg), options, seed, "cpu")
    if fixed:  # the base draws CAND for every row: the verdicts below are worked by hand
        sampler.base.draw = lambda pos, head, k: CAND[:k].expand(len(pos), k).clone()
    return sampler


def partners(neg, model) -> torch.Tensor:
    """Recover each partner id from e_mix = a e_cand + (1 - a) e_partner (a = 0.5 here)."""
    partner_emb = 2 * neg.embeddings(model).detach() - model.entity.detach()[neg.ids]  # (B, K, De)
    hit = (partner_emb[:, :, None, :] - model.entity.detach()).abs().sum(-1) < 1e-6
    assert bool((hit.sum(-1) == 1).all())
    return hit.float().argmax(-1)  # (B, K)


@pytest.mark.parametrize("mu", sorted(MPN_AT))
def test_partition_by_hand(mu):
    neg = demix(mu=mu).sample(hand_model(), POS, step=0, k=4)  # step 0: tail-batch
    assert torch.equal(neg.ids, CAND[None])
    assert neg.mpn.tolist() == [[bool(x) for x in MPN_AT[mu]]]
    assert neg.stats["tau_mean"] == 2.0 - mu
    assert neg.stats["n_mpn"] == sum(MPN_AT[mu])


def test_head_batch_uses_the_head_pattern():
    # step 1 corrupts heads: pattern (?, r, 1) has train heads {0}, X = {3}, tau = 3 for any mu.
    # Candidate heads 3, 4, 5, 0 score 7.5, 1.5, -3, 3.
    neg = demix(mu=5.0).sample(hand_model(), POS, step=1, k=4)
    assert bool(neg.head.all())
    assert neg.stats["tau_mean"] == 3.0
    assert neg.mpn.tolist() == [[True, False, False, True]]


def test_stats_and_soft_labels_by_hand():
    neg = demix(mu=1.0).sample(hand_model(), POS, step=0, k=4)
    assert neg.stats["score_pos_mean"] == 2.0
    assert neg.stats["score_mpn_mean"] == pytest.approx((2.5 + 1.0) / 2)
    assert neg.stats["score_tn_mean"] == pytest.approx((0.5 - 1.0) / 2)
    assert neg.stats["soft_label_mpn_mean"] == 0.5
    assert neg.labels.tolist() == [[0.5, 0.0, 0.0, 0.5]]  # MPN: 1 - alpha; TN: 0
    assert neg.mask is None


def test_partners_mpn_from_pattern_tn_from_top_c():
    # mu=0: only candidate 3 is an MPN. By score the candidates rank 3, 0, 4, 5; the TNs
    # 0, 4, 5. With C=2 each TN pairs with the two other TNs, never with the MPN 3.
    model, pos = hand_model(), POS.expand(200, 3)
    neg = demix(mu=0.0, partner_cap=2).sample(model, pos, step=0, k=4)
    p = partners(neg, model)
    assert set(p[:, 0].tolist()) == {1, 2}  # uniform over T_q: both appear in 200 draws
    assert set(p[:, 1].tolist()) == {0, 5}
    assert set(p[:, 2].tolist()) == {0, 4}
    assert set(p[:, 3].tolist()) == {4, 5}


def test_partners_c1_hardest_other_tn():
    # mu=2 (tau 0): MPNs 3, 4, 0 (scores 2.5, 0.5, 1.0); TN 5 alone stays unmixed.
    # mu=1 (tau 1): MPNs 3, 0; TNs 4, 5 pair with each other at C=1 (the hardest candidate,
    # the MPN 3, is not theirs).
    model = hand_model()
    neg = demix(mu=2.0, partner_cap=1).sample(model, POS, step=0, k=4)
    assert neg.mpn.tolist() == [[True, True, False, True]]
    assert partners(neg, model)[0, 2] == 5
    neg = demix(mu=1.0, partner_cap=1).sample(model, POS, step=0, k=4)
    p = partners(neg, model)[0]
    assert p[1] == 5 and p[2] == 4


def test_gradient_reaches_candidate_and_partner_rows():
    model = hand_model()
    neg = demix(mu=1.0, partner_cap=1).sample(model, POS, step=0, k=4)
    # C=1: TNs 4 and 5 pair with each other; MPNs 3 and 0 with a tail in {1, 2}.
    p = partners(neg, model)[0]
    assert p[1] == 5 and p[2] == 4 and set(p[[0, 3]].tolist()) <= {1, 2}
    model.score_candidates(POS, neg.head, neg.embeddings(model)).sum().backward()
    touched = model.entity.grad.abs().sum(-1) > 0  # (E,)
    for row in CAND.tolist() + p.tolist():
        assert touched[row], row


def test_mpne_off_makes_every_candidate_a_tn():
    neg = demix(mu=3.0, mpne=False).sample(hand_model(), POS, step=0, k=4)
    assert not neg.mpn.any() and neg.stats["n_mpn"] == 0
    assert torch.equal(neg.labels, torch.zeros(1, 4))
    assert math.isnan(neg.stats["tau_mean"]) and math.isnan(neg.stats["soft_label_mpn_mean"])


def test_adamix_off_drops_mpns_without_mixing():
    neg = demix(mu=1.0, adamix=False).sample(hand_model(), POS, step=0, k=4)
    assert neg.partner is None and neg.labels is None
    assert neg.mask.tolist() == [[False, True, True, False]]  # MPNs 3 and 0 leave the loss
    assert neg.mpn.tolist() == [[True, False, False, True]]


def test_adamix_off_keeps_the_base_filter_mask():
    kg = tiny_kg()
    sampler = demix(kg, mu=0.0, adamix=False, fixed=False)
    sampler.base.draw = lambda pos, head, k: torch.tensor([[2, 4, 5, 0]])  # 2 is a train tail
    neg = sampler.sample(hand_model(), POS, step=0, k=4, filtered=True)
    # 2 stays a train positive however often it is redrawn: masked by the base filter.
    assert neg.mask.tolist() == [[False, True, True, True]]


def test_random_partners_ignore_the_verdict():
    model, pos = hand_model(), POS.expand(100, 3)
    neg = demix(mu=1.0, partner="random").sample(model, pos, step=0, k=4)
    assert torch.equal(neg.labels, torch.zeros(100, 4))  # MPNs get no positive partner
    p = partners(neg, model)
    for k, cand in enumerate(CAND.tolist()):
        others = set(CAND.tolist()) - {cand}
        assert set(p[:, k].tolist()) == others


def test_beta_lambda_gives_varied_soft_labels():
    neg = demix(mu=1.0, lambda_mode="beta").sample(hand_model(), POS.expand(50, 3), 0, 4)
    mpn_labels = neg.labels[neg.mpn]
    assert len(set(mpn_labels.tolist())) > 10 and bool(
        ((0 <= mpn_labels) & (mpn_labels <= 1)).all()
    )
    assert bool((neg.labels[~neg.mpn] == 0).all())


def test_alpha_one_leaves_the_candidates_unmixed():
    model = hand_model()
    neg = demix(mu=1.0, alpha=1.0).sample(model, POS, step=0, k=4)
    assert torch.equal(neg.embeddings(model).detach(), E[CAND][None])
    assert torch.equal(neg.labels, torch.zeros(1, 4))


def test_seeded_reproducible_and_state_round_trip():
    model, pos = hand_model(), TRAIN
    a, b, c = (demix(seed=s, fixed=False, mu=1.0) for s in (7, 7, 8))
    runs = [[s.sample(model, pos, step, 16) for step in range(3)] for s in (a, b, c)]
    for x, y in zip(runs[0], runs[1], strict=True):
        assert torch.equal(x.ids, y.ids) and torch.equal(x.embeddings(model), y.embeddings(model))
    assert any(not torch.equal(x.ids, z.ids) for x, z in zip(runs[0], runs[2], strict=True))
    state = a.state_dict()
    first = a.sample(model, pos, 3, 16)
    a.load_state_dict(state)  # must rewind the base sampler's draws too
    again = a.sample(model, pos, 3, 16)
    assert torch.equal(first.ids, again.ids) and torch.equal(
        first.embeddings(model), again.embeddings(model)
    )


@pytest.mark.parametrize(
    "options",
    [{}, {"mpne": False}, {"adamix": False}, {"partner": "random"}, {"lambda_mode": "beta"}],
)
def test_compiled_step_equals_the_eager_one(monkeypatch, options):
    """Long runs compile the sampler's decisions (`refine`) and scoring: same draws, same
    verdicts, partners, labels and diagnostics as eager mode."""
    from demix_core import compile as comp

    monkeypatch.delenv("DEMIX_NO_COMPILE", raising=False)
    torch.manual_seed(1)
    kg = KG(
        "rand",
        [f"e{i}" for i in range(40)],
        ["r0", "r1"],
        torch.randint(0, 40, (60, 3)) % torch.tensor([40, 2, 40]),
        VALID,
        VALID,
    )
    model = KGEModel("rotate", 40, 2, 4, 3.0)
    outs, notices = [], len(comp.notices)
    for compiled in (False, True):
        comp.set_compile(compiled)
        try:
            sampler = build_sampler(
                "demix", kg, KGIndex.build(kg), {"mu": 3.0, **options}, 5, "cpu"
            )
            outs.append([sampler.sample(model, kg.train, step, 12) for step in range(2)])
        finally:
            comp.set_compile(False)
    for eager, comp_neg in zip(*outs, strict=True):
        assert torch.equal(eager.ids, comp_neg.ids) and torch.equal(eager.mpn, comp_neg.mpn)
        if eager.partner is None:
            assert comp_neg.partner is None and comp_neg.labels is None
        else:
            assert torch.equal(eager.partner, comp_neg.partner)
            assert torch.allclose(eager.labels, comp_neg.labels)
        assert eager.stats.keys() == comp_neg.stats.keys()
        for key, value in eager.stats.items():
            assert value == pytest.approx(comp_neg.stats[key], rel=1e-5, nan_ok=True), key
    assert len(comp.notices) == notices  # compiled for real, no fallback to eager
    if not options:  # the default case exercises both verdicts
        assert any(0 < neg.stats["n_mpn"] < neg.ids.numel() for neg in outs[0])


class Boom:
    def __getattr__(self, name):
        raise AssertionError(f"the sampler read the truth index ({name})")


@pytest.mark.parametrize("base", ["uniform", "bernoulli", "cans", "esns"])
def test_never_reads_the_truth(base):
    kg, model = tiny_kg(), hand_model()
    index = KGIndex.build(kg)
    junk = torch.randint(0, 6, (40, 3)) * torch.tensor([1, 0, 1])
    kg_junk = replace(kg, valid=junk, test=junk.flip(1), hidden=junk[:7])
    index_junk = replace(index, truth=Boom())
    outs = []
    for g, idx in ((kg, index), (kg_junk, index_junk)):
        sampler = build_sampler("demix", g, idx, {"base_sampler": base, "mu": 2.0}, 3, "cpu")
        outs.append(sampler.sample(model, TRAIN, 0, 6))
    assert torch.equal(outs[0].ids, outs[1].ids) and torch.equal(
        outs[0].embeddings(model), outs[1].embeddings(model)
    )
    assert torch.equal(outs[0].mpn, outs[1].mpn) and torch.equal(outs[0].labels, outs[1].labels)
    index_junk2 = replace(index, truth=TripleIndex(junk, 6, 1))
    again = build_sampler(
        "demix", kg_junk, index_junk2, {"base_sampler": base, "mu": 2.0}, 3, "cpu"
    )
    assert torch.equal(
        again.sample(model, TRAIN, 0, 6).embeddings(model), outs[0].embeddings(model)
    )


@pytest.mark.parametrize("model_name", ["transe", "distmult", "complex", "rotate", "hake"])
@pytest.mark.parametrize("base", ["uniform", "bernoulli", "cans", "esns"])
def test_contract_for_every_model_and_base(model_name, base):
    torch.manual_seed(0)
    kg = tiny_kg()
    model = KGEModel(model_name, 6, 1, 4, 6.0)
    sampler = build_sampler("demix", kg, KGIndex.build(kg), {"base_sampler": base}, 0, "cpu")
    assert isinstance(sampler.base, BernoulliSampler) == (base == "bernoulli")
    neg = sampler.sample(model, TRAIN, step=1, k=5, filtered=True)
    B, De = len(TRAIN), model.entity.shape[1]
    assert (
        neg.ids.shape == (B, 5)
        and neg.embeddings(model).shape == (B, 5, De)
        and neg.mpn.shape == (B, 5)
    )
    assert bool((neg.labels[~neg.mpn] == 0).all()) and bool((neg.labels[neg.mpn] == 0.5).all())
    scores = model.score_candidates(TRAIN, neg.head, neg.embeddings(model))  # (B, K)
    scores.sum().backward()
    assert model.entity.grad[neg.ids.flatten()].abs().sum() > 0
    assert neg.stats["n_mpn"] + neg.stats["n_tn"] == int(neg.mask.sum())


@pytest.mark.parametrize(
    "options, flag",
    [
        ({"mu": -0.1}, "--mu"),
        ({"alpha": 1.5}, "--alpha"),
        ({"alpha": -0.1}, "--alpha"),
        ({"pattern_cap": 0}, "--pattern-cap"),
        ({"partner_cap": 0}, "--partner-cap"),
        ({"lambda_mode": "gauss"}, "--lambda-mode"),
        ({"partner": "nearest"}, "--partner"),
        ({"base_sampler": "nope"}, "--base-sampler"),
        ({"base_sampler": "demix"}, "--base-sampler"),
        ({"base_options": {"bogus": 1}}, "--base-options"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_bad_options_name_the_flag(options, flag):
    kg = tiny_kg()
    with pytest.raises(ConfigError, match=flag) as err:
        build_sampler("demix", kg, KGIndex.build(kg), options, 0, "cpu")
    # the error carries the option it is about, so a form marks it without reading the text
    named = flag.removeprefix("--").replace("-", "_")
    assert err.value.field == (None if named == "bogus" else named)


def test_options_are_checked_when_made_and_bases_come_from_the_registry():
    """A DemixOptions that exists is valid; the bases a page offers are the registry's."""
    from demix_core.sampling.registry import base_choices

    with pytest.raises(ConfigError, match="--alpha") as err:
        DemixOptions(alpha=2.0)
    assert err.value.field == "alpha"
    assert "demix" not in base_choices("demix") and "mixkg" not in base_choices("demix")
    assert {"uniform", "bernoulli", "nscaching", "sans"} <= set(base_choices("demix"))
    assert base_choices("oracle") == ["uniform", "bernoulli"] and base_choices("uniform") == []


def test_rejects_a_model_that_cannot_score_candidates():
    with pytest.raises(ConfigError, match="score_candidates"):
        DemixSampler.check_model(object())
    with pytest.raises(ConfigError, match="score_candidates"):
        demix().sample(None, POS, 0, 4)
    DemixSampler.check_model(hand_model())


def test_pattern_without_train_answers_falls_back_to_the_positive():
    kg = tiny_kg()
    pos = torch.tensor([[5, 0, 3], [0, 0, 1]])  # (5, r, ?) has no train tail
    ids, mask = pattern_positives(KGIndex.build(kg), pos, torch.tensor([False, False]), 4, None)
    assert ids[mask].tolist() == [3, 1, 2] and mask.sum(1).tolist() == [1, 2]
