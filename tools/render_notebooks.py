"""Build each notebook from its source, run it in full mode and stamp it (``make render``, ``make sync``).

    python tools/render_notebooks.py                         # every notebook
    python tools/render_notebooks.py 07 notebooks/05_occlusion.py   # by number, or by path (.py or .ipynb)
    python tools/render_notebooks.py --sync-only 07          # copy the cells from the .py, run nothing
    python tools/render_notebooks.py --clean notebooks/*.ipynb   # tidy saved outputs only

The source of ``notebooks/NN_name.ipynb`` is ``notebooks/NN_name.py`` (jupytext py:percent): every cell,
its tags, no outputs. A render reads the .py, executes every cell with COURSE_FAST unset (nbclient) and
writes the .ipynb with its outputs and a stamp, ``metadata["course"]["source_sha256"]``: the hash of the
code cells that made those outputs (``source_hash``). tests/test_notebook_sources.py checks that the
.ipynb holds the .py's cells and that the stamp is the hash of its code cells.

``--sync-only`` rewrites the .ipynb's cells from the .py and keeps the saved outputs (and cell ids) of
every cell whose type and source did not change; a changed cell loses its outputs. It leaves the stamp
alone, so after a prose-only edit the notebook is still current, and after a code edit the stamp is
stale until the notebook is rendered. One exception: a notebook that has no stamp yet (paired for the
first time) is stamped when the sync changed none of its code cells, trusting that its saved outputs
came from those cells.

Widget state is dropped (it is large and useless on GitHub), and so are finished progress bars (in a
live notebook they disappear; saved, they are clutter); figures stay as images.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
FORMAT = "py:percent"
LAUNCH_TAG = "launch"  # tools/launch_cells.py's Colab-only cell: it does nothing outside Colab
# Cell metadata that describe a run or the notebook view, kept in the .ipynb only (jupytext leaves them out of the .py).
IPYNB_ONLY_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled", "autoscroll", "trusted")
# Notebook metadata that come from running the notebook, not from its source.
RUN_METADATA = ("language_info", "course")

_BAR = re.compile(r"\d+%\|.*\| *\d+/\d+")  # tqdm's "40%|████      | 32/80"
_NEW_CELL = {"code": new_code_cell, "markdown": new_markdown_cell, "raw": new_raw_cell}


def is_progress_bar(output) -> bool:
    """True for a tqdm bar saved as a widget or as stderr text."""
    if output.get("output_type") == "stream":
        return output.get("name") == "stderr" and all(
            _BAR.search(line) or not line.strip() for line in output.get("text", "").split("\r")
        )
    data = output.get("data", {})
    return "application/vnd.jupyter.widget-view+json" in data and bool(_BAR.search(data.get("text/plain", "")))


def clean(nb) -> None:
    """Drop widget state and finished progress bars from a notebook's saved outputs, in place."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not is_progress_bar(o)]


def stamped_cells(nb) -> list[str]:
    """Return the sources the stamp covers: every code cell, in order, except the Colab-only launch cell."""
    return [
        cell.source
        for cell in nb.cells
        if cell.cell_type == "code" and LAUNCH_TAG not in cell.get("metadata", {}).get("tags", [])
    ]


def source_hash(nb) -> str:
    """Return the sha256 (hex) of the notebook's code cell sources; a markdown edit leaves it unchanged."""
    return hashlib.sha256(json.dumps(stamped_cells(nb), ensure_ascii=False).encode()).hexdigest()


def stamp_of(nb) -> str | None:
    """Return the hash recorded by the last render, or None for a notebook never stamped."""
    return nb.metadata.get("course", {}).get("source_sha256")


def set_stamp(nb) -> None:
    nb.metadata.setdefault("course", {})["source_sha256"] = source_hash(nb)


def paired(path: Path) -> tuple[Path, Path]:
    """Return (source .py, rendered .ipynb) for either file of a pair."""
    return path.with_suffix(".py"), path.with_suffix(".ipynb")


def resolve(names: list[str], folder: Path = NOTEBOOKS) -> list[Path]:
    """Return the .py sources for notebook numbers ("07", "7") or paths; no names means every notebook."""
    everything = sorted(folder.glob("[0-9][0-9]_*.py"))
    if not names:
        return everything
    found = []
    for name in names:
        if name.isdigit():
            matches = [p for p in everything if p.name.startswith(f"{int(name):02d}_")]
            if len(matches) != 1:
                numbers = " ".join(p.name[:2] for p in everything)
                raise SystemExit(f"no notebook numbered {name!r} in {folder}; there are: {numbers}")
            found.append(matches[0])
        else:
            source = paired(Path(name))[0]
            if not source.is_file():
                raise SystemExit(f"{source} does not exist: a notebook's source is notebooks/NN_name.py")
            found.append(source)
    return found


def read_source(source: Path) -> NotebookNode:
    """Read a jupytext py:percent source as a notebook without outputs."""
    return jupytext.read(source, fmt=FORMAT)


