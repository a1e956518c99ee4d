"""The exercise checks of chapter 10 pass the reference and fail
plausible wrong answers and unfinished stubs."""

import pytest
import torch.nn.functional as F

from ganlib import checks, semisup


def _stub(*args):
    raise NotImplementedError


def test_d_prob_real_check():
    checks.check_d_prob_real(semisup.d_prob_real)

    def naive(logits):  # exp overflows
        z = logits.exp().sum(1)
        return z / (z + 1)

    def max_softmax(logits):  # the classifier's confidence, not D(x)
        return F.softmax(logits, 1).max(1).values

    for wrong in (naive, max_softmax, _stub):
        with pytest.raises(checks.CheckFailed):
            checks.check_d_prob_real(wrong)


def test_semisup_d_loss_check():
    checks.check_semisup_d_loss(semisup.d_loss_semisup)

    def supervised_only(l_lab, y, l_unl, l_fake):
        return F.cross_entropy(l_lab, y)

    def no_half(l_lab, y, l_unl, l_fake):  # unsupervised term not halved
        lse_u, lse_f = l_unl.logsumexp(1), l_fake.logsumexp(1)
        return F.cross_entropy(l_lab, y) + (
            -lse_u + F.softplus(lse_u)).mean() + F.softplus(lse_f).mean()

    def swapped(l_lab, y, l_unl, l_fake):  # calls the data fake
        return semisup.d_loss_semisup(l_lab, y, l_fake, l_unl)

    for wrong in (supervised_only, no_half, swapped, _stub):
        with pytest.raises(checks.CheckFailed):
            checks.check_semisup_d_loss(wrong)
