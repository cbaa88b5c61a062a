import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "demix_core", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"DEMIX_NO_COMPILE": "1", "PATH": "/usr/bin:/bin"},
    )


def test_train_json_contract_and_evaluate_agree(tmp_path):
    out = tmp_path / "run"
    r = cli(
        "train",
        "--dataset",
        "nations",
        "--model",
        "transe",
        "--sampler",
        "bernoulli",
        "--dim",
        "8",
        "--gamma",
        "4",
        "--lr",
        "0.01",
        "--batch-size",
        "64",
        "--negatives",
        "8",
        "--steps",
        "30",
        "--adv-temperature",
        "0.5",
        "--seed",
        "1",
        "--out",
        str(out),
        "--eval-every",
        "10",
        "--device",
        "cpu",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout.strip().splitlines()[-1])
    for key in (
        "mrr",
        "mr",
        "hits@1",
        "hits@3",
        "hits@10",
        "steps",
        "train_seconds",
        "triples_per_second",
    ):
        assert key in result
    assert {p.name for p in out.iterdir()} >= {"checkpoint.pt", "config.json", "metrics.jsonl"}
    ckpt = torch.load(out / "checkpoint.pt", weights_only=True)
    assert ckpt["model"] == "transe" and len(ckpt["entities"]) == 14
    e = cli(
        "evaluate", "--checkpoint", str(out / "checkpoint.pt"), "--dataset", "nations", "--json"
    )
    assert e.returncode == 0, e.stderr
    assert json.loads(e.stdout.strip().splitlines()[-1])["mrr"] == pytest.approx(
        result["mrr"], abs=1e-9
    )


def test_datasets_json():
    r = cli("datasets", "--json")
    rows = {x["name"]: x for x in json.loads(r.stdout)}
    assert rows["fb15k-237"]["train"] == 272115 and rows["umls"]["entities"] == 135


@pytest.mark.parametrize(
    "flags,message",
    [
        (["--dim", "-1"], "--dim must be >= 1"),
        (["--steps", "0"], "--steps must be >= 1"),
        (["--sampler", "demix", "--mu", "-1"], "--mu must be >= 0"),
        (["--sampler", "demix", "--alpha", "2"], "--alpha must be in [0, 1]"),
        (["--sampler", "demix", "--base-sampler", "nope"], "--base-sampler: unknown sampler"),
        (["--dataset", "nowhere"], "unknown dataset 'nowhere'"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, flags, message):
    out = tmp_path / "out"
    args = ["train", "--dataset", "nations", "--out", str(out), *flags]
    r = cli(*args)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"error: {r.stderr.strip()[7:]}"]
    assert message in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


def test_malformed_dataset_names_file_and_line(tmp_path):
    d = tmp_path / "kg"
    d.mkdir()
    (d / "train.txt").write_text("a\tr\tb\nb\tr\n")
    (d / "valid.txt").write_text("a\tr\tb\n")
    (d / "test.txt").write_text("a\tr\tb\n")
    r = cli("train", "--dataset", str(d), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "train.txt:2" in r.stderr and "Traceback" not in r.stderr


def test_mismatched_checkpoint(tmp_path):
    out = tmp_path / "run"
    cli("train", "--dataset", "nations", "--dim", "4", "--steps", "2", "--out", str(out), "--quiet")
    r = cli("evaluate", "--checkpoint", str(out / "checkpoint.pt"), "--dataset", "umls")
    assert r.returncode == 2 and "do not match dataset umls" in r.stderr
