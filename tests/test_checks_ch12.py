"""The chapter-12 exercise checks pass the reference and fail wrong answers."""

import math

import pytest
import scipy.stats
import torch

from ganlib import checks, divergences, metrics


def stub(*args):
    raise NotImplementedError()


def _sigmoid(u):
    return 1 / (1 + math.exp(-u))


# ------------------------------------------------------ Dirac-GAN step


def step_reference(theta, psi, lr, gamma):
    s = _sigmoid(psi * theta)
    return theta + lr * s * psi, psi - lr * (s * theta + gamma * psi)


def step_sequential(theta, psi, lr, gamma):
    # D moves first and G answers the new psi: alternating, not
    # the simultaneous step that was asked for
    psi_new = psi - lr * (_sigmoid(psi * theta) * theta + gamma * psi)
    return theta + lr * _sigmoid(psi_new * theta) * psi_new, psi_new


def step_sign_error(theta, psi, lr, gamma):
    # D climbs its loss instead of descending it
    s = _sigmoid(psi * theta)
    return theta + lr * s * psi, psi + lr * (s * theta + gamma * psi)


def step_nonsaturating(theta, psi, lr, gamma):
    # the gradient of -log D(G) = softplus(-psi theta): factor 1 - s
    s = _sigmoid(psi * theta)
    return theta + lr * (1 - s) * psi, psi - lr * (s * theta + gamma * psi)


def step_half_r1(theta, psi, lr, gamma):
    # the gradient of gamma/2 psi^2 taken as gamma/2 psi
    s = _sigmoid(psi * theta)
    return theta + lr * s * psi, psi - lr * (s * theta + gamma * psi / 2)


def step_no_r1(theta, psi, lr, gamma):
    s = _sigmoid(psi * theta)
    return theta + lr * s * psi, psi - lr * s * theta


def step_one_value(theta, psi, lr, gamma):
    return theta + lr * _sigmoid(psi * theta) * psi


@pytest.mark.parametrize("right", [step_reference,
                                   divergences.dirac_gan_step])
def test_check_dirac_gan_step_passes_the_reference(right, capsys):
    checks.check_dirac_gan_step(right)
    checks.check_dirac_gan_step(right, hidden=True)
    assert "hidden checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("wrong", [step_sequential, step_sign_error,
                                   step_nonsaturating, step_half_r1,
                                   step_no_r1, step_one_value, stub])
def test_check_dirac_gan_step_fails_wrong_answers(wrong, hidden):
    with pytest.raises(checks.CheckFailed):
        checks.check_dirac_gan_step(wrong, hidden=hidden)


def test_check_dirac_gan_step_asks_for_two_numbers():
    with pytest.raises(checks.CheckFailed, match="return two numbers"):
        checks.check_dirac_gan_step(step_one_value)


# ------------------------------------------------------- JSD of uniforms


def jsd_reference(width, shift):
    return math.log(2) * torch.clamp(shift.abs() / width, max=1.0)


def jsd_no_saturation(width, shift):
    # grows past log 2 once the supports are disjoint
    return math.log(2) * shift.abs() / width


def jsd_signed(width, shift):
    # a negative shift gives a negative divergence
    return math.log(2) * torch.clamp(shift / width, max=1.0)


def jsd_in_bits(width, shift):
    return torch.clamp(shift.abs() / width, max=1.0)


def jsd_no_half(width, shift):
    return 2 * math.log(2) * torch.clamp(shift.abs() / width, max=1.0)


def jsd_overlap(width, shift):
    # the overlap's share, not the part outside it
    return math.log(2) * torch.clamp(1 - shift.abs() / width, min=0.0)


def test_check_jsd_uniform_passes_the_reference():
    checks.check_jsd_uniform(jsd_reference)
    checks.check_jsd_uniform(jsd_reference, hidden=True)


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("wrong", [jsd_no_saturation, jsd_signed,
                                   jsd_in_bits, jsd_no_half, jsd_overlap,
                                   stub])
def test_check_jsd_uniform_fails_wrong_answers(wrong, hidden):
    with pytest.raises(checks.CheckFailed):
        checks.check_jsd_uniform(wrong, hidden=hidden)


# ------------------------------------------------------------ W1 sorted


def w1_by_hand(a, b):
    a, b = a.sort().values, b.sort().values
    if len(a) == len(b):
        return (a - b).abs().mean()
    x = torch.cat([a, b]).sort().values
    cdf_a = torch.searchsorted(a, x[:-1], right=True) / len(a)
    cdf_b = torch.searchsorted(b, x[:-1], right=True) / len(b)
    return ((cdf_a - cdf_b).abs() * x.diff()).sum()


def w1_unsorted(a, b):
    # pairs the samples in the order they were drawn
    n = min(len(a), len(b))
    return (a[:n] - b[:n]).abs().mean()


def w1_truncated(a, b):
    # different sizes mishandled: drops the end of the longer sample
    n = min(len(a), len(b))
    return (a.sort().values[:n] - b.sort().values[:n]).abs().mean()


def w1_one_sorted(a, b):
    n = min(len(a), len(b))
    return (a.sort().values[:n] - b[:n]).abs().mean()


def w1_squared(a, b):
    # W2, not W1
    n = min(len(a), len(b))
    return (a.sort().values[:n] - b.sort().values[:n]).pow(2).mean().sqrt()


