"""ganlib.divergences against closed forms, autograd and SciPy."""

import math
import sys
import types

import pytest
import scipy.stats
import torch
import torch.nn.functional as F

from ganlib import data, divergences as dv, metrics, theory

F64 = torch.float64


# ------------------------------------------------------------- dynamics


@pytest.mark.parametrize("lr", [0.05, 0.1, 0.5])
def test_simultaneous_gda_on_the_bilinear_game_spirals_out(lr):
    path = dv.simulate_gda(dv.bilinear_losses, 0.3, -0.8, lr, 50)
    r = path.norm(dim=1)
    assert torch.allclose(r[1:] / r[:-1],
                          torch.full((50,), math.sqrt(1 + lr ** 2),
                                     dtype=F64), rtol=1e-12)


@pytest.mark.parametrize("lr", [0.05, 0.1, 0.5])
def test_alternating_gda_conserves_its_quadratic_form(lr):
    path = dv.simulate_gda(dv.bilinear_losses, 1.0, 0.5, lr, 500,
                           alternating=True)
    x, y = path[:, 0], path[:, 1]
    q = x ** 2 + y ** 2 + lr * x * y
    assert (q - q[0]).abs().max() < 1e-12
    assert path.norm(dim=1).max() < 2.0  # bounded, and not converging
    assert path.norm(dim=1)[-50:].min() > 0.5


def test_gda_steps_by_hand():
    # one step from (x, y) = (1, 2) with lr 0.1: x descends xy, y ascends
    sim = dv.simulate_gda(dv.bilinear_losses, 1.0, 2.0, 0.1, 1)[1]
    assert torch.allclose(sim, torch.tensor([1 - 0.1 * 2, 2 + 0.1 * 1],
                                            dtype=F64))
    # alternating: y first, then x answers the new y
    alt = dv.simulate_gda(dv.bilinear_losses, 1.0, 2.0, 0.1, 1,
                          alternating=True)[1]
    y_new = 2 + 0.1 * 1
    assert torch.allclose(alt, torch.tensor([1 - 0.1 * y_new, y_new],
                                            dtype=F64))


def test_normal_nodes_integrate_the_normal_moments():
    z, w = dv.normal_nodes(32)
    assert w.sum().item() == pytest.approx(1.0, abs=1e-12)
    assert (w * z).sum().item() == pytest.approx(0.0, abs=1e-12)
    assert (w * z ** 2).sum().item() == pytest.approx(1.0, abs=1e-12)
    assert (w * z ** 4).sum().item() == pytest.approx(3.0, abs=1e-10)


def test_dirac_gan_losses_without_noise():
    theta = torch.tensor(0.7, dtype=F64)
    psi = torch.tensor(-1.3, dtype=F64)
    loss_D, loss_G = dv.dirac_gan_losses(theta, psi, gamma=0.4)
    u = psi * theta
    assert loss_D.item() == pytest.approx(
        math.log(2) + F.softplus(u).item() + 0.2 * 1.3 ** 2, rel=1e-12)
    assert loss_G.item() == pytest.approx(-F.softplus(u).item(), rel=1e-12)
    _, loss_ns = dv.dirac_gan_losses(theta, psi, nonsaturating=True)
    assert loss_ns.item() == pytest.approx(F.softplus(-u).item(), rel=1e-12)


def test_dirac_gan_losses_with_noise_match_a_fine_quadrature():
    theta = torch.tensor(0.5, dtype=F64)
    psi = torch.tensor(1.5, dtype=F64)
    sigma = 0.8
    loss_D, loss_G = dv.dirac_gan_losses(theta, psi, noise_std=sigma)
    eps = theory.grid(-12 * sigma, 12 * sigma, 20001)
    w = dv.normal_logpdf(eps, 0.0, sigma).exp()
    real = torch.trapezoid(w * F.softplus(-psi * eps), eps)
    fake = torch.trapezoid(w * F.softplus(psi * (theta + eps)), eps)
    assert loss_D.item() == pytest.approx((real + fake).item(), rel=1e-9)
    assert loss_G.item() == pytest.approx(-fake.item(), rel=1e-9)


