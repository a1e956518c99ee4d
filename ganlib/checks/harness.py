"""The harness every exercise check runs on: call, compare, explain, fail."""

from __future__ import annotations

import contextlib
import inspect
import math
from typing import Any, Callable, Iterator, Sequence

import torch


class CheckFailed(AssertionError):
    """An exercise check failed; the message says why and how to fix it."""


TRAINABLE = ("the loss must be built from torch operations on its inputs "
             "so that it can be trained on: no .item(), float(...), numpy, "
             ".detach() or torch.no_grad() between the inputs and the "
             "value you return")


def _describe(value: Any, entries: bool = False) -> str:
    """value in words; with entries, a large tensor shows its first few."""
    if torch.is_tensor(value):
        if value.numel() <= 6:
            return f"tensor {value.detach().cpu().tolist()} " \
                   f"(shape {tuple(value.shape)})"
        text = f"a tensor of shape {tuple(value.shape)}, dtype {value.dtype}"
        if entries:
            first = value.detach().flatten()[:4].cpu().tolist()
            text += ": [" + ", ".join(f"{v:.4g}" for v in first) + ", ...]"
        return text
    return repr(value)


def _brief(value: Any) -> str:
    """value in a few words, for the line that shows a call."""
    if torch.is_tensor(value):
        if value.ndim == 0:
            return f"tensor({value.item():.4g})"
        return f"<tensor of shape {tuple(value.shape)}>"
    if isinstance(value, torch.nn.Module):
        return f"<{type(value).__name__}>"
    if isinstance(value, (bool, int, float, str)) or value is None:
        return repr(value)
    if isinstance(value, (list, tuple)) and len(value) <= 6:
        return repr(value)
    if callable(value):
        return getattr(value, "__name__", type(value).__name__)
    return f"<{type(value).__name__}>"


def _call_text(student: Callable, args: Sequence) -> str:
    """How a call looks: ``d_loss(<tensor of shape (4,)>, ...)``."""
    name = getattr(student, "__name__", "your function")
    return f"{name}(" + ", ".join(_brief(a) for a in args) + ")"


def _where_they_differ(expected: Any, got: Any) -> str | None:
    """Where two tensors of one shape differ most, or None."""
    if not (torch.is_tensor(expected) and torch.is_tensor(got)
            and expected.shape == got.shape and expected.numel() > 0):
        return None
    e = expected.detach().double().cpu().flatten()
    g = got.detach().double().cpu().flatten()
    # nan against a number is as far apart as entries get
    same = (e == g) | (e.isnan() & g.isnan())
    gap = torch.where(same, 0.0, (g - e).abs().nan_to_num(nan=math.inf))
    i = int(gap.argmax())
    worst = float(gap[i])
    if worst == 0:
        return None
    where = ""
    if expected.ndim > 0:
        index = [int(k) for k in torch.unravel_index(torch.tensor(i),
                                                     expected.shape)]
        where = f"furthest off at index {index}: "
    text = f"{where}expected {float(e[i]):.6g}, got {float(g[i]):.6g}"
    if math.isfinite(worst):
        text += f" (off by {worst:.3g})"
    return text


def fail(name: str, case: str, expected: Any, got: Any, hint: str) -> None:
    """Raise :class:`CheckFailed` with the book's standard explanation."""
    # tensors of one shape: say which entry is furthest off, and by how
    # much; large ones would read alike by shape and dtype, so they also
    # show their first entries
    differs = _where_they_differ(expected, got)
    entries = differs is not None and expected.numel() > 6
    shapes = None
    if torch.is_tensor(expected) and torch.is_tensor(got) and \
            expected.shape != got.shape:
        shapes = f"expected {tuple(expected.shape)}, got {tuple(got.shape)}"
    raise CheckFailed(
        f"\n{name}: not yet right.\n"
        f"  on input:  {case}\n"
        f"  expected:  {_describe(expected, entries)}\n"
        f"  got:       {_describe(got, entries)}\n"
        + (f"  differs:   {differs}\n" if differs else "")
        + (f"  shapes:    {shapes}\n" if shapes else "")
        + f"  hint:      {hint}"
    )


