"""The functions behind the lens pages, against hand-worked values (the tiny KG of the DeMix
sampler tests), brute force (Python sets, sklearn's PCA) and known answers (UMAP clusters)."""

import numpy as np
import pytest
import torch
from test_demix_sampler import CAND, POS, hand_model, tiny_kg

from demix_core import analysis, projection, sampler_frames
from demix_core.analysis import PositivesSpec
from demix_core.audit import audit_positives
from demix_core.data import load_dataset
from demix_core.errors import ConfigError
from demix_core.lens import demix_lens, remix
from demix_core.models import KGEModel
from demix_core.sampling import SAMPLERS
from demix_core.sampling.uniform import UniformSampler


@pytest.fixture
def hand(monkeypatch):
    """The lens on the tiny KG with candidates 3, 4, 5, 0 scoring 2.5, 0.5, -1, 1; the
    pattern's train answers 1, 2 score X = {3, 1}; (0, r, 3) is a valid fact. At mu = 1:
    tau = 2 - 1 * (2 - 1) = 1, so 3 and 0 are MPN."""
    monkeypatch.setattr(UniformSampler, "draw", lambda self, pos, head, k: CAND.expand(len(pos), 4))
    kg = tiny_kg()
    return demix_lens(hand_model(), kg, POS, mu=1.0, alpha=0.25, k=4), kg


@pytest.fixture(scope="module")
def nations():
    torch.manual_seed(0)
    kg = load_dataset("nations")
    return KGEModel("rotate", kg.num_entities, kg.num_relations, 8, 6.0), kg


def test_summary_by_hand(hand):
    s = analysis.summary(hand[0])
    assert (s["n_mpn"], s["n_tn"], s["candidates"], s["n_train_mpn"]) == (2, 2, 4, 0)
    assert (s["n_true"], s["n_true_mpn"], s["precision"], s["recall"]) == (1, 1, 0.5, 1.0)
    assert s["mean_tau"] == 1.0 and s["soft_label_mpn"] == 0.75  # 1 - alpha


def test_score_frame_by_hand(hand):
    f = analysis.score_frame(hand[0])
    assert f["group"].tolist() == ["pattern positive"] * 2 + ["MPN", "TN", "TN", "MPN"]
    assert f["score"].tolist() == [3.0, 1.0, 2.5, 0.5, -1.0, 1.0]
    assert f["margin"].tolist() == [2.0, 0.0, 1.5, -0.5, -2.0, 0.0]  # score - tau, tau = 1
    assert f["known_fn"].tolist() == [False, False, True, False, False, False]


def test_triples_table_by_hand(hand):
    result, kg = hand
    t = analysis.triples_table(result, kg)
    assert t["tail"].tolist() == ["e3", "e0", "e4", "e5"]  # by margin, highest first
    assert (t["head"] == "e0").all() and (t["relation"] == "r").all()
    assert t["query"].unique().tolist() == ["(e0, r, ?)"] and (t["answer"] == "e1").all()
    assert t["verdict"].tolist() == ["MPN", "MPN", "TN", "TN"]
    assert t["known truth"].tolist() == ["known true"] + ["not known true"] * 3
    assert t["margin"].tolist() == [1.5, 0.0, -0.5, -2.0]
    mpn = t[t["verdict"] == "MPN"]
    assert set(mpn["partner"]) <= {"e1", "e2"}  # an MPN's partner is a train answer
    assert mpn["soft label"].tolist() == [0.75, 0.75]  # 1 - alpha
    assert (t.loc[t["verdict"] == "TN", "soft label"] == 0).all()


def test_pattern_detail_and_choices_by_hand(hand):
    result, kg = hand
    d = analysis.pattern_detail(result, kg, 0)
    assert (d["query"], d["side"]) == ("(e0, r, ?)", "tail")
    assert (d["tau"], d["mean"], d["min"], d["mu"]) == (1.0, 2.0, 1.0, 1.0)
    assert d["positives"]["answer"].tolist() == ["e1", "e2"]
    assert d["positives"]["score"].tolist() == [3.0, 1.0]
    c = analysis.pattern_choices(result)
    assert c.to_dict("records") == [
        {"row": 0, "n_mpn": 2, "n_true": 1, "n_caught": 1, "n_positives": 2}
    ]


def test_pr_frame_matches_the_hand_curve(hand):
    f = analysis.pr_frame(hand[0], [0, 1, 3])
    assert f.values.tolist() == [[0, 1, 1, 1], [1, 0.5, 1, 2], [3, 0.25, 1, 4]]


def test_truth_label_prefers_known_true_over_train():
    labels = analysis.truth_label(
        torch.tensor([True, False, False]), torch.tensor([False, True, False])
    )
    assert labels.tolist() == ["known true", "train positive", "not known true"]


def test_select_positives(nations):
    _, kg = nations
    assert torch.equal(
        analysis.select_positives(kg, PositivesSpec(n=50, seed=3)), audit_positives(kg, 50, 3)
    )
    rel = kg.relations[5]
    got = analysis.select_positives(kg, PositivesSpec("relation", rel, n=10_000))
    train = {tuple(x) for x in kg.train.tolist()}
    expected = {x for x in train if x[1] == 5}
    assert {tuple(x) for x in got.tolist()} == expected and len(got) == len(expected)
    few = analysis.select_positives(kg, PositivesSpec("entity", kg.entities[2], n=7, seed=1))
    assert len(few) == 7 and all(2 in (h, t) for h, _, t in few.tolist())
    assert {tuple(x) for x in few.tolist()} <= train
    again = analysis.select_positives(kg, PositivesSpec("entity", kg.entities[2], n=7, seed=1))
    assert torch.equal(few, again)
    for bad in (
        PositivesSpec("relation", "no such"),
        PositivesSpec("entity", "nobody"),
        PositivesSpec("nope"),
    ):
        with pytest.raises(ConfigError):
            analysis.select_positives(kg, bad)


