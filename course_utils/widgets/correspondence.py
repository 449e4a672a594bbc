"""The correspondence explorer of notebook 14: pick a point and a layer, see where it matches in the other."""

from __future__ import annotations

from collections.abc import Mapping

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from .. import correspondence
from ..images import deprocess
from .explorer import Explorer, in_range, one_of

__all__ = ["correspondence_explorer"]


def correspondence_explorer(
    maps_a: Mapping[str, torch.Tensor],
    maps_b: Mapping[str, torch.Tensor],
    image_a: torch.Tensor,
    image_b: torch.Tensor,
    disparity: torch.Tensor | None = None,
    point: tuple[int, int] | None = None,
    layer: str | None = None,
) -> Explorer:
    """Pick a descriptor (a layer, or pixel patches) and a point of view A; show its similarity over view B.

    ``maps_a``/``maps_b``: name -> descriptor map ``(C,h,w)`` of each view (``correspondence.feature_maps``,
    ``patch_map``); ``image_a``/``image_b``: the views ``(1,3,H,W)``; ``disparity`` (optional) the
    ground truth of A (``load_disparity``), drawn as a green ring where the match should be.
    ``result``: ``(similarity (H,W), found (x, y), expected (x, y) or None)``.
    """
    if set(maps_a) != set(maps_b) or not maps_a:
        raise ValueError(f"maps_a and maps_b must name the same descriptors, got {list(maps_a)} and {list(maps_b)}")
    h, w = image_a.shape[-2:]
    if image_b.shape[-2:] != (h, w):
        raise ValueError(f"the two views must have one size, got {tuple(image_a.shape)} and {tuple(image_b.shape)}")
    x0, y0 = point if point is not None else (w // 2, h // 2)
    in_range("point x", x0, 0, w - 1, f"the image is {w} px wide")
    in_range("point y", y0, 0, h - 1, f"the image is {h} px high")
    names = list(maps_a)
    controls = {
        "layer": widgets.Dropdown(options=names, value=one_of("layer", names, layer), description="descriptor"),
        "x": widgets.IntSlider(value=x0, min=0, max=w - 1, description="x", continuous_update=False),
        "y": widgets.IntSlider(value=y0, min=0, max=h - 1, description="y", continuous_update=False),
    }

    def compute(layer: str, x: int, y: int):
        sim = correspondence.similarity_map(maps_a[layer], maps_b[layer], (x, y), (h, w))
        index = int(sim.argmax())
        found = (index % w, index // w)
        expected = None
        if disparity is not None and not torch.isnan(disparity[y, x]):
            expected = (x - float(disparity[y, x]), float(y))
        return sim, found, expected

    def draw(result, values: dict) -> tuple[Figure, str]:
        sim, found, expected = result
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6), constrained_layout=True)
        left.imshow(deprocess(image_a))
        left.plot(values["x"], values["y"], "o", ms=12, mfc="none", mec="yellow", mew=2.5)
        left.set_title(f"view A: the point ({values['x']}, {values['y']})")
        right.imshow(deprocess(image_b))
        shown = right.imshow(sim.numpy(), cmap="magma", alpha=0.6, vmin=float(sim.min()), vmax=float(sim.max()))
        right.plot(*found, "x", ms=14, mew=3, color="cyan", label="best match")
        if expected is not None:
            right.plot(*expected, "o", ms=14, mfc="none", mec="lime", mew=2.5, label="ground truth")
        right.legend(loc="lower right", fontsize=9)
        right.set_title(f"view B: cosine similarity to it ({values['layer']})")
        fig.colorbar(shown, ax=right, shrink=0.8, label="cosine similarity")
        for ax in (left, right):
            ax.axis("off")
        caption = f"{values['layer']}: best match at {found}, similarity {float(sim.max()):.2f}"
        if expected is not None:
            error = ((found[0] - expected[0]) ** 2 + (found[1] - expected[1]) ** 2) ** 0.5
            caption += f"; ground truth ({expected[0]:.0f}, {expected[1]:.0f}), {error:.0f} px away"
        return fig, caption

    return Explorer(controls, compute, draw, title="correspondence explorer")