def close(got: Any, expected: Any, atol: float = 1e-5,
          rtol: float = 1e-4) -> bool:
    """True when got matches expected in type, shape and value."""
    if torch.is_tensor(expected):
        if not torch.is_tensor(got) or got.shape != expected.shape:
            return False
        return bool(torch.allclose(got.detach().double().cpu(),
                                   expected.detach().double().cpu(),
                                   atol=atol, rtol=rtol, equal_nan=True))
    try:
        return math.isclose(float(got), float(expected), abs_tol=atol,
                            rel_tol=rtol)
    except (TypeError, ValueError, RuntimeError):
        pass
    try:  # e.g. a tuple against a tuple; an array's == is no answer
        return bool(got == expected)
    except Exception:  # noqa: BLE001 (any odd value simply is not equal)
        return False


def call_student(name: str, student: Callable, args: Sequence,
                 case: str, hint: str) -> Any:
    """``student(*args)``; an exception it raises fails the check."""
    try:
        return student(*args)
    except CheckFailed:  # a check's own verdict, e.g. a forbidden call
        raise
    except NotImplementedError:
        raise CheckFailed(f"\n{name}: the exercise is not done yet "
                          "(it still raises NotImplementedError). "
                          f"Hint: {hint}") from None
    except Exception as err:  # show the student's error in context
        raise CheckFailed(f"\n{name}: your function raised "
                          f"{type(err).__name__}: {err}\n"
                          f"  on input:  {case}\n"
                          f"  called:    {_call_text(student, args)}\n"
                          f"  hint:      {hint}") from None


def require_graph(name: str, case: str, value: Any,
                  wrt: str = "its inputs") -> None:
    """Fail unless value is a tensor that autograd can differentiate."""
    if torch.is_tensor(value) and value.requires_grad:
        return
    what = (f"a tensor with no gradient (requires_grad is False): "
            f"{_describe(value)}" if torch.is_tensor(value)
            else f"{type(value).__name__} {value!r}, not a tensor")
    raise CheckFailed(
        f"\n{name}: the value cannot be trained on: no gradient flows "
        f"from it back to {wrt}.\n"
        f"  on input:  {case}\n"
        f"  got:       {what}\n"
        f"  hint:      {TRAINABLE}")


def _inputs(args: Sequence, grad: bool) -> tuple:
    """Fresh copies of the tensors in args (float ones leaves with grad)."""
    out = []
    for a in args:
        if torch.is_tensor(a):
            a = a.detach().clone()
            if grad and a.is_floating_point():
                a.requires_grad_(True)
        out.append(a)
    return tuple(out)


def _arg_names(reference: Callable, n: int) -> list[str]:
    """The reference's parameter names, to say which input a gradient
    belongs to."""
    try:
        names = list(inspect.signature(reference).parameters)
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"argument {i + 1}"
            for i in range(n)]


def grad_close(got: torch.Tensor, expected: torch.Tensor) -> bool:
    """Gradients agree up to a tolerance on the scale of the expected."""
    scale = float(expected.detach().abs().max()) if expected.numel() else 0.
    return close(got, expected, atol=1e-7 + 1e-4 * scale, rtol=1e-3)


