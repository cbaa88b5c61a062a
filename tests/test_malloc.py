"""A training process keeps large freed blocks (demix_core/_malloc.py, applied by
process.prepare_training_process): a second 100 MB temporary reuses the earlier ones' pages (once the heap has settled, 1-8 rounds in) instead of
page-faulting 24,400 fresh ones every round. Counted with the
kernel's minor-fault counter in a fresh interpreter, with and without the opt-out."""

from __future__ import annotations

import os

import pytest
from procs import python_json

from demix_core import _malloc

SCRIPT = """
from demix_core.process import prepare_training_process
prepare_training_process()
import json, resource, torch
from demix_core import _malloc
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
rounds = []
for _ in range(16):  # 100 MB, touched, freed; the heap settles within a few rounds
    before = faults()
    torch.ones(25_000_000).sum()
    rounds.append(faults() - before)
print(json.dumps({"applied": _malloc.applied, "faults": rounds}))
"""


def sixteen_rounds(env: dict) -> dict:
    return python_json(SCRIPT, env={**os.environ, **env})


@pytest.mark.skipif(not _malloc.applied, reason="not glibc: the C library's defaults stay")
def test_a_freed_large_block_is_reused_without_page_faults():
    kept = sixteen_rounds({})
    system = sixteen_rounds({"DEMIX_MALLOC": "system"})
    pages = 100_000_000 // 4096
    assert kept["applied"] and not system["applied"]
    assert min(system["faults"]) > pages * 9 // 10, system  # a fresh mmap every round
    # reused once settled: measured after 1-8 rounds (blocks coalesce as they are freed)
    assert max(kept["faults"][-4:]) < pages // 100, kept


def test_importing_the_library_changes_no_process_setting():
    """Only processes that train take the settings: a plain importer (the Streamlit server)
    keeps the C library's allocator and its own OpenMP policy; the CLI's entry takes both."""
    probe = (
        "import json, os, demix_core, demix_core.training; from demix_core import _malloc; "
        "print(json.dumps([_malloc.applied, os.environ.get('OMP_WAIT_POLICY')]))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "DEMIX_MALLOC")}
    assert python_json(probe, env=env) == [False, None]
    entry = (
        "import runpy, sys, json, os; sys.argv = ['demix_core', '--help']\n"
        "try:\n    runpy.run_module('demix_core', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "from demix_core import _malloc\n"
        "print(json.dumps([_malloc.applied, os.environ.get('OMP_WAIT_POLICY')]))"
    )
    assert python_json(entry, env=env) == [_malloc.applied, "PASSIVE"]
