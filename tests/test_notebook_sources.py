"""Each notebooks/NN_name.ipynb is the rendered copy of its source notebooks/NN_name.py (jupytext py:percent).

For every notebook: the .py exists; the .ipynb holds exactly the .py's cells (type, source, tags and
other cell metadata); and its stamp, written by `make render`, is the hash of its code cells, so a code
change that was synced but never executed is caught. No notebook is executed here.
"""

import sys
from itertools import zip_longest
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from render_notebooks import FORMAT, IPYNB_ONLY_METADATA, source_hash, stamp_of, sync  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOURCES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def cell_summary(cell) -> dict:
    """What the .py and the .ipynb must agree on for one cell."""
    metadata = {k: v for k, v in cell.metadata.items() if k not in IPYNB_ONLY_METADATA}
    return {"type": cell.cell_type, "source": cell.source, "tags": metadata.pop("tags", []), "metadata": metadata}


def first_difference(py_cells: list[dict], ipynb_cells: list[dict]) -> str:
    """Describe the first cell where the two lists differ, in words a maintainer can act on."""
    for index, (a, b) in enumerate(zip(py_cells, ipynb_cells)):
        if a != b:
            field = next(k for k in a if a[k] != b[k])
            shown_a, shown_b = a[field], b[field]
            if field == "source":  # show the first line that differs, not the start of a long cell
                pairs = list(zip_longest(shown_a.split("\n"), shown_b.split("\n"), fillvalue="(no such line)"))
                line = next(i for i, (x, y) in enumerate(pairs) if x != y)
                field, (shown_a, shown_b) = f"source, line {line + 1}", pairs[line]
            return (
                f"cell {index} ({a['type']}) differs in its {field}:\n"
                f"  .py:    {str(shown_a)[:160]!r}\n  .ipynb: {str(shown_b)[:160]!r}"
            )
    return f"the .py has {len(py_cells)} cells, the .ipynb {len(ipynb_cells)}"


def pairing_problems(ipynb: Path) -> list[str]:
    """Return what is wrong with the pair of ``ipynb`` (empty when current), each with the command that fixes it."""
    source, number = ipynb.with_suffix(".py"), ipynb.name[:2]
    if not source.is_file():
        return [
            (
                f"{source.name} is missing: every notebook's source is a jupytext py:percent file; create it with "
                f"`jupytext --to py:percent --set-formats ipynb,py:percent {ipynb.name}`"
            )
        ]
    nb = nbformat.read(ipynb, as_version=4)
    py_cells = [cell_summary(c) for c in jupytext.read(source, fmt=FORMAT).cells]
    ipynb_cells = [cell_summary(c) for c in nb.cells]
    problems = []
    if py_cells != ipynb_cells:
        problems.append(
            f"{ipynb.name} does not hold the cells of {source.name}; "
            f"{first_difference(py_cells, ipynb_cells)}\n"
            f"  edit {source.name} (the source), then run `make render NB={number}` "
            f"(or `make sync NB={number}` when only markdown changed)"
        )
    stamp = stamp_of(nb)
    if stamp is None:
        problems.append(f"{ipynb.name} has no render stamp: run `make render NB={number}`")
    elif stamp != source_hash(nb):
        problems.append(
            f"{ipynb.name}'s outputs are stale: its code cells changed after the last render; "
            f"run `make render NB={number}`"
        )
    return problems


def test_every_notebook_has_a_source_and_every_source_a_notebook():
    assert NOTEBOOKS, "no notebooks found"
    assert [p.stem for p in SOURCES] == [p.stem for p in NOTEBOOKS], (
        "each notebooks/NN_name.py needs its rendered notebooks/NN_name.ipynb (`make render NB=NN`) and vice versa"
    )


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=[p.name[:2] for p in NOTEBOOKS])
def test_notebook_is_rendered_from_its_current_source(ipynb):
    problems = pairing_problems(ipynb)
    assert not problems, "\n".join(problems)


def test_sources_have_the_python3_kernel_and_the_pairing_header():
    for source in SOURCES:
        nb = jupytext.read(source, fmt=FORMAT)
        assert nb.metadata["kernelspec"]["name"] == "python3", f"{source.name}: kernelspec must be python3"
        assert nb.metadata["jupytext"]["formats"] == "ipynb,py:percent", f"{source.name}: header lost its pairing"


def test_a_code_edit_that_was_not_rendered_fails_with_the_command(tmp_path):
    """The check above is not trivially true: a synced but un-run code edit is reported, a markdown edit is not."""
    ipynb = NOTEBOOKS[0]
    number = ipynb.name[:2]
    copy_py, copy_ipynb = tmp_path / ipynb.with_suffix(".py").name, tmp_path / ipynb.name
    copy_ipynb.write_bytes(ipynb.read_bytes())
    nb = jupytext.read(ipynb.with_suffix(".py"), fmt=FORMAT)

    prose = [c for c in nb.cells if c.cell_type == "markdown" and "launch" not in c.metadata.get("tags", [])]
    prose[0].source = prose[0].source.replace("\n", " An edited sentence.\n", 1)  # the end of its first line
    jupytext.write(nb, copy_py, fmt=FORMAT)
    problems = pairing_problems(copy_ipynb)
    assert len(problems) == 1 and "does not hold the cells" in problems[0] and "An edited sentence." in problems[0]
    assert f"make render NB={number}" in problems[0] and f"make sync NB={number}" in problems[0]
    sync(copy_py)
    assert pairing_problems(copy_ipynb) == []  # prose only: the stamp still holds

    [c for c in nb.cells if c.cell_type == "code"][-1].source += "\nprint('an edit')"
    jupytext.write(nb, copy_py, fmt=FORMAT)
    assert any(f"make render NB={number}" in p for p in pairing_problems(copy_ipynb))
    sync(copy_py)  # the cells now agree, but the outputs were not made by this code
    stale = (
        f"{ipynb.name}'s outputs are stale: its code cells changed after the last render; run `make render NB={number}`"
    )
    assert pairing_problems(copy_ipynb) == [stale]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_sources_hold_no_control_characters(source):
    # An eaten escape ("\a" in a non-raw string) leaves a BEL that renders "$\alpha$" as "$lpha$".
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
        bad = [f"U+{ord(ch):04X}" for ch in line if (ord(ch) < 32 and ch != "\t") or 0x7F <= ord(ch) < 0xA0]
        assert not bad, f"{source.name} line {number} holds control characters {', '.join(bad)}: {line[:60]!r}"
