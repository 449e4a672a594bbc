"""All three of Zeiler & Fergus's occlusion panels from one pass over the windows (notebook 05).

``occlusion.occlusion`` follows one class per image. Zeiler & Fergus (2014, Fig. 7) drew three
pictures of the same occluded copies: the probability of the correct class (c), the strongest
feature map (b, not here) and *the most probable label* while each region is hidden (e). The last
needs every class's probability for every window, so ``occluded_probabilities`` keeps the whole
softmax of each occluded copy, ``(rows, cols, classes)``, and ``WindowProbabilities`` turns it into
the pictures: ``pixel_map(c)`` (the same numbers as ``occlusion(..., output="probability")``),
``delta_map(c)`` (``p(occluded) - p(clean)``, the signed map) and ``labels()`` (the label map).
The windows and fills are those of ``occlusion`` (``window_starts``, ``make_baseline``), and the
forward passes use the same batched loop and crop accelerator.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .core import as_model_input, check_count, frozen_eval
from .occlusion import Baseline, _check_geometry, make_baseline, occluded_scores, window_rows, window_starts
from .occlusion_crops import CannotSplit, crop_scores, default_prefix, split_model

__all__ = ["WindowProbabilities", "occluded_probabilities"]


@dataclass(frozen=True)
class WindowProbabilities:
    """Every class's probability while each window is hidden, for one image of ``size`` ``(H, W)``.

    ``probs[a, b]`` ``(K,)`` is the softmax of the copy whose ``window``-pixel square starts at row
    ``starts_h[a]``, column ``starts_w[b]``; ``clean`` ``(K,)`` is the softmax of the unoccluded image.
    """

    probs: torch.Tensor  # (Gh, Gw, K)
    clean: torch.Tensor  # (K,)
    starts_h: list[int]
    starts_w: list[int]
    window: int
    size: tuple[int, int]

    def _class(self, c: int) -> int:
        k = self.probs.shape[-1]
        if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < k:
            raise ValueError(f"class must be an index 0..{k - 1}, got {c!r}")
        return c

    def pixel_map(self, c: int) -> torch.Tensor:
        """Return ``(H, W)``: p(class ``c``) while each pixel is hidden, averaged over the windows covering it."""
        p = self.probs[..., self._class(c)]  # (Gh, Gw)
        rows_h = window_rows(self.size[0], self.window, self._stride(self.starts_h), p.dtype, p.device)  # (Gh, H)
        rows_w = window_rows(self.size[1], self.window, self._stride(self.starts_w), p.dtype, p.device)  # (Gw, W)
        total = rows_h.T @ p @ rows_w  # each pixel: the sum over the windows that cover it
        return total / (rows_h.sum(0)[:, None] * rows_w.sum(0)[None, :])

    def delta_map(self, c: int) -> torch.Tensor:
        """Return ``(H, W)`` Δp: ``pixel_map(c) - p(clean)``; negative where hiding the pixel costs evidence."""
        return self.pixel_map(c) - self.clean[self._class(c)]

    def labels(self) -> torch.Tensor:
        """Return ``(Gh, Gw)`` long: the most probable class while each window is hidden (Zeiler & Fergus's panel e)."""
        return self.probs.argmax(dim=-1)

    def at(self, y: float, x: float) -> torch.Tensor:
        """Return ``(K,)``: every class's probability while the window centred nearest to pixel ``(y, x)`` is hidden."""
        h, w = self.size
        if not (0 <= y < h and 0 <= x < w):
            raise ValueError(f"(y, x) = ({y}, {x}) is outside the {h}x{w} image")
        half = self.window / 2
        a = min(range(len(self.starts_h)), key=lambda i: abs(self.starts_h[i] + half - y))
        b = min(range(len(self.starts_w)), key=lambda j: abs(self.starts_w[j] + half - x))
        return self.probs[a, b]

    def extent(self) -> tuple[float, float, float, float]:
        """Return ``(left, right, bottom, top)``, pixels: cell ``(a, b)`` of ``labels()`` on its window's centre."""
        half = self.window / 2

        def span(starts: list[int]) -> tuple[float, float]:
            step = self._stride(starts) / 2
            return starts[0] + half - step, starts[-1] + half + step

        (top, bottom), (left, right) = span(self.starts_h), span(self.starts_w)
        return left, right, bottom, top

    def _stride(self, starts: list[int]) -> int:
        return starts[1] - starts[0] if len(starts) > 1 else self.window


@torch.no_grad()
def occluded_probabilities(
    model: nn.Module,
    x: torch.Tensor,
    window: int,
    stride: int,
    baseline: Baseline = 0.0,
    batch_size: int = 8,
    prefix: str | nn.Module | None = "auto",
) -> WindowProbabilities:
    """Hide each ``window``-pixel square of one image ``x`` ``(1,C,H,W)`` (pixels in [0,1]) in turn; keep every softmax.

    ``stride``: pixels between windows, at most ``window``. ``baseline``, ``batch_size`` and
    ``prefix``: as in ``occlusion.occlusion`` (the fill, images per forward pass, the crop accelerator).
    """
    x = as_model_input(x, model)
    if x.shape[0] != 1:
        raise ValueError(f"occluded_probabilities takes one image (1,C,H,W), got {x.shape[0]}; call it once per image")
    window = check_count(window, "window")
    stride = check_count(stride, "stride")
    batch_size = check_count(batch_size, "batch_size")
    _, c, h, w = x.shape
    _check_geometry((c, h, w), (c, window, window), (1, stride, stride))
    if prefix == "auto":
        prefix = default_prefix(model)
    stages = split_model(model, prefix) if prefix is not None else None

    with frozen_eval(model) as device:
        x = x.detach().to(device)
        fill = make_baseline(x, baseline, (c, window, window)).expand_as(x)
        rows = (
            torch.ones(1, c, dtype=x.dtype, device=device),  # one window spans all channels
            window_rows(h, window, stride, x.dtype, device),
            window_rows(w, window, stride, x.dtype, device),
        )
        clean = model(x).softmax(dim=1)[0]
        kept: list[torch.Tensor] = []

        def score(out: torch.Tensor) -> torch.Tensor:  # keep the whole softmax; the loops only need one number each
            p = out.softmax(dim=1)
            kept.append(p)
            return p[:, 0]

        done = False
        if stages is not None:
            try:
                crop_scores(stages, x, fill, rows, score, batch_size)
                done = True
            except CannotSplit:  # e.g. a model with parallel branches: run whole images (same numbers)
                kept.clear()
        if not done:
            occluded_scores(model, x, fill, rows, score, batch_size)
    starts_h, starts_w = window_starts(h, window, stride), window_starts(w, window, stride)
    probs = torch.cat(kept).reshape(len(starts_h), len(starts_w), -1).cpu()
    return WindowProbabilities(probs, clean.cpu(), starts_h, starts_w, window, (h, w))
