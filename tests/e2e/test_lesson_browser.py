"""The Lesson and shareable views in a real browser, on a fresh store (the shipped examples
only): walk the lesson forward and back, open a copied MPNE link in a second browser context
and find the same view, and open a link with bad values. Prints how long each render took
(the targets, set against Streamlit's own floor: docs/performance.md, "The browser")."""

from __future__ import annotations

import time

import pytest
from conftest import READY

from demix_core.lesson import STEPS

pytestmark = pytest.mark.e2e


def wait_heading(page, name: str, timeout: float = 60_000) -> None:
    page.get_by_role("heading", name=name).wait_for(timeout=timeout)
    page.wait_for_selector(READY, timeout=timeout)


def metric(page, label: str) -> int:
    card = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return int(card.locator('[data-testid="stMetricValue"]').inner_text().replace(",", ""))


def test_walk_the_lesson_forward_and_back(browser, app_server):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    t0 = time.perf_counter()
    page.goto(f"{app_server['url']}/lesson")
    page.get_by_role("heading", name=f"1. {STEPS[0]}").wait_for(timeout=90_000)
    page.locator('[data-testid="stAlertContentInfo"]').first.wait_for()
    first = time.perf_counter() - t0  # the takeaway and its table are shown
    page.wait_for_selector(READY, timeout=90_000)  # then the next steps' data is prepared
    times = []
    for i in range(2, len(STEPS) + 1):
        t0 = time.perf_counter()
        page.get_by_role("button", name="Next").click()
        wait_heading(page, f"{i}. {STEPS[i - 1]}")
        times.append(time.perf_counter() - t0)
        assert page.url.endswith(f"step={i}") or f"step={i}&" in page.url
    for i in range(len(STEPS) - 1, 0, -1):
        t0 = time.perf_counter()
        page.get_by_role("button", name="Previous").click()
        wait_heading(page, f"{i}. {STEPS[i - 1]}")
        times.append(time.perf_counter() - t0)
    print(
        f"\nLesson first open {first:.2f} s; step changes: median "
        f"{sorted(times)[len(times) // 2]:.2f} s, slowest {max(times):.2f} s "
        f"({', '.join(f'{t:.2f}' for t in times)})"
    )


def test_a_copied_link_opens_the_same_view_in_another_browser(browser, app_server):
    one = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = one.new_page()
    t0 = time.perf_counter()
    page.goto(f"{app_server['url']}/mpne")
    wait_heading(page, "MPNE: spotting false negatives", 90_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    first = time.perf_counter() - t0
    slider = page.locator('[data-testid="stSlider"]').filter(has_text="mu").get_by_role("slider")
    before = metric(page, "MPN")
    slider.focus()
    for _ in range(15):  # mu 1.0 -> 2.5
        slider.press("ArrowRight")
    deadline = time.monotonic() + 30
    while "mu=2.5" not in page.url and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    page.wait_for_selector(READY)
    counts = (metric(page, "MPN"), metric(page, "TN"), metric(page, "Known false negatives"))
    assert counts[0] >= before
    page.get_by_role("button", name="Copy link").click()
    link = page.locator('[data-testid="stCode"] code').first.inner_text().strip()
    assert "mu=2.5" in link and "run=example-" in link, link

    two = browser.new_context(viewport={"width": 1400, "height": 1000})
    other = two.new_page()
    restored = open_timed(other, link)
    reloaded = open_timed(other, link)  # again: the app's scripts now in this browser's cache
    other_slider = (
        other.locator('[data-testid="stSlider"]').filter(has_text="mu").get_by_role("slider")
    )
    assert other_slider.get_attribute("aria-valuetext") == "2.50"
    got = (metric(other, "MPN"), metric(other, "TN"), metric(other, "Known false negatives"))
    assert got == counts
    one.close()
    two.close()
    print(
        f"\nMPNE first open on a fresh store {first:.2f} s; the copied link in a new browser "
        f"context (the app's scripts loaded afresh): counts {restored[0]:.2f} s, chart "
        f"{restored[1]:.2f} s; followed again in that browser: counts {reloaded[0]:.2f} s, "
        f"chart {reloaded[1]:.2f} s; MPN/TN/FN {got} in both browsers"
    )


def open_timed(page, url: str) -> tuple[float, float]:
    """Seconds from asking for MPNE's `url` to its counts being shown and to its first chart
    being drawn."""
    t0 = time.perf_counter()
    page.goto(url)
    page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=90_000)
    counts = time.perf_counter() - t0
    page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    chart = time.perf_counter() - t0
    page.wait_for_selector(READY, timeout=90_000)
    return counts, chart


def test_a_link_with_bad_values_shows_a_notice_and_the_defaults(browser, app_server):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{app_server['url']}/mpne?mu=-3&run=gone-run&k=abc")
    wait_heading(page, "MPNE: spotting false negatives", 90_000)
    page.get_by_text("This link:").first.wait_for()
    text = page.locator('[data-testid="stAlertContentWarning"]').all_inner_texts()
    joined = " ".join(text)
    assert "mu=-3" in joined and "gone-run" in joined and "k=abc" in joined
    slider = page.locator('[data-testid="stSlider"]').filter(has_text="mu").get_by_role("slider")
    assert slider.get_attribute("aria-valuetext") == "1.00"
    page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
