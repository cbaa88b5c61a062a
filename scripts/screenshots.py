"""Regenerate docs/screenshots/*.png: one full-page picture of every page of the app.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--home DIR]

Fills a fresh run store (or DIR) with a small finished mu x alpha sweep on Nations and the
two Quick-demo runs on UMLS (trained here, in this process), starts `streamlit run app.py`
on a free port, drives Debian's chromium with the same setup as the browser test, clicks
Quick demo so that the Runs page shows live progress, and saves each page. Everything it
started (server, queue server, workers) is killed by pid and reaped before it exits.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "e2e"), str(ROOT / "tests")]  # e2e needs procs

from conftest import (  # noqa: E402
    PR_SET_CHILD_SUBREAPER,
    READY,
    free_port,
    kill_home,
    launch_browser,
    start_server,
    stop_server,
)

VIEWPORT = {"width": 1400, "height": 1000}


def fill(home: Path) -> None:
    """A finished 2 x 2 sweep, then the two demo runs (newest, so Compare shows them)."""
    from demix_core.config import make_config
    from demix_core.runs import RunStore
    from demix_core.runs.worker import run_one
    from pages.common import DEMO

    store = RunStore(home)
    if store.records():
        return
    small = dict(dim=50, batch_size=256, negatives=16, steps=300, eval_every=100, log_every=10)
    demix = make_config("nations", "rotate", "demix", sampler_options={}, **small)
    group = store.sweep(demix, {"mu": [0.5, 3.0], "alpha": [0.25, 0.75]}, start=False)
    ids = [r["id"] for r in store.records(group)]
    plain = make_config("umls", "rotate", "uniform", **DEMO)
    ids.append(store.submit(plain, name="RotatE + uniform (self-adv.) on UMLS", start=False))
    mixed = make_config(
        "umls", "rotate", "demix", sampler_options={"base_sampler": "uniform"}, **DEMO
    )
    ids.append(store.submit(mixed, name="RotatE + DeMix over uniform on UMLS", start=False))
    for run_id in ids:
        print(f"training {run_id} ...", flush=True)
        run_one(store.home, run_id)


def shoot(page, out: Path, name: str) -> None:
    """Save the whole page: Streamlit scrolls inside its main container, not the document,
    so the window is made as tall as that container's content first."""
    page.wait_for_selector(READY, timeout=120_000)
    page.wait_for_timeout(1500)  # let plotly finish drawing
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({**VIEWPORT, "height": min(max(height, VIEWPORT["height"]), 8000)})
    page.wait_for_timeout(1500)  # charts re-lay out to the new size
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(VIEWPORT)
    print(f"wrote {path}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--home", type=Path, help="run store to show (default: a fresh one)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    home = args.home or Path(tempfile.mkdtemp(prefix="demix-shots-")) / "demix_home"
    os.environ.setdefault("DEMIX_NO_COMPILE", "1")
    fill(home)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    port = free_port()
    server = start_server(home, port)
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = launch_browser(p)
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"http://127.0.0.1:{port}")
            shoot(page, args.out, "home")
            page.get_by_role("button", name="Quick demo").click()
            page.wait_for_url("**/runs")
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:  # until the live run has a few curve points
                bars = page.locator('[data-testid="stProgress"] [role="progressbar"]')
                values = bars.evaluate_all("e => e.map(x => +x.getAttribute('aria-valuenow'))")
                if values and max(values) >= 25:
                    break
                page.wait_for_timeout(1000)
            shoot(page, args.out, "runs")
            nav = page.locator('[data-testid="stSidebarNav"] a')
            hrefs = nav.evaluate_all("links => links.map(a => a.getAttribute('href'))")
            for href in hrefs:
                path = urlparse(href).path.strip("/")
                if path in ("", "runs"):
                    continue  # Home and Runs are done
                page.locator(f'[data-testid="stSidebarNav"] a[href="{href}"]').click()
                page.wait_for_url(f"**/{path}")
                page.wait_for_timeout(500)
                shoot(page, args.out, path)
            browser.close()
    finally:
        stop_server(server)
        killed = kill_home(home)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
        print(f"stopped the server and {len(killed)} queue/worker process(es); store: {home}")


if __name__ == "__main__":
    main()
