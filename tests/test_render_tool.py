"""tools/render_notebooks.py: tidy outputs, notebooks built from their jupytext source, the sync and the stamp.

Nothing is executed: a stand-in for nbclient fills in the outputs.
"""

import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from render_notebooks import clean, is_progress_bar, main, render, resolve, source_hash, stamp_of, sync  # noqa: E402

BAR_TEXT = "\r  0%|          | 0/80 [00:00<?, ?it/s]\r 50%|█████     | 40/80 [00:01<00:01, 30.1it/s]"


def test_progress_bars_are_recognized_and_nothing_else():
    widget_bar = new_output(
        "display_data",
        data={
            "application/vnd.jupyter.widget-view+json": {"model_id": "x"},
            "text/plain": "logit[130]:  40%|████      | 32/80 [00:01<00:01]",
        },
    )
    slider = new_output(
        "display_data",
        data={
            "application/vnd.jupyter.widget-view+json": {"model_id": "y"},
            "text/plain": "interactive(children=(IntSlider(value=32),))",
        },
    )
    assert is_progress_bar(widget_bar) and is_progress_bar(new_output("stream", name="stderr", text=BAR_TEXT))
    assert not is_progress_bar(slider)
    assert not is_progress_bar(new_output("stream", name="stderr", text="UserWarning: something real"))
    assert not is_progress_bar(new_output("stream", name="stdout", text="accuracy 91 %"))


def test_clean_drops_bars_and_widget_state_only():
    keep = new_output("stream", name="stdout", text="p = 0.99\n")
    cell = new_code_cell("run()", outputs=[new_output("stream", name="stderr", text=BAR_TEXT), keep])
    nb = new_notebook(cells=[cell], metadata={"widgets": {"state": {}}})
    clean(nb)
    assert nb.cells[0].outputs == [keep] and "widgets" not in nb.metadata
    nbformat.validate(nb)


# --- building the .ipynb from its jupytext source, and the stamp ---

SOURCE = """\
# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Demo

# %% tags=["strip"]
x = 1
x

# %%
print(x + 1)
"""


def fake_run(nb, folder, timeout):
    """Stand-in for nbclient: 'execute' every code cell by recording its source as its output."""
    for count, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), start=1):
        cell.execution_count = count
        cell.outputs = [
            new_output("stream", name="stdout", text=f"ran {cell.source!r}\n"),
            new_output("stream", name="stderr", text=BAR_TEXT),
        ]
        cell.metadata["execution"] = {"iopub.status.idle": "2025-01-01T00:00:00Z"}


@pytest.fixture
def pair(tmp_path):
    source = tmp_path / "03_demo.py"
    source.write_text(SOURCE)
    render(source, execute=fake_run)
    return source, tmp_path / "03_demo.ipynb"


def test_render_builds_the_notebook_from_its_source_and_stamps_it(pair):
    source, ipynb = pair
    nb = nbformat.read(ipynb, as_version=4)
    nbformat.validate(nb)
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "code"]
    assert nb.cells[1].metadata["tags"] == ["strip"] and nb.cells[1].source == "x = 1\nx"
    assert [len(c.outputs) for c in nb.cells[1:]] == [1, 1]  # progress bars dropped
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.metadata["jupytext"] == {"formats": "ipynb,py:percent"}  # no jupytext version churn in the .ipynb
    assert stamp_of(nb) == source_hash(nb) and len(stamp_of(nb)) == 64


def test_sync_keeps_outputs_of_unchanged_cells_and_a_prose_edit_keeps_the_stamp(pair):
    source, ipynb = pair
    before = nbformat.read(ipynb, as_version=4)
    assert sync(source) == "current" and nbformat.read(ipynb, as_version=4) == before  # nothing to do: no write
    source.write_text(
        SOURCE.replace("# # Demo", "# # Demo\n#\n# A new sentence.").replace(
            "# %%\nprint", "# %% [markdown]\n# A new cell.\n\n# %%\nprint"
        )
    )
    assert sync(source) == "synced, current"
    after = nbformat.read(ipynb, as_version=4)
    assert [c.cell_type for c in after.cells] == ["markdown", "code", "markdown", "code"]
    assert after.cells[0].id == before.cells[0].id and "A new sentence." in after.cells[0].source
    assert after.cells[1] == before.cells[1] and after.cells[3] == before.cells[2]  # outputs, counts, ids, timing
    assert stamp_of(after) == stamp_of(before) == source_hash(after)


