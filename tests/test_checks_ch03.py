"""The chapter 3 exercise checks accept the reference and reject mistakes."""

import pytest
import torch

from ganlib import checks, inversion


def _stub(*args):
    raise NotImplementedError()


# ------------------------------------------------------------ check_tv_loss


def tv_wrong_full_differences(x, beta=2.0):
    # every horizontal and vertical difference, averaged separately
    dx = x[..., :, 1:] - x[..., :, :-1]
    dy = x[..., 1:, :] - x[..., :-1, :]
    return (dx.pow(2).mean() + dy.pow(2).mean()) ** (beta / 2)


def tv_wrong_sum(x, beta=2.0):
    # sums over the pixels instead of averaging
    return inversion.tv_loss(x, beta, reduction="none").mul(
        (x.shape[-1] - 1) * (x.shape[-2] - 1) * x.shape[1]).mean()


def tv_wrong_ignores_beta(x, beta=2.0):
    return inversion.tv_loss(x, 2.0)


def tv_wrong_anisotropic(x, beta=2.0):
    dx = x[..., :-1, 1:] - x[..., :-1, :-1]
    dy = x[..., 1:, :-1] - x[..., :-1, :-1]
    return (dx.abs().pow(beta) + dy.abs().pow(beta)).flatten(1).mean(1).mean()


def test_tv_check_accepts_reference(capsys):
    checks.check_tv_loss(lambda x, beta=2.0: inversion.tv_loss(x, beta))
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [tv_wrong_full_differences, tv_wrong_sum,
                                   tv_wrong_ignores_beta,
                                   tv_wrong_anisotropic, _stub])
def test_tv_check_rejects_mistakes(wrong):
    with pytest.raises(checks.CheckFailed):
        checks.check_tv_loss(wrong)


# ------------------------------------------------ check_masked_feature_loss


def _window(f, size, top=None):
    h, w = f.shape[-2:]
    top = (h - size) // 2 if top is None else top
    left = (w - size) // 2 if top is None else top
    return f[..., top:top + size, left:left + size]


def masked_reference(f, f0, size):
    a, b = _window(f, size), _window(f0, size)
    return ((a - b).pow(2).flatten(1).sum(1)
            / b.pow(2).flatten(1).sum(1)).mean()


def masked_wrong_unnormalised(f, f0, size):
    a, b = _window(f, size), _window(f0, size)
    return (a - b).pow(2).flatten(1).sum(1).mean()


def masked_wrong_whole_energy(f, f0, size):
    a, b = _window(f, size), _window(f0, size)
    return ((a - b).pow(2).flatten(1).sum(1)
            / f0.pow(2).flatten(1).sum(1)).mean()


def masked_wrong_rounds_up(f, f0, size):
    top = -(-(f.shape[-2] - size) // 2)  # ceil: off by one on even maps
    a, b = _window(f, size, top), _window(f0, size, top)
    return ((a - b).pow(2).flatten(1).sum(1)
            / b.pow(2).flatten(1).sum(1)).mean()


def masked_wrong_batch_ratio(f, f0, size):
    # one ratio for the whole batch instead of one per image
    a, b = _window(f, size), _window(f0, size)
    return (a - b).pow(2).sum() / b.pow(2).sum()


def test_masked_check_accepts_reference(capsys):
    checks.check_masked_feature_loss(masked_reference)
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [masked_wrong_unnormalised,
                                   masked_wrong_whole_energy,
                                   masked_wrong_rounds_up,
                                   masked_wrong_batch_ratio, _stub])
def test_masked_check_rejects_mistakes(wrong):
    with pytest.raises(checks.CheckFailed):
        checks.check_masked_feature_loss(wrong)


def test_masked_reference_matches_library():
    f, f0 = torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8)
    lib = inversion.feature_loss(f, f0, inversion.center_mask(f.shape, 5))
    assert torch.allclose(masked_reference(f, f0, 5), lib)
