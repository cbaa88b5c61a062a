"""Regenerate the example runs shipped in `assets/examples/` (seeded, CPU, a few minutes).

Each example is RotatE trained with uniform self-adversarial negatives, or with DeMix over
uniform (mu 1, alpha 0.5), on Nations, UMLS, Kinships or a 500-person synthetic KG. A run
keeps three checkpoints (a third of the way, two thirds, the end) so the lens pages' step
slider shows the model learning. The folder of each is a read-only run folder:

    assets/examples/<id>/example.json           name and the final test metrics
                         config.json            the TrainConfig it was trained with
                         metrics.jsonl          its training log (train, valid, test records)
                         checkpoints/step_XXXXXXX.pt

Checkpoints keep the documented format (`torch.load(path, weights_only=True)`), with the
entity table stored as float16 to keep the folder small (`KGEModel.from_export` copies it
into a float32 model); relation tables stay float32, RotatE's phases being sensitive.

    .venv/bin/python scripts/make_examples.py            # all, into assets/examples/
    .venv/bin/python scripts/make_examples.py --only nations
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demix_core.process import prepare_training_process  # noqa: E402

prepare_training_process()  # this process trains: before torch is imported

from demix_core.examples import DATASETS, EXAMPLES_DIR, SAMPLERS, example_id  # noqa: E402

DIM = 64  # small: the whole shelf stays under 8 MB, and the lens and UMAP stay quick
SHARED = dict(dim=DIM, batch_size=512, negatives=64, compile="off", seed=0, log_every=25)


def build(dataset: str, label: str, steps: int, sampler: str, out: Path) -> dict:
    """Train one example in a scratch folder and copy what the app reads into `out`."""
    import torch

    from demix_core.config import make_config
    from demix_core.runs.files import write_json_atomic
    from demix_core.training import train

    options = {"base_sampler": "uniform", "mu": 1.0, "alpha": 0.5} if sampler == "demix" else {}
    config = make_config(
        dataset,
        "rotate",
        sampler,
        sampler_options=options,
        steps=steps,
        eval_every=steps // 3,
        **SHARED,
    )
    with tempfile.TemporaryDirectory() as scratch:
        t0 = time.perf_counter()
        final = train(config, scratch)
        seconds = time.perf_counter() - t0
        shutil.rmtree(out, ignore_errors=True)
        (out / "checkpoints").mkdir(parents=True)
        for path in sorted(Path(scratch, "checkpoints").glob("step_*.pt")):
            data = torch.load(path, weights_only=True)
            data["entity_embedding"] = data["entity_embedding"].half()
            torch.save(data, out / "checkpoints" / path.name)
        shutil.copy(Path(scratch, "config.json"), out / "config.json")
        shutil.copy(Path(scratch, "metrics.jsonl"), out / "metrics.jsonl")
    name = f"Example: RotatE + {SAMPLERS[sampler]} on {label}"
    test = {k: final[k] for k in ("mrr", "mr", "hits@1", "hits@3", "hits@10")}
    write_json_atomic(out / "example.json", {"name": name, "final": test, "steps": steps})
    return {"id": out.name, "seconds": round(seconds, 1), **test}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=EXAMPLES_DIR)
    parser.add_argument("--only", help="one dataset key (nations, umls, kinships, synthetic)")
    args = parser.parse_args()
    for key, (dataset, label, steps) in DATASETS.items():
        if args.only and key != args.only:
            continue
        for sampler in SAMPLERS:
            row = build(dataset, label, steps, sampler, args.out / example_id(key, sampler))
            print(json.dumps(row), flush=True)
    total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"{args.out}: {total / 2**20:.2f} MiB in all")


if __name__ == "__main__":
    main()
