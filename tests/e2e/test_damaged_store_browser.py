"""Issue 17 in a real browser: the app opened on a damaged run store shows, on Home and on
Runs, one message that names the file and says to move it aside; no traceback anywhere."""

from __future__ import annotations

import pytest
from conftest import READY

from demix_core.config import make_config
from demix_core.runs import RunStore

pytestmark = pytest.mark.e2e
ALERT = '[data-testid="stAlertContentError"]'


def test_a_damaged_store_is_a_message_on_every_page_not_a_traceback(browser, app_server):
    home = app_server["home"]
    store = RunStore(home)
    for i in range(20):
        store.submit(make_config("nations"), name=f"run {i}", start=False)
    store.conn.close()
    db = home / "runs.sqlite"
    with open(db, "r+b") as f:
        f.truncate(db.stat().st_size // 2)
    before = db.read_bytes()

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    for path in ("", "/runs", "/train"):
        page.goto(app_server["url"] + path)
        page.wait_for_selector(READY, timeout=60_000)
        page.locator(ALERT).first.wait_for(timeout=30_000)
        alerts = " ".join(page.locator(ALERT).all_inner_texts())
        assert f"the run store at {db} is damaged" in alerts and "move it aside" in alerts
        body = page.locator("body").inner_text()
        assert "Traceback" not in body and 'File "' not in body
        assert page.locator('[data-testid="stException"]').count() == 0
    assert db.read_bytes() == before
