"""The exercise checks of chapter 11 pass the reference and fail
plausible wrong answers and unfinished stubs."""

import pytest
import torch.nn.functional as F

from ganlib import checks, pix2pix


def _stub(*args):
    raise NotImplementedError


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
