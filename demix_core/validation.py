"""Checks of numbers that come from flags, forms and files, and the memory rule.

Every numeric setting must be a finite number in its range; sizes that multiply into one
training step's tensors (batch x negatives x embedding width) are bounded by the memory
the machine has free: `check_memory` estimates a step's peak and refuses, with the
estimate, a configuration that would not fit, before anything is allocated.
"""

from __future__ import annotations

import math
import os
from numbers import Integral, Real
from pathlib import Path

from demix_core.errors import ConfigError

MAX_SEED = 2**64 - 1  # torch and numpy generators take unsigned 64-bit seeds
# Peak bytes of one step per (B x K x De) float32 element: measured 4.1-7.3 for the four
# models, with and without DeMix, on Nations (B 512, K 1024, dim 200); 8 leaves a margin.
STEP_FACTOR = 8
# Parameters, their gradients and Adam's two moments: four float32 copies of each table.
TABLE_COPIES = 4
RUNTIME_BYTES = 400 * 2**20  # the interpreter, torch and the dataset indexes, measured ~230 MB


def flag(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def check_number(
    name: str,
    value,
    low: float | None = None,
    high: float | None = None,
    *,
    integer: bool = False,
    low_open: bool = False,
) -> None:
    """ConfigError naming the flag unless `value` is a finite number (an integer when
    `integer`) in `[low, high]` (`(low, high]` when `low_open`)."""
    kind = Integral if integer else Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer" if integer else "a number"
        raise ConfigError(f"{flag(name)} must be {what}, got {value!r}", field=name)
    if not integer and not math.isfinite(value):
        raise ConfigError(f"{flag(name)} must be a finite number, got {value}", field=name)
    if low is not None and (value <= low if low_open else value < low):
        raise ConfigError(
            f"{flag(name)} must be {'>' if low_open else '>='} {low:g}, got {value}", field=name
        )
    if high is not None and value > high:
        raise ConfigError(f"{flag(name)} must be <= {high:g}, got {value}", field=name)


def check_choice(name: str, value, choices: tuple[str, ...]) -> None:
    """ConfigError naming the flag unless `value` is one of `choices`."""
    if value not in choices:
        words = ", ".join(choices)
        raise ConfigError(f"{flag(name)} must be one of {words}, got {value!r}", field=name)


def check_seed(name: str, value) -> None:
    check_number(name, value, 0, integer=True)
    if value > MAX_SEED:
        raise ConfigError(
            f"{flag(name)} must fit in 64 bits (0 to 2**64 - 1), got {value}", field=name
        )


def check_finite_fields(values: dict, owner: str) -> None:
    """Every float among (sampler option) `values` must be finite: NaN passes every `<`/`>`
    range test, so it is refused here, before the options check their ranges."""
    for name, value in values.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(
                f"{flag(name)} ({owner}) must be a finite number, got {value}", field=name
            )


def check_name(name: str, value: str) -> None:
    """A label typed by a user (a run name): no control characters (NUL, escapes, line
    breaks), which would corrupt every place it is printed."""
    from demix_core.textio import CONTROL

    bad = CONTROL.search(value)
    if bad:
        raise ConfigError(
            f"{flag(name)} contains the control character U+{ord(bad.group()):04X}; "
            "use printable characters only",
            field=name,
        )


# --------------------------------------------------------------------------- memory


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_available() -> int | None:
    """Room left under a cgroup v2 memory limit (containers), if there is one."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit == "max":
            return None
        used = int(Path("/sys/fs/cgroup/memory.current").read_text())
        return max(0, int(limit) - used)
    except (OSError, ValueError):
        return None


def available_memory() -> int:
    """Bytes this process may still use: `$DEMIX_MEMORY_MB` if set (a cap for shared
    machines), else the smaller of the kernel's MemAvailable and a cgroup's room."""
    cap = os.environ.get("DEMIX_MEMORY_MB")
    if cap:
        try:
            return int(float(cap) * 2**20)
        except ValueError:
            raise ConfigError(f"DEMIX_MEMORY_MB must be a number of MB, got {cap!r}") from None
    found = [x for x in (_meminfo_available(), _cgroup_available()) if x is not None]
    if not found:
        pages = os.sysconf("SC_AVPHYS_PAGES") if hasattr(os, "sysconf") else 0
        return int(pages * os.sysconf("SC_PAGE_SIZE")) if pages else 2**62
    return min(found)


def embedding_widths(model: str, dim: int) -> tuple[int, int]:
    """(De, Dr): entity and relation row widths of `model` at `dim`, read off a one-row
    KGEModel, so the rule lives in one place (models.py)."""
    from demix_core.models import KGEModel

    probe = KGEModel(model, 1, 1, dim, 1.0)
    return probe.entity.shape[1], probe.relation.shape[1]


def step_peak_bytes(config, num_entities: int = 0, num_relations: int = 0) -> int:
    """Estimated peak bytes of training `config`: a step's (B, K, De) float32 tensors and
    their gradients, the embedding tables with Adam's state, and the runtime."""
    ent, rel = embedding_widths(config.model, config.dim)
    step = STEP_FACTOR * config.batch_size * config.negatives * ent * 4
    tables = TABLE_COPIES * 4 * (num_entities * ent + num_relations * rel)
    return step + tables + RUNTIME_BYTES


def _gb(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def check_memory(config, num_entities: int = 0, num_relations: int = 0, device="cpu") -> int:
    """The estimate of `step_peak_bytes`, or a ConfigError (naming the flags to lower) when
    it exceeds the memory available now (on the GPU for a CUDA `device`)."""
    need = step_peak_bytes(config, num_entities, num_relations)
    have = available_memory()
    if str(device).startswith("cuda") and not os.environ.get("DEMIX_MEMORY_MB"):
        import torch

        have = torch.cuda.mem_get_info(torch.device(device))[0]
    if need > have:
        ent, _ = embedding_widths(config.model, config.dim)
        raise ConfigError(
            f"--negatives {config.negatives} x --batch-size {config.batch_size} x "
            f"embedding width {ent} (--dim {config.dim}) needs about {_gb(need)} per training "
            f"step, but only {_gb(have)} of memory is available; lower --negatives, "
            "--batch-size or --dim",
            field="negatives",  # the first to lower: it does not change the model
        )
    return need
