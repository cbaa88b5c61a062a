"""Experiments: the hidden-truth dataset form, the oracle sampler, the conclusions computed
from numbers, the recommended DeMix defaults against the committed sensitivity results, and
every experiment end to end at the smoke budget."""

import json

import pytest
import torch

from demix_core import experiments
from demix_core.config import DEMIX_DEFAULTS, make_config
from demix_core.data import load_dataset
from demix_core.errors import ConfigError, DatasetError
from demix_core.experiments import ablation, fn_cost, seeds_large, sensitivity
from demix_core.kg import KGIndex
from demix_core.sampling import build_sampler


def as_set(t: torch.Tensor) -> set:
    return {tuple(x) for x in t.tolist()}


def test_hide_moves_a_seeded_fraction_of_train_to_hidden():
    full = load_dataset("umls")
    kg = load_dataset("umls:hide=0.3,seed=0")
    assert as_set(kg.train) | as_set(kg.hidden) == as_set(full.train)
    assert not as_set(kg.train) & as_set(kg.hidden)
    assert abs(len(kg.hidden) / len(full.train) - 0.3) < 0.03
    assert torch.equal(kg.valid, full.valid) and torch.equal(kg.test, full.test)
    assert as_set(load_dataset("umls:hide=0.3,seed=0").hidden) == as_set(kg.hidden)
    assert as_set(load_dataset("umls:hide=0.3,seed=1").hidden) != as_set(kg.hidden)
    assert as_set(kg.hidden) <= as_set(kg.truth())  # hidden facts count as known truth


@pytest.mark.parametrize(
    "spec, field",
    [
        ("umls:hide=2", "hide"),
        ("umls:hide=x", "hide"),
        ("umls:keep=0.1", "keep"),
        ("umls:seed=1", "hide"),
    ],
)
def test_hide_spec_errors_name_the_field(spec, field):
    with pytest.raises(DatasetError, match=field):
        load_dataset(spec)


@pytest.fixture(scope="module")
def nations():
    kg = load_dataset("nations")
    return kg, KGIndex.build(kg)


def test_oracle_filter_keeps_no_known_truth(nations):
    kg, index = nations
    pos = kg.train[:256]
    sampler = build_sampler("oracle", kg, index, {"oracle_mode": "filter"}, 0, "cpu")
    plain = build_sampler("uniform", kg, index, {}, 0, "cpu")
    truth = as_set(kg.truth())
    for step in (0, 1):
        neg = sampler.sample(None, pos, step, 16)
        tri = neg.triples(pos)[neg.mask]
        assert not as_set(tri) & truth
        assert neg.mask.float().mean() > 0.99  # redrawn, not merely masked
        base = plain.sample(None, pos, step, 16).triples(pos).reshape(-1, 3)
        # the uniform draw itself holds true facts (Nations is dense): the filter had work
        assert as_set(base) & truth


def test_oracle_leak_forces_true_answers_at_the_rate(nations):
    kg, index = nations
    pos = kg.train
    rate = 0.2
    oracle = build_sampler(
        "oracle", kg, index, {"oracle_mode": "leak", "leak_rate": rate}, 3, "cpu"
    )
    plain = build_sampler("uniform", kg, index, {}, 3, "cpu")
    neg, base = oracle.sample(None, pos, 0, 32), plain.sample(None, pos, 0, 32)
    changed = neg.ids != base.ids  # (B, K): the oracle draws the same base stream
    truth = as_set(kg.truth())
    tri = neg.triples(pos)
    assert as_set(tri[changed]) <= truth  # every replacement is a known true answer
    # rows whose tail pattern (h, r, ?) has a true answer outside train
    has = torch.tensor(
        [any((h, r, t) in truth for t in range(kg.num_entities)) for h, r, _ in pos.tolist()]
    )
    assert not changed[~has].any()
    frac = changed[has].float().mean().item()
    # replaced with probability `rate`; a pick that equals the base draw changes nothing
    assert rate * 0.8 < frac <= rate * 1.1


