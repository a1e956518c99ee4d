"""Exercise checks of chapter 6: the reference passes, wrong answers
and unfinished stubs fail."""

import pytest
import torch

from ganlib import checks, latent


def stub(*args):
    raise NotImplementedError


def slerp_unnormalised(z0, z1, t):
    omega = torch.acos(torch.clamp(z0 @ z1, -1, 1))  # forgot the norms
    t = t[:, None]
    if omega.sin() < 1e-6:
        return (1 - t) * z0 + t * z1
    return (torch.sin((1 - t) * omega) * z0
            + torch.sin(t * omega) * z1) / omega.sin()


def slerp_no_fallback(z0, z1, t):
    cos = z0 @ z1 / (z0.norm() * z1.norm())
    omega = torch.acos(torch.clamp(cos, -1, 1))
    t = t[:, None]
    return (torch.sin((1 - t) * omega) * z0
            + torch.sin(t * omega) * z1) / omega.sin()


def test_check_slerp_accepts_reference_and_a_student_version():
    checks.check_slerp(latent.slerp)

    def student(z0, z1, t):
        cos = z0 @ z1 / (z0.norm() * z1.norm())
        omega = torch.acos(cos.clamp(-1, 1))
        t = t[:, None]
        if torch.sin(omega) < 1e-6:
            return (1 - t) * z0 + t * z1
        return (torch.sin((1 - t) * omega) * z0
                + torch.sin(t * omega) * z1) / torch.sin(omega)

    checks.check_slerp(student)


@pytest.mark.parametrize("wrong", [
    lambda z0, z1, t: latent.lerp(z0, z1, t),  # the chord, not the arc
    slerp_unnormalised,
    slerp_no_fallback,  # 0 / 0 for parallel codes
    stub,
])
def test_check_slerp_rejects_wrong_answers(wrong):
    with pytest.raises(checks.CheckFailed):
        checks.check_slerp(wrong)


def test_check_attribute_direction():
    checks.check_attribute_direction(latent.attribute_direction)

    def reversed_sign(z, s, frac):
        return -latent.attribute_direction(z, s, frac)

    def minus_overall_mean(z, s, frac):
        n = max(1, int(frac * len(z)))
        return z[s.argsort()[-n:]].mean(0) - z.mean(0)

    def rounded_n(z, s, frac):
        n = max(1, round(frac * len(z)))
        o = s.argsort()
        return z[o[-n:]].mean(0) - z[o[:n]].mean(0)

    for wrong in (reversed_sign, minus_overall_mean, rounded_n, stub):
        with pytest.raises(checks.CheckFailed):
            checks.check_attribute_direction(wrong)
