"""Training tricks: oracle tests, shapes and smoke runs of every method."""

import pytest
import torch
import torch.nn.functional as F
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


def test_one_sided_label_smoothing_is_bce_with_target_0_9():
    real, fake = torch.randn(10), torch.randn(10)
    ref = F.binary_cross_entropy_with_logits(real, torch.full((10,), 0.9)) \
        + F.binary_cross_entropy_with_logits(fake, torch.zeros(10))
    assert torch.allclose(tricks.d_loss_one_sided(real, fake, 0.1), ref)
    assert torch.allclose(tricks.d_loss_one_sided(real, fake, 0.0),
                          losses.d_loss(real, fake))
    with pytest.raises(ValueError):
        tricks.d_loss_one_sided(real, fake, 1.0)


class LinearCritic(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([0.3, -2.0]))
        self.b = nn.Parameter(torch.tensor(0.5))

    def forward(self, x):
        return x @ self.w + self.b


def test_gradient_penalty_of_a_linear_critic():
    D = LinearCritic()  # its gradient is w everywhere
    gp = tricks.gradient_penalty(D, torch.randn(16, 2), torch.randn(16, 2))
    expected = (D.w.norm() - 1) ** 2
    assert torch.allclose(gp, expected)


def test_gradient_penalty_matches_per_sample_autograd():
    D = tricks.ToyDiscriminator(2, hidden=(8,))
    x_real, x_fake = torch.randn(2, 5, 2), torch.randn(2, 5, 2)
    torch.manual_seed(3)
    gp = tricks.gradient_penalty(D, x_real, x_fake)
    torch.manual_seed(3)
    eps = torch.rand(2, 5, 1)  # the same draw as inside the penalty
    x_hat = eps * x_real + (1 - eps) * x_fake
    norms = []
    for s in range(2):
        for i in range(5):
            xi = x_hat[:, i:i + 1].clone().requires_grad_(True)
            out = D(xi)[s]  # model s on sample i (models are independent)
            g, = torch.autograd.grad(out, xi)
            norms.append(g[s, 0].norm())
    expected = ((torch.stack(norms) - 1) ** 2).mean()
    assert torch.allclose(gp, expected, atol=1e-6)
    gp.backward()  # differentiable: the critic can descend it
    assert D.head.weight.grad is not None


class LinearG(nn.Module):
    latent_dim = 1

    def __init__(self):
        super().__init__()
        self.A = nn.Parameter(torch.tensor([[0.7, -0.4]]))
        self.c = nn.Parameter(torch.tensor([0.2, 0.1]))

    def forward(self, z):
        return z @ self.A + self.c


def _unrolled_grad(k, lr=0.5):
    torch.manual_seed(0)
    G, D = LinearG(), LinearCritic()
    x_real, z = torch.randn(8, 2), torch.randn(8, 1)
    opt = torch.optim.SGD(G.parameters(), lr=1.0)
    before = [p.detach().clone() for p in G.parameters()]
    step = tricks.UnrolledStep(lambda n: x_real, k=k, lr=lr)
    step(G, D, opt, losses.g_loss_nonsaturating, z)
    return [b - p.detach() for b, p in zip(before, G.parameters())], \
        (G, D, x_real, z, before)


def test_unrolled_k0_is_the_plain_generator_gradient():
    grads, (G, D, x_real, z, before) = _unrolled_grad(k=0)
    with torch.no_grad():
        for p, b in zip(G.parameters(), before):
            p.copy_(b)
    loss = losses.g_loss_nonsaturating(D(G(z)))
    plain = torch.autograd.grad(loss, list(G.parameters()))
    for g, p in zip(grads, plain):
        assert torch.allclose(g, p, atol=1e-6)