@pytest.mark.parametrize("theta, psi, lr, gamma", [
    (1.0, 1.0, 0.1, 0.0), (0.7, -1.3, 0.2, 0.5), (-3.0, 2.0, 0.05, 1.0),
    (6.0, 5.0, 0.1, 0.0)])
def test_dirac_gan_step_is_one_autograd_step(theta, psi, lr, gamma):
    by_hand = dv.dirac_gan_step(theta, psi, lr, gamma)
    by_autograd = dv.simulate_gda(
        lambda t, p: dv.dirac_gan_losses(t, p, gamma=gamma), theta, psi,
        lr, 1)[1]
    assert torch.allclose(torch.tensor(by_hand, dtype=F64), by_autograd,
                          rtol=1e-12, atol=1e-14)


def test_dirac_gan_converges_with_r1_and_with_instance_noise_only():
    def final(**setting):
        alternating = setting.pop("alternating", False)
        path = dv.simulate_gda(
            lambda t, p: dv.dirac_gan_losses(t, p, **setting), 1.0, 1.0,
            0.2, 300, alternating=alternating)
        return path[-1].norm().item()

    assert final() > 1.4  # spirals out from sqrt(2)
    assert 0.5 < final(alternating=True) < 2.0  # circles
    assert final(gamma=1.0) < 1e-6
    assert final(noise_std=1.0) < 1e-3


# ------------------------------------------------------ disjoint supports


def test_normal_logpdf_is_torch_normal():
    x = torch.linspace(-40, 40, 81, dtype=F64)
    expected = torch.distributions.Normal(
        torch.tensor(1.5, dtype=F64), torch.tensor(0.3, dtype=F64)).log_prob(x)
    assert torch.allclose(dv.normal_logpdf(x, 1.5, 0.3), expected,
                          rtol=1e-12)


def _jsd_narrow(theta, s, x):
    return theory.jsd(lambda t: dv.normal_logpdf(t, 0.0, s).exp(),
                      lambda t: dv.normal_logpdf(t, theta, s).exp(), x)


@pytest.mark.parametrize("theta", [0.03, 0.1, 0.2])
def test_minimax_gradient_at_d_star_is_twice_the_jsd_slope(theta):
    s, h = 0.05, 1e-5
    x = theory.grid(-1.0, 1.5, 25001)
    z = theory.grid(-20.0, 20.0, 8001)
    grad = dv.g_grad_at_optimal_d(theta, s, lambda a: -F.softplus(a), z)
    slope = 2 * (_jsd_narrow(theta + h, s, x)
                 - _jsd_narrow(theta - h, s, x)).item() / (2 * h)
    assert grad == pytest.approx(slope, rel=1e-5)


def test_gradients_at_d_star_far_apart():
    s = 0.05
    z = theory.grid(-25.0, 25.0, 10001)
    assert abs(dv.g_grad_at_optimal_d(1.0, s, lambda a: -F.softplus(a),
                                      z)) < 1e-18
    # the non-saturating gradient is theta / s^2 once D* is sure
    ns = dv.g_grad_at_optimal_d(1.0, s, lambda a: F.softplus(-a), z)
    assert ns == pytest.approx(1.0 / s ** 2, rel=1e-6)


def test_jsd_uniform_matches_quadrature():
    w = 0.5
    x = theory.grid(-2.0, 3.0, 500001)

    def uniform(a):
        return lambda t: ((t >= a) & (t <= a + w)).double() / w

    shifts = torch.tensor([-0.7, -0.2, 0.0, 0.1, 0.3, 0.5, 1.2], dtype=F64)
    closed = dv.jsd_uniform(w, shifts)
    quad = torch.stack([theory.jsd(uniform(0.0), uniform(d.item()), x)
                        for d in shifts])
    assert torch.allclose(closed, quad, atol=2e-4)
    assert closed[-1].item() == pytest.approx(math.log(2))


# ------------------------------------------------------------ Wasserstein


