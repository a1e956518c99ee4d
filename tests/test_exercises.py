"""The exercises grade what they ask: hidden tests run other cases than
the visible check, and no page shows an exercise's answer above it."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

CHAPTERS = Path(__file__).resolve().parents[1] / "chapters"
NOTEBOOKS = sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb"))

# exercise (the function its solution cell defines) -> the ganlib function
# that answers it; the page must not write or print that function above
# the exercise; where a call printed what the exercise asks to compute
# (CALL_GIVES_AWAY), it must not call it there either
ANSWERS = {
    "02_autoencoders.ipynb": {"kl_to_prior": "ganlib.autoencoders."
                                             "kl_divergence"},
    "03_deep_reconstructions.ipynb": {"tv_loss": "ganlib.inversion.tv_loss"},
    "06_dcgan.ipynb": {"my_attribute_direction":
                       "ganlib.latent.attribute_direction"},
    "08_training_tricks.ipynb": {
        "mode_coverage": "ganlib.modes.mode_score",
        "gradient_penalty_at": "ganlib.tricks.gradient_penalty",
        "unroll": "ganlib.tricks.unrolled_params"},
    "09_ali_bigan.ipynb": {"pair_d_loss": "ganlib.bigan.d_loss_pairs",
                           "pair_eg_loss": "ganlib.bigan.eg_loss_pairs"},
    "10_semi_supervised.ipynb": {
        "d_prob_real": "ganlib.semisup.d_prob_real",
        "k_plus_one_loss": "ganlib.semisup.d_loss_semisup"},
    "11_applications.ipynb": {
        "patchgan_d_loss": "ganlib.pix2pix.patch_d_loss",
        "p2p_g_loss": "ganlib.pix2pix.pix2pix_g_loss"},
    "12_dynamics_and_divergences.ipynb": {
        "dirac_gan_step": "ganlib.divergences.dirac_gan_step",
        "jsd_uniform": "ganlib.divergences.jsd_uniform",
        "w1_sorted": "ganlib.divergences.w1_sorted",
        "lsgan_optimal_d": "ganlib.divergences.lsgan_optimal_d",
        "frechet_gaussians": "ganlib.divergences.frechet_gaussians"},
}


CALL_GIVES_AWAY = {"d_prob_real"}


def _cells(path: Path) -> list[tuple[str, str]]:
    nb = json.loads(path.read_text())
    return [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]]


def _hidden_blocks(source: str) -> list[str]:
    return re.findall(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS",
                      source, re.S)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_hidden_tests_run_other_cases(path):
    blocks = []
    for index, (kind, source) in enumerate(_cells(path)):
        if kind == "code" and "checks.check_" in source:
            found = _hidden_blocks(source)
            assert found, (f"{path.name} cell {index} checks an exercise "
                           f"with no hidden test")
            blocks += found
    for block in blocks:
        calls = re.findall(r"checks\.check_\w+\(.*", block)
        assert calls, f"{path.name}: a hidden-test block calls no check"
        for call in calls:
            assert "hidden=True" in call, (
                f"{path.name}: the hidden test '{call.strip()}' repeats the "
                f"visible check; call it with hidden=True")


def _solution_cells(path: Path) -> dict[str, int]:
    found = {}
    for index, (kind, source) in enumerate(_cells(path)):
        if kind == "code" and "### BEGIN SOLUTION" in source:
            for name in re.findall(r"^def (\w+)", source, re.M):
                found[name] = index
    return found


CASES = [(nb, exercise, answer) for nb, table in ANSWERS.items()
         for exercise, answer in table.items()]


@pytest.mark.parametrize("notebook, exercise, answer", CASES,
                         ids=[f"{n[:2]}-{e}" for n, e, _ in CASES])
def test_no_answer_above_its_exercise(notebook, exercise, answer):
    path = CHAPTERS / notebook
    where = _solution_cells(path)
    assert exercise in where, f"{notebook}: no solution cell defines " \
                              f"{exercise}"
    name = answer.rsplit(".", 1)[1]
    shown = re.compile(rf"#\s*twin:\s*{re.escape(answer)}\s*$|getsource|"
                       rf"literalinclude|^def {name}\b", re.M)
    called = re.compile(rf"(?<![\w.]){name}\(|\.{name}\(")
    for index, (kind, source) in enumerate(_cells(path)[:where[exercise]]):
        if kind != "code":
            continue
        assert not shown.search(source), (
            f"{notebook} cell {index} shows {answer}, the answer of the "
            f"exercise '{exercise}' below it")
        # a call above the exercise gives its output away (chapter 10
        # computed D's real-probability before asking for it); a helper
        # that uses it inside its own body is fine, so only top-level
        # lines count
        for line in source.splitlines():
            if exercise not in CALL_GIVES_AWAY:
                break
            if line.startswith((" ", "\t", "#")):
                continue
            assert not called.search(line), (
                f"{notebook} cell {index} calls {name} above the exercise "
                f"'{exercise}' that asks for it: {line.strip()}")


def test_the_answer_check_catches_a_shown_answer(tmp_path, monkeypatch):
    nb = {"cells": [
        {"cell_type": "code", "source": [
            "# twin: ganlib.tricks.gradient_penalty\n",
            "def gradient_penalty(D, x_real, x_fake, event_dims=1):\n",
            "    ...\n"]},
        {"cell_type": "code", "source": [
            "def gradient_penalty_at(D, x_hat):\n",
            "    ### BEGIN SOLUTION\n", "    pass\n",
            "    ### END SOLUTION\n"]}]}
    (tmp_path / "08_x.ipynb").write_text(json.dumps(nb))
    monkeypatch.setattr(sys.modules[__name__], "CHAPTERS", tmp_path)
    with pytest.raises(AssertionError, match="shows ganlib.tricks"):
        test_no_answer_above_its_exercise(
            "08_x.ipynb", "gradient_penalty_at",
            "ganlib.tricks.gradient_penalty")
    nb["cells"][0]["source"] = ["p = semisup.d_prob_real(D, x)\n"]
    nb["cells"][1]["source"][0] = "def d_prob_real(D, x):\n"
    (tmp_path / "10_x.ipynb").write_text(json.dumps(nb))
    with pytest.raises(AssertionError, match="calls d_prob_real"):
        test_no_answer_above_its_exercise(
            "10_x.ipynb", "d_prob_real", "ganlib.semisup.d_prob_real")
