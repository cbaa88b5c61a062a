"""Issue 17 in the app: every page behind one error boundary (a short message, never a
traceback or a server path), hostile names shown as text, the Train form's memory rule,
and uploads unpacked under the CLI's cap."""

from __future__ import annotations

import gzip
import hashlib

import pandas as pd
import pytest
from app_support import NATIONS, open_app
from streamlit.testing.v1 import AppTest

from demix_core import plots
from demix_core.checkpoint import atomic_save
from demix_core.config import make_config
from demix_core.runs import RunStore

PAGES = (None, "pages/train.py", "pages/runs.py", "pages/compare.py", "pages/mpne.py",
         "pages/adamix.py", "pages/samplers.py")  # fmt: skip


def app(page: str | None = None) -> AppTest:
    """The app on `page`; these tests look at the errors a page shows, so no exception check."""
    return open_app(page, check=False)


def messages(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


def damage(home) -> bytes:
    """A store of a few runs whose runs.sqlite is then cut in half; returns its bytes."""
    store = RunStore(home)
    for i in range(20):
        store.submit(make_config("nations"), name=f"run {i}", start=False)
    store.conn.close()
    db = home / "runs.sqlite"
    with open(db, "r+b") as f:
        f.truncate(db.stat().st_size // 2)
    return db.read_bytes()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_on_a_damaged_store_says_what_to_do(home, page):
    before = damage(home)
    at = app(page)
    assert not at.exception, at.exception
    text = messages(at)
    assert "is damaged" in text and "move it aside" in text and "Traceback" not in text
    assert (home / "runs.sqlite").read_bytes() == before, "the damaged file is left as it was"


def test_home_draws_its_content_beside_the_store_message(home):
    damage(home)
    at = app()
    assert at.title[0].value == "DeMix Lab" and len(at.table) == 1


def test_a_store_path_that_cannot_be_a_folder_is_a_message(tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    monkeypatch.setenv("DEMIX_HOME", str(blocker / "home"))
    monkeypatch.setenv("DEMIX_NO_WORKERS", "1")
    at = app("pages/runs.py")
    assert not at.exception and "cannot be opened" in messages(at)


def test_an_unexpected_error_shows_no_details(home, monkeypatch):
    def boom(self, group=None):
        raise RuntimeError("secret state at /srv/private/file")

    monkeypatch.setattr(RunStore, "records", boom)
    at = app("pages/runs.py")
    assert not at.exception
    text = messages(at)
    assert "unexpected RuntimeError" in text and "/srv/private" not in text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(entity_embedding=d["entity_embedding"][:, 0]), "entity\\_embedding"),
        (lambda d: d.update(gamma="abc"), "gamma"),
        (lambda d: d["entity_embedding"].fill_(float("nan")), "NaN"),
    ],
)
def test_a_broken_checkpoint_typed_on_the_mpne_page_is_a_message(
    home, tmp_path, monkeypatch, change, field
):
    from hardening_support import nations_checkpoint

    # the file field is offered when there is no run and no example to pick
    monkeypatch.setenv("DEMIX_EXAMPLES", str(tmp_path / "no_examples"))

    data = nations_checkpoint()
    change(data)
    path = tmp_path / "broken.pt"
    atomic_save(data, path)
    at = app("pages/mpne.py")
    at.text_input[0].set_value(str(path)).run()
    assert not at.exception, at.exception
    assert "Cannot open this checkpoint" in messages(at) and field in messages(at)


def test_the_train_form_refuses_what_would_not_fit_in_memory(home):
    at = app("pages/train.py")
    submit = lambda: next(b for b in at.button if b.label == "Submit run")  # noqa: E731
    assert not at.error and not submit().disabled
    at.number_input(key="train_negatives").set_value(100_000).run()
    at.number_input(key="train_batch_size").set_value(512).run()
    assert messages(at).startswith("**Negatives**") and "needs about" in messages(at)
    assert submit().disabled


def _upload(at, texts: dict) -> None:
    at.radio(key="train_source").set_value("upload").run()
    for uploader, split in zip(at.file_uploader, ("train", "valid", "test")):
        uploader.set_value((texts[split][0], texts[split][1], "application/gzip"))
    at.run()


def test_an_upload_that_unpacks_past_the_cap_is_refused_before_writing(home, tmp_path):
    from hardening_support import gzip_bomb

    from demix_core.textio import MAX_UNPACKED

    bomb = gzip_bomb(tmp_path / "bomb.gz", MAX_UNPACKED // 2**20 + 1).read_bytes()
    plain = (NATIONS / "valid.txt").read_bytes()
    at = app("pages/train.py")
    _upload(at, {"train": ("t.txt.gz", bomb), "valid": ("v.txt", plain), "test": ("x.txt", plain)})
    assert not at.exception
    assert "t.txt.gz: unpacks to more than 256 MB" in messages(at)
    uploads = home / "uploads"
    assert not uploads.exists() or not [p for p in uploads.rglob("*") if p.is_file()]


def test_an_upload_with_a_nul_in_a_name_names_the_file_and_line(home):
    plain = (NATIONS / "valid.txt").read_bytes()
    bad = plain + b"x\x00y\tr\tz\n"
    at = app("pages/train.py")
    _upload(at, {"train": ("t.txt", bad), "valid": ("v.txt", plain), "test": ("x.txt", plain)})
    lines = plain.count(b"\n") + 1
    assert f"t.txt:{lines}: the head name contains the control character U+0000" in messages(at)


def test_a_hostile_run_name_is_shown_as_text(home):
    name = "![x](http://127.0.0.1:9/p.png) <b>b</b>"
    RunStore(home).submit(make_config(str(NATIONS)), name=name, start=False)
    at = app("pages/runs.py")
    (bar,) = at.get("progress")
    text = bar.proto.text
    assert "\\!\\[x\\]" in text and "![x]" not in text.replace("\\!\\[x\\]", "")


def test_plot_legends_show_names_as_text():
    frame = pd.DataFrame({"kind": ["train", "train"], "step": [1, 2], "loss": [1.0, 0.5]})
    fig = plots.loss_figure({'<a href="http://e">run</a>': frame})
    assert fig.data[0].name == '&lt;a href="http://e"&gt;run&lt;/a&gt;'


def test_uploads_of_the_same_files_land_in_the_same_folder(home):
    texts = {s: (NATIONS / f"{s}.txt").read_bytes() for s in ("train", "valid", "test")}
    at = app("pages/train.py")
    _upload(at, {s: (f"{s}.txt", gzip.compress(t)) for s, t in texts.items()})
    folder = at.session_state["train_upload"]
    digest = hashlib.sha256()
    for split in sorted(texts):  # the folder name is a hash of the unpacked text
        digest.update(split.encode() + hashlib.sha256(texts[split]).digest())
    assert folder.endswith(digest.hexdigest()[:16])
