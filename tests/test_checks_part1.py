"""The exercise checks of chapters 1 and 2 pass the reference and fail
plausible wrong answers and unfinished stubs."""

import pytest
import torch

from ganlib import autoencoders, checks


def stub(*args):
    raise NotImplementedError()


# ------------------------------------------------- chapter 1: posterior


def test_posterior_check_passes_the_reference():
    checks.check_posterior(lambda j: j / j.sum(dim=1, keepdim=True))


@pytest.mark.parametrize("wrong", [
    lambda j: j / j.sum(dim=0, keepdim=True),  # P(x | y), not P(y | x)
    lambda j: j / j.sum(),                     # the joint, not a posterior
    lambda j: j.softmax(dim=1),                # a softmax of probabilities
    stub,
])
def test_posterior_check_fails_wrong_answers(wrong):
    with pytest.raises(checks.CheckFailed):
        checks.check_posterior(wrong)


# ------------------------------------------ chapter 1: transform params


def right_params(theta):
    a, b = theta[:, 0, 0], theta[:, 0, 1]
    return torch.atan2(b, a), 1 / torch.sqrt(a**2 + b**2)


def test_transform_params_check_passes_the_reference_and_a_variant():
    checks.check_transform_params(right_params)

    def via_determinant(theta):  # a different correct route
        det = torch.linalg.det(theta[:, :, :2])
        return torch.atan2(theta[:, 0, 1], theta[:, 0, 0]), det ** -0.5
    checks.check_transform_params(via_determinant)


def test_reference_theta_round_trips():
    angle = torch.tensor([0.3, -2.0])
    scale = torch.tensor([0.7, 1.6])
    got_a, got_s = right_params(checks._affine_theta(angle, scale))
    assert torch.allclose(got_a, angle) and torch.allclose(got_s, scale)


@pytest.mark.parametrize("wrong", [
    # forgot that theta holds 1/s
    lambda t: (right_params(t)[0], 1 / right_params(t)[1]),
    # atan loses the quadrant for turns beyond 90 degrees
    lambda t: (torch.atan(t[:, 0, 1] / t[:, 0, 0]), right_params(t)[1]),
    # sign convention flipped
    lambda t: (-right_params(t)[0], right_params(t)[1]),
    # returns one stacked tensor instead of a pair
    lambda t: torch.stack(right_params(t)),
    stub,
])
def test_transform_params_check_fails_wrong_answers(wrong):
    with pytest.raises(checks.CheckFailed):
        checks.check_transform_params(wrong)


# ------------------------------------------ chapter 2: PCA reconstruction


def test_pca_check_passes_the_reference():
    checks.check_pca_reconstruct(
        lambda x, m, c: m + (x - m) @ c.T @ c)


@pytest.mark.parametrize("wrong", [
    lambda x, m, c: x @ c.T @ c,              # no centring at all
    lambda x, m, c: (x - m) @ c.T @ c,        # forgot to add the mean back
    # recomputes the mean from x instead of using the training mean
    lambda x, m, c: x.mean(0) + (x - x.mean(0)) @ c.T @ c,
    stub,
])
def test_pca_check_fails_wrong_answers(wrong):
    with pytest.raises(checks.CheckFailed):
        checks.check_pca_reconstruct(wrong)


# ---------------------------------------------------- chapter 2: VAE KL


def test_kl_check_passes_the_reference_and_a_variant():
    checks.check_kl_to_prior(autoencoders.kl_divergence)

    def via_sigma(mu, logvar):
        var = logvar.exp()
        return (-0.5 * (1 + var.log() - mu**2 - var)).sum(1).mean()
    checks.check_kl_to_prior(via_sigma)


@pytest.mark.parametrize("wrong", [
    # forgot the factor 1/2
    lambda mu, lv: (mu**2 + lv.exp() - lv - 1).sum(1).mean(),
    # averaged over the latent dimensions instead of summing
    lambda mu, lv: 0.5 * (mu**2 + lv.exp() - lv - 1).mean(),
    # used sigma = exp(logvar / 2) where sigma^2 belongs
    lambda mu, lv: 0.5 * (mu**2 + (lv / 2).exp() - lv - 1).sum(1).mean(),
    stub,
])
def test_kl_check_fails_wrong_answers(wrong):
    with pytest.raises(checks.CheckFailed):
        checks.check_kl_to_prior(wrong)
