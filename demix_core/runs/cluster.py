"""Runs on a dask.distributed cluster: the client side of the executor seam.

A run queued with a cluster address (`DEMIX_CLUSTER`, `runs --cluster`, the app's sidebar)
is dispatched by the store's queue server (`dispatch.Dispatcher`), which stays the only
writer of the store; the task a worker runs is `remote.run_task`. This module says where
runs go (an address is checked before anything is queued) and what travels with a run: a
built-in dataset by name, a folder dataset by content with the sha256 of each split.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import socket
from pathlib import Path

from demix_core.errors import ConfigError

CONNECT_S = 5.0
_ADDRESS = re.compile(r"^(tcp|tls)://[^\s/:]+:\d{1,5}$")


def check_address(address: str, source: str = "--cluster") -> str:
    """`address` if a dask scheduler answers there; a one-line ConfigError naming `source`
    and the address otherwise."""
    address = address.strip()
    if not _ADDRESS.match(address):
        raise ConfigError(f"{source} {address!r}: expected a scheduler address tcp://HOST:PORT")
    try:
        host, port = address.split("://")[1].rsplit(":", 1)
        socket.create_connection((host, int(port)), timeout=CONNECT_S).close()  # refused: now
        asyncio.run(_identity(address))
    except Exception as e:  # noqa: BLE001 - refused, timed out, not a scheduler, bad host
        why = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ConfigError(
            f"{source} {address}: no dask scheduler answers there ({why[:160]}); start one "
            "with `dask scheduler`, or leave the cluster unset to train on this machine"
        ) from None
    return address


def resolve(cluster: str | None) -> str | None:
    """Where new runs go: `cluster` if given (`""`: this machine), else `$DEMIX_CLUSTER`;
    an address is checked now, so a bad one queues nothing."""
    source = "--cluster"
    if cluster is None:
        cluster, source = os.environ.get("DEMIX_CLUSTER", ""), "DEMIX_CLUSTER"
    return check_address(cluster, source) if cluster.strip() else None


async def _identity(address: str) -> dict:
    from distributed.core import rpc

    async with rpc(address, timeout=CONNECT_S) as scheduler:
        info = await asyncio.wait_for(scheduler.identity(), CONNECT_S)
    if info.get("type") != "Scheduler":
        raise ConnectionError(f"a {info.get('type', 'non-dask')} server, not a scheduler")
    return info


def dataset_payload(dataset: str) -> dict | None:
    """A folder dataset's split files with their sha256 (it travels by content); None for a
    built-in name or a generated spec, which every worker rebuilds from the name."""
    from demix_core.data import BUILTIN, SPLITS, _split_file

    path = Path(dataset)
    if dataset.lower() in BUILTIN or not path.is_dir():
        return None
    blobs = {}
    for split in SPLITS:
        source = _split_file(path, split)
        blobs[split + "".join(source.suffixes)] = source.read_bytes()
    sha = {name: hashlib.sha256(blob).hexdigest() for name, blob in blobs.items()}
    digest = hashlib.sha256(json.dumps(sha, sort_keys=True).encode()).hexdigest()
    return {"name": path.name, "files": blobs, "sha256": sha, "digest": digest}
