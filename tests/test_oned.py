"""ganlib.oned: density estimate, measurements, recorder, fit, pictures."""

import math
from types import SimpleNamespace

import matplotlib.pyplot as plt
import pytest
import torch

from ganlib import data, models, oned


def test_kde_integrates_to_one_and_matches_a_gaussian():
    torch.manual_seed(0)
    x = 2.0 + 0.5 * torch.randn(20000)
    grid = torch.linspace(-1, 5, 601)
    p = oned.kde(x, grid)
    dx = (grid[1] - grid[0]).item()
    assert abs(p.sum().item() * dx - 1.0) < 1e-2
    exact = torch.exp(-0.5 * ((grid - 2) / 0.5) ** 2) / (0.5 * (2 * math.pi)
                                                         ** 0.5)
    assert (p - exact).abs().max().item() < 0.05


def test_kde_with_one_sample_is_the_kernel():
    grid = torch.tensor([0.0, 1.0])
    p = oned.kde(torch.tensor([0.0]), grid, bandwidth=1.0)
    assert torch.allclose(p, torch.tensor([1 / (2 * math.pi) ** 0.5,
                                           math.exp(-0.5) /
                                           (2 * math.pi) ** 0.5]))


def test_mu_sigma_error_by_hand():
    x = torch.tensor([3.0, 5.0])  # mean 4, std (biased) 1
    assert oned.mu_sigma(x) == pytest.approx((4.0, 1.0))
    err_mu, err_sigma = oned.mu_sigma_error(x, 5.0, 2.0)
    assert err_mu == pytest.approx(0.2) and err_sigma == pytest.approx(0.5)
    # mu = 0: the mean's error is relative to sigma
    assert oned.mu_sigma_error(x, 0.0, 2.0)[0] == pytest.approx(2.0)
    with pytest.raises(ValueError):
        oned.mu_sigma_error(x, 1.0, 0.0)


def test_mass_per_mode_by_hand():
    x = torch.tensor([-1.2, -0.9, 1.4, 1.6, 3.0, 10.0])[:, None]  # (n, 1)
    m = oned.mass_per_mode(x, [4.0, -1.0])
    # 1.4 is nearer -1 (2.4 away) than 4 (2.6 away); 1.6 is nearer 4
    assert torch.allclose(m, torch.tensor([3 / 6, 3 / 6]))
    assert oned.mass_per_mode(torch.zeros(5), [0.0, 9.0]).tolist() == \
        [1.0, 0.0]
    with pytest.raises(ValueError):
        oned.mass_per_mode(torch.zeros(3, 2), [0.0])
    with pytest.raises(ValueError):
        oned.mass_per_mode(torch.zeros(3), [])


def test_near_mode_fraction_by_hand():
    x = torch.tensor([-1.0, 0.0, 1.0, 2.5])
    assert oned.near_mode_fraction(x, [-1.0, 1.0], 0.5, n_std=1) == 0.5
    assert oned.near_mode_fraction(x, [-1.0, 1.0], [0.5, 1.0],
                                   n_std=1.4) == 0.75


def test_generate_shape_and_linear_g_statistics():
    G = models.MLPGenerator(1, 1, hidden=())
    with torch.no_grad():
        G.net[0].weight.fill_(-0.5)
        G.net[0].bias.fill_(3.0)
    x = oned.generate(G, 50000)
    assert x.shape == (50000,)
    mu, sigma = oned.mu_sigma(x)
    assert abs(mu - 3.0) < 0.02 and abs(sigma - 0.5) < 0.02


def test_recorder_reads_d_in_eval_mode_and_restores_modes():
    G = models.MLPGenerator(1, 1, hidden=(8,))
    D = models.MLPDiscriminator(1, hidden=(8, 8), dropout=0.5)
    rec = oned.Recorder(torch.linspace(-2, 2, 11), n_samples=64, every=1)
    rec(1, SimpleNamespace(G=G, D=D), None)
    rec(2, SimpleNamespace(G=G, D=D), None)
    assert G.training and D.training
    assert rec.steps == [1, 2] and rec.samples[0].shape == (64,)
    # dropout off: the same D gives the same D(x) twice
    assert torch.equal(rec.d_values[0], rec.d_values[1])
    assert ((rec.d_values[0] > 0) & (rec.d_values[0] < 1)).all()
    state = rec.state_dict()
    other = oned.Recorder(rec.grid, n_samples=64)
    other.load_state_dict(state)
    assert other.steps == [1, 2] and len(other.mu) == 2


@pytest.mark.parametrize("hidden, k, wd", [((), 1, 0.0), ((16, 16), 2, 1e-3)])
def test_fit_smoke(hidden, k, wd):
    target = data.mixture_1d([-1.0, 4.0], [0.5, 0.5])
    G = models.MLPGenerator(1, 1, hidden=hidden)
    D = models.MLPDiscriminator(1, hidden=(8, 8), dropout=0.2)
    before = [p.detach().clone() for p in G.parameters()]
    hist, rec = oned.fit(G, D, target, steps=10, k=k, weight_decay=wd,
                         batch_size=16, every=5, device=torch.device("cpu"))
    assert hist.step == list(range(1, 11)) and rec.steps == [5, 10]
    assert rec.d_values[0].shape == rec.grid.shape
    assert any(not torch.equal(b, p) for b, p in zip(before, G.parameters()))
    with pytest.raises(ValueError):
        oned.fit(G, D, data.ring8(), steps=1)


def test_default_grid_covers_modes_and_the_start():
    grid = oned.default_grid(data.mixture_1d([3.0, 8.0], [0.5, 1.0]))
    assert grid[0] <= -1.5 and grid[-1] >= 12.0


def test_pictures_run():
    target = data.gaussian_1d(1.0, 0.5)
    rec = oned.Recorder(oned.default_grid(target), n_samples=32, every=1)
    G = models.MLPGenerator(1, 1, hidden=())
    D = models.MLPDiscriminator(1, hidden=(4, 4))
    for it in (1, 2, 3):
        rec(it, SimpleNamespace(G=G, D=D), None)
    fig, axes = plt.subplots(1, 2)
    oned.plot_frame(axes[0], rec.grid, target, rec.samples[-1],
                    rec.d_values[-1], title="t")
    oned.plot_density_map(axes[1], rec, title="map")
    plt.close(fig)
    html = oned.animate_training(rec, target, max_frames=2)
    assert "<img" in html.data or "frames" in html.data
    # a default alt text names the run; a given one lands as it is
    assert 'alt="Animation of p_data, p_g and D(x)' in html.data
    html = oned.animate_training(rec, target, max_frames=2, alt="1-D run")
    assert '<img alt="1-D run"' in html.data
    with pytest.raises(ValueError):
        oned.animate_training(oned.Recorder(rec.grid), target)
