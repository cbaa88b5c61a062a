"""Keep large freed blocks in the process instead of handing them back to the kernel.

glibc serves every allocation above its mmap threshold (at most 32 MiB) with a fresh mmap and
unmaps it on free, so each training step's big temporaries (a batch of 512 x 128 candidate
embeddings of 400 floats is 105 MB) are page-faulted in again from zero, every step: most of
a FB15k-237 step (docs/performance.md, re-measured with `DEMIX_MALLOC=system` and
`bench/throughput.py`). The price: the process keeps its peak heap (it does not shrink after
a large step; the benchmarks report peak RSS), and a new block size settles within a few
steps (tests/test_malloc.py counts the faults).

Applied once, by `process.prepare_training_process` in the processes that train, through
mallopt (glibc only; elsewhere nothing happens). `DEMIX_MALLOC=system` leaves the C
library's defaults alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
TRIM_THRESHOLD = 2**30
# the same setting as glibc's environment variables, for other processes (bench/pykeen_compare)
ENV = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD)}
applied = False


def keep_freed_memory() -> bool:
    """mallopt: no mmap for large blocks, no trimming of the heap top. True when applied."""
    global applied
    if applied or os.environ.get("DEMIX_MALLOC", "") == "system":
        return applied
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl without mallopt, Windows)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    applied = bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return applied
