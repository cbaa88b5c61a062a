"""The browser's floor for a Streamlit page on this machine: the first open of a page that
only writes a heading (and of one that also draws a metric, a small Plotly chart and a small
table), in a fresh browser context (the frontend's scripts loaded afresh), next to the app's
Lesson and lens pages opened the same way, in one run.

    .venv/bin/python bench/browser_floor.py [--repeat 3] [--cold 3] [--settle 0]
        [--pages samplers ...]

1. warm server: each page's first open in a new context (`--repeat` times, alternating): the
   Lesson and the three lens pages (MPNE, AdaMix, Samplers), a view restored from its URL
   (MPNE at mu 2.5, Lesson step 4) and the Lesson's other steps with a chart (2, 3, 5);
   the floors and those restored views again as a link followed in a new tab of a browser
   that has the app open (Streamlit's scripts in its cache: what a student sees);
   then step changes within one browser: the Lesson's Next / Previous through its steps
   against a floor page whose button moves its heading on;
2. cold server (`--cold` rounds, 0 skips): the first page a freshly started server draws,
   Lesson and MPNE, served the way `make app` serves them (`scripts/serve.py`, which warms
   the imports in the background) and by a plain `streamlit run app.py`, alternating, next
   to the floor pages each on a freshly started server; `--settle` waits that many seconds
   after the server answers before the browser asks (0: a browser opened with the server).

Each page is timed to its data being shown (the Lesson's takeaway, MPNE's counts), to its
first chart being drawn and to the end of the script run that showed the data (the Lesson
then fills the caches of the next steps), and set against the floor that draws the same
kinds of element: what the app can win is the difference; the floor itself is Streamlit's
frontend (and plotly.js) starting in headless chromium. For a freshly started server, "up"
is the time from starting it to its health check answering. Uses Debian's chromium through
the `playwright` package (never `playwright install`); every server is stopped by pid.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # procs, for the e2e conftest
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from conftest import READY, free_port, launch_browser, start_server, stop_server  # noqa: E402

FLOOR_SCRIPT = """import streamlit as st
st.title("Floor")
if st.query_params.get("elements"):  # the kinds MPNE draws, with almost no data
    import plotly.graph_objects as go
    st.metric("MPN", 1)
    st.plotly_chart(go.Figure(go.Scatter(x=[0, 1], y=[0, 1])))
    st.dataframe({"a": [1, 2], "b": ["x", "y"]})
if st.query_params.get("steps"):  # a step change: a button that moves a heading on
    n = st.session_state.setdefault("n", 1)
    st.header(f"{n}. Step")
    st.button("Next", on_click=lambda: st.session_state.update(n=n + 1))
"""
TAKEAWAY, METRIC = '[data-testid="stAlertContentInfo"]', '[data-testid="stMetricValue"]'
CHART = ".js-plotly-plot"
HEADING, ELEMENTS = "floor: a heading", "floor: + metric, chart, table"
# name -> (path and query, a heading it shows, the element that shows its data, a chart?)
FLOORS = {HEADING: ("/", "Floor", None, False), ELEMENTS: ("/?elements=1", "Floor", METRIC, True)}
PAGES = {"lesson": ("/lesson", "1.", TAKEAWAY, False), "mpne": ("/mpne", "MPNE", METRIC, True)}
LENSES = {  # the other lens pages, on the warm server only
    "adamix": ("/adamix", "AdaMix", METRIC, True),
    "samplers": ("/samplers", "Samplers", METRIC, True),
}
RESTORED = {
    "mpne restored (mu 2.5)": ("/mpne?mu=2.5", "MPNE", METRIC, True),
    "lesson restored (step 4)": ("/lesson?step=4", "4.", TAKEAWAY, True),
    **{f"lesson step {i}": (f"/lesson?step={i}", f"{i}.", TAKEAWAY, True) for i in (2, 3, 5)},
}
OPEN = ", app open"  # the same view followed as a link in a browser with the app open
STEP_FLOOR = "floor: a step change"
STEPS = 7  # the Lesson's, walked forward and back
WAYS = {"serve.py": None, "streamlit run": "app.py"}  # -> start_server's script
MARKS = ("data", "chart", "over")
VIEWPORT = {"width": 1400, "height": 1000}


def first_open(
    browser, url: str, heading: str, data: str | None, chart: bool, context=None
) -> tuple:
    """Seconds from asking for `url` in a new browser context (or in a new tab of `context`,
    a browser that has the app open already) to its data being shown (the heading and the
    `data` element), to its first chart being drawn (nan without one) and to the end of the
    script run that showed the data, each noted when first seen (polled every 20 ms once the
    heading is there)."""
    own = context is None
    if own:
        context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url)
    page.get_by_role("heading", name=heading).first.wait_for(timeout=90_000)
    seen = dict.fromkeys(MARKS, float("nan"))
    seen["data"] = time.perf_counter() - t0  # the heading, when that is all a page shows
    # in this order: a page may pause between two runs (a rerun) before its data is there
    pending = {"data": data, "over": READY}
    pending = {mark: selector for mark, selector in pending.items() if selector}
    charts = CHART if chart else None
    deadline = time.monotonic() + 90
    while pending or charts:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url}: {[*pending.values(), charts]} not seen in 90 s")
        now = time.perf_counter() - t0
        if charts and page.locator(charts).count():
            seen["chart"], charts = now, None
        if pending:
            mark, selector = next(iter(pending.items()))
            if page.locator(selector).count():
                seen[mark] = now
                del pending[mark]
        page.wait_for_timeout(20)
    if own:
        context.close()
    else:
        page.close()
    return tuple(seen[mark] for mark in MARKS)


def open_browser(browser, url: str, heading: str, data: str | None, chart: bool) -> tuple:
    """`first_open` of `url` in a new tab of a browser where the same server's page was
    opened once before (a student with the app open who follows a link): Streamlit's
    scripts come from the browser's cache, and the app runs a new session for the link."""
    parts = urlsplit(url)
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(f"{parts.scheme}://{parts.netloc}/")  # the server's first page
    page.wait_for_selector(READY, timeout=90_000)
    page.close()
    try:
        return first_open(browser, url, heading, data, chart, context)
    finally:
        context.close()


