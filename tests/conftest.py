import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demix_core.process import prepare_training_process  # noqa: E402

prepare_training_process()  # the test process trains; before torch loads OpenMP

import pytest  # noqa: E402
import torch  # noqa: E402

os.environ.setdefault("DEMIX_NO_COMPILE", "1")  # tests check numbers, not compile speed
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

from demix_core.kg import KG  # noqa: E402


@pytest.fixture
def tiny_kg() -> KG:
    """6 entities, 2 relations, a handful of triples in every split."""
    t = lambda rows: torch.tensor(rows, dtype=torch.long)  # noqa: E731
    return KG(
        name="tiny",
        entities=[f"e{i}" for i in range(6)],
        relations=["r0", "r1"],
        train=t([[0, 0, 1], [0, 0, 2], [1, 0, 2], [2, 1, 3], [3, 1, 4], [4, 0, 5], [5, 1, 0]]),
        valid=t([[1, 0, 3], [2, 1, 4]]),
        test=t([[0, 0, 3], [3, 1, 5], [4, 0, 1]]),
    )