def test_unrolled_k1_matches_a_hand_unrolled_step():
    lr = 0.5
    grads, (G, D, x_real, z, before) = _unrolled_grad(k=1, lr=lr)
    A = before[0].clone().requires_grad_(True)
    c = before[1].clone().requires_grad_(True)
    w, b = D.w.detach(), D.b.detach()
    x_fake = z @ A + c
    a_real, a_fake = x_real @ w + b, x_fake @ w + b
    # dL_D/dw and dL_D/db of softplus(-a_real) + softplus(a_fake), by hand
    s_real, s_fake = torch.sigmoid(-a_real), torch.sigmoid(a_fake)
    dw = (-s_real[:, None] * x_real).mean(0) + (s_fake[:, None] * x_fake
                                                 ).mean(0)
    db = -s_real.mean() + s_fake.mean()
    w1, b1 = w - lr * dw, b - lr * db
    loss = F.softplus(-(x_fake @ w1 + b1)).mean()
    hand = torch.autograd.grad(loss, [A, c])
    for g, h in zip(grads, hand):
        assert torch.allclose(g, h, atol=1e-6)
    # the plain gradient, against the current D, is a different vector
    A2 = before[0].clone().requires_grad_(True)
    x_fake2 = z @ A2 + before[1]
    plain, = torch.autograd.grad(F.softplus(-(x_fake2 @ w + b)).mean(), A2)
    assert not torch.allclose(grads[0], plain, atol=1e-4)


def test_feature_matching_step_oracle():
    G = tricks.ToyGenerator(1, 4, (8,))
    D = tricks.ToyDiscriminator(1, hidden=(8, 6))
    x_real = torch.randn(1, 10, 2)
    z = torch.randn(1, 10, 4)
    d_before = [p.detach().clone() for p in D.parameters()]
    with torch.no_grad():
        expected = (D.features(x_real).mean(1)
                    - D.features(G(z)).mean(1)).pow(2).sum()
    step = tricks.FeatureMatchingStep(lambda n: x_real)
    opt = torch.optim.SGD(G.parameters(), lr=0.1)
    loss = step(G, D, opt, None, z)
    assert torch.allclose(loss, expected, atol=1e-6)
    assert all(torch.equal(a, b) for a, b in zip(d_before, D.parameters()))


def test_gap_swaps_discriminators_and_their_adam_state():
    D = tricks.ToyDiscriminator(6, hidden=(4,))  # 2 seeds x 3 pairs
    opt = torch.optim.Adam(D.parameters())
    D(torch.randn(6, 4, 2)).sum().backward()
    opt.step()
    w0 = D.head.weight.detach().clone()
    m0 = opt.state[D.head.weight]["exp_avg"].clone()
    swap = tricks.SwapDiscriminators(D, opt, n_groups=2, n_pairs=3)
    torch.manual_seed(5)
    perm = swap.permutation()
    torch.manual_seed(5)
    swap(1, None, D, None)
    assert sorted(perm[:3].tolist()) == [0, 1, 2]  # shuffled within a seed
    assert sorted(perm[3:].tolist()) == [3, 4, 5]
    assert torch.equal(D.head.weight, w0[perm])
    assert torch.equal(opt.state[D.head.weight]["exp_avg"], m0[perm])
    with pytest.raises(ValueError):
        tricks.SwapDiscriminators(D, opt, n_groups=4, n_pairs=2)


def test_instance_noise_anneals_to_the_plain_discriminator():
    D = tricks.ToyDiscriminator(1, hidden=(4,))
    noisy = tricks.InstanceNoise(D, sigma=0.5)
    x = torch.randn(1, 6, 2)
    assert not torch.allclose(noisy(x), D(x))
    tricks.AnnealNoise(0.5, steps=10)(10, None, noisy, None)
    assert noisy.sigma == 0.0 and torch.allclose(noisy(x), D(x))


def test_lr_decay_is_linear():
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    decay = tricks.LRDecay([opt], steps=10, final=0.2)
    decay(5, None, None, None)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.6)
    decay(10, None, None, None)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.2)


@pytest.mark.parametrize("method", tricks.METHODS)
def test_every_method_trains_a_few_steps(method):
    run = tricks.build_toy(method, data.ring8(), n_seeds=2, steps=3,
                           hidden=(8, 8), latent_dim=4, n_pairs=2)
    G = run["G"]
    # one protocol for the whole table: fresh noise for every G step
    assert run["kwargs"]["share_fake"] is False
    before = [p.detach().clone() for p in G.parameters()]
    hist = train.train(G, run["D"], run["sample_real"], batch_size=8,
                       progress=False, **run["kwargs"])
    assert len(hist.step) == 3
    assert any(not torch.equal(a, b) for a, b in zip(before, G.parameters()))
    x = tricks.toy_samples(G, 50, run["n_per_seed"])
    assert x.shape == (2, 50, 2) and torch.isfinite(x).all()
    with pytest.raises(ValueError):
        tricks.build_toy("no such trick", data.ring8(), 1, 1)


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


