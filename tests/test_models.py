import pytest
import torch

from demix_core.checkpoint import atomic_save, load_checkpoint
from demix_core.errors import CheckpointError, ConfigError
from demix_core.kg import corrupt
from demix_core.models import SCORERS, KGEModel


def cplx(x):
    return torch.complex(*x.double().chunk(2, -1))


def reference_scores(data: dict, tri: torch.Tensor) -> torch.Tensor:
    """The checkpoint contract's formulas, computed from the exported tensors alone."""
    E, R, g = data["entity_embedding"].double(), data["relation_embedding"].double(), data["gamma"]
    h, r, t = E[tri[..., 0]], R[tri[..., 1]], E[tri[..., 2]]
    name = data["model"]
    if name == "hake":  # README's formula: phases in radians, clamped mixture bias
        D = h.shape[-1] // 2
        h_m, h_p, t_m, t_p = h[..., :D], h[..., D:], t[..., :D], t[..., D:]
        r_p, r_m, r_b = r[..., :D], r[..., D : 2 * D].abs(), r[..., 2 * D :]
        b = torch.maximum(r_b.clamp(max=1), -r_m)
        modulus = torch.linalg.vector_norm(h_m * (r_m + b) - t_m * (1 - b), dim=-1)
        phase = torch.sin((h_p + r_p - t_p) / 2).abs().sum(-1)
        return g - abs(data["modulus_weight"]) * modulus - data["phase_weight"] * phase
    if name == "transe":
        return g - (h + r - t).abs().sum(-1)
    if name == "distmult":
        return (h * r * t).sum(-1)
    if name == "complex":
        return (cplx(h) * cplx(r) * cplx(t).conj()).sum(-1).real
    return g - (cplx(h) * torch.exp(1j * r) - cplx(t)).abs().sum(-1)


@pytest.mark.parametrize("name", sorted(SCORERS))
def test_three_scoring_paths_agree_with_the_contract(name):
    torch.manual_seed(0)
    model = KGEModel(name, 30, 5, 6, 4.0)
    if name == "hake":  # off the authors' start: negative moduli, biases past both clamps
        with torch.no_grad():
            model.relation[:, 6:].uniform_(-2.0, 2.0)
            model.hake_weights.copy_(torch.tensor([0.7, -1.3]))
    pos = torch.stack(
        [torch.randint(0, 30, (16,)), torch.randint(0, 5, (16,)), torch.randint(0, 30, (16,))], 1
    )
    head = torch.arange(16) % 2 == 0  # mixed sides in one batch
    cand = torch.randint(0, 30, (16, 7))
    tri = corrupt(pos, cand, head)
    with torch.no_grad():
        by_triples = model.score_triples(tri.reshape(-1, 3)).reshape(16, 7)
        by_candidates = model.score_candidates(pos, head, cand)
        by_all = model.score_all(pos, head).gather(1, cand)
        by_emb = model.score_candidates(pos, head, model.entity[cand])
    ref = reference_scores(model.export(), tri).float()
    for got in (by_triples, by_candidates, by_all, by_emb):
        assert torch.allclose(got, ref, atol=1e-5)


@pytest.mark.parametrize("name", sorted(SCORERS))
def test_export_round_trip(tmp_path, name):
    model = KGEModel(name, 9, 3, 4, 6.0)
    data = model.export()
    data.update(entities=[str(i) for i in range(9)], relations=["a", "b", "c"], config={}, step=0)
    atomic_save(data, tmp_path / "c.pt")
    loaded = load_checkpoint(tmp_path / "c.pt")
    again = KGEModel.from_export(loaded)
    tri = torch.tensor([[0, 1, 2], [3, 2, 8]])
    assert torch.allclose(again.score_triples(tri), model.score_triples(tri), atol=1e-6)


def test_bad_model_and_checkpoint(tmp_path):
    with pytest.raises(ConfigError, match="unknown model"):
        KGEModel("nope", 3, 1, 2, 1.0)
    with pytest.raises(ConfigError, match="--dim"):
        KGEModel("transe", 3, 1, 0, 1.0)
    (tmp_path / "t.pt").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path / "t.pt")
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    atomic_save({"model": "transe"}, tmp_path / "m.pt")
    with pytest.raises(CheckpointError, match="missing field"):
        load_checkpoint(tmp_path / "m.pt")


@pytest.mark.parametrize("name", ["rotate", "hake"])
def test_compiled_distance_kernel_matches_eager(monkeypatch, name):
    from demix_core import compile as comp

    monkeypatch.delenv("DEMIX_NO_COMPILE", raising=False)
    torch.manual_seed(3)
    model = KGEModel(name, 70, 4, 8, 5.0)
    pos = torch.stack(
        [torch.randint(0, 70, (90,)), torch.randint(0, 4, (90,)), torch.randint(0, 70, (90,))], 1
    )
    head = torch.rand(90) < 0.5
    eager = model.score_all(pos, head)
    comp.set_compile(True)
    try:
        compiled = model.score_all(pos, head)  # 90 queries: one full chunk and a padded one
    finally:
        comp.set_compile(False)
    assert torch.allclose(compiled, eager, atol=1e-4)


def test_hake_learns_its_weights_and_keeps_them_through_a_checkpoint(tmp_path):
    """The phase and modulus weights get gradients from the loss (they are learned, as in
    the paper) and a checkpoint restores them; one lacking them is refused by name."""
    model = KGEModel("hake", 12, 3, 5, 6.0)
    tri = torch.tensor([[0, 1, 2], [4, 0, 7], [9, 2, 11]])
    model.score_triples(tri).sum().backward()
    assert model.hake_weights.grad is not None and (model.hake_weights.grad != 0).all()
    with torch.no_grad():
        model.hake_weights.copy_(torch.tensor([0.25, 2.5]))
    again = KGEModel.from_export(model.export())
    assert again.hake_weights.tolist() == pytest.approx([0.25, 2.5])
    data = model.export()
    del data["phase_weight"]
    with pytest.raises(CheckpointError, match="phase_weight"):
        KGEModel.from_export(data)
