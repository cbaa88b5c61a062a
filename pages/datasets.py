"""The datasets side of the app: built-in statistics for Home (cached on disk so Home needs
no torch), the background warm-up of the training stack, and the Train page's dataset
widgets with safe handling of uploaded splits."""

from __future__ import annotations

import gzip
import hashlib
import importlib
import io
import json
import shutil
import threading
from pathlib import Path

import streamlit as st

from demix_core.errors import DemixError
from demix_core.runs import user_cache_dir
from pages.common import store

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
    drawn (a no-op import afterwards), so a later first visit to Train does not wait for it.
    Measured on a cold server (4 runs each way): Train clicked the moment Home appears takes
    ~1.05 s whether this starts before or after Home is drawn (Home 1.55 vs 1.51 s); Train
    clicked a few seconds later, 0.3 s."""
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

MAX_UNPACKED = 500 * 2**20  # a .gz upload may not unpack past this (no decompression bombs)


def save_upload(files: dict) -> Path:
    """Write uploaded splits (`{"train": UploadedFile, ...}`) as plain text under the store's
    `uploads/<content hash>/`; the bytes are only ever read as text by `load_dataset`."""
    from demix_core.errors import DatasetError

    data = {}
    for split, f in files.items():
        raw = f.getvalue()
        if raw[:2] == b"\x1f\x8b":
            try:
                raw = gzip.GzipFile(fileobj=io.BytesIO(raw)).read(MAX_UNPACKED + 1)
            except (OSError, EOFError) as e:
                raise DatasetError(f"{f.name}: not a readable gzip file ({e})") from None
            if len(raw) > MAX_UNPACKED:
                raise DatasetError(f"{f.name}: unpacks to more than {MAX_UNPACKED >> 20} MB")
        data[split] = raw
    digest = hashlib.sha256()
    for split in sorted(data):
        digest.update(split.encode() + hashlib.sha256(data[split]).digest())
    folder = store().home / "uploads" / digest.hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    for split, raw in data.items():
        tmp = folder / f".{split}.tmp"
        tmp.write_bytes(raw)
        tmp.replace(folder / f"{split}.txt")
    return folder


def dataset_picker() -> str | None:
    """Dataset widgets of the Train page: a built-in, a synthetic KG or uploaded splits.
    Returns the `load_dataset` name, or None while there is no loadable choice (the reason
    is shown)."""
    from demix_core.data import BUILTIN

    kinds = ["built-in", "synthetic", "upload"]
    source = st.radio("Dataset", kinds, key="train_source", horizontal=True)
    dataset = None
    if source == "built-in":
        dataset = st.selectbox("Built-in dataset", BUILTIN, key="train_builtin")
    elif source == "synthetic":
        a, b, c = st.columns(3)
        n = a.number_input("Entities", min_value=16, max_value=200_000, key="train_entities")
        h = b.slider("Hidden fraction", 0.05, 0.95, step=0.05, key="train_hidden")
        s = c.number_input("Graph seed", min_value=0, step=1, key="train_synth_seed")
        dataset = f"synthetic:entities={n},hidden={h:g},seed={s}"
    else:
        st.caption("Tab-separated `head relation tail` lines, plain text or gzip, 50 MB a file.")
        splits = ("train", "valid", "test")
        columns = zip(splits, st.columns(3))
        files = {x: c.file_uploader(x, type=["txt", "tsv", "gz"]) for x, c in columns}
        if all(files.values()):
            try:
                st.session_state["train_upload"] = str(save_upload(files))
            except DemixError as e:
                st.error(str(e))
        dataset = st.session_state.get("train_upload")
        if dataset:
            st.caption(f"Using the uploaded splits in `{dataset}`.")
    if dataset:
        try:
            stats = dataset_stats(dataset)
        except DemixError as e:
            st.error(str(e))
            if source == "upload":  # keep no folder that cannot be trained on
                shutil.rmtree(dataset, ignore_errors=True)
                st.session_state.pop("train_upload", None)
            return None
        skip = ("name", "unseen_valid", "unseen_test")
        st.caption(" · ".join(f"{v:,} {k}" for k, v in stats.items() if v and k not in skip))
    return dataset
