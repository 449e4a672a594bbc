"""tools/render_notebooks.py keeps rendered notebooks tidy: no widget state, no finished progress bars."""
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from render_notebooks import clean, is_progress_bar  # noqa: E402

BAR_TEXT = "\r  0%|          | 0/80 [00:00<?, ?it/s]\r 50%|█████     | 40/80 [00:01<00:01, 30.1it/s]"


def test_progress_bars_are_recognized_and_nothing_else():
    widget_bar = new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "x"},
                                                 "text/plain": "logit[130]:  40%|████      | 32/80 [00:01<00:01]"})
    slider = new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "y"},
                                             "text/plain": "interactive(children=(IntSlider(value=32),))"})
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
