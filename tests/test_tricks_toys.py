"""Batched toy models: oracle tests and shapes of the layers, the toy
networks, spectral normalisation and the batched sampler."""

import pytest
import torch
from torch import nn

from ganlib import data, losses, train, tricks


def test_batched_linear_equals_separate_linear_layers():
    layer = tricks.BatchedLinear(3, 4, 5)
    x = torch.randn(3, 7, 4)
    for s in range(3):
        ref = x[s] @ layer.weight[s] + layer.bias[s]
        assert torch.allclose(layer(x)[s], ref, atol=1e-6)


def test_toy_shapes_and_packing():
    G = tricks.ToyGenerator(3, latent_dim=5, hidden=(8,))
    assert G(torch.randn(3, 12, 5)).shape == (3, 12, 2)
    D = tricks.ToyDiscriminator(3, hidden=(8, 8))
    assert D(torch.randn(3, 12, 2)).shape == (36,)
    pac = tricks.ToyDiscriminator(3, hidden=(8,), pack=4)
    assert pac(torch.randn(3, 12, 2)).shape == (9,)  # 3 packs per model
    with pytest.raises(ValueError, match="divisible"):
        pac(torch.randn(3, 10, 2))
    with pytest.raises(ValueError, match="shape"):
        D(torch.randn(12, 2))


def test_packed_input_concatenates_consecutive_samples():
    D = tricks.ToyDiscriminator(1, hidden=(4,), pack=2)
    x = torch.randn(1, 4, 2)
    lin = D.body[0]
    first = torch.cat([x[0, 0], x[0, 1]]) @ lin.weight[0] + lin.bias[0, 0]
    assert torch.allclose(lin(x.reshape(1, 2, 4))[0, 0], first, atol=1e-6)


def test_minibatch_discrimination_matches_a_loop():
    layer = tricks.MinibatchDiscrimination(2, in_features=3, n_kernels=4,
                                           kernel_dim=5)
    f = torch.randn(2, 6, 3)
    out = layer(f)
    assert out.shape == (2, 6, 7)
    for s in range(2):
        M = (f[s] @ layer.T[s]).view(6, 4, 5)
        for i in range(6):
            o = sum(torch.exp(-(M[i] - M[j]).abs().sum(-1))
                    for j in range(6) if j != i)
            assert torch.allclose(out[s, i, 3:], o, atol=1e-5)


def test_minibatch_discrimination_sees_a_collapsed_batch():
    layer = tricks.MinibatchDiscrimination(1, 2, n_kernels=3)
    same = torch.ones(1, 8, 2)
    spread = 10 * torch.randn(1, 8, 2)
    o_same, o_spread = layer(same)[..., 2:], layer(spread)[..., 2:]
    assert torch.allclose(o_same, torch.full_like(o_same, 7.0))  # B - 1
    assert (o_spread < o_same).all()


def test_batched_spectral_norm_matches_torch():
    torch.manual_seed(1)
    layer = tricks.BatchedLinear(2, 6, 4)
    W = layer.weight.detach().clone()
    tricks.batched_spectral_norm(layer)
    for _ in range(30):  # converge the power iteration
        layer(torch.randn(2, 3, 6))
    for s in range(2):
        ref = nn.Linear(6, 4, bias=False)
        ref.weight.data.copy_(W[s].T)  # nn.Linear stores (out, in)
        ref = nn.utils.parametrizations.spectral_norm(ref,
                                                      n_power_iterations=30)
        ref.train()
        ref(torch.randn(1, 6))
        assert torch.allclose(layer.weight[s].T, ref.weight, atol=1e-4)
        assert torch.linalg.matrix_norm(layer.weight[s].detach(), 2) == \
            pytest.approx(1.0, abs=1e-4)


def test_spectral_norm_discriminator_trains_without_error():
    D = tricks.ToyDiscriminator(2, hidden=(8,), spectral_norm=True)
    G = tricks.ToyGenerator(2, 4, (8,))
    opt = torch.optim.Adam(D.parameters())
    x = torch.randn(2, 8, 2)
    train.update_D(G, D, opt, losses.d_loss, x, torch.randn(2, 8, 4))


def test_sampler_shares_models_between_benchmarks_in_blocks():
    ring, grid = data.ring8(), data.grid25()
    sampler = tricks.BatchedSampler([ring, grid], n_models=4)
    x = sampler(500)
    assert x.shape == (4, 500, 2)
    # ring points lie on the circle of radius 2; grid points mostly do not
    radius = x.norm(dim=-1)
    assert torch.allclose(radius[:2], torch.full_like(radius[:2], 2.0),
                          atol=0.1)
    assert (radius[2:] - 2.0).abs().gt(0.5).float().mean() > 0.5
    with pytest.raises(ValueError, match="shared equally"):
        tricks.BatchedSampler([ring, grid], n_models=3)
    with pytest.raises(TypeError, match="GaussianMixture"):
        tricks.BatchedSampler([], n_models=2)
