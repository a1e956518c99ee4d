"""Automatic checks for the book's exercises.

Each check runs a student's function against the reference on random and
edge-case inputs and, on a mismatch, explains in plain words what was
expected, what came back, and gives a hint. A check prints one line when
it passes and raises :class:`CheckFailed` (an ``AssertionError``, so
nbgrader and pytest count it as a failed test) when it does not.

The harness lives in :mod:`ganlib.checks.harness` and each chapter's
checks in their own module (``ch01`` ... ``ch12``); a chapter calls them
all through this package: ``from ganlib import checks``, then
``checks.check_d_loss(d_loss)``.

Every check takes ``hidden=True`` (keyword only) for a notebook's hidden
test: it then runs other cases than the visible call (other shapes,
batch sizes, seeds and edge cases), so a hidden test never repeats the
visible one. A check whose exercise returns a loss also demands that the
loss can be trained on: its gradient with respect to each input must be
the reference's.
"""

from ganlib.checks.harness import CheckFailed, check_function, close, fail
from ganlib.checks.ch01 import (_affine_theta, check_posterior,
                                check_transform_params)
from ganlib.checks.ch02 import check_kl_to_prior, check_pca_reconstruct
from ganlib.checks.ch03 import check_masked_feature_loss, check_tv_loss
from ganlib.checks.ch04 import (check_d_loss, check_jsd,
                                check_optimal_discriminator)
from ganlib.checks.ch05 import check_linear_g_params, check_mass_per_mode
from ganlib.checks.ch06 import check_attribute_direction, check_slerp
from ganlib.checks.ch07 import (_confusion_matrix_ref, _label_maps_ref,
                                check_confusion_matrix, check_label_maps)
from ganlib.checks.ch08 import (check_gradient_penalty, check_mode_coverage,
                                check_unroll)
from ganlib.checks.ch09 import check_bigan_d_loss, check_bigan_eg_loss
from ganlib.checks.ch10 import check_d_prob_real, check_semisup_d_loss
from ganlib.checks.ch11 import check_patch_d_loss, check_pix2pix_g_loss
from ganlib.checks.ch12 import (check_dirac_gan_step, check_frechet_gaussians,
                                check_jsd_uniform, check_lsgan_optimal_d,
                                check_w1_sorted)

__all__ = [
    # the harness
    "CheckFailed", "check_function", "close", "fail",
    # chapter 1
    "check_posterior", "check_transform_params",
    # chapter 2
    "check_pca_reconstruct", "check_kl_to_prior",
    # chapter 3
    "check_tv_loss", "check_masked_feature_loss",
    # chapter 4
    "check_d_loss", "check_optimal_discriminator", "check_jsd",
    # chapter 5
    "check_mass_per_mode", "check_linear_g_params",
    # chapter 6
    "check_slerp", "check_attribute_direction",
    # chapter 7
    "check_confusion_matrix", "check_label_maps",
    # chapter 8
    "check_mode_coverage", "check_gradient_penalty", "check_unroll",
    # chapter 9
    "check_bigan_d_loss", "check_bigan_eg_loss",
    # chapter 10
    "check_d_prob_real", "check_semisup_d_loss",
    # chapter 11
    "check_patch_d_loss", "check_pix2pix_g_loss",
    # chapter 12
    "check_dirac_gan_step", "check_jsd_uniform", "check_w1_sorted",
    "check_lsgan_optimal_d", "check_frechet_gaussians",
]
