"""Explorers for notebooks 07–10: images made by optimization (class visualization, inversion, DeepDream, style)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure
from torch import nn

from .. import optim
from ..images import deprocess
from ..plotting import image_grid
from .explorer import Explorer, in_range, one_of, pixels_png

__all__ = ["class_visualization_explorer", "deepdream_explorer", "inversion_explorer", "style_explorer"]


# --------------------------------------------------------------------------- 07: class visualization
def class_visualization_explorer(
    model: nn.Module,
    classes: Sequence[str],
    value: str | None = None,
    size: int = 128,
    steps: int = 80,
    preview_every: int = 10,
) -> Explorer:
    """Type a class, pick the recipe and the steps, press Run; watch the class visualization form (notebook 07).

    Recipes: Fourier parameterization with robustness transforms, or pixels with L2, blur, jitter
    and a total-variation weight (the slider). While it runs, the picture is refreshed every
    ``preview_every`` steps. ``result``: the image ``(1,C,size,size)`` in [0,1].
    """
    value = one_of("class", classes, value)
    in_range("steps", steps, 10, 300, "the steps slider's range")
    in_range("preview_every", preview_every, 1)
    controls = {
        "class": widgets.Combobox(value=value, options=list(classes), description="class", ensure_option=True),
        "fourier": widgets.Checkbox(value=True, description="Fourier + transforms"),
        "tv": widgets.FloatLogSlider(
            value=100, base=10, min=0, max=3.5, description="TV (pixels)", continuous_update=False
        ),
        "steps": widgets.IntSlider(value=steps, min=10, max=300, step=10, description="steps", continuous_update=False),
    }
    shown: list[Explorer] = []  # filled once the explorer exists, so previews know where to draw

    def compute(**values) -> torch.Tensor:
        if values["class"] not in classes:
            raise ValueError(f"unknown class {values['class']!r}: pick one from the list")
        target = list(classes).index(values["class"])
        recipe = (
            dict(fourier=True, transforms=optim.standard_transforms(size))
            if values["fourier"]
            else dict(tv_weight=values["tv"], l2_weight=100, blur_sigma=0.7, jitter_px=max(1, size // 32))
        )

        def preview(step: int, image: torch.Tensor) -> None:
            if step % preview_every == 0 and shown:  # not during the first run, inside the constructor
                shown[0].image.value = pixels_png(image)

        return optim.class_visualization(
            model, target, steps=values["steps"], size=size, callback=preview, progress=False, **recipe
        )

    def draw(image: torch.Tensor, values: dict) -> tuple[Figure, str]:
        target = list(classes).index(values["class"])
        p = optim.class_probability(model, image, target)
        recipe = "Fourier + transforms" if values["fourier"] else f"pixels, TV {values['tv']:.0f}"
        fig = image_grid(
            [deprocess(image)], [f"{values['class']}: p = {p:.3f}\n{recipe}, {values['steps']} steps"], cell=4
        )
        return fig, f"{values['class']}: p = {p:.3f} after {values['steps']} steps ({recipe})"

    shown.append(Explorer(controls, compute, draw, run_button=True, title="class visualization explorer"))
    return shown[0]


# --------------------------------------------------------------------------- 08: feature inversion
def inversion_explorer(
    model: nn.Module,
    image: torch.Tensor,
    layers: Sequence[str],
    value: str | None = None,
    tv_weight: float = 30.0,
    steps: int = 200,
    lr: float = 0.05,
    optimizer: str | optim.OptimizerFactory = "adam",
) -> Explorer:
    """Pick a layer and a total-variation weight, press Run; show the photo rebuilt from that layer (notebook 08).

    ``image``: pixels ``(1,3,H,W)`` in [0,1]. ``result``: ``optim.invert_features(model, layer, image,
    steps, lr, tv_weight, optimizer=optimizer)``, pixels ``(1,3,H,W)``.
    """
    value = one_of("layer", layers, value)
    in_range("tv_weight", tv_weight, 0.1, 1000, "the λ_TV slider's range", integer=False)
    controls = {
        "layer": widgets.Dropdown(options=list(layers), value=value, description="layer"),
        "tv_weight": widgets.FloatLogSlider(
            value=tv_weight, base=10, min=-1, max=3, description="λ_TV", continuous_update=False
        ),
    }

    def compute(layer: str, tv_weight: float) -> torch.Tensor:
        return optim.invert_features(
            model, layer, image, steps=steps, tv_weight=tv_weight, lr=lr, optimizer=optimizer, progress=False
        )

    def draw(recon: torch.Tensor, values: dict) -> tuple[Figure, str]:
        err = optim.feature_error(model, values["layer"], recon, image)
        rmse = float((recon - image).pow(2).mean().sqrt())
        setting = f"from {values['layer']}, λ_TV = {values['tv_weight']:.3g}"
        fig = image_grid(
            [deprocess(image), deprocess(recon)],
            ["original", f"{setting}\nfeature err {err:.2f}, pixel RMSE {rmse:.3f}"],
            cell=3.5,
        )
        return fig, f"{setting}: feature error {err:.2f}, pixel RMSE {rmse:.3f}"

    return Explorer(controls, compute, draw, run_button=True, title="inversion explorer")


# --------------------------------------------------------------------------- 09: DeepDream
def deepdream_explorer(
    model: nn.Module,
    image: torch.Tensor,
    layers: Sequence[str],
    value: str | None = None,
    step_size: float = 0.012,
    steps_per_octave: int = 20,
    octaves: int = 4,
    scale: float = 1.4,
    jitter_px: int = 16,
    parameterization: str = "pixels",
    smooth: float = 0.0,
) -> Explorer:
    """Pick a layer, the step size α, the steps per octave and the octaves, press Run; show the dream (notebook 09).

    ``image``: pixels ``(1,3,H,W)`` in [0,1]. ``result``: ``optim.deep_dream(...)`` with these settings
    (``parameterization`` and ``smooth`` as in ``optim.deep_dream``).
    """
    value = one_of("layer", layers, value)
    in_range("step_size", step_size, 0.002, 0.1, "the α slider's range", integer=False)
    in_range("steps_per_octave", steps_per_octave, 2, 40, "the slider's range")
    in_range("octaves", octaves, 1, 6, "the slider's range")
    controls = {
        "layer": widgets.Dropdown(options=list(layers), value=value, description="layer"),
        "step_size": widgets.FloatSlider(
            value=step_size,
            min=0.002,
            max=0.1,
            step=0.002,
            readout_format=".3f",
            description="α",
            continuous_update=False,
        ),
        "steps_per_octave": widgets.IntSlider(
            value=steps_per_octave, min=2, max=40, description="steps/oct", continuous_update=False
        ),
        "octaves": widgets.IntSlider(value=octaves, min=1, max=6, description="octaves", continuous_update=False),
    }

    def compute(layer: str, step_size: float, steps_per_octave: int, octaves: int) -> torch.Tensor:
        return optim.deep_dream(
            model,
            image,
            layer,
            octaves=octaves,
            scale=scale,
            steps_per_octave=steps_per_octave,
            step_size=step_size,
            jitter_px=jitter_px,
            parameterization=parameterization,
            smooth=smooth,
            progress=False,
        )

    def draw(dreamed: torch.Tensor, values: dict) -> tuple[Figure, str]:
        layer = values["layer"]
        energy = optim.layer_features(model, layer, dreamed).pow(2).mean()
        ratio = energy / optim.layer_features(model, layer, image).pow(2).mean()
        caption = (
            f"{layer}, α = {values['step_size']:.3f}, {values['octaves']} × {values['steps_per_octave']} steps: "
            f"‖a‖² ×{float(ratio):.1f}"
        )
        fig = image_grid([deprocess(image), deprocess(dreamed)], ["original", caption.replace(": ", "\n")], cell=4.2)
        return fig, caption

    return Explorer(controls, compute, draw, run_button=True, title="DeepDream explorer")


# --------------------------------------------------------------------------- 10: neural style
def style_explorer(
    model: nn.Module,
    content: torch.Tensor,
    styles: Mapping[str, torch.Tensor],
    content_layer: str,
    style_layers: Sequence[str] | Mapping[str, Sequence[str]],
    steps: int = 100,
    ratio: float = 0.1,
    style_weight: float = 1e3,
    tv_weight: float = 0.0,
    value: str | None = None,
) -> Explorer:
    """Pick a style, the content/style ratio α/β and the style layers, press Run; show the stylized photo (notebook 10).

    ``content`` and each style: pixels ``(1,3,H,W)`` in [0,1]. ``style_layers``: layer names (chosen
    with a multiple selection; all selected at first) or named sets of them (chosen with a dropdown).
    ``result``: ``optim.style_transfer(model, content, style, content_layer, layers,
    content_weight=ratio·style_weight, style_weight, tv_weight, steps).image``, pixels ``(1,3,H,W)``.
    """
    if not styles:
        raise ValueError("styles is empty: pass at least one name -> (1,3,H,W) style image")
    if isinstance(style_layers, str) or not style_layers:
        raise ValueError(
            f"style_layers must be a non-empty list of layer names (or of named sets), not {style_layers!r}"
        )
    layer_control: widgets.ValueWidget
    if isinstance(style_layers, Mapping):
        layer_sets: dict[str, list[str]] | None = {name: list(layers) for name, layers in style_layers.items()}
        layer_control = widgets.Dropdown(options=list(style_layers), description="style layers")
    else:
        layer_sets = None
        layer_control = widgets.SelectMultiple(
            options=list(style_layers), value=tuple(style_layers), rows=4, description="style layers"
        )
    in_range("ratio", ratio, 1e-3, 10, "the α/β slider's range", integer=False)
    controls = {
        "style": widgets.Dropdown(options=list(styles), value=one_of("style", styles, value), description="style"),
        "ratio": widgets.FloatLogSlider(
            value=ratio, base=10, min=-3, max=1, description="α/β", continuous_update=False
        ),
        "layers": layer_control,
    }

    def chosen_layers(layers) -> list[str]:
        return layer_sets[layers] if layer_sets is not None else list(layers)

    def compute(style: str, ratio: float, layers) -> torch.Tensor:
        names = chosen_layers(layers)
        if not names:
            raise ValueError("no style layer selected: pick at least one (ctrl/shift-click)")
        return optim.style_transfer(
            model,
            content,
            styles[style],
            content_layer,
            names,
            content_weight=ratio * style_weight,
            style_weight=style_weight,
            tv_weight=tv_weight,
            steps=steps,
            progress=False,
        ).image

    def draw(stylized: torch.Tensor, values: dict) -> tuple[Figure, str]:
        style, names = styles[values["style"]], chosen_layers(values["layers"])
        before = optim.gram_error(model, content, style, names)
        after = optim.gram_error(model, stylized, style, names)
        caption = (
            f"{values['style']}, α/β = {values['ratio']:.3g}, {len(names)} style layers: "
            f"Gram error to the style {before:.3f} (photo) → {after:.3f}"
        )
        fig = image_grid(
            [deprocess(content), deprocess(style), deprocess(stylized)],
            ["content", f"style: {values['style']}", f"α/β = {values['ratio']:.3g}\nGram error {after:.3f}"],
            cell=3.5,
        )
        return fig, caption

    return Explorer(controls, compute, draw, run_button=True, title="style explorer")
