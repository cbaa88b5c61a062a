"""What the Runs and Compare pages show of one run: its metrics log (read incrementally),
the live view's poll cost, its action buttons and its downloads."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import streamlit as st

from demix_core.runs import RunStore, StoreError
from demix_core.runs.files import METRICS
from demix_core.safe_text import code, md
from pages.common import autostart, examples, store


@st.cache_data(max_entries=512, show_spinner=False)
def _chunk(home: str, run_id: str, offset: int, size: int, inode: int) -> tuple:
    """Records past `offset` of a run's metrics log; `size`/`inode` make a grown or replaced
    file a different key, so a cached chunk is never stale."""
    from demix_core.runs.files import read_metrics

    return read_metrics(Path(home) / run_id / METRICS, offset)


def home_of(run_id: str):
    """The run store, or the example shelf for an example's id (both read alike)."""
    from demix_core.examples import is_example

    return examples() if is_example(run_id) else store()


def metrics(run_id: str) -> pd.DataFrame:
    """All metrics records of a run, read incrementally: this session keeps (inode, offset,
    frame) per run and each call reads only the bytes appended since."""
    s = home_of(run_id)
    feeds = st.session_state.setdefault("metric_feeds", {})
    try:
        stat = (s.run_dir(run_id) / METRICS).stat()
        size, inode = stat.st_size, stat.st_ino
    except FileNotFoundError:
        size, inode = 0, 0
    inode_held, offset, frame = feeds.get(run_id, (None, 0, pd.DataFrame()))
    if inode_held != inode or size < offset:  # rewritten (fresh restart or resume trim)
        offset, frame = 0, pd.DataFrame()
    if size > offset:
        chunk, offset = _chunk(str(s.home), run_id, offset, size, inode)
        if not chunk.empty:
            frame = chunk if frame.empty else pd.concat([frame, chunk], ignore_index=True)
    feeds[run_id] = (inode, offset, frame)
    return frame


def poll_start() -> tuple[float, float]:
    return time.perf_counter(), time.thread_time()


def poll_cost(start: tuple[float, float]) -> None:
    """Show when a live view was drawn and the server time it took since `poll_start()`:
    wall time, and the CPU time of this script thread (what the poll itself costs when
    training processes share the cores)."""
    wall, cpu = time.perf_counter() - start[0], time.thread_time() - start[1]
    st.caption(
        f"Updated {time.strftime('%H:%M:%S')} in {wall * 1000:.0f} ms of server time "
        f"({cpu * 1000:.0f} ms CPU)"
    )


def run_actions(s: RunStore, run: dict) -> None:
    """Cancel / resume / delete (confirmed) buttons for one run."""
    from demix_core.runs.db import ACTIVE

    rid, status = run["id"], run["status"]
    if status == "example":
        st.caption("A read-only example shipped with the app: it cannot be resumed or deleted.")
        return
    act = st.container()
    try:
        if status in ACTIVE:
            if act.button("Cancel run", icon=":material/stop:"):
                act.info(f"Run {rid}: {s.cancel(rid)}.")
        else:
            low = run["step"] + 1 if status == "done" else max(run["step"], 1)
            target = act.number_input(
                "Resume up to step", min_value=low, value=max(low, run["steps"])
            )
            if act.button("Resume run", icon=":material/play_arrow:"):
                s.resume(rid, int(target), start=autostart())
                st.rerun()
            if act.button("Delete run", icon=":material/delete:"):
                st.session_state["confirm_delete"] = rid
            if st.session_state.get("confirm_delete") == rid:
                act.warning(
                    f"Delete {md(run['name'])} and its folder {code(s.run_dir(rid))}? "
                    "This cannot be undone."
                )
                yes, no = act.columns(2)
                if yes.button("Yes, delete it", type="primary"):
                    s.delete(rid)
                    st.session_state.pop("confirm_delete")
                    st.rerun()
                if no.button("Keep it"):
                    st.session_state.pop("confirm_delete")
                    st.rerun()
    except StoreError as e:
        act.error(md(e))


def downloads(s: RunStore, run_id: str) -> None:
    """Download buttons for the files a run has so far (read from disk only on click)."""
    from demix_core.runs.files import CHECKPOINT

    kinds = {"config.json": "application/json", METRICS: "application/x-ndjson"}
    files = {**kinds, CHECKPOINT: "application/octet-stream"}.items()
    present = [(n, m) for n, m in files if (s.run_dir(run_id) / n).is_file()]
    for column, (name, mime) in zip(st.columns(3), present):
        column.download_button(
            f"Download {name}",
            data=(s.run_dir(run_id) / name).read_bytes,
            file_name=f"{run_id}-{name}",
            mime=mime,
            on_click="ignore",
            key=f"dl_{name}",
        )
