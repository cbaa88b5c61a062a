"""demix_core keeps large freed blocks (demix_core/_malloc.py): a second 100 MB temporary
reuses the earlier ones' pages (once the heap has settled, 1-8 rounds in) instead of
page-faulting 24,400 fresh ones every round. Counted with the
kernel's minor-fault counter in a fresh interpreter, with and without the opt-out."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from demix_core import _malloc

SCRIPT = """
import json, resource, torch
import demix_core
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
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.splitlines()[-1])


@pytest.mark.skipif(not _malloc.applied, reason="not glibc: the C library's defaults stay")
def test_a_freed_large_block_is_reused_without_page_faults():
    kept = sixteen_rounds({})
    system = sixteen_rounds({"DEMIX_MALLOC": "system"})
    pages = 100_000_000 // 4096
    assert kept["applied"] and not system["applied"]
    assert min(system["faults"]) > pages * 9 // 10, system  # a fresh mmap every round
    # reused once settled: measured after 1-8 rounds (blocks coalesce as they are freed)
    assert max(kept["faults"][-4:]) < pages // 100, kept
