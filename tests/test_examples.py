"""The shipped example runs: complete, small, in the documented checkpoint format, and as good
as the MRR they record (measured again here from the float16 tables)."""

import pytest
import torch

from demix_core.checkpoint import check_matches, model_from_checkpoint
from demix_core.data import load_dataset
from demix_core.evaluation import evaluate
from demix_core.examples import DATASETS, EXAMPLES_DIR, SAMPLERS, ExampleShelf, is_example
from demix_core.runs import StoreError


def test_every_example_is_shipped_with_three_steps_and_under_8_mb():
    shelf = ExampleShelf()
    assert len(shelf.ids()) == len(DATASETS) * len(SAMPLERS)
    for record in shelf.records():
        steps = shelf.checkpoint_steps(record["id"])
        assert len(steps) == 3 and steps[-1] == record["steps"] == record["step"]
        assert record["status"] == "example" and is_example(record["id"])
        assert record["config"]["sampler"] == record["sampler"]
    total = sum(p.stat().st_size for p in EXAMPLES_DIR.rglob("*") if p.is_file())
    assert total < 8 * 2**20


def test_checkpoints_load_with_weights_only_and_match_their_dataset():
    shelf = ExampleShelf()
    for record in shelf.records():
        path = shelf.run_dir(record["id"]) / "checkpoints" / f"step_{record['step']:07d}.pt"
        raw = torch.load(path, weights_only=True)
        assert raw["entity_embedding"].dtype == torch.float16
        data = shelf.load_checkpoint(record["id"])
        check_matches(data, load_dataset(record["dataset"]))
        assert model_from_checkpoint(data).entity.dtype == torch.float32


@pytest.mark.parametrize("key", ["nations", "umls"])
def test_recorded_mrr_is_what_the_shipped_weights_reach(key):
    shelf = ExampleShelf()
    kg = load_dataset(DATASETS[key][0])
    for sampler in SAMPLERS:
        record = shelf.get(f"example-{key}-{sampler}")
        model = model_from_checkpoint(shelf.load_checkpoint(record["id"])).eval()
        got = evaluate(model, kg, "test")["mrr"]
        assert got == pytest.approx(record["final"]["mrr"], abs=0.01)


def test_unknown_or_store_ids_are_refused(tmp_path):
    shelf = ExampleShelf()
    with pytest.raises(StoreError):
        shelf.get("example-nowhere")
    with pytest.raises(StoreError):
        shelf.get("20260101-000000-abcdef")
    assert ExampleShelf(tmp_path).records() == []
