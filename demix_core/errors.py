"""User-facing errors: one readable line, no traceback at the CLI or in the app."""


class DemixError(Exception):
    """Base of every error caused by input (files, flags, configs), not by a bug."""


class DatasetError(DemixError):
    """A dataset that cannot be loaded; the message names the file and line."""


class ConfigError(DemixError):
    """A configuration value or flag that makes no sense; the message names the field, and
    `field` (the option's name, e.g. "mu"; None when no single one is at fault) lets a form
    mark it without reading the text."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class CheckpointError(DemixError):
    """A checkpoint that is missing, truncated or does not match the dataset."""


def describe(exc: BaseException, internals: bool = True) -> str:
    """One line saying what went wrong, for the CLI's `error: ...` and the app's page
    message. `internals=False` (the app) leaves out the text of unexpected errors, which may
    hold server paths; the caller logs the traceback for the operator instead."""
    import sqlite3

    if isinstance(exc, DemixError):
        text = str(exc)
    elif isinstance(exc, OSError):
        reason = exc.strerror or str(exc) or type(exc).__name__
        text = f"{exc.filename}: {reason}" if exc.filename else reason
    elif isinstance(exc, sqlite3.DatabaseError):
        text = f"the run store is damaged or unreadable ({exc}); move its runs.sqlite aside"
    elif isinstance(exc, MemoryError):
        text = "out of memory; try smaller settings (fewer negatives, a smaller batch or dim)"
    elif internals:
        text = f"unexpected {type(exc).__name__}: {exc} (a bug; DEMIX_DEBUG=1 shows the traceback)"
    else:
        text = f"unexpected {type(exc).__name__}; the details are in the server's log"
    return " ".join(text.split())
