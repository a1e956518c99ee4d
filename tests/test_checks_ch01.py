"""The exercise checks of chapter 1 pass the reference and fail
plausible wrong answers and unfinished stubs."""

import pytest
import torch

from ganlib import checks


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
