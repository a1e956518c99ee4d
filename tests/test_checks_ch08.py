"""The chapter 8 exercise checks pass the reference and fail wrong answers."""

import pytest
import torch
from torch.func import functional_call

from ganlib import checks, tricks


def coverage_ok(samples, means, std, threshold=3.0):
    d_min, nearest = torch.cdist(samples, means).min(dim=1)
    good = d_min <= threshold * std
    return len(torch.unique(nearest[good])), good.float().mean().item()


def coverage_no_quality_filter(samples, means, std, threshold=3.0):
    d_min, nearest = torch.cdist(samples, means).min(dim=1)
    good = d_min <= threshold * std
    return len(torch.unique(nearest)), good.float().mean().item()


def coverage_squared_distance(samples, means, std, threshold=3.0):
    d_min, nearest = (torch.cdist(samples, means) ** 2).min(dim=1)
    good = d_min <= threshold * std
    return len(torch.unique(nearest[good])), good.float().mean().item()


def coverage_count_not_share(samples, means, std, threshold=3.0):
    d_min, nearest = torch.cdist(samples, means).min(dim=1)
    good = d_min <= threshold * std
    return len(torch.unique(nearest[good])), good.sum().item()


def stub(*args):
    raise NotImplementedError


def test_coverage_check():
    checks.check_mode_coverage(coverage_ok)
    for wrong in (coverage_no_quality_filter, coverage_squared_distance,
                  coverage_count_not_share, stub):
        with pytest.raises(checks.CheckFailed):
            checks.check_mode_coverage(wrong)


def gp_ok(D, x_hat):
    x_hat = x_hat.detach().requires_grad_(True)
    grad, = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.norm(dim=1) - 1) ** 2).mean()


def gp_squared_norm(D, x_hat):
    x_hat = x_hat.detach().requires_grad_(True)
    grad, = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.pow(2).sum(1) - 1) ** 2).mean()


def gp_no_create_graph(D, x_hat):
    x_hat = x_hat.detach().requires_grad_(True)
    grad, = torch.autograd.grad(D(x_hat).sum(), x_hat)
    return ((grad.norm(dim=1) - 1) ** 2).mean()


def gp_batch_norm(D, x_hat):
    x_hat = x_hat.detach().requires_grad_(True)
    grad, = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    return (grad.norm() - 1) ** 2  # one norm over the whole batch


def test_gradient_penalty_check():
    checks.check_gradient_penalty(gp_ok)
    for wrong in (gp_squared_norm, gp_no_create_graph, gp_batch_norm, stub):
        with pytest.raises(checks.CheckFailed):
            checks.check_gradient_penalty(wrong)


def unroll_ok(D, loss_D, x_real, x_fake, k, lr):
    return tricks.unrolled_params(D, loss_D, x_real, x_fake, k, lr)


def unroll_detached(D, loss_D, x_real, x_fake, k, lr):
    params = dict(D.named_parameters())
    for _ in range(k):
        loss = loss_D(functional_call(D, params, (x_real,)),
                      functional_call(D, params, (x_fake,)))
        grads = torch.autograd.grad(loss, list(params.values()),
                                    retain_graph=True)
        params = {n: p - lr * g for (n, p), g in zip(params.items(), grads)}
    return params


def unroll_frozen_grad(D, loss_D, x_real, x_fake, k, lr):
    # takes k steps along the gradient at the starting point only
    params = dict(D.named_parameters())
    loss = loss_D(D(x_real), D(x_fake))
    grads = torch.autograd.grad(loss, list(params.values()),
                                create_graph=True)
    return {n: p - k * lr * g for (n, p), g in zip(params.items(), grads)}


def unroll_ascent(D, loss_D, x_real, x_fake, k, lr):
    return tricks.unrolled_params(D, loss_D, x_real, x_fake, k, -lr)


def test_unroll_check():
    checks.check_unroll(unroll_ok)
    for wrong in (unroll_detached, unroll_frozen_grad, unroll_ascent, stub):
        with pytest.raises(checks.CheckFailed):
            checks.check_unroll(wrong)


def test_unroll_check_names_the_case_of_a_student_error():
    def broken(D, loss_D, x_real, x_fake, k, lr):
        raise RuntimeError("shapes do not match")

    with pytest.raises(checks.CheckFailed,
                       match=r"raised RuntimeError: shapes do not match"
                             r"\n  on input:  k=0 unrolled steps"):
        checks.check_unroll(broken)


@pytest.mark.parametrize("hidden", [False, True])
def test_unroll_check_reports_a_raising_function_cleanly(hidden):
    def broken(D, loss_D, x_real, x_fake, k, lr):
        return {n: p[99] for n, p in D.named_parameters()}  # IndexError

    with pytest.raises(checks.CheckFailed) as err:
        checks.check_unroll(broken, hidden=hidden)
    text = str(err.value)
    assert "your function raised IndexError" in text
    assert "called:    broken(<MLPDiscriminator>, d_loss, " in text
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_unroll_check_rejects_values_that_are_not_tensors():
    def as_arrays(D, loss_D, x_real, x_fake, k, lr):
        params = tricks.unrolled_params(D, loss_D, x_real, x_fake, k, lr)
        return {n: p.detach().numpy() for n, p in params.items()}

    with pytest.raises(checks.CheckFailed, match="not yet right"):
        checks.check_unroll(as_arrays)


def test_unroll_hidden_cases_use_another_loss_d():
    def hard_coded_loss(D, loss_D, x_real, x_fake, k, lr):
        # ignores the loss it is given: right only for losses.d_loss
        from ganlib import losses
        return tricks.unrolled_params(D, losses.d_loss, x_real, x_fake, k,
                                      lr)

    checks.check_unroll(hard_coded_loss)
    with pytest.raises(checks.CheckFailed, match="Wasserstein"):
        checks.check_unroll(hard_coded_loss, hidden=True)
    with pytest.raises(checks.CheckFailed):
        checks.check_unroll(unroll_detached, hidden=True)