Times = dict[str, list[tuple]]  # view -> one (data, chart, over) per open


def step_changes(browser, url: str, moves: list[tuple[str, int]]) -> list[tuple]:
    """In one browser context opened on `url`: for each (button, step) of `moves`, seconds
    from the click to the heading "step." being shown and to the run being over."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(url)
    page.get_by_role("heading", name="1.").first.wait_for(timeout=90_000)
    page.wait_for_selector(READY, timeout=90_000)
    times = []
    for button, step in moves:
        t0 = time.perf_counter()
        page.get_by_role("button", name=button).click()
        page.get_by_role("heading", name=f"{step}.").first.wait_for(timeout=90_000)
        shown = time.perf_counter() - t0
        page.wait_for_selector(READY, timeout=90_000)
        times.append((shown, float("nan"), time.perf_counter() - t0))
    context.close()
    return times


def steps_times(browser, floor_url: str, app_url: str, repeat: int) -> Times:
    """Step changes within one browser: the floor's (Next, six times) and the Lesson's (Next
    through its steps, then Previous back), `repeat` rounds alternating."""
    forward = [("Next", i) for i in range(2, STEPS + 1)]
    back = [("Previous", i) for i in range(STEPS - 1, 0, -1)]
    times: Times = {STEP_FLOOR: [], "lesson step change": []}
    for _ in range(repeat):
        times[STEP_FLOOR] += step_changes(browser, f"{floor_url}/?steps=1", forward)
        times["lesson step change"] += step_changes(browser, f"{app_url}/lesson", forward + back)
    return times


def warm_server(
    browser, tmp: Path, repeat: int, only: list[str] | None = None
) -> tuple[Times, Times]:
    """First opens and restored views in new contexts on two running servers, then step
    changes within one browser; `only` names the views to time besides the floors (the step
    changes only without it)."""
    floor_port, app_port = free_port(), free_port()
    servers = [
        start_server(tmp / "home", floor_port, script=tmp / "floor.py"),
        start_server(tmp / "home", app_port),
    ]
    try:
        shown = PAGES | LENSES | RESTORED
        shown = {n: v for n, v in shown.items() if only is None or n in only}
        port = {**dict.fromkeys(FLOORS, floor_port), **dict.fromkeys(shown, app_port)}
        views = {
            name: (f"http://127.0.0.1:{port[name]}{path}", *rest)
            for name, (path, *rest) in (FLOORS | shown).items()
        }
        # a restored view drawn once, as its sender's was; with `only`, every view once, as
        # the pages timed before it would have filled the caches (`lens_data.prefill`)
        for name in shown if only else RESTORED:
            first_open(browser, *views[name])
        # the floors and the restored views again in a browser that has the app open
        again = [n for n in views if n in FLOORS or n in RESTORED]
        times: Times = {name: [] for name in views} | {f"{n}{OPEN}": [] for n in again}
        for _ in range(repeat):  # alternating, so load hits each page alike
            for name, view in views.items():
                times[name].append(first_open(browser, *view))
            for name in again:
                times[f"{name}{OPEN}"].append(open_browser(browser, *views[name]))
        urls = (f"http://127.0.0.1:{floor_port}", f"http://127.0.0.1:{app_port}")
        return times, steps_times(browser, *urls, repeat) if only is None else {}
    finally:
        for proc in servers:
            stop_server(proc)


def cold_open(browser, tmp: Path, script, view: tuple, settle: float) -> tuple:
    """`first_open` of the first page of a server started just now, on a fresh store, and
    the seconds from starting the server to its health check answering."""
    home = Path(tempfile.mkdtemp(dir=tmp, prefix="home-"))
    port = free_port()
    t0 = time.perf_counter()
    proc = start_server(home, port, script=script)
    up = time.perf_counter() - t0
    try:
        time.sleep(settle)
        path, *rest = view
        return (*first_open(browser, f"http://127.0.0.1:{port}{path}", *rest), up)
    finally:
        stop_server(proc)


def cold_server(browser, tmp: Path, rounds: int, settle: float) -> Times:
    """Each round: the floors, then each page by each way (which goes first alternates)."""
    times: Times = {name: [] for name in FLOORS}
    for r in range(rounds):
        for name, view in FLOORS.items():
            times[name].append(cold_open(browser, tmp, tmp / "floor.py", view, settle))
        ways = list(WAYS.items())[:: 1 if r % 2 == 0 else -1]
        for name, view in PAGES.items():
            for way, script in ways:
                seconds = cold_open(browser, tmp, script, view, settle)
                times.setdefault(f"{name}, {way}", []).append(seconds)
    return times


def report(times: Times, floors: tuple[str, str] = (HEADING, ELEMENTS)) -> None:
    """Per view, medians, each with its margin over the floor that draws the same kinds of
    elements (a heading; or a metric, a chart and a table too); then each open's data time."""
    med = {
        name: [statistics.median(t[i] for t in values) for i in range(len(MARKS))]
        for name, values in times.items()
    }
    for name, values in times.items():
        floor = med[floors[1] if values[0][1] == values[0][1] else floors[0]]
        cells = [
            f"{mark} {m:5.2f} s ({m - f:+.2f})" if m == m else f"{mark} {'-':>14}"
            for mark, m, f in zip(MARKS, med[name], floor)
        ]
        if len(values[0]) > len(MARKS):  # a freshly started server: how long it took to be up
            cells.append(f"up {statistics.median(t[-1] for t in values):.2f} s")
        each = ", ".join(f"{t[0]:.2f}" for t in values)
        print(f"{name:<30} {'; '.join(cells)}; data: {each}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeat", type=int, default=3, help="rounds on the warm servers")
    p.add_argument("--cold", type=int, default=3, help="rounds of freshly started servers")
    p.add_argument("--settle", type=float, default=0.0, help="seconds from up to first open")
    views = list(PAGES | LENSES | RESTORED)
    p.add_argument(
        "--pages",
        nargs="+",
        choices=views,
        metavar="VIEW",
        help=f"time only these views on the warm server, and the floors ({', '.join(views)})",
    )
    args = p.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "home").mkdir()
        (tmp / "floor.py").write_text(FLOOR_SCRIPT)
        with sync_playwright() as pw:
            browser = launch_browser(pw)
            warm, steps = warm_server(browser, tmp, args.repeat, args.pages)
            cold = cold_server(browser, tmp, args.cold, args.settle) if args.cold else {}
            browser.close()
    print("Medians, seconds from asking for the page (over its floor): data shown, first")
    print("chart drawn, run over; for a freshly started server, up: from its start to answering")
    print("warm server, first open in a new browser context:")
    report({n: t for n, t in warm.items() if not n.endswith(OPEN)})
    print("warm server, a link followed in a new tab of a browser with the app open:")
    report({n: t for n, t in warm.items() if n.endswith(OPEN)}, (HEADING + OPEN, ELEMENTS + OPEN))
    if steps:
        print("warm server, a step change within one browser (data: its heading shown):")
        report(steps, (STEP_FLOOR, STEP_FLOOR))
    if cold:
        print(f"freshly started server, its first page ({args.settle:g} s after it is up):")
        report(cold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
