"""The exercise checks of chapter 2 pass the reference and fail
plausible wrong answers and unfinished stubs."""

import pytest

from ganlib import autoencoders, checks


def stub(*args):
    raise NotImplementedError()


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


def test_pca_check_says_where_a_large_output_differs():
    def one_point_off(x, m, c):
        out = m + (x - m) @ c.T @ c
        out[3, 2] += 1.0
        return out

    with pytest.raises(checks.CheckFailed,
                       match=r"differs:   furthest off at index \[3, 2\]"):
        checks.check_pca_reconstruct(one_point_off)
