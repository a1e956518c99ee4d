"""The exercise checks of chapters 9-11 pass the reference and fail
plausible wrong answers and unfinished stubs."""

import pytest
import torch
import torch.nn.functional as F

from ganlib import bigan, checks, pix2pix, semisup


def _stub(*args):
    raise NotImplementedError


# ---- chapter 9


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


# ---- chapter 10


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


# ---- chapter 11


def test_patch_d_loss_check():
    checks.check_patch_d_loss(pix2pix.patch_d_loss)

    def summed(real_map, fake_map):  # sums patches instead of averaging
        return F.softplus(-real_map).sum((1, 2, 3)).mean() + \
            F.softplus(fake_map).sum((1, 2, 3)).mean()

    def image_level(real_map, fake_map):  # averages logits first
        return F.softplus(-real_map.mean((1, 2, 3))).mean() + \
            F.softplus(fake_map.mean((1, 2, 3))).mean()

    for wrong in (summed, image_level, _stub):
        with pytest.raises(checks.CheckFailed):
            checks.check_patch_d_loss(wrong)


def test_pix2pix_g_loss_check():
    checks.check_pix2pix_g_loss(pix2pix.pix2pix_g_loss)

    def mse(fake_map, b_fake, b_real, w):
        return F.softplus(-fake_map).mean() + \
            w * (b_fake - b_real).pow(2).mean()

    def no_weight(fake_map, b_fake, b_real, w):
        return F.softplus(-fake_map).mean() + (b_fake - b_real).abs().mean()

    def minimax(fake_map, b_fake, b_real, w):
        return -F.softplus(fake_map).mean() + \
            w * (b_fake - b_real).abs().mean()

    for wrong in (mse, no_weight, minimax, _stub):
        with pytest.raises(checks.CheckFailed):
            checks.check_pix2pix_g_loss(wrong)