def test_mixture_cdf_is_scipys():
    p = data.mixture_1d([-1.0, 2.0], [0.5, 1.5], [0.3, 0.7])
    x = torch.linspace(-5, 6, 23, dtype=F64)
    expected = (0.3 * scipy.stats.norm.cdf(x.numpy(), -1.0, 0.5)
                + 0.7 * scipy.stats.norm.cdf(x.numpy(), 2.0, 1.5))
    assert torch.allclose(dv.mixture_cdf(p, x),
                          torch.from_numpy(expected), atol=1e-7)


def test_w1_of_translates_is_the_shift():
    x = theory.grid(-10.0, 14.0, 24001)
    p, q = data.gaussian_1d(0.0, 1.3), data.gaussian_1d(3.0, 1.3)
    w1 = dv.w1_cdf(dv.mixture_cdf(p, x), dv.mixture_cdf(q, x), x)
    assert w1.item() == pytest.approx(3.0, abs=1e-6)


def test_w1_sorted_is_scipys_for_any_sizes():
    g = torch.Generator().manual_seed(0)
    for n, m in [(50, 50), (50, 17), (1, 9), (200, 333)]:
        a = torch.randn(n, generator=g, dtype=F64)
        b = 2 * torch.rand(m, generator=g, dtype=F64)
        expected = scipy.stats.wasserstein_distance(a.numpy(), b.numpy())
        assert dv.w1_sorted(a, b).item() == pytest.approx(expected,
                                                          rel=1e-10)
        assert dv.w1_sorted(b, a).item() == pytest.approx(expected,
                                                          rel=1e-10)


def test_w1_sorted_equal_sizes_is_the_mean_sorted_gap():
    a = torch.tensor([3.0, 1.0, 2.0])
    b = torch.tensor([0.0, 5.0, 1.0])
    # sorted: (1, 2, 3) against (0, 1, 5)
    assert dv.w1_sorted(a, b).item() == pytest.approx((1 + 1 + 2) / 3)


def test_w1_sorted_rejects_bad_samples():
    with pytest.raises(ValueError, match="1-D"):
        dv.w1_sorted(torch.zeros(3, 1), torch.zeros(3))
    with pytest.raises(ValueError, match="non-empty"):
        dv.w1_sorted(torch.zeros(0), torch.zeros(3))


def test_spectral_norm_critic_is_at_most_1_lipschitz():
    torch.manual_seed(0)
    critic = dv.make_critic("sn")
    opt = torch.optim.Adam(critic.parameters(), lr=1e-2)
    p, q = data.gaussian_1d(0.0, 1.0), data.gaussian_1d(3.0, 1.0)
    for _ in range(30):
        dv.critic_step(critic, opt, p(64), q(64), "sn")
    x = torch.linspace(-5, 8, 2001)[:, None]
    assert dv.critic_slope(critic, x) <= 1.0 + 1e-2


def test_clipped_critic_keeps_its_weights_in_the_box():
    torch.manual_seed(0)
    critic = dv.make_critic("clip")
    opt = torch.optim.Adam(critic.parameters(), lr=1e-1)
    p, q = data.gaussian_1d(0.0, 1.0), data.gaussian_1d(3.0, 1.0)
    gap = dv.critic_step(critic, opt, p(64), q(64), "clip", clip=0.02)
    assert isinstance(gap, float)
    for w in critic.parameters():
        assert w.abs().max() <= 0.02


def test_gradient_penalty_critic_learns_the_w1_of_two_gaussians():
    torch.manual_seed(0)
    critic = dv.make_critic("gp")
    opt = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))
    p, q = data.gaussian_1d(0.0, 1.0), data.gaussian_1d(2.0, 1.0)
    for _ in range(300):
        dv.critic_step(critic, opt, p(256), q(256), "gp")
    with torch.no_grad():
        est = (critic(p(20000)).mean() - critic(q(20000)).mean()).item()
    assert est == pytest.approx(2.0, abs=0.3)


def test_critic_slope_of_a_linear_map():
    lin = torch.nn.Linear(1, 1)
    with torch.no_grad():
        lin.weight.fill_(-2.5)
    assert dv.critic_slope(lin, torch.randn(10, 1)) == pytest.approx(2.5)


