"""The small checkpointed run the lens pages are tested on (AppTest and the browser test)."""

from __future__ import annotations

LENS_DATASET = "synthetic:entities=200,hidden=0.3"


def lens_config():
    """RotatE + uniform on a 200-person synthetic KG, 30 steps, a checkpoint every 10."""
    from demix_core.config import make_config

    return make_config(
        LENS_DATASET,
        "rotate",
        "uniform",
        dim=16,
        batch_size=64,
        negatives=8,
        steps=30,
        checkpoint_every=10,
        eval_every=0,
        log_every=10,
        compile="off",
    )
