"""Bench of the classroom targets on a fresh store (the shipped examples only), server side:

    .venv/bin/python bench/app_lesson.py [--repeat 3]

Prints, through AppTest (the script runs a browser would trigger, without the browser's own
drawing), in this one process:
1. the first open of every lens page and of the lesson (target: data within 3 s);
2. the same view restored from its URL in a new session (target: under 1 s);
3. each lesson step change, Next then Previous (target: under 1 s).
The browser figures (with chromium's drawing, on whatever else the machine runs) are printed
by `pytest tests/e2e/test_lesson_browser.py -s`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("pages/lesson.py", "pages/mpne.py", "pages/adamix.py", "pages/samplers.py")


def session(page: str, params: dict | None = None):
    """A new AppTest session opened on `page` (with `params` as its URL query); returns it and
    the seconds the page's run took."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.query_params.update(params or {})
    t0 = time.perf_counter()
    at.switch_page(page).run()
    if at.exception:
        sys.exit(f"{page}: {at.exception}")
    return at, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="restores timed per page")
    args = parser.parse_args()
    os.environ["DEMIX_HOME"] = tempfile.mkdtemp(prefix="bench_lesson_")
    os.environ["DEMIX_NO_WORKERS"] = "1"
    sys.path.insert(0, str(ROOT))
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
    for page in PAGES:
        at, first = session(page)
        params = dict(at.query_params)
        restores = [session(page, params)[1] for _ in range(args.repeat)]
        print(
            f"{page:<20} first open {first:.2f} s; restored from its URL "
            f"{statistics.median(restores):.2f} s (median of {args.repeat})"
        )
    at, _ = session("pages/lesson.py")
    moves = []
    for label in ["Next"] * 6 + ["Previous"] * 6:
        t0 = time.perf_counter()
        next(b for b in at.button if b.label == label).click().run()
        moves.append(time.perf_counter() - t0)
    print(
        f"lesson step changes: median {statistics.median(moves):.2f} s, slowest "
        f"{max(moves):.2f} s ({', '.join(f'{m:.2f}' for m in moves)})"
    )


if __name__ == "__main__":
    main()
