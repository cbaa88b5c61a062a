"""Seconds for a full filtered evaluation (both sides) of a model on a dataset.

    python bench/evaluation.py --dataset fb15k-237 --model rotate --dim 200 --json
    python bench/evaluation.py --dataset fb15k-237 --checkpoint runs/x/checkpoint.pt --json

Without --checkpoint the model is freshly initialised (the cost does not depend on the
weights). Takes the `train` command's flags for the model shape.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demix_core.process import prepare_training_process  # noqa: E402

prepare_training_process()  # this process trains: before torch is imported

import torch  # noqa: E402

from demix_core.checkpoint import load_checkpoint, model_from_checkpoint  # noqa: E402
from demix_core.cli import add_train_args  # noqa: E402
from demix_core.compile import notices, set_compile  # noqa: E402
from demix_core.config import config_from_args  # noqa: E402
from demix_core.data import load_dataset  # noqa: E402
from demix_core.evaluation import FilterIndex, evaluate  # noqa: E402
from demix_core.models import KGEModel  # noqa: E402
from demix_core.training import pick_device  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_train_args(p)
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--split", default="test", choices=["test", "valid"])
    p.add_argument("--batch", type=int, default=256, help="queries scored at once")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    config = config_from_args(args)
    kg = load_dataset(config.dataset)
    device = pick_device(config.device)
    if args.checkpoint:
        model = model_from_checkpoint(load_checkpoint(args.checkpoint))
    else:
        torch.manual_seed(config.seed)
        model = KGEModel(config.model, kg.num_entities, kg.num_relations, config.dim, config.gamma)
    model = model.to(device)
    set_compile(config.compile != "off")
    t0 = time.perf_counter()
    filt = FilterIndex(kg, device)
    evaluate(model, kg, args.split, batch_size=args.batch, filt=filt, limit=args.batch)  # warm-up
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    metrics = evaluate(model, kg, args.split, batch_size=args.batch, filt=filt)
    seconds = time.perf_counter() - t0
    result = {
        "dataset": kg.name,
        "model": model.name,
        "device": str(device),
        "queries": metrics["queries"],
        "seconds": seconds,
        "ms_per_query": 1000 * seconds / max(1, metrics["queries"]),
        "warmup_seconds": warm,
        "mrr": metrics["mrr"],
        "compiled": config.compile != "off" and not notices,
        "notices": list(notices),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(
        json.dumps(result) if args.json else "\n".join(f"{k:>16}: {v}" for k, v in result.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
