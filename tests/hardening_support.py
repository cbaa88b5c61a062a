"""Helpers of the hardening tests (issue 17): the CLI in-process and as a process, file
snapshots that prove nothing was touched, checkpoints broken one field at a time, and a
child process that reports its own peak memory."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENV = {"DEMIX_NO_COMPILE": "1", "PATH": "/usr/bin:/bin"}


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    """`python -m demix_core ARGS` through `cli.main` in this process: (code, out, err)."""
    from demix_core.cli import main

    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *words: str) -> str:
    """Exit 2 and exactly one stderr line `error: ...` holding `words`; returns the line."""
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def cli_process(*args: str, env: dict | None = None, prefix: list[str] = (), **kw):
    return subprocess.run(
        [*prefix, sys.executable, "-m", "demix_core", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**ENV, **(env or {})},
        **kw,
    )


def without_root_powers() -> list[str]:
    """A command prefix under which file permissions hold even for root (the suite may run
    as root, who writes into read-only folders): drop the capabilities that bypass them."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a folder read-only")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` with the sha256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def nations_checkpoint(**changes) -> dict:
    """A valid TransE checkpoint of Nations (dim 8, seeded), with `changes` applied."""
    import torch

    from demix_core.checkpoint import checkpoint_dict
    from demix_core.data import load_dataset
    from demix_core.models import KGEModel

    kg = load_dataset("nations")
    torch.manual_seed(0)
    model = KGEModel("transe", kg.num_entities, kg.num_relations, 8, 4.0)
    data = checkpoint_dict(model, kg, {"dataset": "nations"}, step=3)
    data.update(changes)
    return data


def gzip_bomb(path: Path, unpacked_mb: int) -> Path:
    """A `.txt.gz` of valid triple lines that unpacks to `unpacked_mb` MB."""
    line = b"a\tr\tb\n"
    block = line * (2**20 // len(line))
    with gzip.open(path, "wb", compresslevel=9) as f:
        for _ in range(unpacked_mb):
            f.write(block)
    return path


PEAK = """
import json, sys
from demix_core.cli import main
def hwm():  # this process's peak RSS since exec (ru_maxrss would count the forking parent's)
    line = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024
code = main(sys.argv[1:])
print(json.dumps({"code": code, "peak_mb": hwm()}))
"""


def cli_peak(*args: str) -> tuple[int, float, str]:
    """Run the CLI in a fresh process that reports its own peak RSS: (code, MB, stderr)."""
    r = subprocess.run(
        [sys.executable, "-c", PEAK, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=ENV,
    )
    report = json.loads(r.stdout.strip().splitlines()[-1])
    return report["code"], report["peak_mb"], r.stderr
