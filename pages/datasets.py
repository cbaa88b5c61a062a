"""The datasets side of the app: built-in statistics for Home (cached on disk so Home needs
no torch), the background warm-up of the training stack, and the Train page's dataset
widgets with safe handling of uploaded splits."""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
import tempfile
import threading
from pathlib import Path

import streamlit as st

from demix_core.errors import DemixError
from demix_core.runs import user_cache_dir
from demix_core.safe_text import code, md
from pages.common import store

# The largest integer a browser's number field holds exactly (2**53 - 1): the form's seed
# bound; the CLI takes any 64-bit seed.
MAX_FORM_SEED = 2**53 - 1
ASSETS = Path(__file__).resolve().parent.parent / "assets" / "datasets"  # = demix_core.data.ASSETS


@st.cache_data(show_spinner=False)
def builtin_stats() -> list[dict]:
    """`KG.stats()` of every built-in dataset. Counting needs torch and ~3 s, so the result
    is kept as JSON in the user's cache folder, keyed by the datasets' pinned checksums:
    Home then draws without importing torch, in any later server process."""
    key = hashlib.sha256((ASSETS / "SHA256SUMS").read_bytes()).hexdigest()[:16]
    path = user_cache_dir() / f"builtin-stats-{key}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        pass
    from demix_core.data import BUILTIN
    from demix_core.runs.files import write_json_atomic

    stats = [dataset_stats(name) for name in BUILTIN]
    try:
        write_json_atomic(path, stats)
    except OSError:
        pass  # a read-only home: count again next time
    return stats


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Import torch and the training stack in a background thread while the first page is
    drawn (a no-op import afterwards), so a later first visit to Train does not wait for it
    (what that saves, measured on a cold server: docs/performance.md)."""
    thread = threading.Thread(
        target=importlib.import_module, args=("demix_core.training",), daemon=True
    )
    thread.start()
    return thread


@st.cache_data(max_entries=64, show_spinner=False)
def dataset_stats(name: str) -> dict:
    """KG.stats() of a dataset (DatasetError propagates for the page to show)."""
    from demix_core.data import load_dataset

    return load_dataset(name).stats()


# --------------------------------------------------------------------------- uploads


def save_upload(files: dict) -> Path:
    """Write uploaded splits (`{"train": UploadedFile, ...}`) as plain text under the store's
    `uploads/<content hash>/`; the bytes are only ever read as text by `load_dataset`.

    Each file is unpacked as a stream under `textio.MAX_UNPACKED` (the CLI's cap, counted
    before anything is written) and checked line by line while it is written."""
    from demix_core.textio import copy_unpacked

    uploads = store().home / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".upload-", dir=uploads))
    try:
        digest = hashlib.sha256()
        for split in sorted(files):
            text_hash = copy_unpacked(files[split], work / f"{split}.txt", files[split].name)
            digest.update(split.encode() + bytes.fromhex(text_hash))
        folder = uploads / digest.hexdigest()[:16]
        if not folder.is_dir():
            work.rename(folder)
        return folder
    finally:
        shutil.rmtree(work, ignore_errors=True)


def dataset_picker() -> str | None:
    """Dataset widgets of the Train page: a built-in, a synthetic KG or uploaded splits.
    Returns the `load_dataset` name, or None while there is no loadable choice (the reason
    is shown)."""
    from demix_core.data import BUILTIN
    from demix_core.synthetic import MAX_ENTITIES, MIN_ENTITIES

    kinds = ["built-in", "synthetic", "upload"]
    source = st.radio("Dataset", kinds, key="train_source", horizontal=True)
    dataset = None
    if source == "built-in":
        dataset = st.selectbox("Built-in dataset", BUILTIN, key="train_builtin")
    elif source == "synthetic":
        a, b, c = st.columns(3)
        low, high = MIN_ENTITIES, MAX_ENTITIES
        n = a.number_input("Entities", min_value=low, max_value=high, key="train_entities")
        h = b.slider("Hidden fraction", 0.05, 0.95, step=0.05, key="train_hidden")
        s = c.number_input(
            "Graph seed", min_value=0, max_value=MAX_FORM_SEED, key="train_synth_seed"
        )
        dataset = f"synthetic:entities={n},hidden={h:g},seed={s}"
    else:
        st.caption("Tab-separated `head relation tail` lines, plain text or gzip, 50 MB a file.")
        splits = ("train", "valid", "test")
        columns = zip(splits, st.columns(3))
        files = {x: c.file_uploader(x, type=["txt", "tsv", "gz"]) for x, c in columns}
        uploaded = tuple(f.file_id for f in files.values() if f is not None)
        if len(uploaded) == 3 and st.session_state.get("train_upload_ids") != uploaded:
            try:  # once per set of files, not on every rerun of the page
                st.session_state["train_upload"] = str(save_upload(files))
                st.session_state["train_upload_ids"] = uploaded
            except DemixError as e:
                st.session_state.pop("train_upload", None)
                st.error(md(e))
        dataset = st.session_state.get("train_upload")
        if dataset:
            st.caption(f"Using the uploaded splits in {code(dataset)}.")
    if dataset:
        try:
            stats = dataset_stats(dataset)
        except DemixError as e:
            st.error(md(e))
            if source == "upload":  # keep no folder that cannot be trained on
                shutil.rmtree(dataset, ignore_errors=True)
                st.session_state.pop("train_upload", None)
                st.session_state.pop("train_upload_ids", None)
            return None
        skip = ("name", "unseen_valid", "unseen_test")
        st.caption(" · ".join(f"{v:,} {k}" for k, v in stats.items() if v and k not in skip))
    return dataset
