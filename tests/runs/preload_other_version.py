"""Loaded by a test's `dask worker --preload`: this worker claims another demix_core version,
as a worker installed from another commit would."""

from demix_core.runs import remote

remote._VERSION = "0.0.0+another"
