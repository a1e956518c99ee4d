"""The chapter-4 exercise checks pass the reference and fail wrong answers."""

import math

import pytest
import torch
import torch.nn.functional as F

from ganlib import checks, losses, theory


def stub(*args):
    raise NotImplementedError()


# ------------------------------------------------------------- d_loss


def d_loss_naive_logs(real_out, fake_out):
    # log(1 - sigmoid(30)) = log(0) in float32: the loss becomes inf
    return -(torch.sigmoid(real_out).log().mean()
             + (1 - torch.sigmoid(fake_out)).log().mean())


def d_loss_swapped_labels(real_out, fake_out):
    return F.softplus(real_out).mean() + F.softplus(-fake_out).mean()


def d_loss_sum(real_out, fake_out):
    return F.softplus(-real_out).sum() + F.softplus(fake_out).sum()


def d_loss_one_bce(real_out, fake_out):
    # one BCE over the concatenated batch: half the loss of the two terms
    logits = torch.cat([real_out, fake_out])
    labels = torch.cat([torch.ones_like(real_out),
                        torch.zeros_like(fake_out)])
    return F.binary_cross_entropy_with_logits(logits, labels)


def d_loss_softplus(real_out, fake_out):
    # the exercise's answer: log sigmoid(a) = -softplus(-a)
    return F.softplus(-real_out).mean() + F.softplus(fake_out).mean()


def test_check_d_loss_passes_the_reference(capsys):
    checks.check_d_loss(d_loss_softplus)
    assert "passed" in capsys.readouterr().out


def test_check_d_loss_passes_logsigmoid_written_per_term():
    def logsigmoid(real_out, fake_out):
        return -(F.logsigmoid(real_out).mean()
                 + F.logsigmoid(-fake_out).mean())
    checks.check_d_loss(logsigmoid)


def bce_per_term(real_out, fake_out):
    return (F.binary_cross_entropy_with_logits(
                real_out, torch.ones_like(real_out))
            + F.binary_cross_entropy_with_logits(
                fake_out, torch.zeros_like(fake_out)))


def bce_module(real_out, fake_out):
    bce = torch.nn.BCEWithLogitsLoss()
    return bce(real_out, torch.ones_like(real_out)) + \
        bce(fake_out, torch.zeros_like(fake_out))


def bce_on_probabilities(real_out, fake_out):
    p_r, p_f = torch.sigmoid(real_out), torch.sigmoid(fake_out)
    return F.binary_cross_entropy(p_r, torch.ones_like(p_r)) + \
        F.binary_cross_entropy(p_f, torch.zeros_like(p_f))


def calls_the_library(real_out, fake_out):
    return losses.d_loss(real_out, fake_out)


def bce_swallowed(real_out, fake_out):
    # the forbidden call's refusal is caught: the check still notices
    try:
        return losses.d_loss(real_out, fake_out)
    except Exception:
        return d_loss_softplus(real_out, fake_out)


@pytest.mark.parametrize("forbidden, called", [
    (calls_the_library, "losses.d_loss"),
    (bce_per_term, "F.binary_cross_entropy_with_logits"),
    (bce_module, "F.binary_cross_entropy_with_logits"),
    (bce_on_probabilities, "F.binary_cross_entropy "),
    (bce_swallowed, "losses.d_loss"),
    (losses.d_loss, "losses.d_loss itself"),
])
@pytest.mark.parametrize("hidden", [False, True])
def test_check_d_loss_refuses_the_library_and_bce(forbidden, called, hidden):
    original = (losses.d_loss, F.binary_cross_entropy_with_logits,
                F.binary_cross_entropy)
    with pytest.raises(checks.CheckFailed) as err:
        checks.check_d_loss(forbidden, hidden=hidden)
    assert called in str(err.value)
    assert "without" in str(err.value)
    # whatever happened, the patched functions are back
    assert (losses.d_loss, F.binary_cross_entropy_with_logits,
            F.binary_cross_entropy) == original
    losses.d_loss(torch.zeros(2), torch.zeros(2))


@pytest.mark.parametrize("wrong", [d_loss_naive_logs, d_loss_swapped_labels,
                                   d_loss_sum, d_loss_one_bce, stub])
