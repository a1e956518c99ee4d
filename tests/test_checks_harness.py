"""The harness behind every exercise check: how it compares and what a
failure message tells the student."""

import pytest
import torch

from ganlib.checks import harness


def message(expected, got) -> str:
    with pytest.raises(harness.CheckFailed) as err:
        harness.fail("a check", "a case", expected, got, hint="a hint")
    return str(err.value)


def line(text: str, label: str) -> str:
    return next(s for s in text.splitlines() if s.strip().startswith(label))


def test_small_tensors_are_shown_in_full_and_say_where_they_differ():
    text = message(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 3.0]))
    assert "[1.0, 2.0]" in line(text, "expected:")
    assert "[1.0, 3.0]" in line(text, "got:")
    differs = line(text, "differs:")
    assert "index [1]" in differs and "off by 1" in differs


def test_a_scalar_says_how_far_off_it_is():
    differs = line(message(torch.tensor(0.5), torch.tensor(0.75)),
                   "differs:")
    assert "expected 0.5, got 0.75 (off by 0.25)" in differs
    assert "index" not in differs


def test_large_tensors_of_one_shape_say_where_they_differ():
    expected = torch.arange(12.0).view(3, 4)
    got = expected.clone()
    got[1, 3] = 7.25
    text = message(expected, got)
    # shape, dtype and first entries agree: only the differs line tells
    differs = line(text, "differs:")
    assert "index [1, 3]" in differs
    assert "expected 7," in differs and "got 7.25" in differs
    assert "off by 0.25" in differs
    assert "[0, 1, 2, 3, ...]" in line(text, "expected:")


def test_the_first_entries_tell_two_large_tensors_apart():
    text = message(torch.arange(10), torch.arange(10).flip(0))
    assert "[0, 1, 2, 3, ...]" in line(text, "expected:")
    assert "[9, 8, 7, 6, ...]" in line(text, "got:")
    assert "index [0]" in line(text, "differs:")


def test_a_nan_is_the_entry_furthest_off():
    expected = torch.zeros(2, 5)
    got = expected.clone()
    got[0, 1] = 0.5
    got[1, 2] = float("nan")
    differs = line(message(expected, got), "differs:")
    assert "index [1, 2]" in differs and "got nan" in differs


def test_shapes_that_differ_are_reported_by_shape():
    text = message(torch.zeros(3, 4), torch.zeros(2, 4))
    assert "shape (3, 4)" in line(text, "expected:")
    assert "shape (2, 4)" in line(text, "got:")
    assert "differs:" not in text
    assert "expected (3, 4), got (2, 4)" in line(text, "shapes:")


def test_a_large_tensor_names_the_index_and_the_largest_difference():
    expected = torch.zeros(4, 50, 50)
    got = expected + 1e-3  # small everywhere ...
    got[2, 17, 41] = -3.5  # ... and one entry far off
    differs = line(message(expected, got), "differs:")
    assert "index [2, 17, 41]" in differs
    assert "expected 0, got -3.5" in differs and "off by 3.5" in differs


def test_check_function_reports_the_difference_of_a_large_output():
    def reference(x):
        return 2 * x

    def student(x):  # wrong in one entry only
        y = 2 * x
        y[5] += 1
        return y

    with pytest.raises(harness.CheckFailed, match=r"index \[5\]"):
        harness.check_function("doubling", student, reference,
                               [("x = arange(8)", (torch.arange(8.0),))],
                               hint="multiply by 2")


def test_an_error_in_the_student_function_is_reported_with_the_call():
    def broken_loss(x, y):
        raise IndexError("index 3 is out of bounds")

    with pytest.raises(harness.CheckFailed) as err:
        harness.check_function("a loss", broken_loss, lambda x, y: x.sum(),
                               [("two small tensors", (torch.zeros(2, 3),
                                                       torch.ones(4)))],
                               hint="a hint")
    text = str(err.value)
    assert "raised IndexError: index 3 is out of bounds" in text
    assert "on input:  two small tensors" in text
    called = line(text, "called:")
    assert "broken_loss(<tensor of shape (2, 3)>, " \
           "<tensor of shape (4,)>)" in called
    assert err.value.__cause__ is None and err.value.__suppress_context__


def _sum_of_squares(x):
    return (x ** 2).sum()


@pytest.mark.parametrize("untrainable", [
    lambda x: torch.tensor(_sum_of_squares(x).item()),
    lambda x: _sum_of_squares(x).detach(),
    lambda x: float(_sum_of_squares(x)),
    lambda x: torch.as_tensor((x.detach().numpy() ** 2).sum()),  # numpy
])
def test_a_loss_that_cannot_be_trained_on_fails(untrainable):
    def no_grad(x):
        with torch.no_grad():
            return _sum_of_squares(x)

    for student in (untrainable, no_grad):
        with pytest.raises(harness.CheckFailed,
                           match="built from torch operations on its inputs"):
            harness.check_function("a loss", student, _sum_of_squares,
                                   [("x = arange(3)", (torch.arange(3.0),))],
                                   hint="a hint", loss=True)


def test_a_loss_with_the_right_value_and_the_wrong_gradient_fails():
    def half_detached(x):  # same value, half the gradient
        return (x * x.detach()).sum()

    with pytest.raises(harness.CheckFailed, match="GRADIENT") as err:
        harness.check_function("a loss", half_detached, _sum_of_squares,
                               [("x = arange(8)", (torch.arange(8.0),))],
                               hint="a hint", loss=True)
    assert "with respect to x" in str(err.value)
    assert "index [7]" in line(str(err.value), "differs:")


def test_a_loss_gets_copies_of_its_inputs():
    x = torch.arange(3.0)

    def in_place(x):
        return x.sum()

    harness.check_function("a loss", in_place, lambda x: x.sum(),
                           [("x", (x,))], hint="h", loss=True)
    assert not x.requires_grad


def test_forbid_refuses_a_call_and_puts_the_original_back():
    import types
    owner = types.SimpleNamespace(f=lambda: 1)
    original = owner.f
    with pytest.raises(harness.CheckFailed, match="calls owner.f"):
        with harness.forbid("a check", [(owner, "f", "owner.f")], "h"):
            owner.f()
    assert owner.f is original
    with harness.forbid("a check", [(owner, "f", "owner.f")], "h"):
        pass
    assert owner.f is original