@pytest.mark.parametrize("method", ["non-saturating", "GAP"])
def test_one_run_trains_both_benchmarks(method):
    ring, grid = data.ring8(), data.grid25()
    run = tricks.build_toy(method, [ring, grid], n_seeds=2, steps=2,
                           hidden=(8, 8), latent_dim=4, n_pairs=2)
    per_seed = run["n_per_seed"]
    assert run["G"].n_models == 2 * 2 * per_seed
    train.train(run["G"], run["D"], run["sample_real"], batch_size=8,
                progress=False, **run["kwargs"])
    x = tricks.toy_samples(run["G"], 50, per_seed)
    assert x.shape == (4, 50, 2)  # ring seeds 0, 1, then grid seeds 0, 1


def test_drs_accept_prob_is_exp_of_the_logit_gap():
    logits = torch.tensor([-3.0, -1.0, 0.5, 2.0])
    exact = tricks.drs_accept_prob(logits, 2.0)
    assert torch.allclose(exact, torch.exp(logits - 2.0))
    # F is the logit of that probability: gamma = 0 gives it back
    assert torch.allclose(tricks.drs_accept_prob(logits, 2.0, gamma=0.0),
                          exact, atol=1e-5)
    # gamma < 0 accepts more, most of all the samples D rates low
    loose = tricks.drs_accept_prob(logits, 2.0, gamma=-2.0)
    assert (loose[:3] > exact[:3]).all() and (loose[:2] / exact[:2] > 5).all()
    assert tricks.drs_accept_prob(torch.tensor([5.0]), 2.0) == 1.0


def test_exact_rejection_with_the_true_ratio_samples_the_target():
    # G samples N(0, 1), the data are N(1, 1): log p_data / p_g = x - 0.5
    torch.manual_seed(0)
    x, rate = tricks.rejection_sample(lambda k: torch.randn(k),
                                      lambda x: x - 0.5, 4000,
                                      quantile=None)
    assert x.shape == (4000,)
    assert x.mean().item() == pytest.approx(1.0, abs=0.06)
    assert x.std().item() == pytest.approx(1.0, abs=0.06)
    assert 0.005 < rate < 0.1
    # a shifted gamma keeps more draws and lands between G and the data
    y, loose = tricks.rejection_sample(lambda k: torch.randn(k),
                                       lambda x: x - 0.5, 4000,
                                       quantile=0.5)
    assert loose > 3 * rate and 0.2 < y.mean().item() < 0.95


def test_rejection_sample_rejects_bad_arguments_and_gives_up_clearly():
    gen, logit = (lambda k: torch.randn(k)), (lambda x: x)
    with pytest.raises(ValueError, match="quantile"):
        tricks.rejection_sample(gen, logit, 10, quantile=1.0)
    with pytest.raises(ValueError, match="positive"):
        tricks.rejection_sample(gen, logit, 0)
    with pytest.raises(RuntimeError, match="lower `quantile`"):
        tricks.rejection_sample(gen, lambda x: 50 * x, 1000, quantile=None,
                                max_draws=20000)


def test_toy_rejection_keeps_each_seed_samples_its_own_d_rates_higher():
    torch.manual_seed(0)
    run = tricks.build_toy("non-saturating", data.ring8(), n_seeds=2,
                           steps=1, hidden=(8, 8), latent_dim=4)
    G, D = run["G"], run["D"]
    # D of seed 1 prefers points with large x, D of seed 0 small x
    with torch.no_grad():
        for p in D.parameters():
            p.zero_()
        D.body[0].weight[0, 0, 0], D.body[0].weight[1, 0, 0] = -1.0, 1.0
        D.body[2].weight[:, 0, 0] = 1.0
        D.head.weight[:, 0, 0] = 100.0  # G's untrained points lie close
    x, rates = tricks.toy_rejection_samples(G, D, 500, quantile=0.9)
    raw = tricks.toy_samples(G, 2000)
    assert x.shape == (2, 500, 2) and all(0 < r <= 1 for r in rates)
    assert x[0, :, 0].mean() < raw[0, :, 0].mean() - 0.01
    assert x[1, :, 0].mean() > raw[1, :, 0].mean() + 0.01
    packed = tricks.build_toy("PacGAN", data.ring8(), 1, 1, hidden=(8, 8))
    with pytest.raises(ValueError, match="on its own"):
        tricks.toy_rejection_samples(packed["G"], packed["D"], 10)
