"""Explorers for notebooks 05–06: which pixels a prediction depends on (occlusion maps, saliency maps)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure
from torch import nn

from ..attribution import as_heat
from ..core import resolve_targets
from ..images import deprocess
from ..occlusion import occlusion
from ..plotting import heatmap_overlay, image_and_heatmap
from .explorer import Explorer, in_range, one_of, probabilities

__all__ = ["Saliency", "occlusion_explorer", "saliency_explorer"]


# --------------------------------------------------------------------------- 05: occlusion
def occlusion_explorer(
    model: nn.Module,
    image: torch.Tensor,
    target: int | str,
    fills: Mapping[str, float | torch.Tensor | str] | None = None,
    classes: Sequence[str] | None = None,
    window: int = 32,
    stride: int = 16,
    window_range: tuple[int, int, int] = (8, 96, 8),
    stride_range: tuple[int, int, int] = (4, 32, 4),
    output: str = "probability",
    batch_size: int = 8,
) -> Explorer:
    """Set the occluder's window, stride and fill, press Run; show the occlusion map of ``target`` (notebook 05).

    ``image``: pixels ``(1,C,H,W)`` in [0,1]; ``target``: a class index (or a class name);
    ``fills``: name -> ``baseline`` of ``occlusion`` (a number or tensor of pixels, ``"blur"``...).
    The sliders stop at the image's side; a stride larger than the window is cut to the window, so
    every pixel is covered. ``result``: the ``(H,W)`` map shown, ``occlusion(...)[0, 0]`` with
    ``output`` ("probability": p(target) while each pixel is hidden; "attribution": the logit drop).
    """
    if not isinstance(image, torch.Tensor) or image.dim() != 4 or len(image) != 1:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"image must be one image of pixels (1,C,H,W), got {shape}")
    fills = {"black": 0.0} if fills is None else dict(fills)
    probs = probabilities(model, image)[0]
    if classes is not None and len(classes) != len(probs):
        raise ValueError(
            f"classes has {len(classes)} names but the model gives {len(probs)} scores: pass one per class"
        )
    target = int(resolve_targets(target, 1, len(probs), class_names=classes, model=model)[0])
    name = classes[target] if classes is not None else f"class {target}"
    side = min(image.shape[-2:])
    ranges = {}
    for what, (low, high, step), start in (("window", window_range, window), ("stride", stride_range, stride)):
        high = min(high, side)  # a window larger than the image is refused by occlusion()
        ranges[what] = (low, high, step)
        in_range(what, start, low, high, f"{what}_range is {low}..{high} for this {side}-px image")
    controls = {
        "window": widgets.IntSlider(window, *ranges["window"], description="window", continuous_update=False),
        "stride": widgets.IntSlider(stride, *ranges["stride"], description="stride", continuous_update=False),
        "fill": widgets.Dropdown(options=list(fills), value=one_of("fill", fills), description="fill"),
    }
    clean = float(probs[target])

    def compute(window: int, stride: int, fill: str) -> torch.Tensor:
        heat = occlusion(
            model,
            image,
            target,
            window,
            min(stride, window),
            baseline=fills[fill],
            batch_size=batch_size,
            progress=False,
            output=output,
        )
        return heat[0, 0].cpu()

    def draw(heat: torch.Tensor, values: dict) -> tuple[Figure, str]:
        w, s, fill = values["window"], min(values["stride"], values["window"]), values["fill"]
        label = f"p({name})" if output == "probability" else f"logit drop of {name}"
        fig = heatmap_overlay(
            deprocess(image), heat, alpha=0.55, label=label, title=f"window {w}, stride {s}, fill {fill}"
        )
        lowest = (
            f"lowest p = {heat.min():.3f} (unoccluded {clean:.3f})"
            if output == "probability"
            else f"largest drop {heat.max():.3f}"
        )
        return fig, f"window {w}, stride {s}, fill {fill}: {lowest}"

    return Explorer(controls, compute, draw, run_button=True, title="occlusion explorer")


# --------------------------------------------------------------------------- 06: saliency maps
class Saliency(NamedTuple):
    """What ``saliency_explorer`` shows: the class index ``target`` and the method's raw ``attribution``."""

    target: int
    attribution: torch.Tensor


def saliency_explorer(
    model: nn.Module,
    images: Mapping[str, torch.Tensor],
    methods: Mapping[str, Callable[[nn.Module, torch.Tensor, int], torch.Tensor]],
    classes: Sequence[str] | None = None,
    ranks: int | None = None,
    value: str | None = None,
    method: str | None = None,
) -> Explorer:
    """Pick an image, a saliency method and one of the model's top-``ranks`` classes; show the map (notebook 06).

    ``images``: name -> pixels ``(1,C,H,W)`` in [0,1]. ``methods``: name -> ``f(model, x, target)``
    returning ``(1,C,H,W)`` (shown as |a| summed over channels, clipped at the 99th percentile) or
    ``(1,h,w)`` (Grad-CAM, shown upsampled as it is). ``ranks``: 1 up to the number of classes
    (default 5, or all classes if fewer). ``result``: ``Saliency(target, attribution)``.
    """
    for what, named in (("images", images), ("methods", methods)):
        if not isinstance(named, Mapping):
            raise ValueError(f"{what} must be a dict name -> {what[:-1]}, not a {type(named).__name__}")
    names, method_names = list(images), list(methods)
    value, method = one_of("image", names, value), one_of("method", method_names, method)
    num_classes = probabilities(model, images[value]).shape[1]
    if classes is not None and len(classes) != num_classes:
        raise ValueError(
            f"classes has {len(classes)} names but the model gives {num_classes} scores: pass one per class"
        )
    ranks = in_range("ranks", min(5, num_classes) if ranks is None else ranks, 1, num_classes, f"{num_classes} classes")
    controls = {
        "image": widgets.Dropdown(options=names, value=value, description="photo"),
        "method": widgets.Dropdown(options=method_names, value=method, description="method"),
        "rank": widgets.Dropdown(options=list(range(1, ranks + 1)), value=1, description="top-k class"),
    }

    def compute(image: str, method: str, rank: int) -> Saliency:
        x = images[image]
        target = int(probabilities(model, x).topk(rank, dim=1).indices[0, rank - 1])
        return Saliency(target, methods[method](model, x, target).detach().cpu())

    def draw(found: Saliency, values: dict) -> tuple[Figure, str]:
        a = found.attribution
        heat = a[0] if a.dim() == 3 else as_heat(a)
        name = classes[found.target] if classes is not None else f"class {found.target}"
        caption = f"{values['method']}: top-{values['rank']} '{name}'"
        fig = image_and_heatmap(
            deprocess(images[values["image"]]),
            heat,
            image_title=values["image"],
            heatmap_title=caption,
            label="importance",
        )
        return fig, caption

    return Explorer(controls, compute, draw, title="saliency explorer")
