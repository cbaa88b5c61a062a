"""Training throughput of DeMix Lab against PyKEEN 1.11 on the same config, side by side.

    python bench/pykeen_compare.py --batches 20

Config: FB15k-237, RotatE dim 200 (400 real numbers per entity), batch 512, 128 uniform
negatives per positive, self-adversarial loss (temperature 1, margin 9), Adam, CPU.
PyKEEN lives in its own virtual environment, outside the repository so none of its code sits
in the project tree (`$XDG_CACHE_HOME/demix-lab/bench-venv-pykeen`, `~/.cache` by default),
created on first use with `torch==2.13.0 pykeen==1.11.1`; it is never a dependency of the
project. PyKEEN trains
`--batches` batches of a training subset (same entities and relations) after one warm-up
epoch, twice: as installed, and with the glibc malloc setting that demix_core applies to
itself (no mmap for large blocks, no heap trimming); the speedup is taken against the faster
of the two. Ours runs `bench/throughput.py`. The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demix_core import _malloc  # noqa: E402
from demix_core.runs import user_cache_dir  # noqa: E402

VENV = user_cache_dir() / "bench-venv-pykeen"

PYKEEN_SCRIPT = textwrap.dedent("""
    import json, sys, time, gzip
    import numpy as np, torch
    from pykeen.triples import TriplesFactory
    from pykeen.models import RotatE
    from pykeen.losses import NSSALoss
    from pykeen.training import SLCWATrainingLoop
    root, batches = sys.argv[1], int(sys.argv[2])
    rows = [l.rstrip("\\n").split("\\t") for s in ("train", "valid", "test")
            for l in gzip.open(f"{root}/{s}.txt.gz", "rt")]
    full = TriplesFactory.from_labeled_triples(np.array(rows, dtype=str))
    train = [l.rstrip("\\n").split("\\t") for l in gzip.open(f"{root}/train.txt.gz", "rt")]
    sub = TriplesFactory.from_labeled_triples(np.array(train[: 512 * batches], dtype=str),
        entity_to_id=full.entity_to_id, relation_to_id=full.relation_to_id)
    torch.manual_seed(0)
    model = RotatE(triples_factory=sub, embedding_dim=200,
                   loss=NSSALoss(margin=9.0, adversarial_temperature=1.0))
    loop = SLCWATrainingLoop(model=model, triples_factory=sub,
        optimizer=torch.optim.Adam(model.parameters(), lr=1e-3),
        negative_sampler="basic", negative_sampler_kwargs={"num_negs_per_pos": 128})
    t0 = time.perf_counter(); loop.train(triples_factory=sub, num_epochs=1, batch_size=512, use_tqdm=False)
    warm = time.perf_counter() - t0
    t0 = time.perf_counter(); loop.train(triples_factory=sub, num_epochs=2, batch_size=512, use_tqdm=False,
        continue_training=True)
    sec = time.perf_counter() - t0
    print(json.dumps({"pos_triples_per_second": sub.num_triples / sec, "seconds": sec,
                      "warmup_seconds": warm, "entities": full.num_entities, "threads": torch.get_num_threads()}))
""")


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "torch==2.13.0", "pykeen==1.11.1"],
            check=True,
        )
    return python


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--steps", type=int, default=30, help="timed steps of ours")
    args = p.parse_args()
    py = ensure_venv()
    script = VENV / "pykeen_throughput.py"
    script.write_text(PYKEEN_SCRIPT)
    # PyKEEN as installed, and PyKEEN with the glibc setting our training processes take
    # (demix_core/_malloc.py), so that setting is not what the ratio measures.
    runs = {}
    for label, env in (("default", {}), ("same_malloc", _malloc.ENV)):
        proc = subprocess.run(
            [str(py), str(script), str(ROOT / "assets/datasets/fb15k-237"), str(args.batches)],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
        )
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-3000:])
            return 1
        runs[label] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"pykeen ({label} malloc):", json.dumps(runs[label]), flush=True)
    pykeen = max(runs.values(), key=lambda r: r["pos_triples_per_second"])
    ours_cmd = [
        sys.executable,
        str(ROOT / "bench/throughput.py"),
        "--dataset",
        "fb15k-237",
        "--model",
        "rotate",
        "--dim",
        "200",
        "--batch-size",
        "512",
        "--negatives",
        "128",
        "--adv-temperature",
        "1",
        "--gamma",
        "9",
        "--lr",
        "1e-3",
        "--steps",
        str(args.steps),
        "--json",
    ]
    ours = json.loads(
        subprocess.run(ours_cmd, capture_output=True, text=True, check=True).stdout.splitlines()[-1]
    )
    print("demix_lab:", json.dumps(ours), flush=True)
    ratio = ours["pos_triples_per_second"] / pykeen["pos_triples_per_second"]
    print(
        json.dumps(
            {
                "pykeen_pos_triples_per_second": pykeen["pos_triples_per_second"],
                "pykeen_default_malloc_pos_triples_per_second": runs["default"][
                    "pos_triples_per_second"
                ],
                "ours_pos_triples_per_second": ours["pos_triples_per_second"],
                "speedup": ratio,
                "ours_peak_rss_mb": ours["peak_rss_mb"],
                "ours_compiled": ours["compiled"],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
