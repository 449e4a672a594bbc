"""The four dependency lists (requirements.txt, pyproject.toml, environment.yml, binder/) must agree."""
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
CONDA_TO_PYPI = {"pytorch-cpu": "torch"}  # conda-forge's CPU-only build of torch
NOT_PACKAGES = {"python", "pip"}


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


def test_pyproject_dependencies_are_satisfied_by_the_pins():
    pins = requirements_pins()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [Requirement(r) for r in project["dependencies"]]
    test_extra = [Requirement(r) for r in project["optional-dependencies"]["test"]]
    for req in runtime + test_extra:
        name = _canonical(req.name)
        assert name in pins, f"{req.name} is in pyproject.toml but not pinned in requirements.txt"
        assert Version(pins[name]) in req.specifier, f"pin {name}=={pins[name]} violates {req}"
    declared = {_canonical(r.name) for r in runtime + test_extra}
    tools = {"jupyterlab", "ipykernel"}  # needed to open the notebooks, not by course_utils
    assert set(pins) - declared <= tools, f"pinned but not declared: {set(pins) - declared - tools}"