def test_search_names_puts_prefixes_first():
    names = ["brazil", "Israel", "usa", "uk", "burma", "ussr"]
    assert analysis.search_names(names, "US") == ["usa", "ussr"]
    assert analysis.search_names(names, "ra") == ["Israel", "brazil"]
    assert analysis.search_names(names, "", limit=2) == ["brazil", "Israel"]


def test_pca_matches_sklearn_and_is_linear():
    from sklearn.decomposition import PCA

    x = np.random.default_rng(0).normal(size=(60, 5)).astype(np.float32) * [5, 3, 1, 0.5, 0.1]
    proj = projection.fit_projection(x, "pca")
    ref = PCA(2).fit_transform(x)
    signs = np.sign((proj.coords * ref).sum(0))  # components are defined up to sign
    np.testing.assert_allclose(proj.coords * signs, ref, atol=1e-3)
    np.testing.assert_allclose(proj.entities(np.array([4, 7]), x), proj.coords[[4, 7]])
    mid = proj.transform(0.3 * x[:1] + 0.7 * x[1:2])
    np.testing.assert_allclose(mid, 0.3 * proj.coords[:1] + 0.7 * proj.coords[1:2], atol=1e-4)


def test_umap_separates_clusters_and_transforms_near_them():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16)) * 20
    x = np.concatenate([c + rng.normal(size=(40, 16)) for c in centres]).astype(np.float32)
    proj = projection.fit_projection(x, "umap", max_fit=100)
    assert len(proj.fit_ids) == 100 and proj.coords.shape == (100, 2)
    label = np.repeat([0, 1, 2], 40)
    xy = proj.entities(np.arange(120), x)  # 20 rows were not fitted: transformed
    means = np.stack([xy[label == i].mean(0) for i in range(3)])
    nearest = np.linalg.norm(xy[:, None] - means[None], axis=-1).argmin(1)
    assert (nearest == label).all()
    new = proj.transform(centres[1:2].astype(np.float32))
    assert np.linalg.norm(new - means, axis=1).argmin() == 1


@pytest.mark.parametrize("alpha", [1.0, 0.0, 0.4])
def test_mix_layout_puts_the_mixed_point_on_the_segment(nations, alpha):
    model, kg = nations
    pos = analysis.select_positives(kg, PositivesSpec(n=8))
    result = remix(demix_lens(model, kg, pos, mu=1.0, alpha=0.5, k=6), alpha)
    table = model.entity.detach().numpy()
    layout = analysis.mix_layout(result, projection.fit_projection(table, "pca"), table, kg, [0, 3])
    assert len(layout) == 12 and set(layout["row"]) == {0, 3}
    c, p, m = (layout[[f"{k}_x", f"{k}_y"]].to_numpy() for k in "cpm")
    np.testing.assert_allclose(m, alpha * c + (1 - alpha) * p, atol=1e-4)
    names = [kg.entities[i] for i in result.candidates[[0, 3]].ravel().tolist()]
    assert layout["candidate"].tolist() == names


def test_sampler_views_against_brute_force(nations):
    model, kg = nations
    pos = analysis.select_positives(kg, PositivesSpec(n=16))
    cands = sampler_frames.sampler_candidates(model, kg, pos, list(SAMPLERS), k=8, seed=0, warmup=2)
    assert list(cands) == list(SAMPLERS)
    truth = {tuple(x) for x in kg.truth().tolist()}
    summary = sampler_frames.sampler_summary(cands).set_index("sampler")
    table = sampler_frames.sampler_table(cands, kg)
    for name, c in cands.items():
        rows = table[table["sampler"] == name]
        assert len(rows) == int(c.mask.sum())
        triples = zip(rows["head"], rows["relation"], rows["tail"])
        ids = [
            (kg.entities.index(h), kg.relations.index(r), kg.entities.index(t))
            for h, r, t in triples
        ]
        known = [x in truth for x in ids]
        assert (rows["known truth"] == "known true").tolist() == known
        assert summary.loc[name, "fn_rate"] == pytest.approx(sum(known) / len(known))
    uniform = table[table["sampler"] == "uniform"]
    triples = torch.tensor(
        [
            [kg.entities.index(h), kg.relations.index(r), kg.entities.index(t)]
            for h, r, t in zip(uniform["head"], uniform["relation"], uniform["tail"])
        ]
    )
    np.testing.assert_allclose(uniform["score"], model.score_triples(triples).detach(), atol=1e-5)
    demix = cands["demix"]
    plain = model.score_candidates(demix.pos, demix.head, demix.ids).detach()
    assert not torch.allclose(demix.scores, plain)  # DeMix is scored on its mixtures
    scores = sampler_frames.sampler_scores(cands)
    assert scores.groupby("sampler", sort=False).size().tolist() == [
        int(c.mask.sum()) for c in cands.values()
    ]


def test_sampler_views_are_seeded(nations):
    model, kg = nations
    pos = analysis.select_positives(kg, PositivesSpec(n=8, seed=2))
    runs = [
        sampler_frames.sampler_candidates(model, kg, pos, list(SAMPLERS), k=6, seed=seed, warmup=2)
        for seed in (5, 5, 6)
    ]
    for name in SAMPLERS:
        a, b, c = (r[name] for r in runs)
        assert torch.equal(a.ids, b.ids) and torch.equal(a.scores, b.scores), name
    assert any(not torch.equal(runs[0][n].ids, runs[2][n].ids) for n in SAMPLERS)
