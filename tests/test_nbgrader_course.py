"""A real nbgrader course: two chapters set, released, answered, autograded.

In a temporary folder this builds nbgrader's quickstart layout
(``source/<assignment>/<notebook>``, ``nbgrader_config.py``, a gradebook),
makes the release version with ``nbgrader generate_assignment``, writes a
student's submission with known right, wrong and missing answers,
runs ``nbgrader autograde`` in quick mode, and reads the points back from
the gradebook: a right answer earns its point, a wrong or missing one does
not. One submission starts from nbgrader's release version, the other from
the student notebook the website publishes (``python -m ganlib.student``):
students may hand in either.
"""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader", reason="nbgrader is not installed (it is in "
                    "ganlib's test extras: pip install -e '.[test]')")
from nbgrader.api import Gradebook  # noqa: E402

from ganlib import student  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STUDENT = "ada"

# per assignment: the chapter, the notebook the student starts from
# ("release": nbgrader's, "website": python -m ganlib.student's), and the
# answers the student gives, by grade_id of each solution cell:
# RIGHT is the reference solution as a student would type it, MISSING
# leaves nbgrader's "raise NotImplementedError()" stub, and any other text
# is the whole cell, a function that returns a plainly wrong value
RIGHT, MISSING = "right", "missing"
ANSWERS = {
    "ch04": ("04_gan_theory", "release", {
        "ch04-d-loss": RIGHT,
        "ch04-optimal-d": '''\
def optimal_discriminator(p_data, p_g, x):
    # wrong: the two densities swapped, so this is 1 - D*
    p, q = p_data.pdf(x), p_g.pdf(x)
    return q / (p + q)
''',
        "ch04-jsd": MISSING,
    }),
    "ch10": ("10_semi_supervised", "website", {
        "ch10-d-prob-real": RIGHT,
        "ch10-k-plus-one-loss": '''\
import torch.nn.functional as F


def k_plus_one_loss(logits_lab, y_lab, logits_unl, logits_fake):
    # wrong: the cross-entropy alone, without the GAN half
    return F.cross_entropy(logits_lab, y_lab)
''',
    }),
}
# (points, out of) per notebook: one point per check cell in the book
SCORES = {"ch04": (1.0, 3.0), "ch10": (1.0, 2.0)}

CONFIG = '''\
c = get_config()
c.CourseDirectory.course_id = "ganbook"
c.CourseDirectory.root = {root!r}
c.CourseDirectory.db_url = {db_url!r}
# nbgrader gives every cell 30 s by default; the chapters' training cells
# need more in full mode, so allow ten minutes
c.Execute.timeout = 600
'''


