"""Small ready-made training callbacks."""

from __future__ import annotations

from demix_core.training import Callback


class ProgressCallback(Callback):
    """Feeds a progress bar (anything with `update(done, extra)`) from training records."""

    def __init__(self, bar):
        self.bar = bar

    def on_step(self, step: int, record: dict) -> None:
        self.bar.update(step, f"loss {record['loss']:.4f}")

    def on_eval(self, step: int, record: dict) -> None:
        self.bar.update(step, f"valid mrr {record['mrr']:.3f}")


class Recorder(Callback):
    """Keeps every record in memory (tests, notebooks)."""

    def __init__(self):
        self.steps: list[dict] = []
        self.evals: list[dict] = []

    def on_step(self, step: int, record: dict) -> None:
        self.steps.append(record)

    def on_eval(self, step: int, record: dict) -> None:
        self.evals.append(record)
