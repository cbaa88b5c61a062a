"""The MPNE page in a real browser: moving the mu slider with the keyboard changes the MPN
count, in the direction the threshold formula says. Prints how long the change took."""

from __future__ import annotations

import time

import pytest
from conftest import READY
from lens_support import lens_config

from demix_core.runs import RunStore
from demix_core.runs.worker import run_one

pytestmark = pytest.mark.e2e


def mpn_count(page) -> int:
    card = page.locator('[data-testid="stMetric"]').filter(has_text="MPN").first
    return int(card.locator('[data-testid="stMetricValue"]').inner_text())


def test_mu_slider_changes_the_mpn_count(browser, app_server):
    store = RunStore(app_server["home"])
    run_id = store.submit(lens_config(), name="lens e2e", start=False)
    assert run_one(store.home, run_id) == "done"

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    t0 = time.perf_counter()
    page.goto(f"{app_server['url']}/mpne")
    page.wait_for_selector(READY, timeout=90_000)
    page.get_by_role("heading", name="MPNE: spotting false negatives").wait_for()
    page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    first_render = time.perf_counter() - t0
    before = mpn_count(page)

    slider = page.locator('[data-testid="stSlider"]').filter(has_text="mu").get_by_role("slider")
    slider.focus()
    t0 = time.perf_counter()
    for _ in range(20):  # mu 1.0 -> 3.0: a lower threshold
        slider.press("ArrowRight")
    deadline = time.monotonic() + 30
    while mpn_count(page) == before and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    page.wait_for_selector(READY, timeout=30_000)
    after = mpn_count(page)
    moved = time.perf_counter() - t0
    assert slider.get_attribute("aria-valuetext") == "3.00"
    assert after > before, "a larger mu lowers every threshold: more MPN"
    print(
        f"\nMPNE first render {first_render:.2f} s; mu 1 -> 3 re-rendered in {moved:.2f} s "
        f"(MPN {before} -> {after})"
    )
