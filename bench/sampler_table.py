"""Test MRR of RotatE trained with each sampler at equal budgets; writes docs/samplers.md.

    python bench/sampler_table.py --datasets nations,umls,kinships --seed 0 --jobs 3

Every (dataset, sampler) pair trains with the dataset's recommended RotatE hyper-parameters
(`demix_core.config.DEFAULTS`: same dim, batch, K, learning rate and steps for every sampler,
no validation stops) and is scored on test (filtered MRR, Hits@10). The markdown table goes
between the `sampler-table` markers of `--out`, with the command that made it. The last
stdout line is one JSON object with every result.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demix_core.process import prepare_training_process  # noqa: E402

prepare_training_process()  # this process trains: before torch is imported

BEGIN, END = "<!-- sampler-table -->", "<!-- /sampler-table -->"


def run_one(dataset: str, sampler: str, steps: int | None, seed: int, device: str) -> dict:
    import warnings

    from demix_core.config import make_config
    from demix_core.errors import DemixError
    from demix_core.training import train

    warnings.simplefilter("ignore", UserWarning)  # NSCaching's clamp notice on tiny graphs
    config = make_config(
        dataset, "rotate", sampler, steps=steps, seed=seed, device=device, eval_every=0
    )
    t0 = time.perf_counter()
    note = ""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            result = train(config, tmp)
        except DemixError as exc:  # a diverged run is a result too: NaN in the table
            result, note = {"mrr": math.nan, "hits@10": math.nan}, str(exc)
    return {
        "dataset": dataset,
        "sampler": sampler,
        "steps": config.steps,
        "mrr": result["mrr"],
        "hits@10": result["hits@10"],
        "seconds": time.perf_counter() - t0,
        "note": note,
    }


def table(results: list[dict], datasets: list[str], samplers: list[str]) -> str:
    cell = {(r["dataset"], r["sampler"]): r for r in results}
    best = {
        d: max((cell[d, s]["mrr"] for s in samplers), key=lambda x: -1.0 if math.isnan(x) else x)
        for d in datasets
    }
    head = "| sampler | " + " | ".join(f"{d} MRR (H@10)" for d in datasets) + " |"
    lines = [head, "|---" * (len(datasets) + 1) + "|"]
    for s in samplers:
        cells = []
        for d in datasets:
            r = cell[d, s]
            text = (
                f"{r['mrr']:.3f} ({r['hits@10']:.3f})" if not math.isnan(r["mrr"]) else "diverged"
            )
            cells.append(f"**{text}**" if r["mrr"] == best[d] else text)
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_doc(path: Path, body: str) -> None:
    text = path.read_text() if path.exists() else f"{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text += f"\n{BEGIN}\n{END}\n"
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    path.write_text(f"{before}{BEGIN}\n{body}\n{END}{after}")


def main(argv: list[str] | None = None) -> int:
    from demix_core.sampling import SAMPLERS

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default="nations,umls,kinships")
    p.add_argument("--samplers", default=",".join(SAMPLERS))
    p.add_argument("--steps", type=int, default=None, help="default: the recommended steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--jobs", type=int, default=1, help="runs in parallel processes")
    p.add_argument("--out", default=str(ROOT / "docs" / "samplers.md"))
    args = p.parse_args(argv)
    datasets, samplers = args.datasets.split(","), args.samplers.split(",")
    jobs = [(d, s, args.steps, args.seed, args.device) for d in datasets for s in samplers]
    with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(run_one, *job) for job in jobs]
        for f in as_completed(futures):
            r = f.result()
            print(f"{r['dataset']:>9} {r['sampler']:>10} mrr {r['mrr']:.4f} {r['seconds']:.0f}s")
        results = [f.result() for f in futures]
    import torch

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    steps = {d: next(r["steps"] for r in results if r["dataset"] == d) for d in datasets}
    command = "python bench/sampler_table.py " + shlex.join(argv or sys.argv[1:])
    body = (
        f"Made by `{command}` on {device} (seed {args.seed}; steps per dataset: "
        + ", ".join(f"{d} {n}" for d, n in steps.items())
        + "). Test filtered MRR and Hits@10; the best per dataset in bold.\n\n"
        + table(results, datasets, samplers)
    )
    write_doc(Path(args.out), body)
    print(json.dumps({"device": device, "results": results}).replace("NaN", "null"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