def _key(cell) -> tuple[str, str]:
    return cell.cell_type, cell.source


def _keep_run(cell: NotebookNode, have: NotebookNode) -> None:
    """Give ``cell`` what running ``have`` (same type and source) produced: outputs, count, timing, attachments."""
    cell.metadata.update({key: value for key, value in have.metadata.items() if key in IPYNB_ONLY_METADATA})
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = have.outputs, have.execution_count
    if "attachments" in have:
        cell.attachments = have.attachments


def synced(source: NotebookNode, old: NotebookNode | None) -> NotebookNode:
    """Return a notebook with ``source``'s cells and metadata, keeping what ``old`` saved for unchanged cells.

    Cells are aligned by (type, source) with difflib: an unchanged cell keeps its outputs, execution count,
    id and run metadata; an edited cell keeps only its id; a new cell starts empty.
    """
    old_cells = old.cells if old is not None else []
    cells = []
    matcher = difflib.SequenceMatcher(a=[_key(c) for c in old_cells], b=[_key(c) for c in source.cells], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        for offset, new in enumerate(source.cells[j1:j2]):
            cell = _NEW_CELL[new.cell_type](new.source, metadata=dict(new.metadata))
            have = old_cells[i1 + offset] if op in ("equal", "replace") and i1 + offset < i2 else None
            if have is not None and have.cell_type == new.cell_type:
                cell.id = have.id  # an edited cell keeps its id too: smaller diffs
                if op == "equal":
                    _keep_run(cell, have)
            cells.append(cell)

    metadata = {k: v for k, v in source.metadata.items() if k not in RUN_METADATA}
    jupytext_md = {k: v for k, v in metadata.pop("jupytext", {}).items() if k != "text_representation"}
    if jupytext_md:
        metadata["jupytext"] = jupytext_md  # e.g. formats: ipynb,py:percent, so Jupyter keeps the pair in sync
    if old is not None:
        metadata.update({k: old.metadata[k] for k in RUN_METADATA if k in old.metadata})
    return new_notebook(cells=cells, metadata=metadata)


def _execute(nb: NotebookNode, folder: Path, timeout: int) -> None:
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()


def render(source: Path, timeout: int = 900, execute: Callable[[NotebookNode, Path, int], None] = _execute) -> float:
    """Build the .ipynb of ``source``, run it top to bottom in its folder, stamp and save it; return the seconds.

    On an error in a cell nothing is written (the exception propagates).
    """
    _, target = paired(source)
    old = nbformat.read(target, as_version=4) if target.exists() else None
    nb = synced(read_source(source), old)
    start = time.perf_counter()
    execute(nb, source.parent, timeout)
    seconds = time.perf_counter() - start
    clean(nb)
    set_stamp(nb)
    nbformat.validate(nb)
    nbformat.write(nb, target)
    return seconds


def sync(source: Path) -> str:
    """Rewrite the .ipynb's cells from ``source`` without running anything; return what happened, in words."""
    _, target = paired(source)
    old = nbformat.read(target, as_version=4) if target.exists() else None
    nb = synced(read_source(source), old)
    clean(nb)
    code_unchanged = old is not None and stamped_cells(old) == stamped_cells(nb)
    if stamp_of(nb) is None and code_unchanged:
        set_stamp(nb)  # first pairing: the saved outputs came from these very code cells
        status = "stamped (first pairing; outputs kept, not re-run)"
    elif stamp_of(nb) == source_hash(nb):
        status = "current"
    else:
        status = f"code changed: run `make render NB={source.name[:2]}`"
    nbformat.validate(nb)
    text = nbformat.writes(nb) + "\n"
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
        status = "synced, " + status
    return status


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when it is inside it, for short messages."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="numbers (07) or paths (.py or .ipynb); default: all")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--sync-only",
        action="store_true",
        help="copy the cells from the .py, keep unchanged cells' outputs, execute nothing",
    )
    mode.add_argument("--clean", action="store_true", help="only tidy the saved outputs of the given .ipynb files")
    parser.add_argument("--timeout", type=int, default=900, help="seconds one cell may run (default 900)")
    args = parser.parse_args(argv)

    if args.clean:  # only tidy saved outputs, run nothing
        for name in args.notebooks:
            nb = nbformat.read(name, as_version=4)
            clean(nb)
            nbformat.write(nb, name)
        return 0
    sources = resolve(args.notebooks)
    if args.sync_only:
        for source in sources:
            print(f"{_shown(paired(source)[1])}: {sync(source)}")
        return 0

    os.environ.pop("COURSE_FAST", None)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    failed = []
    for source in sources:
        target = Path(_shown(paired(source)[1]))
        try:
            seconds = render(source, timeout=args.timeout)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:  # a cell failed: render the others
            print(f"{target}: FAILED, left unchanged\n{err}", file=sys.stderr)
            failed.append(target)
            continue
        print(f"{target}: {seconds:.0f} s, {target.stat().st_size / 2**20:.1f} MB")
    if failed:
        print("failed:", *failed, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
