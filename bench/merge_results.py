"""Merge one experiment's runs on disjoint seeds into one result (experiments.merge).

bench/gpu_check.sh runs `seeds-large` as one process per seed side by side on one GPU; this
makes them the committed result, with a note saying so:

    python bench/merge_results.py docs/results/seeds-large OUT/gpu_check/seeds-large-s* \\
        --note "Run as one process per seed, side by side on one H200 (bench/gpu_check.sh)."
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    from demix_core.experiments import load, merge, save

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", type=Path, help="folder of the merged result")
    p.add_argument("parts", type=Path, nargs="+", help="folders holding results.json")
    p.add_argument("--note", required=True, help="how the parts were made")
    args = p.parse_args()
    records = []
    for folder in args.parts:
        record = load(folder.name, folder.parent)
        if record is None:
            raise SystemExit(f"{folder}/results.json: missing or unreadable")
        records.append(record)
    merged = merge(records, args.note)
    save(merged, args.out)
    print(f"{args.out}: seeds {merged['seeds']}, {len(merged['data']['runs'])} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