def test_oracle_rejects_bad_options(nations):
    kg, index = nations
    with pytest.raises(ConfigError, match="--oracle-mode"):
        build_sampler("oracle", kg, index, {"oracle_mode": "peek"}, 0, "cpu")
    with pytest.raises(ConfigError, match="--leak-rate"):
        build_sampler("oracle", kg, index, {"oracle_mode": "leak", "leak_rate": 1.5}, 0, "cpu")
    with pytest.raises(ConfigError, match="--base-sampler"):
        build_sampler("oracle", kg, index, {"base_sampler": "demix"}, 0, "cpu")


def test_sensitivity_pick_is_the_valid_argmax_with_ties_to_small_mu():
    cells = [
        {
            "dataset": "d",
            "model": "m",
            "seed": 0,
            "mu": mu,
            "alpha": a,
            "valid_mrr": v,
            "test_mrr": 0.0,
        }
        for (mu, a, v) in [(0.0, 0.5, 0.4), (1.0, 0.5, 0.6), (3.0, 0.5, 0.6), (1.0, 0.9, 0.55)]
    ]
    data = {"cells": cells, "base": []}
    assert sensitivity.best(data, "d", "m") == (1.0, 0.5)
    cells[0]["valid_mrr"] = 0.7
    assert sensitivity.best(data, "d", "m") == (0.0, 0.5)


def _ablation_data(gap_second_pair: float) -> dict:
    runs = []
    for dataset, gap in (("a", 0.05), ("b", gap_second_pair)):
        for seed in (0, 1):
            runs.append(
                {
                    "dataset": dataset,
                    "model": "rotate",
                    "seed": seed,
                    "variant": "uniform+adv",
                    "test_mrr": 0.5,
                    "options": {},
                }
            )
            runs.append(
                {
                    "dataset": dataset,
                    "model": "rotate",
                    "seed": seed,
                    "variant": "DeMix",
                    "test_mrr": 0.5 + gap,
                    "options": {"mu": 1.0, "alpha": 0.9},
                }
            )
            runs.append(
                {
                    "dataset": dataset,
                    "model": "rotate",
                    "seed": seed,
                    "variant": "no MPNE",
                    "test_mrr": 0.5,
                    "options": {},
                }
            )
    return {"runs": runs}


def test_conclusions_follow_the_numbers():
    assert "in 2 of 2 pairs" in ablation.conclude(_ablation_data(0.01))
    text = ablation.conclude(_ablation_data(-0.02))
    assert "in 1 of 2 pairs" in text and "b rotate (-0.020)" in text
    runs = [
        {
            "dataset": "x",
            "seed": 0,
            "mode": m,
            "valid_mrr": v,
            "test_mrr": v,
            "fn_rate": 0.0,
            "curve": [],
        }
        for m, v in (("oracle-filtered", 0.6), ("normal", 0.5), ("leakage", 0.4))
    ]
    data = {"runs": runs, "leak_rate": 0.05}
    assert fn_cost.ordered(data, "x") and "on 1 of 1 datasets" in fn_cost.conclude(data)
    runs[2]["valid_mrr"] = 0.55
    assert not fn_cost.ordered(data, "x") and "(not on x)" in fn_cost.conclude(data)


def _seed_rows(values: dict) -> dict:
    """seeds-large numbers from {(dataset, sampler): [mrr per seed]}."""
    runs = [
        {
            "dataset": d,
            "sampler": name,
            "seed": i,
            "mrr": v,
            "steps": 7,
            "options": {},
            "hits@10": v,
            "train_seconds": 1.0,
        }
        for (d, name), mrrs in values.items()
        for i, v in enumerate(mrrs)
    ]
    return {"runs": runs}


