"""check(): the notebooks' way of backing a claim with its number."""

import numpy as np
import pytest
import torch

from course_utils.checks import CheckFailed, check


def test_a_claim_that_holds_is_printed_with_its_numbers(capsys):
    check(0.9 > 0.5, "p rises", "p = 0.900")
    assert capsys.readouterr().out == "✓ p rises (p = 0.900)\n"


def test_a_claim_that_fails_names_the_claim_and_the_numbers():
    with pytest.raises(CheckFailed, match=r"✗ p rises \(p = 0.100\)"):
        check(0.1 > 0.5, "p rises", "p = 0.100")
    assert issubclass(CheckFailed, AssertionError)


def test_one_element_tensors_and_arrays_are_judged_by_their_value(capsys):
    check(torch.tensor(True), "tensor")
    check(np.bool_(True), "array", quiet=True)
    assert capsys.readouterr().out == "✓ tensor\n"
    with pytest.raises(CheckFailed):
        check(torch.tensor([False]), "tensor")


def test_several_values_or_no_claim_are_refused():
    with pytest.raises(TypeError, match="one true/false value"):
        check(torch.tensor([True, False]), "ambiguous")
    with pytest.raises(TypeError, match="claim must be"):
        check(True, "")
