"""Each kernel of demix_core/kernels.py against the readable function it replaces, in ms.

    python bench/kernels.py --entities 14541 --width 400 --batch 512 --negatives 128 --json

Defaults are FB15k-237 RotatE dim 200's shapes (B = 512 rows, K = 128 candidates, De = 400).
Figures: the CSR row backward against `F.embedding`'s; the fused gather-and-mix (forward and
backward) against `demix.adamix` on two gathered tables; the sort key against a stable sort;
the top-(C+1) partner rule against `demix.hard_partners`. tests/test_kernels.py checks that
each pair gives the same numbers; this prints what the kernel saves (median of `--repeat`).
The last stdout line is one JSON object with --json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demix_core.process import prepare_training_process  # noqa: E402

prepare_training_process()  # the settings a training step runs under: before torch

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from demix_core import kernels  # noqa: E402
from demix_core.demix import adamix, hard_partners  # noqa: E402


def median_ms(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def backward_ms(make, table, grad, repeat: int) -> float:
    """Forward and backward of `make()` into `table`'s gradient."""

    def once():
        table.grad = None
        make().backward(grad)

    return median_ms(once, repeat)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--entities", type=int, default=14541)
    p.add_argument("--width", type=int, default=400, help="De, floats per entity row")
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--negatives", type=int, default=128)
    p.add_argument("--partner-cap", type=int, default=8)
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    B, K, De, C, n = args.batch, args.negatives, args.width, args.partner_cap, args.repeat
    g = torch.Generator().manual_seed(0)
    table = torch.randn(args.entities, De, generator=g).requires_grad_()
    a = torch.randint(args.entities, (B, K), generator=g)
    b = torch.randint(args.entities, (B, K), generator=g)
    w = torch.rand(B, K, generator=g)
    grad = torch.randn(B, K, De, generator=g)
    scores = torch.randn(B, K, generator=g)
    eligible = torch.rand(B, K, generator=g) < 0.9
    pick = torch.rand(B, K, generator=g)
    zeros = torch.zeros(B, K)
    out = {
        "shape": {"B": B, "K": K, "De": De, "E": args.entities, "C": C},
        "threads": torch.get_num_threads(),
        "rows_backward_ms": backward_ms(lambda: kernels.rows(table, a), table, grad, n),
        "embedding_backward_ms": backward_ms(lambda: F.embedding(a, table), table, grad, n),
        "mixed_rows_ms": backward_ms(lambda: kernels.mixed_rows(table, a, b, w), table, grad, n),
        "adamix_gathered_ms": backward_ms(
            lambda: adamix(F.embedding(a, table), F.embedding(b, table), zeros, w)[0],
            table,
            grad,
            n,
        ),
        "top_order_ms": median_ms(lambda: kernels.top_order(scores, C + 1), n),
        "stable_sort_ms": median_ms(
            lambda: torch.sort(scores, dim=1, descending=True, stable=True).indices[:, : C + 1], n
        ),
        "hard_partners_kernel_ms": median_ms(
            lambda: kernels.hard_partners(scores, C, pick, eligible), n
        ),
        "hard_partners_readable_ms": median_ms(lambda: hard_partners(scores, C, pick, eligible), n),
    }
    print(json.dumps(out) if args.json else json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
