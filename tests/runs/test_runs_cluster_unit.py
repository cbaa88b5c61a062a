"""What travels with a cluster run, without a cluster: a folder dataset by content, checked
by sha256 on arrival; built-ins and generated specs by name; addresses checked up front."""

from __future__ import annotations

import hashlib

import pytest
import torch
from runs_support import NATIONS

from demix_core.data import load_dataset
from demix_core.errors import ConfigError, DatasetError
from demix_core.runs import cluster, remote


def test_a_folder_dataset_travels_by_content_and_loads_the_same(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    payload = cluster.dataset_payload(str(NATIONS))
    assert sorted(payload["files"]) == ["test.txt", "train.txt", "valid.txt"]
    for name, blob in payload["files"].items():
        assert blob == (NATIONS / name).read_bytes()
        assert payload["sha256"][name] == hashlib.sha256(blob).hexdigest()
    folder = remote.dataset_folder(payload)
    assert folder == tmp_path / "demix-lab" / "datasets" / payload["digest"]
    theirs, ours = load_dataset(str(folder)), load_dataset(str(NATIONS))
    assert theirs.entities == ours.entities and torch.equal(theirs.train, ours.train)
    assert remote.dataset_folder(payload) == folder  # a second run reuses the cached copy


def test_a_damaged_split_is_refused_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    payload = cluster.dataset_payload(str(NATIONS))
    payload["files"]["valid.txt"] = payload["files"]["valid.txt"][:-10]
    with pytest.raises(DatasetError, match="nations: valid.txt arrived damaged"):
        remote.dataset_folder(payload)
    assert not (tmp_path / "demix-lab" / "datasets" / payload["digest"]).exists()


@pytest.mark.parametrize("name", ["nations", "NATIONS", "umls:hide=0.3,seed=0", "synthetic"])
def test_built_ins_and_generated_specs_travel_by_name(name):
    assert cluster.dataset_payload(name) is None


@pytest.mark.parametrize(
    "address, message",
    [
        ("localhost:8786", "expected a scheduler address tcp://HOST:PORT"),
        ("tcp://127.0.0.1", "expected a scheduler address tcp://HOST:PORT"),
        ("tcp://127.0.0.1:9", "tcp://127.0.0.1:9: no dask scheduler answers there"),
    ],
)
def test_a_bad_address_is_one_line_naming_where_it_came_from(address, message, monkeypatch):
    monkeypatch.setenv("DEMIX_CLUSTER", address)
    with pytest.raises(ConfigError, match="DEMIX_CLUSTER") as e:
        cluster.resolve(None)
    assert message in str(e.value) and "\n" not in str(e.value)
    monkeypatch.setenv("DEMIX_CLUSTER", "")
    assert cluster.resolve(None) is None and cluster.resolve("") is None