def test_seeds_large_gap_counts_seeds_and_the_conclusion_names_the_trailing_dataset():
    data = _seed_rows(
        {
            ("a", "uniform+adv"): [0.30, 0.40, 0.50],
            ("a", "DeMix"): [0.33, 0.39, 0.51],  # mean +0.010, ahead or level on seeds 0 and 2
            ("b", "uniform+adv"): [0.20, 0.20, 0.20],
            ("b", "DeMix"): [0.20, 0.17, 0.20],  # mean -0.010, level on seeds 0 and 2
        }
    )
    d, ahead, n = seeds_large.gap(data, "a")
    assert d == pytest.approx(0.01) and (ahead, n) == (2, 3)
    d, ahead, n = seeds_large.gap(data, "b")
    assert d == pytest.approx(-0.01) and (ahead, n) == (2, 3)
    text = seeds_large.conclude(data)
    assert text.startswith("DeMix's mean trails its base on b (test MRR, equal 7 steps)")
    assert "a RotatE: DeMix 0.410" in text and "(+0.010; ahead or level on 2 of 3 seeds)" in text
    rows = seeds_large.table(data)
    assert [r["per seed"] for r in rows][:2] == ["0.300 / 0.400 / 0.500", "0.330 / 0.390 / 0.510"]


def test_merge_joins_disjoint_seeds_and_refuses_overlaps_or_other_budgets(tmp_path):
    parts = []
    for seed in (1, 0, 2):
        rec = experiments.run("seeds-large", "smoke", seeds=(seed,), out=tmp_path / f"s{seed}")
        parts.append(rec)
    merged = experiments.merge(parts, "side by side")
    assert merged["seeds"] == [0, 1, 2]
    assert [(r["seed"], r["sampler"]) for r in merged["data"]["runs"]] == [
        (s, n) for s in (0, 1, 2) for n in ("uniform+adv", "DeMix")
    ]
    # the default seeds: the plain command regenerates it
    assert merged["command"] == "python -m demix_core experiment seeds-large --budget smoke"
    assert merged["seconds"] == max(p["seconds"] for p in parts)
    assert experiments.record_note(merged) == "side by side"
    assert experiments.merge(parts[:2], "x")["command"].endswith("--seeds 0,1")
    with pytest.raises(ConfigError, match=r"seed\(s\) \[1\] twice"):
        experiments.merge([parts[0], parts[0]], "x")
    with pytest.raises(ConfigError, match="is not seeds-large smoke"):
        experiments.merge([parts[0], {**parts[1], "budget": "quick"}], "x")


def test_quick_settings_take_the_experiments_large_overrides_and_say_compile_off(monkeypatch):
    from demix_core.experiments.base import QUICK_LARGE, QUICK_SMALL, Context

    monkeypatch.delenv("DEMIX_NO_COMPILE", raising=False)  # conftest sets it for the suite
    ctx = Context(large_quick={"steps": 5})
    assert ctx.settings("fb15k-237") == {**QUICK_LARGE, "steps": 5}
    assert ctx.settings("umls") == QUICK_SMALL  # small KGs keep their budget
    monkeypatch.setenv("DEMIX_NO_COMPILE", "1")
    assert ctx.settings("wn18rr")["compile"] == "off"
    assert experiments.get("benchmarks").large_quick == {"steps": 2000}


def test_recommended_demix_defaults_come_from_the_committed_sensitivity_results():
    picks = {}
    for name in ("sensitivity", "sensitivity-large"):
        record = experiments.load(name)
        assert record is not None, f"docs/results/{name}/results.json is missing"
        data = record["data"]
        for pair in dict.fromkeys((c["dataset"], c["model"]) for c in data["cells"]):
            picks[pair] = sensitivity.best(data, *pair)
    assert picks and {k: (v["mu"], v["alpha"]) for k, v in DEMIX_DEFAULTS.items()} == picks


def test_hake_takes_the_datasets_rotate_pick_and_unknown_pairs_the_spec():
    from demix_core.config import recommended_demix

    assert recommended_demix("fb15k-237", "hake") == DEMIX_DEFAULTS[("fb15k-237", "rotate")]
    assert recommended_demix("UMLS:hide=0.3", "rotate") == DEMIX_DEFAULTS[("umls", "rotate")]
    assert recommended_demix("fb15k-237", "distmult") == {}  # the spec's mu 1, alpha 0.5


