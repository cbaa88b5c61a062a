"""demix_core keeps large freed blocks (demix_core/_malloc.py): a second 100 MB temporary
reuses the earlier ones' pages (once the heap has settled, a few rounds in) instead of
page-faulting 24,400 fresh ones each time. Counted with the
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
for _ in range(4):  # 100 MB, touched, freed; the heap settles within a few rounds
    torch.ones(25_000_000).sum()
before = faults()
for _ in range(2):
    torch.ones(25_000_000).sum()
print(json.dumps({"applied": _malloc.applied, "faults": faults() - before}))
"""


def second_allocation(env: dict) -> dict:
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
    kept = second_allocation({})
    system = second_allocation({"DEMIX_MALLOC": "system"})
    pages = 100_000_000 // 4096
    assert kept["applied"] and not system["applied"]
    assert system["faults"] > pages, system  # glibc's default: a fresh mmap every time
    assert kept["faults"] < pages // 20, kept  # reused: a handful of faults at most
