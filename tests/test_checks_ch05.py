"""Chapter 5 exercise checks pass the reference and fail wrong answers."""

import pytest
import torch

from ganlib import checks, oned


def test_mass_per_mode_check_accepts_the_reference():
    checks.check_mass_per_mode(oned.mass_per_mode)


def _counts(samples, means):  # forgot to divide by n
    return oned.mass_per_mode(samples, means) * len(samples)


def _split_at_zero(samples, means):  # a threshold at 0, not the midpoint
    s = torch.as_tensor(samples).flatten()
    left = (s < 0).float().mean()
    return torch.stack([left, 1 - left])


def _sorted_modes(samples, means):  # answers in sorted order of the modes
    return oned.mass_per_mode(samples, sorted(means))


def _stub(*args):
    raise NotImplementedError()


@pytest.mark.parametrize("wrong", [_counts, _split_at_zero, _sorted_modes,
                                   _stub])
def test_mass_per_mode_check_rejects_wrong_answers(wrong):
    with pytest.raises(checks.CheckFailed):
        checks.check_mass_per_mode(wrong)


def _linear_reference(G):
    layer = G.net[0]
    return layer.bias.item(), layer.weight.norm().item()


def test_linear_g_check_accepts_the_reference():
    checks.check_linear_g_params(_linear_reference)


def _signed_sigma(G):  # sigma = w: negative weights give negative sigma
    layer = G.net[0]
    return layer.bias.item(), layer.weight.sum().item()


def _l1_sigma(G):  # adds |w_i| instead of adding variances
    layer = G.net[0]
    return layer.bias.item(), layer.weight.abs().sum().item()


def _variance(G):  # returns sigma^2
    layer = G.net[0]
    return layer.bias.item(), (layer.weight ** 2).sum().item()


@pytest.mark.parametrize("wrong", [_signed_sigma, _l1_sigma, _variance,
                                   _stub])
def test_linear_g_check_rejects_wrong_answers(wrong):
    with pytest.raises(checks.CheckFailed):
        checks.check_linear_g_params(wrong)


def _bincount_without_minlength(samples, means):
    s = torch.as_tensor(samples, dtype=torch.float32).flatten()
    m = torch.as_tensor(means, dtype=torch.float32).flatten()
    nearest = (s[:, None] - m[None, :]).abs().argmin(1)
    return torch.bincount(nearest).float() / len(s)  # no minlength


@pytest.mark.parametrize("hidden", [False, True])
def test_mass_per_mode_check_needs_one_entry_per_mode(hidden):
    with pytest.raises(checks.CheckFailed) as err:
        checks.check_mass_per_mode(_bincount_without_minlength,
                                   hidden=hidden)
    text = str(err.value)
    assert "modes, so the answer needs" in text and "minlength=" in text
    assert "but it has shape" in text


def test_mass_per_mode_check_passes_hidden_cases_with_the_reference(capsys):
    checks.check_mass_per_mode(oned.mass_per_mode, hidden=True)
    assert "hidden checks passed" in capsys.readouterr().out