# ---------------------------------------------------------- f-divergences


@pytest.mark.parametrize("name", list(dv.f_family()))
def test_each_generator_its_conjugate_and_derivative(name):
    f, f_conj, f_prime = dv.f_family()[name]
    one = torch.tensor(1.0, dtype=F64)
    # the GAN's f is shifted: D_f = 2 JSD - log 4, so f(1) = -log 4
    at_one = -math.log(4) if name == "GAN" else 0.0
    assert f(one).item() == pytest.approx(at_one, abs=1e-12)
    # f' by autograd
    u = torch.linspace(0.2, 4.0, 9, dtype=F64, requires_grad=True)
    grad, = torch.autograd.grad(f(u).sum(), u)
    assert torch.allclose(f_prime(u.detach()), grad, rtol=1e-10)
    # f*(t) = sup_u (u t - f(u)), at t = f'(u0), where the sup is at u0
    u0 = torch.tensor([0.3, 1.0, 2.5], dtype=F64)
    t = f_prime(u0)
    u_grid = torch.linspace(1e-4, 30.0, 300001, dtype=F64)
    sup = (u_grid[None] * t[:, None] - f(u_grid)[None]).max(dim=1).values
    assert torch.allclose(f_conj(t), sup, atol=1e-6)
    assert torch.allclose(f_conj(t), u0 * t - f(u0), rtol=1e-10)


def _normals(x):
    p = dv.normal_logpdf(x, 0.0, 1.0).exp()
    q = dv.normal_logpdf(x, 1.0, 1.5).exp()
    return p, q


def test_f_divergences_match_closed_forms():
    x = theory.grid(-12.0, 12.0, 8001)
    p, q = _normals(x)
    fam = dv.f_family()
    m1, s1, m2, s2 = 0.0, 1.0, 1.0, 1.5
    kl = math.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - .5
    rkl = math.log(s1 / s2) + (s2 ** 2 + (m1 - m2) ** 2) / (2 * s1 ** 2) - .5
    bc = math.sqrt(2 * s1 * s2 / (s1 ** 2 + s2 ** 2)) * math.exp(
        -(m1 - m2) ** 2 / (4 * (s1 ** 2 + s2 ** 2)))
    gan = 2 * theory.jsd(lambda t: _normals(t)[0], lambda t: _normals(t)[1],
                         x).item() - math.log(4)
    expected = {"KL": kl, "reverse KL": rkl, "squared Hellinger": 2 - 2 * bc,
                "GAN": gan,
                "Pearson chi2": torch.trapezoid(p ** 2 / q, x).item() - 1}
    for name, value in expected.items():
        got = dv.f_divergence(fam[name][0], p, q, x).item()
        assert got == pytest.approx(value, rel=1e-7, abs=1e-9), name


@pytest.mark.parametrize("name", list(dv.f_family()))
def test_the_fenchel_bound_is_tight_at_t_star_and_loose_elsewhere(name):
    x = theory.grid(-10.0, 10.0, 4001)
    p, q = _normals(x)
    f, f_conj, f_prime = dv.f_family()[name]
    t_star = f_prime(p / q)
    d_f = dv.f_divergence(f, p, q, x)
    assert dv.fenchel_bound(f_conj, t_star, p, q, x).item() == \
        pytest.approx(d_f.item(), abs=1e-12)
    assert dv.fenchel_bound(f_conj, t_star - 0.2, p, q, x) < d_f - 1e-3


def test_pointwise_argmax_finds_each_points_optimum():
    p = torch.tensor([1.0, 2.0, 3.0], dtype=F64)
    q = torch.ones(3, dtype=F64)
    t = torch.linspace(0, 5, 501, dtype=F64)
    # -(t - p)^2 q is largest at t = p
    best = dv.pointwise_argmax(lambda p, q, t: -q * (t - p) ** 2, p, q, t)
    assert torch.allclose(best, p)