def w1_means(a, b):
    # right for translates only
    return (a.mean() - b.mean()).abs()


def w1_via_scipy(a, b):
    return torch.tensor(scipy.stats.wasserstein_distance(a.numpy(),
                                                         b.numpy()))


def w1_via_library(a, b):
    return divergences.w1_sorted(a, b)


def test_check_w1_sorted_passes_a_hand_version():
    checks.check_w1_sorted(w1_by_hand)
    checks.check_w1_sorted(w1_by_hand, hidden=True)


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("wrong", [w1_unsorted, w1_truncated, w1_one_sorted,
                                   w1_squared, w1_means, stub])
def test_check_w1_sorted_fails_wrong_answers(wrong, hidden):
    with pytest.raises(checks.CheckFailed):
        checks.check_w1_sorted(wrong, hidden=hidden)


@pytest.mark.parametrize("forbidden, called", [
    (w1_via_scipy, "scipy.stats.wasserstein_distance"),
    (w1_via_library, "divergences.w1_sorted")])
def test_check_w1_sorted_refuses_scipy_and_the_library(forbidden, called):
    original = (scipy.stats.wasserstein_distance, divergences.w1_sorted)
    with pytest.raises(checks.CheckFailed, match="without it") as err:
        checks.check_w1_sorted(forbidden)
    assert called in str(err.value)
    assert (scipy.stats.wasserstein_distance,
            divergences.w1_sorted) == original


# ---------------------------------------------------- LSGAN optimal D


def lsgan_reference(p, q, a, b):
    return (b * p + a * q) / (p + q)


def lsgan_gan_d_star(p, q, a, b):
    # the GAN's D*: right only for labels a = 0, b = 1
    return p / (p + q)


def lsgan_swapped(p, q, a, b):
    return (a * p + b * q) / (p + q)


def lsgan_unnormalised(p, q, a, b):
    return b * p + a * q


def lsgan_midpoint(p, q, a, b):
    return torch.full_like(p, (a + b) / 2)


def test_check_lsgan_optimal_d_passes_the_reference():
    checks.check_lsgan_optimal_d(lsgan_reference)
    checks.check_lsgan_optimal_d(lsgan_reference, hidden=True)


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("wrong", [lsgan_gan_d_star, lsgan_swapped,
                                   lsgan_unnormalised, lsgan_midpoint, stub])
def test_check_lsgan_optimal_d_fails_wrong_answers(wrong, hidden):
    with pytest.raises(checks.CheckFailed):
        checks.check_lsgan_optimal_d(wrong, hidden=hidden)


# ----------------------------------------- Frechet distance of Gaussians


def fd_reference(mu_a, cov_a, mu_b, cov_b):
    eig = torch.linalg.eigvals(cov_a @ cov_b).real.clamp(min=0)
    return ((mu_a - mu_b) ** 2).sum() + cov_a.trace() + cov_b.trace() \
        - 2 * eig.sqrt().sum()


def fd_entrywise_sqrt(mu_a, cov_a, mu_b, cov_b):
    # the square root of the product's entries, not of the matrix
    return ((mu_a - mu_b) ** 2).sum() + cov_a.trace() + cov_b.trace() \
        - 2 * (cov_a * cov_b).sqrt().trace()


def _sqrtm(cov):
    vals, vecs = torch.linalg.eigh(cov)
    return vecs @ torch.diag(vals.clamp(min=0).sqrt()) @ vecs.T


def fd_separate_roots(mu_a, cov_a, mu_b, cov_b):
    # tr(S_a^1/2 S_b^1/2): equal only when the covariances commute
    return ((mu_a - mu_b) ** 2).sum() + cov_a.trace() + cov_b.trace() \
        - 2 * (_sqrtm(cov_a) @ _sqrtm(cov_b)).trace()


def fd_no_two(mu_a, cov_a, mu_b, cov_b):
    eig = torch.linalg.eigvals(cov_a @ cov_b).real.clamp(min=0)
    return ((mu_a - mu_b) ** 2).sum() + cov_a.trace() + cov_b.trace() \
        - eig.sqrt().sum()


def fd_mean_norm(mu_a, cov_a, mu_b, cov_b):
    # ||mu_a - mu_b|| where its square belongs
    eig = torch.linalg.eigvals(cov_a @ cov_b).real.clamp(min=0)
    return (mu_a - mu_b).norm() + cov_a.trace() + cov_b.trace() \
        - 2 * eig.sqrt().sum()


def fd_via_metrics(mu_a, cov_a, mu_b, cov_b):
    return torch.tensor(metrics.frechet_distance(
        torch.randn(10, len(mu_a)), torch.randn(10, len(mu_a))))


def test_check_frechet_gaussians_passes_the_reference():
    checks.check_frechet_gaussians(fd_reference)
    checks.check_frechet_gaussians(fd_reference, hidden=True)


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("wrong", [fd_entrywise_sqrt, fd_separate_roots,
                                   fd_no_two, fd_mean_norm, stub])
def test_check_frechet_gaussians_fails_wrong_answers(wrong, hidden):
    with pytest.raises(checks.CheckFailed):
        checks.check_frechet_gaussians(wrong, hidden=hidden)


def test_check_frechet_gaussians_refuses_metrics():
    with pytest.raises(checks.CheckFailed, match="metrics.frechet_distance"):
        checks.check_frechet_gaussians(fd_via_metrics)
