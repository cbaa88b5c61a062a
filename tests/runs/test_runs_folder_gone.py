"""Issue 17: a run whose folder is deleted (before or while it trains) fails with a message
that says so, and its folder is not recreated with part of a run in it."""

from __future__ import annotations

import shutil

from runs_support import tiny_config

from demix_core.runs.worker import run_one
from demix_core.training import Callback, train


class DeleteFolderAt(Callback):
    """Deletes the run folder once training reaches `step` (a user's `rm -r` mid-run)."""

    def __init__(self, folder, step: int) -> None:
        self.folder, self.step = folder, step

    def on_step(self, step: int, record: dict) -> None:
        if step >= self.step and self.folder.exists():
            shutil.rmtree(self.folder)


def test_a_folder_deleted_while_training_fails_the_run_and_stays_deleted(store):
    config = tiny_config().replace(steps=200, log_every=5, eval_every=0, checkpoint_every=50)
    run_id = store.submit(config, start=False)
    folder = store.run_dir(run_id)

    def train_and_delete(config, out_dir, callbacks, resume):
        return train(config, out_dir, callbacks=(*callbacks, DeleteFolderAt(out_dir, 10)))

    assert run_one(store.home, run_id, train_fn=train_and_delete) == "failed"
    run = store.get(run_id)
    assert "deleted or moved while training" in run["error"] and run["final"] == {}
    assert not folder.exists(), "nothing recreated the folder"


def test_a_folder_deleted_before_the_worker_starts_fails_the_run(store):
    run_id = store.submit(tiny_config(), start=False)
    shutil.rmtree(store.run_dir(run_id))
    assert run_one(store.home, run_id) == "failed"
    assert "is gone" in store.get(run_id)["error"]
    assert not store.run_dir(run_id).exists()
