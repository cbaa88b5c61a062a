"""The negative-sample audit against brute-force counts with Python sets."""

import argparse
import json
import math

import pytest
import torch

from demix_core.audit import audit_samplers, sampler_candidates
from demix_core.audit_cli import add_negatives_parser, audit_checkpoint, run_negatives_command
from demix_core.data import load_dataset
from demix_core.errors import CheckpointError, ConfigError
from demix_core.models import KGEModel
from demix_core.sampling import SAMPLERS

NAMES = [
    n for n in ("uniform", "bernoulli", "sans", "nscaching", "mixkg", "demix") if n in SAMPLERS
]
ARGS = {"positives": 60, "negatives": 8, "seed": 4, "warmup": 2}


@pytest.fixture(scope="module")
def setup():
    kg = load_dataset("synthetic:entities=300,hidden=0.3,seed=1")
    torch.manual_seed(0)
    model = KGEModel("rotate", kg.num_entities, kg.num_relations, dim=8, gamma=6.0)
    return kg, model


def _triples(c):
    for p, head, ids, mask in zip(
        c.pos.tolist(), c.head.tolist(), c.ids.tolist(), c.mask.tolist(), strict=True
    ):
        for e, m in zip(ids, mask, strict=True):
            if m:
                yield (e, p[1], p[2]) if head else (p[0], p[1], e)


def _mean_entropy(c, temperature):
    out = []
    for scores, mask in zip(c.scores.tolist(), c.mask.tolist(), strict=True):
        w = [math.exp(temperature * s) for s, m in zip(scores, mask, strict=True) if m]
        if w:
            out.append(-sum(x / sum(w) * math.log(x / sum(w)) for x in w))
    return sum(out) / len(out)


def test_false_negative_rate_matches_a_brute_force_count(setup):
    kg, model = setup
    truth = {tuple(t) for t in torch.cat([kg.valid, kg.test, kg.hidden]).tolist()}
    train = {tuple(t) for t in kg.train.tolist()}
    report = audit_samplers(model, kg, NAMES, adv_temperature=0.5, **ARGS)
    cands = sampler_candidates(model, kg, NAMES, **ARGS)
    total_fn = 0
    for name in NAMES:
        got, c = report["samplers"][name], cands[name]
        triples = list(_triples(c))
        n_true = sum(t in truth for t in triples)
        total_fn += n_true
        assert got["candidates"] == len(triples) > 0
        assert got["fn_rate"] == pytest.approx(n_true / len(triples))
        assert got["train_rate"] == pytest.approx(sum(t in train for t in triples) / len(triples))
        assert got["score_q10"] <= got["score_q50"] <= got["score_q90"]
        assert got["adv_entropy"] == pytest.approx(_mean_entropy(c, 0.5), rel=1e-4)
        assert 0 < got["adv_entropy"] <= got["adv_entropy_max"] == pytest.approx(math.log(8))
        if name == "demix":
            assert got["n_mpn"] + got["n_tn"] == got["candidates"]
            # MPNE precision over the candidates that are not train positives
            flags = [f for f, m in zip(c.mpn.flatten().tolist(), c.mask.flatten().tolist()) if m]
            unseen = [(t, f) for t, f in zip(triples, flags, strict=True) if t not in train]
            hits = sum(t in truth for t, f in unseen if f)
            assert got["mpne_precision"] == pytest.approx(hits / sum(f for _, f in unseen))
    assert total_fn > 0, "the check needs some false negatives to count"
    assert report["samplers"]["uniform"]["fn_rate"] < report["samplers"]["sans"]["fn_rate"]


def test_same_seed_same_report_and_same_positives(setup):
    kg, model = setup
    a = audit_samplers(model, kg, ["uniform", "rw-sans"], **ARGS)
    b = audit_samplers(model, kg, ["uniform", "rw-sans"], **ARGS)
    assert a == b
    cands = sampler_candidates(model, kg, ["uniform", "rw-sans"], **ARGS)
    assert torch.equal(cands["uniform"].pos, cands["rw-sans"].pos)


def test_unknown_sampler_lists_the_known_ones(setup):
    kg, model = setup
    with pytest.raises(ConfigError, match="unknown sampler.*bogus.*known: uniform"):
        audit_samplers(model, kg, ["uniform", "bogus"], **ARGS)


def _checkpoint(tmp_path, kg, model):
    path = tmp_path / "checkpoint.pt"
    data = model.export()
    data.update(entities=list(kg.entities), relations=list(kg.relations), config={})
    torch.save(data, path)
    return path


def test_checkpoint_of_another_dataset_is_refused(setup, tmp_path):
    kg, model = setup
    path = _checkpoint(tmp_path, kg, model)
    with pytest.raises(CheckpointError, match="do not match dataset nations"):
        audit_checkpoint(path, "nations", ["uniform"], **ARGS)
    other = load_dataset("nations")
    with pytest.raises(CheckpointError, match="entities"):
        audit_samplers(model, other, ["uniform"], **ARGS)


def test_cli_prints_one_json_line(setup, tmp_path, capsys):
    kg = load_dataset("nations")
    model = KGEModel("transe", kg.num_entities, kg.num_relations, dim=4, gamma=4.0)
    path = _checkpoint(tmp_path, kg, model)
    parser = argparse.ArgumentParser()
    add_negatives_parser(parser.add_subparsers(dest="command"))
    argv = ["negatives", "--checkpoint", str(path), "--dataset", "nations"]
    argv += ["--samplers", "uniform,rw-sans", "--positives", "20", "--negatives", "4"]
    args = parser.parse_args([*argv, "--walks", "5", "--json"])
    assert run_negatives_command(args) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result["samplers"]) == {"uniform", "rw-sans"}
    assert result["positives"] == 20 and result["negatives"] == 4
