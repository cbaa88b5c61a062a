"""HAKE's scoring with its hand-written backward (`hake._Match`) against the paper's formula
written out directly and differentiated by autograd: values and gradients in float64."""

import math

import pytest
import torch

from demix_core import hake
from demix_core.kg import corrupt
from demix_core.models import KGEModel


def direct_match(q, c, gamma):
    """`gamma - ||a - s c_m|| - phase_weight * sum |sin((c_p - p) * scale / 2)|`, written
    without `hake`'s helpers (the norm by `vector_norm`, the half angle in radians)."""
    D = c.shape[-1] // 2
    a, s, p, p_w = q[..., :D], q[..., D : 2 * D], q[..., 2 * D : 3 * D], q[..., -1]
    radians = (c[..., D:] - p) * (math.pi * D / (gamma + 2.0))
    modulus = torch.linalg.vector_norm(a - s * c[..., :D], dim=-1)
    return gamma - modulus - p_w * torch.sin(radians / 2).abs().sum(-1)


def near_multiples_of_pi(c, q, gamma, offsets):
    """Moves candidate phases so that each half angle is `n * pi + offset` (n in -2..2)."""
    D = c.shape[-1] // 2
    half = 0.5 * math.pi * D / (gamma + 2.0)
    n = torch.randint(-2, 3, c[..., D:].shape, dtype=torch.float64)
    eps = offsets[torch.randint(0, len(offsets), n.shape)]
    with torch.no_grad():
        c[..., D:] = q[..., 2 * D : 3 * D] + (n * math.pi + eps) / half


@pytest.mark.parametrize("shapes", [((6, 1), (6, 9)), ((6,), (6,)), ((1,), (4, 3))])
def test_match_values_and_gradients_equal_the_direct_formula(shapes):
    """Broadcast query/candidate shapes (training's (B, 1) x (B, K), positives' (B,) x (B,),
    one query against a block); half angles placed 1e-9 to 1e-3 rad from multiples of pi,
    where |sin| turns, and moduli, biases and weights of either sign."""
    torch.manual_seed(0)
    D, gamma = 7, 6.0
    (q_lead, c_lead) = shapes
    q = (3 * torch.randn(*q_lead, 3 * D + 1, dtype=torch.float64)).requires_grad_()
    c = (3 * torch.randn(*c_lead, 2 * D, dtype=torch.float64)).requires_grad_()
    offsets = torch.tensor([1e-9, -1e-9, 1e-6, -1e-6, 1e-3, -1e-3, 0.4], dtype=torch.float64)
    near_multiples_of_pi(c, q.expand(*torch.broadcast_shapes(q_lead, c_lead), -1), gamma, offsets)
    weights = torch.randn(torch.broadcast_shapes(q_lead, c_lead), dtype=torch.float64)
    got = hake.HAKE.match(q, c, gamma)
    want = direct_match(q, c, gamma)
    assert got.grad_fn is not None and "_Match" in type(got.grad_fn).__name__
    assert torch.allclose(got, want, rtol=1e-12, atol=1e-12)
    g_got = torch.autograd.grad((got * weights).sum(), (q, c))
    g_want = torch.autograd.grad((want * weights).sum(), (q, c))
    for x, y in zip(g_got, g_want, strict=True):
        assert x.shape == y.shape
        assert torch.allclose(x, y, rtol=1e-10, atol=1e-10)
    with torch.no_grad():  # the no-gradient path: the same numbers
        assert torch.allclose(hake.HAKE.match(q, c, gamma), want, rtol=1e-12, atol=1e-12)


def test_match_passes_gradcheck_and_stays_finite_at_a_zero_distance():
    torch.manual_seed(1)
    D, gamma = 4, 9.0
    q = torch.randn(3, 1, 3 * D + 1, dtype=torch.float64, requires_grad=True)
    c = torch.randn(3, 5, 2 * D, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda q, c: hake.HAKE.match(q, c, gamma), (q, c))
    # a candidate whose modulus part is exactly a / s: the sqrt is clamped, its gradient 0
    # (as autograd of the clamped formula), not inf or NaN
    with torch.no_grad():
        q[0, 0, D : 2 * D] = 2.0
        c[0, 2, :D] = q[0, 0, :D] / 2.0
    score = hake.HAKE.match(q, c, gamma)
    g_q, g_c = torch.autograd.grad(score.sum(), (q, c))
    assert torch.isfinite(g_q).all() and torch.isfinite(g_c).all()
    assert (g_c[0, 2, :D] == 0).all()


