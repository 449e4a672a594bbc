"""The ``Explorer`` core every live demo is built from: controls -> pure compute -> draw.

An explorer is an ipywidgets ``VBox`` with a row of controls above a picture. A change of a
control (or a click on **Run**, for the slow ones) calls ``compute(**values)``, a pure function
of ``course_utils``; its return value is kept in ``explorer.result`` and drawn by ``draw`` (a
``course_utils.plotting`` figure) into an ``Image`` widget as PNG bytes. Computing and showing
are separate, so a test drives an explorer without a browser.
"""

from __future__ import annotations

import base64
import difflib
import html
import io
import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image
from torch import nn

from ..core import frozen_eval
from ..images import deprocess

__all__ = ["Draw", "Explorer", "figure_png", "pixels_png", "probabilities"]

Draw = Callable[[Any, dict], tuple[Figure, str]]  # (result, control values) -> (figure, caption)


def figure_png(fig: Figure, dpi: int = 90) -> bytes:
    """Render ``fig`` to PNG bytes and close it (a widget callback must not leave figures open)."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buffer.getvalue()


def pixels_png(image: torch.Tensor, side: int = 256) -> bytes:
    """Encode one image ``(1,C,H,W)`` of pixels in [0,1] as PNG bytes, enlarged to ``side`` px (for live previews)."""
    arr = (deprocess(image) * 255).round().astype(np.uint8)  # (H,W) or (H,W,3)
    buffer = io.BytesIO()
    Image.fromarray(arr).resize((side, side), Image.Resampling.NEAREST).save(buffer, format="png")
    return buffer.getvalue()


def one_of(what: str, options: Iterable, value: Any = None, default: int = 0) -> Any:
    """Return ``value`` (or, when it is None, ``options[default]``) after checking that it is one of ``options``.

    An explorer's dropdowns are built from ``options``: an empty list or a value that is not in it
    raises a ``ValueError`` that lists the choices (and the closest ones to a mistyped name).
    """
    options = list(options)
    if not options:
        raise ValueError(f"{what}: nothing to choose from; pass at least one")
    if value is None:
        return options[default]
    if value not in options:
        close = difflib.get_close_matches(value, [str(o) for o in options], n=3) if isinstance(value, str) else []
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        shown = options if len(options) <= 12 else [*options[:12], "..."]
        raise ValueError(f"{what} {value!r} is not one of {shown}{hint}")
    return value


def in_range(what: str, value: Any, low: float, high: float | None = None, why: str = "", integer: bool = True) -> Any:
    """Return ``value`` after checking that it is a number (an int if ``integer``) in ``low..high``.

    A slider silently clamps a value outside its range, so an explorer checks its starting values
    with this first. ``high`` None: no upper bound. ``why`` says where the range comes from
    (e.g. "the model has 3 classes").
    """
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or value != value:  # value != value: NaN
        raise ValueError(f"{what} must be {'an int' if integer else 'a number'}, not {value!r}")
    because = f" ({why})" if why else ""
    if high is not None and high < low:
        raise ValueError(f"{what}: no value is possible, the range {low}..{high} is empty{because}")
    if float(value) < low or (high is not None and float(value) > high):
        valid = f"in {low}..{high}" if high is not None else f"of at least {low}"
        raise ValueError(f"{what}={value!r} is out of range: pick one {valid}{because}")
    return value


@torch.no_grad()
def probabilities(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Return the model's softmax probabilities ``(N,K)`` (CPU) for pixels ``x`` ``(N,C,H,W)`` in [0,1]."""
    with frozen_eval(model) as device:  # eval mode: no dropout in what the explorer reports
        return model(x.to(device)).softmax(1).cpu()


class Explorer(widgets.VBox):
    """Controls above a picture: a change (or a click on Run) recomputes ``result`` and redraws it.

    ``controls``: name -> value widget; ``compute(**values)`` returns the result; ``draw(result,
    values)`` returns ``(figure, caption)``. With ``run_button`` a change only marks the picture
    as stale, and ``button.click()`` recomputes. Any exception from ``compute`` or ``draw`` (a
    setting that makes no sense, or a bug) is shown in red as "type: message" and kept in ``error``
    (the exception itself, with its traceback, in ``exception``); ``result`` and the picture keep
    the last good ones. The status never stays at "computing…": a Ctrl-C (kernel interrupt) says
    "interrupted" and stops the cell.
    """

    def __init__(
        self,
        controls: Mapping[str, widgets.ValueWidget],
        compute: Callable[..., Any],
        draw: Draw,
        run_button: bool = False,
        title: str = "explorer",
        update_now: bool = True,
    ):
        self.controls = dict(controls)
        self.result: Any = None
        self.error: str | None = None
        self.exception: BaseException | None = None
        self.title = title
        self._compute, self._draw, self._paused = compute, draw, False
        self.button = widgets.Button(description="Run", icon="play", button_style="primary") if run_button else None
        self.status = widgets.HTML()
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
        row = widgets.HBox(
            [*self.controls.values(), *([self.button] if self.button else [])],
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        super().__init__([row, self.status, self.image])
        for control in self.controls.values():
            control.observe(self._changed, names="value")
        if self.button is not None:
            self.button.on_click(lambda _button: self.update())
        if update_now:
            self.update()

    @property
    def values(self) -> dict[str, Any]:
        """Return the current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Change several controls inside this block without recomputing after each one."""
        self._paused = True
        try:
            yield
        finally:
            self._paused = False

    def _changed(self, _change: dict) -> None:
        if self._paused:
            return
        if self.button is None:
            self.update()
        else:
            self.status.value = "<i>settings changed: press Run</i>"

    def update(self) -> Any:
        """Recompute ``result`` from the controls' values, redraw, and return the result."""
        values = self.values
        if self.button is not None:
            self.status.value = "<i>computing…</i>"
            self.button.disabled = True  # a second click would only queue behind this run
        figures = set(plt.get_fignums())
        try:
            result = self._compute(**values)
            fig, caption = self._draw(result, values)
            png = figure_png(fig)
        except Exception as err:  # any failure is said in the status line, never left as a traceback
            self._close_new_figures(figures)
            self.error, self.exception = f"{type(err).__name__}: {err}".removesuffix(": "), err
            self.status.value = f"<span style='color:#b00020'>{html.escape(self.error)}</span>"
            return self.result
        except BaseException:  # Ctrl-C: say so, then let it stop the cell
            self._close_new_figures(figures)
            self.status.value = "<i>interrupted" + (": press Run to try again</i>" if self.button else "</i>")
            raise
        finally:
            if self.button is not None:
                self.button.disabled = False
        self.result, self.error, self.exception = result, None, None
        self.image.value = png
        self.status.value = html.escape(caption, quote=False)
        return result

    @staticmethod
    def _close_new_figures(before: set[int]) -> None:
        for number in set(plt.get_fignums()) - before:  # drawn by a draw() that then failed
            plt.close(number)

    def _repr_mimebundle_(self, **kwargs) -> dict:
        # the live widget when a kernel runs; elsewhere (GitHub, nbviewer) the last picture as a still JPEG
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        settings = ", ".join(f"{name}={value!r}" for name, value in self.values.items())
        bundle["text/plain"] = f"{self.title} ({settings}): run the notebook to use the controls"
        if self.image.value:
            still = io.BytesIO()
            Image.open(io.BytesIO(self.image.value)).convert("RGB").save(still, format="jpeg", quality=80)
            bundle["image/jpeg"] = base64.b64encode(still.getvalue()).decode("ascii")
        return bundle
