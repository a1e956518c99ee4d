"""The exercise checks of chapter 9 pass the reference and fail
plausible wrong answers and unfinished stubs."""

import pytest
import torch
import torch.nn.functional as F

from ganlib import bigan, checks


def _stub(*args):
    raise NotImplementedError


def test_bigan_d_loss_check():
    checks.check_bigan_d_loss(bigan.d_loss_pairs)

    def paired_with_prior(D, x_real, z_enc, x_fake, z):  # real x with z
        return F.softplus(-D(x_real, z)).mean() + \
            F.softplus(D(x_fake, z_enc)).mean()

    def swapped_labels(D, x_real, z_enc, x_fake, z):
        return F.softplus(D(x_real, z_enc)).mean() + \
            F.softplus(-D(x_fake, z)).mean()

    def naive_log(D, x_real, z_enc, x_fake, z):  # overflows at +-30
        d_r, d_f = torch.sigmoid(D(x_real, z_enc)), torch.sigmoid(D(x_fake, z))
        return -torch.log(d_r).mean() - torch.log(1 - d_f).mean()

    for wrong in (paired_with_prior, swapped_labels, naive_log, _stub):
        with pytest.raises(checks.CheckFailed):
            checks.check_bigan_d_loss(wrong)


def test_bigan_eg_loss_check():
    checks.check_bigan_eg_loss(bigan.eg_loss_pairs)

    def fake_term_only(D, x_real, z_enc, x_fake, z):  # forgets E's term
        return F.softplus(-D(x_fake, z)).mean()

    for wrong in (bigan.d_loss_pairs, fake_term_only, _stub):
        with pytest.raises(checks.CheckFailed):
            checks.check_bigan_eg_loss(wrong)