@pytest.mark.parametrize("a, b", [(0.0, 1.0), (-1.0, 1.0), (2.0, 5.0)])
def test_lsgan_optimal_d_minimises_the_pointwise_loss(a, b):
    x = theory.grid(-3.0, 3.0, 61)
    p, q = _normals(x)
    d = torch.linspace(-3.0, 6.0, 90001, dtype=F64)
    best = dv.pointwise_argmax(
        lambda p, q, d: -(0.5 * p * (d - b) ** 2 + 0.5 * q * (d - a) ** 2),
        p, q, d)
    assert torch.allclose(dv.lsgan_optimal_d(p, q, a, b), best, atol=1e-4)


# -------------------------------------------------- Frechet distance, FID


def test_frechet_gaussians_is_metrics_frechet_distance():
    g = torch.Generator().manual_seed(3)
    a = torch.randn(500, 4, generator=g, dtype=F64) @ torch.randn(
        4, 4, generator=g, dtype=F64)
    b = torch.randn(400, 4, generator=g, dtype=F64) + 1.0
    fd = dv.frechet_gaussians(a.mean(0), torch.cov(a.T), b.mean(0),
                              torch.cov(b.T))
    assert fd.item() == pytest.approx(metrics.frechet_distance(a, b),
                                      rel=1e-9)


def test_frechet_gaussians_closed_forms():
    one = torch.ones(1, 1, dtype=F64)
    fd = dv.frechet_gaussians(torch.tensor([1.0], dtype=F64), 4 * one,
                              torch.tensor([-0.5], dtype=F64), 0.25 * one)
    assert fd.item() == pytest.approx(1.5 ** 2 + 1.5 ** 2)
    cov = torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=F64)
    mu = torch.tensor([0.3, -1.0], dtype=F64)
    assert dv.frechet_gaussians(mu, cov, mu, cov).item() == \
        pytest.approx(0.0, abs=1e-12)


def test_inception_weights_never_download(monkeypatch, tmp_path):
    monkeypatch.setattr(dv.importlib.util, "find_spec", lambda name: None)
    path, why = dv.inception_weights()
    assert path is None and "torch-fidelity" in why
    monkeypatch.setattr(dv.importlib.util, "find_spec",
                        lambda name: object())
    missing = tmp_path / "no-such.pth"
    monkeypatch.setenv("GANLIB_INCEPTION_WEIGHTS", str(missing))
    path, why = dv.inception_weights()
    assert path is None and str(missing) in why and "never downloads" in why
    missing.write_bytes(b"weights")
    assert dv.inception_weights() == (missing, "")


def test_inception_fid_feeds_rgb_in_0_1_from_the_weights_file(monkeypatch,
                                                             tmp_path):
    seen = {}

    class FakeFID:
        def __init__(self, feature, normalize, feature_extractor_weights_path):
            seen["init"] = (feature, normalize, feature_extractor_weights_path)
            seen["updates"] = []

        def update(self, x, real):
            seen["updates"].append((tuple(x.shape), x.min().item(),
                                    x.max().item(), real))

        def compute(self):
            return torch.tensor(1.25)

    fid_module = types.ModuleType("torchmetrics.image.fid")
    fid_module.FrechetInceptionDistance = FakeFID
    for name, module in (("torchmetrics", types.ModuleType("torchmetrics")),
                         ("torchmetrics.image",
                          types.ModuleType("torchmetrics.image")),
                         ("torchmetrics.image.fid", fid_module)):
        monkeypatch.setitem(sys.modules, name, module)
    weights = tmp_path / dv.INCEPTION_FILE
    x = torch.linspace(-1, 1, 5 * 28 * 28).reshape(5, 1, 28, 28)
    assert dv.inception_fid(x, -x[:3], weights) == 1.25
    assert seen["init"] == (2048, True, str(weights))
    (shape_a, lo_a, hi_a, real_a), (shape_b, lo_b, hi_b, real_b) = \
        seen["updates"]
    assert (shape_a, lo_a, hi_a, real_a) == ((5, 3, 28, 28), 0.0, 1.0, True)
    assert shape_b == (3, 3, 28, 28) and not real_b
    assert 0.0 <= lo_b <= hi_b <= 1.0