def test_sync_drops_outputs_of_an_edited_code_cell_and_the_stamp_goes_stale(pair):
    source, ipynb = pair
    before = nbformat.read(ipynb, as_version=4)
    source.write_text(SOURCE.replace("print(x + 1)", "print(x + 2)"))
    assert "make render NB=03" in sync(source)
    after = nbformat.read(ipynb, as_version=4)
    assert after.cells[1] == before.cells[1]
    edited = after.cells[2]
    assert edited.id == before.cells[2].id and edited.outputs == [] and edited.execution_count is None
    assert "execution" not in edited.metadata
    assert stamp_of(after) == stamp_of(before) != source_hash(after)
    render(source, execute=fake_run)
    assert stamp_of(nbformat.read(ipynb, as_version=4)) == source_hash(nbformat.read(ipynb, as_version=4))


def test_a_failed_run_writes_nothing(pair):
    source, ipynb = pair
    before = ipynb.read_bytes()
    source.write_text(SOURCE.replace("print(x + 1)", "print(x + 3)"))

    def failing(nb, folder, timeout):
        raise RuntimeError("a cell failed")

    with pytest.raises(RuntimeError):
        render(source, execute=failing)
    assert ipynb.read_bytes() == before


def test_first_sync_stamps_an_unstamped_notebook_only_when_its_code_is_unchanged(pair):
    source, ipynb = pair
    nb = nbformat.read(ipynb, as_version=4)
    del nb.metadata["course"]
    nbformat.write(nb, ipynb)
    assert sync(source).startswith("synced, stamped")
    assert stamp_of(nbformat.read(ipynb, as_version=4)) == source_hash(nb)
    nbformat.write(nb, ipynb)  # unstamped again
    source.write_text(SOURCE.replace("x = 1", "x = 2"))
    assert "make render" in sync(source)
    assert stamp_of(nbformat.read(ipynb, as_version=4)) is None


def test_the_colab_launch_cell_is_not_in_the_stamp():
    cells = [new_code_cell("x = 1"), new_code_cell("import sys", metadata={"tags": ["launch"]})]
    with_launch = new_notebook(cells=cells)
    other_url = new_notebook(cells=[cells[0], new_code_cell("import os", metadata={"tags": ["launch"]})])
    other_code = new_notebook(cells=[new_code_cell("x = 2")])
    assert source_hash(with_launch) == source_hash(other_url) != source_hash(other_code)
    # cell boundaries count: two cells are not their concatenation
    assert source_hash(new_notebook(cells=[new_code_cell("a"), new_code_cell("b")])) != source_hash(
        new_notebook(cells=[new_code_cell("a\nb")])
    )


def test_notebooks_are_named_by_number_or_path(tmp_path):
    for name in ("00_tour.py", "07_class.py", "07_class.ipynb", "12_loss.py"):
        (tmp_path / name).write_text("")
    assert resolve([], tmp_path) == [tmp_path / n for n in ("00_tour.py", "07_class.py", "12_loss.py")]
    assert resolve(["7", "07", str(tmp_path / "07_class.ipynb")], tmp_path) == [tmp_path / "07_class.py"] * 3
    with pytest.raises(SystemExit, match="there are: 00 07 12"):
        resolve(["5"], tmp_path)
    with pytest.raises(SystemExit, match="NN_name.py"):
        resolve([str(tmp_path / "05_missing.ipynb")], tmp_path)


def test_sync_only_from_the_command_line_runs_nothing(pair, capsys, monkeypatch):
    source, ipynb = pair
    monkeypatch.setattr("render_notebooks._execute", lambda *a: pytest.fail("--sync-only must not execute"))
    assert main(["--sync-only", str(source)]) == 0
    assert "current" in capsys.readouterr().out
