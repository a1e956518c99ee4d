"""Oracle tests of ganlib.theory: densities, D*, JSD and V(D*, G)."""

import math

import pytest
import torch

from ganlib import data, theory

X = theory.grid(-15.0, 15.0, 6001)


def uniform(lo, hi):
    """The density of U(lo, hi), exact on the grid (no float32 rounding)."""
    return lambda x: ((x >= lo) & (x <= hi)).double() / (hi - lo)


def test_grid_is_float64_and_rejects_bad_bounds():
    x = theory.grid(-1.0, 1.0, 5)
    assert x.dtype == torch.float64 and x.tolist() == [-1, -0.5, 0, 0.5, 1]
    with pytest.raises(ValueError, match="hi > lo"):
        theory.grid(1.0, -1.0)


def test_jsd_of_identical_densities_is_zero():
    p = data.gaussian_1d(0.5, 1.3)
    assert theory.jsd(p, p, X).item() == pytest.approx(0.0, abs=1e-12)


def test_jsd_of_disjoint_densities_is_log_two():
    p, q = data.gaussian_1d(-8.0, 0.5), data.gaussian_1d(8.0, 0.5)
    assert theory.jsd(p, q, X).item() == pytest.approx(math.log(2), rel=1e-6)


def test_jsd_of_two_uniforms_by_hand():
    # p = U(0, 2), q = U(1, 3): m = 1/4 on the two private halves and 1/2
    # on the shared [1, 2]; only the private halves contribute, each
    # (1/2) * (1/2) * log((1/2) / (1/4)), so JSD = (1/2) log 2
    x = theory.grid(-1.0, 4.0, 50001)
    got = theory.jsd(uniform(0.0, 2.0), uniform(1.0, 3.0), x).item()
    assert got == pytest.approx(0.5 * math.log(2), rel=1e-3)


def test_jsd_is_symmetric_and_bounded():
    p, q = data.gaussian_1d(0.0, 1.0), data.mixture_1d([-1, 3], [0.5, 1.0])
    pq, qp = theory.jsd(p, q, X).item(), theory.jsd(q, p, X).item()
    assert pq == pytest.approx(qp, rel=1e-10)
    assert 0.0 < pq < math.log(2)


def test_value_at_optimum_is_minus_log4_plus_two_jsd():
    p = data.gaussian_1d(0.0, 1.0)
    for q in (data.gaussian_1d(1.0, 1.0), data.gaussian_1d(-2.0, 0.4),
              data.mixture_1d([-2, 2], [0.5, 0.7], [0.3, 0.7]), p):
        v = theory.value_at_optimum(p, q, X).item()
        j = theory.jsd(p, q, X).item()
        assert v == pytest.approx(-math.log(4) + 2 * j, abs=1e-7)


def test_value_at_optimum_agrees_with_monte_carlo():
    # an independent estimate: average log D* over samples of both densities
    torch.manual_seed(0)
    p, q = data.gaussian_1d(0.0, 1.0), data.gaussian_1d(1.5, 0.8)
    n = 200_000
    x_real, x_fake = p(n)[:, 0].double(), q(n)[:, 0].double()
    d_real = theory.optimal_discriminator(p, q, x_real)
    d_fake = theory.optimal_discriminator(p, q, x_fake)
    mc = d_real.log().mean() + (1 - d_fake).log().mean()
    exact = theory.value_at_optimum(p, q, X)
    assert mc.item() == pytest.approx(exact.item(), abs=0.01)


def test_optimal_discriminator_values():
    p, q = data.gaussian_1d(0.0, 1.0), data.gaussian_1d(2.0, 1.0)
    x = torch.tensor([1.0, -30.0, 0.0], dtype=torch.float64)
    d = theory.optimal_discriminator(p, q, x)
    assert d[0].item() == pytest.approx(0.5)  # halfway between equal bumps
    assert d[1].item() == 0.5  # no mass at all: the neutral 1/2
    # at 0, p / (p + q) = 1 / (1 + exp(-2))
    assert d[2].item() == pytest.approx(1 / (1 + math.exp(-2)), rel=1e-6)


def test_optimal_discriminator_is_half_at_equilibrium():
    p = data.mixture_1d([-1.0, 2.0], [0.3, 0.6])
    assert torch.allclose(theory.optimal_discriminator(p, p, X),
                          torch.full_like(X, 0.5))


def test_mass_of_a_density_is_one():
    p = data.mixture_1d([-1.0, 2.0], [0.3, 0.6], [0.2, 0.8])
    assert theory.mass(p, X).item() == pytest.approx(1.0, abs=1e-6)


def test_bad_inputs_raise_clear_errors():
    p = data.gaussian_1d(0.0, 1.0)
    with pytest.raises(ValueError, match="strictly increasing"):
        theory.jsd(p, p, X.flip(0))
    with pytest.raises(ValueError, match="1-D tensor grid"):
        theory.jsd(p, p, X[None])
    with pytest.raises(TypeError, match="a density"):
        theory.jsd(p, 3.0, X)
    with pytest.raises(ValueError, match="negative"):
        theory.jsd(p, lambda x: -torch.ones_like(x), X)
