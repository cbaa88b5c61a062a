import gzip

import pytest
import torch

from demix_core.data import load_dataset
from demix_core.errors import DatasetError
from demix_core.kg import KGIndex, PatternIndex, TripleIndex, corrupt
from demix_core.synthetic import synthetic_kg


def write(folder, name, text, gz=False):
    folder.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.open(folder / f"{name}.txt.gz", "wt") as fh:
            fh.write(text)
    else:
        (folder / f"{name}.txt").write_text(text)


@pytest.mark.parametrize(
    "name,counts",
    [
        ("nations", (14, 55, 1592, 199, 201)),
        ("umls", (135, 46, 5216, 652, 661)),
        ("kinships", (104, 25, 8544, 1068, 1074)),
    ],
)
def test_builtin_sizes_match_the_literature(name, counts):
    kg = load_dataset(name)
    assert (kg.num_entities, kg.num_relations, len(kg.train), len(kg.valid), len(kg.test)) == counts


def test_wn18rr_unseen_entities_are_kept_and_counted():
    kg = load_dataset("wn18rr")
    assert kg.num_entities == 40943 and len(kg.test) == 3134
    assert kg.unseen == {"valid": 210, "test": 210}
    assert any("210" in w for w in kg.warnings)


def test_folder_with_gzip_and_bad_lines(tmp_path):
    good = tmp_path / "good"
    write(good, "train", "a\tr\tb\nb\tr\tc\na\tr\tb\n", gz=True)
    write(good, "valid", "a\tr\tc\n")
    write(good, "test", "c\tq\td\n")
    kg = load_dataset(str(good))
    assert len(kg.train) == 2 and any("duplicate" in w for w in kg.warnings)
    assert kg.unseen["test"] == 1  # relation q and entity d never in train
    bad = tmp_path / "bad"
    write(bad, "train", "a\tr\tb\na\tr\n")
    write(bad, "valid", "a\tr\tb\n")
    write(bad, "test", "a\tr\tb\n")
    with pytest.raises(DatasetError, match=r"train.txt:2: expected 3 tab-separated"):
        load_dataset(str(bad))


def test_non_utf8_empty_missing_unknown(tmp_path):
    f = tmp_path / "latin"
    f.mkdir()
    (f / "train.txt").write_bytes(b"a\tr\tb\nc\xe9\tr\tb\n")
    write(f, "valid", "a\tr\tb\n")
    write(f, "test", "a\tr\tb\n")
    with pytest.raises(DatasetError, match=r"train.txt:2: not UTF-8"):
        load_dataset(str(f))
    e = tmp_path / "empty"
    write(e, "train", "a\tr\tb\n")
    write(e, "valid", "\n")
    write(e, "test", "a\tr\tb\n")
    with pytest.raises(DatasetError, match=r"valid.txt: empty split"):
        load_dataset(str(e))
    with pytest.raises(DatasetError, match="unknown dataset"):
        load_dataset("no-such-dataset")
    with pytest.raises(DatasetError, match="no valid.txt"):
        write(tmp_path / "half", "train", "a\tr\tb\n")
        load_dataset(str(tmp_path / "half"))


def test_triple_index_matches_python_set(tiny_kg):
    idx = TripleIndex(tiny_kg.train, 6, 2)
    known = {tuple(x) for x in tiny_kg.train.tolist()}
    h, r, t = torch.meshgrid(torch.arange(6), torch.arange(2), torch.arange(6), indexing="ij")
    got = idx.contains(h, r, t)
    want = torch.tensor(
        [[[(a, b, c) in known for c in range(6)] for b in range(2)] for a in range(6)]
    )
    assert torch.equal(got, want)


def test_pattern_index_gather_and_cap():
    kg = load_dataset("umls")
    pidx = PatternIndex(kg.train, kg.num_entities, kg.num_relations, "tail")
    answers = {}
    for h, r, t in kg.train.tolist():
        answers.setdefault((h, r), set()).add(t)
    pos = kg.train[:200]
    keys = pidx.key(pos)
    ids, mask = pidx.gather(keys, 4, torch.Generator().manual_seed(0))
    for row, (h, r, _) in enumerate(pos.tolist()):
        got = ids[row][mask[row]].tolist()
        assert len(got) == min(4, len(answers[(h, r)]))
        assert len(set(got)) == len(got) and set(got) <= answers[(h, r)]
    rows, vals = pidx.flat(keys)
    for row, (h, r, _) in enumerate(pos.tolist()):
        assert set(vals[rows == row].tolist()) == answers[(h, r)]


def test_capped_gather_is_uniform():
    """Systematic sampling keeps each of n answers with probability cap/n."""
    train = torch.tensor([[0, 0, t] for t in range(1, 11)])
    pidx = PatternIndex(train, 11, 1, "tail")
    g = torch.Generator().manual_seed(1)
    counts = torch.zeros(11)
    for _ in range(3000):
        ids, mask = pidx.gather(torch.tensor([0]), 3, g)
        counts.index_add_(0, ids[mask], torch.ones(int(mask.sum())))
    freq = counts[1:] / 3000
    assert torch.allclose(freq, torch.full((10,), 0.3), atol=0.04)


def test_synthetic_kg_is_closed_and_seeded():
    kg = synthetic_kg(entities=600, hidden=0.3, seed=3)
    facts = {tuple(x) for x in torch.cat([kg.train, kg.valid, kg.test, kg.hidden]).tolist()}
    rel = {name: i for i, name in enumerate(kg.relations)}
    for h, r, t in list(facts):
        if r == rel["parent_of"]:
            assert (t, rel["child_of"], h) in facts
        if r == rel["spouse_of"] or r == rel["sibling_of"]:
            assert (t, r, h) in facts
    parents = {}
    for h, r, t in facts:
        if r == rel["parent_of"]:
            parents.setdefault(t, set()).add(h)
    for child, ps in parents.items():
        for p in ps:
            for g in parents.get(p, ()):
                assert (g, rel["grandparent_of"], child) in facts
    n = len(facts)
    assert abs(len(kg.train) / n - 0.7) < 0.05
    assert not set(map(tuple, kg.train.tolist())) & set(map(tuple, kg.hidden.tolist()))
    again = synthetic_kg(entities=600, hidden=0.3, seed=3)
    assert torch.equal(kg.train, again.train)


def test_synthetic_spec_errors():
    with pytest.raises(DatasetError, match="unknown field 'size'"):
        load_dataset("synthetic:size=3")
    with pytest.raises(DatasetError, match="hidden must be in"):
        load_dataset("synthetic:hidden=1.5")


def test_corrupt_and_kg_index(tiny_kg):
    pos = tiny_kg.train[:2]
    cand = torch.tensor([[4, 5], [3, 3]])
    out = corrupt(pos, cand, torch.tensor([False, True]))
    assert out.tolist() == [[[0, 0, 4], [0, 0, 5]], [[3, 0, 2], [3, 0, 2]]]
    idx = KGIndex.build(tiny_kg)
    assert bool(idx.truth.contains(torch.tensor(0), torch.tensor(0), torch.tensor(3)))
    assert not bool(idx.train.contains(torch.tensor(0), torch.tensor(0), torch.tensor(3)))