def nbgrader(course: Path, *args: str) -> None:
    """Run one nbgrader command in the course, in quick mode."""
    env = {**os.environ, "GANLIB_QUICK": "1", "TQDM_DISABLE": "1",
           "GANLIB_DATA": os.environ.get("GANLIB_DATA", "embedded"),
           # no nbgrader or Jupyter settings of the machine's user
           "JUPYTER_CONFIG_DIR": str(course / ".jupyter"),
           # nbgrader runs the alembic command of its own environment
           "PATH": os.pathsep.join([str(Path(sys.executable).parent),
                                    os.environ.get("PATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args],
                          cwd=course, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, \
        f"nbgrader {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n" \
        f"{proc.stderr[-6000:]}"


def meta(cell) -> dict:
    """A cell's nbgrader metadata ({} if it has none)."""
    return cell.get("metadata", {}).get("nbgrader", {})


def solution_text(cell) -> str:
    """A teacher's solution cell without nbgrader's markers."""
    return "\n".join(line for line in cell.source.splitlines()
                     if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line)


def expected_points(source: Path, answers: dict) -> dict:
    """Points per check cell: its points if every answer before it is right."""
    points, pending = {}, []
    for cell in nbformat.read(source, as_version=4).cells:
        if meta(cell).get("solution"):
            pending.append(meta(cell)["grade_id"])
        elif meta(cell).get("grade"):
            right = all(answers[s] == RIGHT for s in pending)
            points[meta(cell)["grade_id"]] = (
                float(meta(cell)["points"]) if right else 0.0, pending)
            pending = []
    return points


def answer(handout: Path, source: Path,
           answers: dict) -> nbformat.NotebookNode:
    """The handed-out notebook with the student's answers filled in."""
    nb = nbformat.read(handout, as_version=4)
    teacher = {meta(c)["grade_id"]: c
               for c in nbformat.read(source, as_version=4).cells
               if meta(c).get("solution")}
    assert set(teacher) == set(answers), \
        f"{source.name}'s solution cells are now {sorted(teacher)}: give " \
        "each an answer in ANSWERS"
    for cell in nb.cells:
        grade_id = meta(cell).get("grade_id")
        if grade_id not in answers:
            continue
        assert "raise NotImplementedError()" in cell.source
        given = answers[grade_id]
        if given == RIGHT:
            cell.source = solution_text(teacher[grade_id])
        elif given != MISSING:
            cell.source = given
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A course with both chapters released, answered and autograded."""
    course = tmp_path_factory.mktemp("course")
    db_url = f"sqlite:///{course / 'gradebook.db'}"
    (course / "nbgrader_config.py").write_text(
        CONFIG.format(root=str(course), db_url=db_url))
    for assignment, (notebook, _, _) in ANSWERS.items():
        folder = course / "source" / assignment
        folder.mkdir(parents=True)
        chapter = ROOT / "chapters" / f"{notebook}.ipynb"
        (folder / chapter.name).write_bytes(chapter.read_bytes())
        nbgrader(course, "generate_assignment", assignment)
    for assignment, (notebook, start, answers) in ANSWERS.items():
        name = f"{notebook}.ipynb"
        source = course / "source" / assignment / name
        handout = course / "release" / assignment / name
        if start == "website":
            handout = student.convert(source, course / "website")
        mine = answer(handout, source, answers)
        out = course / "submitted" / STUDENT / assignment
        out.mkdir(parents=True)
        nbformat.write(mine, out / name)
        nbgrader(course, "autograde", assignment)
        nbgrader(course, "generate_feedback", assignment)
    return course


@pytest.mark.parametrize("assignment", sorted(ANSWERS))
def test_release_version_has_no_solutions(course, assignment):
    notebook, _, answers = ANSWERS[assignment]
    text = (course / "release" / assignment / f"{notebook}.ipynb").read_text()
    assert "### BEGIN SOLUTION" not in text
    assert "### BEGIN HIDDEN TESTS" not in text
    assert text.count("raise NotImplementedError()") >= len(answers)


@pytest.mark.parametrize("assignment", sorted(ANSWERS))
def test_autograde_scores_right_answers_only(course, assignment):
    notebook, _, answers = ANSWERS[assignment]
    source = course / "source" / assignment / f"{notebook}.ipynb"
    want = {check: p for check, (p, _) in
            expected_points(source, answers).items()}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "ganbook") as gb:
        sub = gb.find_submission_notebook(notebook, assignment, STUDENT)
        got = {g.name: g.auto_score for g in sub.grades}
        score, max_score = sub.score, sub.max_score
    assert got == want, f"{assignment}: points per check cell"
    assert (score, max_score) == SCORES[assignment]


@pytest.mark.parametrize("assignment", sorted(ANSWERS))
def test_failed_checks_say_why(course, assignment):
    """A wrong answer fails its check; a missing one is reported missing."""
    notebook, _, answers = ANSWERS[assignment]
    source = course / "source" / assignment / f"{notebook}.ipynb"
    graded = nbformat.read(course / "autograded" / STUDENT / assignment
                           / f"{notebook}.ipynb", as_version=4)
    errors = {meta(c).get("grade_id"): [f"{o.ename}: {o.evalue}"
                                        for o in c.outputs
                                        if o.output_type == "error"]
              for c in graded.cells if c.cell_type == "code"}
    for check, (_, solutions) in expected_points(source, answers).items():
        given = {answers[s] for s in solutions}
        if given == {RIGHT}:
            assert errors[check] == [], check
            continue
        (error,) = errors[check]  # one answer per check in these chapters
        if given == {MISSING}:  # the check says the stub is still there
            assert "NotImplementedError" in error, error
        else:  # a wrong value: the check explains the mismatch
            assert error.startswith("CheckFailed: "), error
            assert "NotImplementedError" not in error, error
    feedback = course / "feedback" / STUDENT / assignment / f"{notebook}.html"
    assert feedback.is_file()
