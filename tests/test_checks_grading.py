"""Every check grades what its exercise asks: the chapters' reference
solutions pass its visible and its hidden cases, the hidden cases are not
the visible ones again, and a loss must be one that can be trained on."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ganlib import autoencoders, bigan, checks, inversion, pix2pix, semisup

CHAPTERS = Path(__file__).resolve().parents[1] / "chapters"
CHECK_CALL = re.compile(r"checks\.(check_\w+)\((\w+)\)")


def _exercises() -> list[tuple[str, str, str, str]]:
    """(notebook, check name, function name, solution source) for every
    solution cell whose next code cell calls a check."""
    found = []
    for path in sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb")):
        cells = [c for c in json.loads(path.read_text())["cells"]
                 if c["cell_type"] == "code"]
        for cell, after in zip(cells, cells[1:]):
            source = "".join(cell["source"])
            call = CHECK_CALL.search("".join(after["source"]))
            if "### BEGIN SOLUTION" in source and call:
                found.append((path.name, call[1], call[2], source))
    return found


EXERCISES = _exercises()


def _solution(source: str, name: str):
    """The function a solution cell defines, run as the notebook would."""
    namespace = {"torch": torch, "F": F, "nn": torch.nn, "np": np}
    exec(compile(source, f"<solution of {name}>", "exec"), namespace)
    return namespace[name]


def test_every_check_is_called_by_some_chapter():
    called = {check for _, check, _, _ in EXERCISES}
    public = {n for n in checks.__all__ if n.startswith("check_")
              and n != "check_function"}
    assert called == public


@pytest.mark.parametrize("notebook, check, name, source", EXERCISES,
                         ids=[f"{nb[:2]}-{c}" for nb, c, _, _ in EXERCISES])
def test_the_chapter_solution_passes_visible_and_hidden(notebook, check,
                                                        name, source,
                                                        capsys):
    fn = _solution(source, name)
    getattr(checks, check)(fn)
    assert "hidden" not in capsys.readouterr().out
    getattr(checks, check)(fn, hidden=True)
    assert "hidden checks passed" in capsys.readouterr().out


# ------------------------------------------ the hidden cases are others


def _signature(value):
    """What a function could tell its inputs apart by without computing:
    shapes, dtypes, kinds of module and plain values."""
    if torch.is_tensor(value):
        return "tensor", tuple(value.shape), str(value.dtype)
    if isinstance(value, torch.nn.Module):
        return type(value).__name__, tuple(
            (n, tuple(p.shape)) for n, p in value.named_parameters())
    if isinstance(value, (list, tuple)):
        return tuple(_signature(v) for v in value)
    if isinstance(value, (bool, int, float, str)):
        return value
    return getattr(value, "__name__", type(value).__name__)


class ShapeMemoriser:
    """Right on the inputs it has seen; on any other input it fails."""

    def __init__(self, fn):
        self.fn, self.seen, self.learning = fn, set(), True
        self.__name__ = fn.__name__

    def __call__(self, *args):
        key = _signature(args)
        if self.learning:
            self.seen.add(key)
        elif key not in self.seen:
            raise ValueError("an input this answer was not fitted to")
        return self.fn(*args)


@pytest.mark.parametrize("notebook, check, name, source", EXERCISES,
                         ids=[f"{nb[:2]}-{c}" for nb, c, _, _ in EXERCISES])
def test_hidden_cases_are_not_the_visible_ones(notebook, check, name,
                                               source):
    run = getattr(checks, check)
    student = ShapeMemoriser(_solution(source, name))
    run(student)  # learns the visible inputs ...
    student.learning = False
    run(student)  # ... and passes them ...
    with pytest.raises(checks.CheckFailed, match="not fitted to"):
        run(student, hidden=True)  # ... but not the hidden ones


# ------------------------------------------- a loss must be trainable


def _masked_reference(f, f0, size):
    return inversion.feature_loss(f, f0, inversion.center_mask(f.shape,
                                                               size))


def _gp_reference(D, x_hat):
    x_hat = x_hat.detach().requires_grad_(True)
    grad, = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.norm(dim=1) - 1) ** 2).mean()


LOSS_CHECKS = {
    "check_kl_to_prior": autoencoders.kl_divergence,
    "check_tv_loss": lambda x, beta=2.0: inversion.tv_loss(x, beta),
    "check_masked_feature_loss": _masked_reference,
    "check_d_loss": lambda real_out, fake_out: (
        F.softplus(-real_out).mean() + F.softplus(fake_out).mean()),
    "check_bigan_d_loss": bigan.d_loss_pairs,
    "check_bigan_eg_loss": bigan.eg_loss_pairs,
    "check_semisup_d_loss": semisup.d_loss_semisup,
    "check_patch_d_loss": pix2pix.patch_d_loss,
    "check_pix2pix_g_loss": pix2pix.pix2pix_g_loss,
    "check_gradient_penalty": _gp_reference,
}


def via_item(loss):
    return lambda *a: torch.tensor(loss(*a).item())


def under_no_grad(loss):
    def run(*a):
        with torch.no_grad():
            return loss(*a)
    return run


def via_numpy(loss):
    return lambda *a: torch.from_numpy(
        np.asarray(loss(*a).detach().numpy()))


def as_float(loss):
    return lambda *a: loss(*a).item()


@pytest.mark.parametrize("check", LOSS_CHECKS)
def test_a_loss_check_passes_its_library_reference(check):
    getattr(checks, check)(LOSS_CHECKS[check])
    getattr(checks, check)(LOSS_CHECKS[check], hidden=True)


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("untrainable", [via_item, under_no_grad, via_numpy,
                                         as_float])
@pytest.mark.parametrize("check", LOSS_CHECKS)
def test_a_loss_that_cannot_be_trained_on_fails(check, untrainable, hidden):
    student = untrainable(LOSS_CHECKS[check])
    with pytest.raises(checks.CheckFailed) as err:
        getattr(checks, check)(student, hidden=hidden)
    text = str(err.value)
    if check == "check_gradient_penalty" and untrainable is under_no_grad:
        # the penalty needs autograd to exist at all: it fails earlier
        assert "raised RuntimeError" in text and "called:" in text
        return
    assert "cannot be trained on" in text
    assert "built from torch operations on its inputs" in text


def test_a_loss_with_a_detached_input_fails_on_its_gradient():
    def encoder_cut_off(D, x_real, z_enc, x_fake, z):
        # the right value, but E would never learn: z_enc is detached
        return F.softplus(-D(x_real, z_enc.detach())).mean() + \
            F.softplus(D(x_fake, z)).mean()

    with pytest.raises(checks.CheckFailed,
                       match="GRADIENT of the loss with respect to z_enc"):
        checks.check_bigan_d_loss(encoder_cut_off)


def test_a_correct_loss_with_a_copy_of_its_input_passes():
    # x.clone() and float() keep the graph: these are trainable
    def cloned(real_out, fake_out):
        r, f = real_out.clone().float(), fake_out.clone()
        return F.softplus(-r).mean() + F.softplus(f).mean()

    checks.check_d_loss(cloned)
    checks.check_d_loss(cloned, hidden=True)


@pytest.mark.parametrize("check", sorted(
    n for n in checks.__all__ if n.startswith("check_")
    and n != "check_function"))
def test_every_check_takes_hidden_as_a_keyword_only_flag(check):
    import inspect
    param = inspect.signature(getattr(checks, check)).parameters["hidden"]
    assert param.kind is inspect.Parameter.KEYWORD_ONLY
    assert param.default is False


@pytest.mark.parametrize("check, wrong", [
    ("check_d_loss",  # labels swapped
     lambda r, f: F.softplus(r).mean() + F.softplus(-f).mean()),
    ("check_d_loss",  # one mean over both batches
     lambda r, f: torch.cat([F.softplus(-r), F.softplus(f)]).mean() * 2),
    ("check_kl_to_prior",  # no factor 1/2
     lambda mu, lv: (mu**2 + lv.exp() - lv - 1).sum(1).mean()),
    ("check_semisup_d_loss",  # unsupervised term only
     lambda l, y, u, f: semisup.d_loss_semisup(l, y, u, f)
     - F.cross_entropy(l, y)),
    ("check_pix2pix_g_loss",  # squared error
     lambda m, bf, br, w: F.softplus(-m).mean()
     + w * (bf - br).pow(2).mean()),
    ("check_posterior",  # P(x | y)
     lambda j: j / j.sum(dim=0, keepdim=True)),
])
def test_common_mistakes_also_fail_the_hidden_cases(check, wrong):
    with pytest.raises(checks.CheckFailed):
        getattr(checks, check)(wrong, hidden=True)
