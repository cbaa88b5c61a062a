"""The browser's floor for a Streamlit page on this machine: the first open of a page that
only writes a heading, in a fresh browser context (the frontend's scripts loaded afresh), next
to the app's Lesson and MPNE pages opened the same way, in one run.

    .venv/bin/python bench/browser_floor.py [--repeat 3]

What the app can win is the difference between its pages and the floor; the floor itself is
Streamlit's frontend starting in headless chromium. Uses Debian's chromium through the
`playwright` package (never `playwright install`); both servers are stopped by pid.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # procs, for the e2e conftest
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from conftest import READY, free_port, launch_browser, start_server, stop_server  # noqa: E402

FLOOR = "import streamlit as st\nst.title('Floor')\n"


def first_open(browser, url: str, heading: str) -> float:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url)
    page.get_by_role("heading", name=heading).first.wait_for(timeout=90_000)
    page.wait_for_selector(READY, timeout=90_000)
    seconds = time.perf_counter() - t0
    context.close()
    return seconds


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "home").mkdir()
        (tmp / "floor.py").write_text(FLOOR)
        floor_port, app_port = free_port(), free_port()
        servers = [
            start_server(tmp / "home", floor_port, script=tmp / "floor.py"),
            start_server(tmp / "home", app_port),
        ]
        try:
            with sync_playwright() as pw:
                browser = launch_browser(pw)
                pages = {
                    "floor (a heading only)": (f"http://127.0.0.1:{floor_port}/", "Floor"),
                    "lesson": (f"http://127.0.0.1:{app_port}/lesson", "1."),
                    "mpne": (f"http://127.0.0.1:{app_port}/mpne", "MPNE"),
                }
                times = {name: [] for name in pages}
                for _ in range(args.repeat):  # alternating, so load hits each page alike
                    for name, (url, heading) in pages.items():
                        times[name].append(first_open(browser, url, heading))
                browser.close()
        finally:
            for proc in servers:
                stop_server(proc)
    floor = statistics.median(times["floor (a heading only)"])
    for name, values in times.items():
        med = statistics.median(values)
        print(
            f"{name:<24} first open, fresh context: median {med:.2f} s "
            f"({', '.join(f'{v:.2f}' for v in values)}); {med - floor:+.2f} s over the floor"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
