"""The four dependency lists (requirements.txt, pyproject.toml, environment.yml, binder/) must agree,
and every package the repository imports is declared in them."""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
CONDA_TO_PYPI = {"pytorch-cpu": "torch"}  # conda-forge's CPU-only build of torch
NOT_PACKAGES = {"python", "pip"}
TOOLS = {"jupyterlab", "ipykernel"}  # needed to open and run the notebooks, not imported by the code
# Imported but deliberately not declared: each is optional or comes with a declared package.
UNDECLARED_IMPORTS = {
    "pytorch_grad_cam": "bench/saliency.py includes it in the comparison only when it is installed",
    "IPython": "imported only inside a running notebook, where ipykernel provides it",
    "matplotlib_inline": "imported only inside a running notebook, where ipykernel provides it",
}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[_canonical(name)] = version
    return pins


def conda_pins(path: Path) -> dict[str, str]:
    """Read `- name=version` (conda) and `- name==version` (pip section) lines of an environment file."""
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^\s*-\s+([A-Za-z0-9_.\-]+)\s*==?\s*([0-9][^\s#]*)", line)
        if match:
            name = _canonical(CONDA_TO_PYPI.get(match[1], match[1]))
            if name not in NOT_PACKAGES:
                pins[name] = match[2]
    return pins


def test_requirements_pin_every_package_exactly():
    text = (ROOT / "requirements.txt").read_text()
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        assert not line or re.fullmatch(r"[A-Za-z0-9_.\-]+==[0-9][^\s]*", line), f"not an exact pin: {line!r}"
    assert requirements_pins()["torch"] == "2.14.1" and requirements_pins()["torchvision"] == "0.29.1"


def test_environment_files_match_requirements():
    pins = requirements_pins()
    for path in (ROOT / "environment.yml", ROOT / "binder" / "environment.yml"):
        assert conda_pins(path) == pins, f"{path.relative_to(ROOT)} differs from requirements.txt"


def test_binder_uses_cpu_torch_from_conda_forge():
    text = (ROOT / "binder" / "environment.yml").read_text()
    assert "conda-forge" in text and "pytorch-cpu=" in text
    assert "pip install --no-deps -e ." in (ROOT / "binder" / "postBuild").read_text()


def declared_requirements() -> list[Requirement]:
    """pyproject.toml's runtime dependencies and every optional group (test, dev)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = [project["dependencies"], *project["optional-dependencies"].values()]
    return [Requirement(r) for group in groups for r in group]


def test_pyproject_dependencies_are_satisfied_by_the_pins():
    pins = requirements_pins()
    for req in declared_requirements():
        name = _canonical(req.name)
        assert name in pins, f"{req.name} is in pyproject.toml but not pinned in requirements.txt"
        assert Version(pins[name]) in req.specifier, f"pin {name}=={pins[name]} violates {req}"
    declared = {_canonical(r.name) for r in declared_requirements()}
    assert set(pins) - declared <= TOOLS, f"pinned but not declared: {set(pins) - declared - TOOLS}"


def imported_modules() -> dict[str, Path]:
    """Top-level modules imported anywhere in course_utils, tools, bench, tests and the notebook sources."""
    found = {}
    for folder in ("course_utils", "tools", "bench", "tests", "notebooks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], path.relative_to(ROOT))
    return found


def test_every_imported_package_is_declared():
    local = {"course_utils"} | {p.stem for p in (ROOT / "tools").glob("*.py")}
    distributions = importlib.metadata.packages_distributions()
    declared = {_canonical(r.name) for r in declared_requirements()}
    missing = []
    for module, where in imported_modules().items():
        if module in sys.stdlib_module_names or module in local or module in UNDECLARED_IMPORTS:
            continue
        names = {_canonical(d) for d in distributions.get(module, [module])}
        if not names & declared:
            missing.append(f"{module} (imported in {where}; package {' or '.join(sorted(names))})")
    assert not missing, "imported but not declared in pyproject.toml and requirements.txt: " + ", ".join(missing)


def _make_dry_run(*variables: str) -> list[str]:
    """The commands `make install` would run into a fresh venv (make -n: nothing runs, no network)."""
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = subprocess.run(
        ["make", "-n", "install", "VENV=/nonexistent/venv", *variables],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in out.splitlines() if "pip install" in line]


def test_torch_index_reaches_pip_for_torch_and_torchvision_only():
    lines = _make_dry_run("TORCH_INDEX=https://download.pytorch.org/whl/cpu")
    indexed = [line for line in lines if "--index-url" in line]
    pins = sorted(line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("torch"))
    assert len(indexed) == 1 and "--index-url https://download.pytorch.org/whl/cpu" in indexed[0]
    assert sorted(indexed[0].split("--index-url https://download.pytorch.org/whl/cpu")[1].split()) == pins
    assert lines.index(indexed[0]) < next(i for i, line in enumerate(lines) if "-r requirements.txt" in line)


def test_without_torch_index_every_package_comes_from_the_default_index():
    lines = _make_dry_run()
    assert lines and not any("--index-url" in line or "--extra-index-url" in line for line in lines)
