"""Process-wide settings for the processes that train, applied by those processes only.

`python -m demix_core` (the CLI, which run workers and background experiments are), the
benchmarks and the test runner call `prepare_training_process()` before they import torch.
`import demix_core` changes nothing process-wide, so an importer such as the Streamlit
server keeps its own settings. Why each setting pays, with figures: docs/performance.md.
"""

from __future__ import annotations

import os


def prepare_training_process() -> None:
    """Passive OpenMP waiting and glibc keeping large freed blocks (`_malloc`).

    Spinning OpenMP threads slow every other busy process on the same cores (the app's server
    beside a worker, two workers) by orders of magnitude; the policy is read when torch
    starts its OpenMP runtime, hence before torch is imported. A user's own setting wins,
    and `DEMIX_MALLOC=system` keeps the C library's allocator defaults."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from demix_core._malloc import keep_freed_memory

    keep_freed_memory()
