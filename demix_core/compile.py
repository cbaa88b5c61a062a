"""Optional `torch.compile` of the hot kernels, with a fallback to eager mode.

Compiling costs seconds up front (and needs a C compiler on CPU), so it pays on long runs
and on full evaluations, not on a one-minute demo. Mode "auto" lets the caller decide by
workload size; "on" forces it; "off" never compiles. If compilation fails, the kernel runs
eagerly from then on and one line is reported through `notices`.
"""

from __future__ import annotations

import os
from collections.abc import Callable

# Work (multiply-adds, roughly) above which mode "auto" compiles: training counts
# steps x batch x negatives x entity width, evaluation 2 x queries x entities x entity width
# (entity width: the floats of one entity row, 2 x dim for the complex models and HAKE).
TRAIN_WORK = 1e10
EVAL_WORK = 5e9
_state = {"enabled": False}
notices: list[str] = []


def forbidden() -> bool:
    """DEMIX_NO_COMPILE=1 (the tests, the GPU check) turns compilation off whatever a
    config says."""
    return os.environ.get("DEMIX_NO_COMPILE", "") == "1"


def set_compile(enabled: bool) -> None:
    _state["enabled"] = bool(enabled) and not forbidden()


def compile_enabled() -> bool:
    return _state["enabled"]


def decide(mode: str, work: float, threshold: float) -> bool:
    """`mode` is auto|on|off; under auto, compile when the work estimate exceeds threshold."""
    if mode not in ("auto", "on", "off"):
        from demix_core.errors import ConfigError

        raise ConfigError(f"--compile must be auto, on or off, got {mode!r}")
    return mode == "on" or (mode == "auto" and work >= threshold)


class _Fallback:
    """Calls the compiled function; on any compile error, switches to eager for good."""

    def __init__(self, name: str, fn: Callable, **options):
        import torch

        self.name, self.fn = name, fn
        self.compiled = torch.compile(fn, **options)
        self.failed = False

    def __call__(self, *args, **kwargs):
        if not self.failed:
            try:
                return self.compiled(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - any backend failure means: run eagerly
                self.failed = True
                notices.append(
                    f"torch.compile unavailable for {self.name} ({type(exc).__name__}); "
                    "running in eager mode"
                )
        return self.fn(*args, **kwargs)


_cache: dict[str, _Fallback] = {}


def maybe_compiled(name: str, fn: Callable, **options) -> Callable:
    """`fn` itself while compilation is off; else its compiled form (one per name, falling
    back to `fn` with a notice if the backend fails)."""
    if not _state["enabled"]:
        return fn
    if name not in _cache:
        _cache[name] = _Fallback(name, fn, **options)
    return _cache[name]
