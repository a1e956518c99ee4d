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


def test_small_tensors_are_shown_in_full():
    text = message(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 3.0]))
    assert "[1.0, 2.0]" in line(text, "expected:")
    assert "[1.0, 3.0]" in line(text, "got:")
    assert "differs:" not in text


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