def test_check_d_loss_fails_wrong_answers(wrong):
    with pytest.raises(checks.CheckFailed):
        checks.check_d_loss(wrong)


def test_check_d_loss_says_the_exercise_is_not_done():
    with pytest.raises(checks.CheckFailed, match="NotImplementedError"):
        checks.check_d_loss(stub)


# ------------------------------------------------ optimal discriminator


def d_star(p_data, p_g, x):
    return p_data.pdf(x) / (p_data.pdf(x) + p_g.pdf(x))


def d_star_swapped(p_data, p_g, x):
    return p_g.pdf(x) / (p_data.pdf(x) + p_g.pdf(x))


def d_star_ratio(p_data, p_g, x):
    return p_data.pdf(x) / p_g.pdf(x)


def d_star_one_mode(p_data, p_g, x):
    # only looks at where p_data is larger: a hard classifier, not D*
    return (p_data.pdf(x) > p_g.pdf(x)).float()


def test_check_optimal_discriminator_passes_the_reference():
    checks.check_optimal_discriminator(d_star)


def test_check_optimal_discriminator_passes_the_library():
    checks.check_optimal_discriminator(
        lambda p, q, x: theory.optimal_discriminator(p, q, x).float())


@pytest.mark.parametrize("wrong", [d_star_swapped, d_star_ratio,
                                   d_star_one_mode, stub])
def test_check_optimal_discriminator_fails_wrong_answers(wrong):
    with pytest.raises(checks.CheckFailed):
        checks.check_optimal_discriminator(wrong)


# ------------------------------------------------------------------ JSD


def jsd_by_hand(p, q, x):
    pv, qv = p.pdf(x).double(), q.pdf(x).double()
    m = (pv + qv) / 2
    integrand = (torch.xlogy(pv, pv) - torch.xlogy(pv, m)
                 + torch.xlogy(qv, qv) - torch.xlogy(qv, m)) / 2
    return torch.trapezoid(integrand, x)


def jsd_naive_logs(p, q, x):
    # p log(p / m) with p = 0 gives 0 * -inf = nan where a density vanishes
    pv, qv = p.pdf(x), q.pdf(x)
    m = (pv + qv) / 2
    return torch.trapezoid((pv * (pv / m).log() + qv * (qv / m).log()) / 2, x)


def jsd_float32(p, q, x):
    # in float32, m = (p + q) / 2 rounds to 0 where p is the tiniest float:
    # p log(p / m) is then inf
    pv, qv = p.pdf(x), q.pdf(x)
    m = (pv + qv) / 2
    integrand = (torch.xlogy(pv, pv) - torch.xlogy(pv, m)
                 + torch.xlogy(qv, qv) - torch.xlogy(qv, m)) / 2
    return torch.trapezoid(integrand, x)


def jsd_ratio_nan(p, q, x):
    # xlogy(p, p / m) still meets 0 / 0 = nan where both densities vanish
    pv, qv = p.pdf(x).double(), q.pdf(x).double()
    m = (pv + qv) / 2
    integrand = (torch.xlogy(pv, pv / m) + torch.xlogy(qv, qv / m)) / 2
    return torch.trapezoid(integrand, x)


def jsd_in_bits(p, q, x):
    return theory.jsd(p, q, x) / math.log(2)


def jsd_no_half(p, q, x):
    return 2 * theory.jsd(p, q, x)


def kl_instead(p, q, x):
    pv, qv = p.pdf(x).double(), q.pdf(x).double()
    return torch.trapezoid(torch.xlogy(pv, pv) - torch.xlogy(pv, qv), x)


def test_check_jsd_passes_the_reference_and_a_hand_version():
    checks.check_jsd(theory.jsd)
    checks.check_jsd(jsd_by_hand)


@pytest.mark.parametrize("wrong", [jsd_naive_logs, jsd_ratio_nan, jsd_float32,
                                   jsd_in_bits, jsd_no_half,
                                   kl_instead, stub])
def test_check_jsd_fails_wrong_answers(wrong):
    with pytest.raises(checks.CheckFailed):
        checks.check_jsd(wrong)