def direct_scores(model: KGEModel, tri: torch.Tensor) -> torch.Tensor:
    """The paper's score of triples `(..., 3)` from the model's parameters (phases in the
    stored units times `phase_scale`), differentiable in them."""
    D, k = model.dim, model.phase_scale
    h, r, t = model.entity[tri[..., 0]], model.relation[tri[..., 1]], model.entity[tri[..., 2]]
    r_m, r_b = r[..., D : 2 * D].abs(), r[..., 2 * D :]
    b = torch.maximum(r_b.clamp(max=1), -r_m)
    modulus = torch.linalg.vector_norm(h[..., :D] * (r_m + b) - t[..., :D] * (1 - b), dim=-1)
    phase = torch.sin((h[..., D:] + r[..., :D] - t[..., D:]) * k / 2).abs().sum(-1)
    p_w, m_w = model.hake_weights
    return model.gamma - m_w.abs() * modulus - p_w * phase


def test_model_gradients_equal_the_papers_formula():
    """Every parameter's gradient (entities, relations, the two weights) from the model's
    scoring (query/match, both sides corrupted in one batch) equals autograd of the
    paper's formula."""
    torch.manual_seed(2)
    model = KGEModel("hake", 25, 4, 6, 6.0).double()
    with torch.no_grad():  # off the authors' start: negative moduli, biases past both clamps
        model.relation[:, 6:].uniform_(-2.0, 2.0)
        model.hake_weights.copy_(torch.tensor([0.7, -1.3]))
    pos = torch.stack(
        [torch.randint(0, 25, (12,)), torch.randint(0, 4, (12,)), torch.randint(0, 25, (12,))], 1
    )
    head = torch.arange(12) % 2 == 0
    cand = torch.randint(0, 25, (12, 8))
    weights = torch.randn(12, 8, dtype=torch.float64)
    params = (model.entity, model.relation, model.hake_weights)
    got = model.score_candidates(pos, head, cand)
    want = direct_scores(model, corrupt(pos, cand, head))
    assert torch.allclose(got, want, rtol=1e-12, atol=1e-12)
    g_got = torch.autograd.grad((got * weights).sum(), params)
    g_want = torch.autograd.grad((want * weights).sum(), params)
    for x, y in zip(g_got, g_want, strict=True):
        assert torch.allclose(x, y, rtol=1e-10, atol=1e-10)


def test_compiled_training_loss_has_the_eager_gradients(monkeypatch):
    """The training step's compiled loss (the hand-written backward traced by dynamo) gives
    the eager gradients."""
    from demix_core import compile as comp
    from demix_core.training import _loss_core

    monkeypatch.delenv("DEMIX_NO_COMPILE", raising=False)
    torch.manual_seed(4)
    model = KGEModel("hake", 40, 3, 8, 6.0)
    pos = torch.stack(
        [torch.randint(0, 40, (16,)), torch.randint(0, 3, (16,)), torch.randint(0, 40, (16,))], 1
    )
    head = torch.rand(16) < 0.5
    cand = torch.randint(0, 40, (16, 5))

    def grads(core):
        model.zero_grad()
        anchor = model.ent(torch.where(head, pos[:, 2], pos[:, 0]))
        target = model.ent(torch.where(head, pos[:, 0], pos[:, 2]))
        args = (anchor, model.rel(pos[:, 1]), target, head, model.ent(cand))
        core(model.scorer, model.gamma, *args, None, None, None, 1.0).backward()
        return [p.grad.clone() for p in (model.entity, model.relation, model.hake_weights)]

    eager = grads(_loss_core)
    comp.set_compile(True)
    try:
        compiled = grads(comp.maybe_compiled("test_hake_loss", _loss_core))
    finally:
        comp.set_compile(False)
    assert not comp.notices or "test_hake_loss" not in " ".join(comp.notices)
    for x, y in zip(compiled, eager, strict=True):
        assert torch.allclose(x, y, rtol=1e-4, atol=1e-6)