def test_make_config_fills_demix_defaults_unless_given():
    (dataset, model), want = next(iter(DEMIX_DEFAULTS.items()))
    assert make_config(dataset, model, "demix").sampler_options == want
    given = make_config(dataset, model, "demix", sampler_options={"mu": 5.0}).sampler_options
    assert given == {"mu": 5.0, "alpha": want["alpha"]}
    assert make_config(dataset, model, "uniform").sampler_options == {}


@pytest.mark.parametrize("name", list(experiments.experiments()))
def test_every_experiment_runs_at_the_smoke_budget(name, tmp_path):
    out = tmp_path / name
    record = experiments.run(name, "smoke", out=out)
    saved = json.loads((out / "results.json").read_text())
    assert saved["name"] == name and saved["data"] == json.loads(json.dumps(record["data"]))
    exp = experiments.get(name)
    assert exp.conclude(saved["data"]) and exp.table(saved["data"])
    figs = json.loads((out / "figures.json").read_text())
    assert figs and all("data" in f for f in figs)
    assert f"experiment {name} --budget smoke" in (out / "results.md").read_text()
    assert experiments.load(name, tmp_path)["data"] == saved["data"]


def test_keep_reuses_named_rows_and_retrains_the_rest(tmp_path):
    out = tmp_path / "benchmarks"
    first = experiments.run("benchmarks", "smoke", out=out)["data"]["runs"]
    # mark the saved rows so a kept row is told apart from a re-trained one
    saved = json.loads((out / "results.json").read_text())
    for row in saved["data"]["runs"]:
        row["mrr"] = -1.0
    (out / "results.json").write_text(json.dumps(saved))
    second = experiments.run("benchmarks", "smoke", out=out, keep={"sampler": {"NSCaching"}})
    rows = second["data"]["runs"]
    assert [(r["model"], r["sampler"]) for r in rows] == [(r["model"], r["sampler"]) for r in first]
    kept = [r for r in rows if r.get("kept_from")]
    assert [r["sampler"] for r in kept] == ["NSCaching"] and kept[0]["mrr"] == -1.0
    assert all(r["mrr"] >= 0 for r in rows if not r.get("kept_from"))
    assert "kept from the run(s) of" in (out / "results.md").read_text()
    with pytest.raises(ConfigError, match="budget smoke seeds"):
        experiments.run("benchmarks", "quick", out=out, keep={"sampler": {"NSCaching"}})
    with pytest.raises(ConfigError, match="always re-runs"):
        experiments.run("cost", "smoke", out=tmp_path / "cost", keep={"sampler": {"x"}})
    with pytest.raises(ConfigError, match="no earlier results"):
        experiments.run("benchmarks", "smoke", out=tmp_path / "none", keep={"sampler": {"x"}})


def test_unknown_experiment_and_budget():
    with pytest.raises(ConfigError, match="unknown name"):
        experiments.get("nope")
    with pytest.raises(ConfigError, match="--budget"):
        experiments.run("cost", "huge")


def test_background_rerun_writes_beside_the_store_and_is_reaped(tmp_path):
    import os
    import signal
    import time

    from demix_core.experiments import background

    pid = background.start(tmp_path, "sensitivity", budget="smoke")
    try:
        assert background.start(tmp_path, "sensitivity", budget="smoke") == pid  # one at a time
        deadline = time.monotonic() + 120
        while background.pid(tmp_path, "sensitivity") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert background.pid(tmp_path, "sensitivity") is None, "the re-run did not finish"
        record, origin = background.latest(tmp_path, "sensitivity")
        assert origin == "yours" and record["budget"] == "smoke"
        conclusion = experiments.get("sensitivity").conclude(record["data"])
        assert conclusion in background.log_tail(tmp_path, "sensitivity", 5)
    finally:
        try:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