def _check_gradients(name: str, case: str, got: torch.Tensor,
                     expected: torch.Tensor, got_args: tuple,
                     ref_args: tuple, names: list[str], hint: str) -> None:
    """The student's loss has the reference's gradient for every input."""
    if not expected.requires_grad:
        return  # the reference itself does not depend on the inputs
    slots = [i for i, a in enumerate(ref_args)
             if torch.is_tensor(a) and a.requires_grad]
    ref_grads = torch.autograd.grad(expected, [ref_args[i] for i in slots],
                                    allow_unused=True)
    try:
        got_grads = torch.autograd.grad(got, [got_args[i] for i in slots],
                                        allow_unused=True)
    except RuntimeError as err:
        raise CheckFailed(f"\n{name}: the value is right but autograd cannot "
                          f"differentiate it: {err}\n"
                          f"  on input:  {case}\n"
                          f"  hint:      {TRAINABLE}") from None
    for i, g, r in zip(slots, got_grads, ref_grads):
        r = torch.zeros_like(ref_args[i]) if r is None else r
        g = torch.zeros_like(got_args[i]) if g is None else g
        if not grad_close(g, r):
            fail(name, f"{case}; the GRADIENT of the loss with respect to "
                       f"{names[i]}", r, g,
                 hint="the value is right but its gradient is not: is a "
                      "term detached, or computed from something other "
                      f"than {names[i]}? {TRAINABLE}")


def check_function(name: str, student: Callable, reference: Callable,
                   cases: Sequence[tuple[str, tuple]], hint: str,
                   atol: float = 1e-5, rtol: float = 1e-4, *,
                   loss: bool = False, trainable: bool = False,
                   hidden: bool = False,
                   precheck: Callable[..., str | None] | None = None
                   ) -> None:
    """Compare ``student(*args)`` with ``reference(*args)`` on every case.

    ``cases`` are ``(description, args)`` pairs; the description is what
    a failure message shows as the input. Each call gets its own copies
    of the tensors. With ``loss`` the float inputs require grad and the
    student's value must carry the reference's gradient to each of them;
    with ``trainable`` it must only carry a gradient (to a network's
    weights, say, that the check compares itself).
    ``precheck(got, *args)`` may return a message that fails the case
    before the values are compared. ``hidden`` only changes the words of
    the line printed on success.
    """
    names = _arg_names(reference, max((len(a) for _, a in cases), default=0))
    for description, args in cases:
        ref_args, got_args = _inputs(args, loss), _inputs(args, loss)
        expected = reference(*ref_args)
        got = call_student(name, student, got_args, description, hint)
        if precheck is not None:
            problem = precheck(got, *args)
            if problem:
                raise CheckFailed(f"\n{name}: not yet right: {problem}\n"
                                  f"  on input:  {description}\n"
                                  f"  got:       {_describe(got)}\n"
                                  f"  hint:      {hint}")
        if (loss or trainable) and torch.is_tensor(expected) and \
                expected.requires_grad:
            require_graph(name, description, got)
        if not close(got, expected, atol, rtol):
            fail(name, description, expected, got, hint)
        if loss:
            _check_gradients(name, description, got, expected, got_args,
                             ref_args, names, hint)
    passed(name, len(cases), hidden)


def passed(name: str, n: int, hidden: bool = False) -> None:
    """Print the line that says a check passed."""
    kind = "hidden checks" if hidden else "checks"
    print(f"{name}: all {n} {kind} passed.")


@contextlib.contextmanager
def forbid(name: str, calls: Sequence[tuple[Any, str, str]],
           hint: str) -> Iterator[None]:
    """While the block runs, calling ``owner.attr`` fails the check.

    ``calls`` are ``(owner, attr, label)`` triples, e.g. ``(losses,
    "d_loss", "losses.d_loss")``; the originals are put back afterwards,
    whatever happens.
    """
    called: list[str] = []

    def refuse(label: str) -> Callable:
        def refused(*args, **kwargs):
            called.append(label)
            raise CheckFailed(
                f"\n{name}: your function calls {label}; the exercise asks "
                f"you to write it without it.\n  hint:      {hint}")
        return refused

    saved = []
    try:
        for owner, attr, label in calls:
            if hasattr(owner, attr):
                saved.append((owner, attr, getattr(owner, attr)))
                setattr(owner, attr, refuse(label))
        yield
    finally:
        for owner, attr, original in reversed(saved):
            setattr(owner, attr, original)
    if called:  # the student's code caught the CheckFailed and went on
        raise CheckFailed(
            f"\n{name}: your function calls {called[0]}; the exercise asks "
            f"you to write it without it.\n  hint:      {hint}")
