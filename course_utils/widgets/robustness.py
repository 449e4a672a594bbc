"""Explorers for notebooks 11–13: how a trained network responds to small pushes, of its input or of its weights.

``fgsm_explorer`` perturbs the input (an adversarial example); ``loss_slice_explorer`` perturbs the
weights (the loss surface around a solution); ``targeted_attack_explorer`` pushes one image towards a
class of your choice on several models side by side (a standard and a robust one, notebook 13).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import nn

from .. import adversarial, landscape
from ..images import deprocess
from ..plotting import loss_contour, prediction_comparison
from .explorer import Explorer, in_range, one_of, probabilities

__all__ = ["fgsm_explorer", "loss_slice_explorer", "targeted_attack_explorer"]


# --------------------------------------------------------------------------- 11: FGSM
def fgsm_explorer(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    class_names: Sequence[str],
    eps: float = 0.1,
    max_eps: float = 0.3,
    value: int = 0,
) -> Explorer:
    """Pick a test image and ε; show the FGSM example next to the clean one with both predictions (notebook 11).

    ``images``: ``(N,C,H,W)`` pixels in [0,1]; ``labels``: ``(N,)``; ε is in pixel units. ``result``:
    ``(clean, adversarial, probabilities (2,K))``; the adversarial image is ``adversarial.fgsm(model, x, y, eps)``.
    """
    if len(images) != len(labels) or not len(labels):
        raise ValueError(f"got {len(images)} images and {len(labels)} labels: pass one label per image (at least one)")
    top = int(torch.as_tensor(labels).max())
    if top >= len(class_names):
        raise ValueError(f"labels go up to {top}, but there are {len(class_names)} class names: pass one per class")
    in_range("max_eps", max_eps, 0.01, 1, "ε is in pixel units, [0,1]", integer=False)
    in_range("eps", eps, 0, max_eps, "0..max_eps", integer=False)
    in_range("value", value, 0, len(labels) - 1, f"{len(labels)} images")
    controls = {
        "index": widgets.IntSlider(
            value=value, min=0, max=len(labels) - 1, description="image", continuous_update=False
        ),
        "eps": widgets.FloatSlider(value=eps, min=0, max=max_eps, step=0.01, description="ε", continuous_update=False),
    }

    def compute(index: int, eps: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x, y = images[index : index + 1], labels[index : index + 1]
        x_adv = adversarial.fgsm(model, x, y, eps)
        return x, x_adv, probabilities(model, torch.cat([x, x_adv.to(x.device)]))

    def draw(result: tuple[torch.Tensor, torch.Tensor, torch.Tensor], values: dict) -> tuple[Figure, str]:
        x, x_adv, probs = result
        before, after = (class_names[int(p.argmax())] for p in probs)
        titles = [
            f"clean: {before} ({float(probs[0].max()):.0%})",
            f"FGSM ε={values['eps']:.2f}: {after} ({float(probs[1].max()):.0%})",
        ]
        fig = prediction_comparison(
            [deprocess(x), deprocess(x_adv)], probs, class_names, titles, legend=["clean", "adversarial"]
        )
        return fig, f"true class: {class_names[int(labels[values['index']])]}; prediction {before} → {after}"

    return Explorer(controls, compute, draw, title="FGSM explorer")


# --------------------------------------------------------------------------- 12: loss slices
def loss_slice_explorer(
    models: Mapping[int, nn.Module],
    solutions: Callable[[int, int], Any],
    x: torch.Tensor,
    y: torch.Tensor,
    seeds: Sequence[int],
    n: int = 15,
) -> Explorer:
    """Pick a width, a seed and a span; show the filter-normalized 2-D loss slice around that solution (notebook 12).

    ``models``: width -> a model of that width; ``solutions(width, seed)``: its trained parameters
    (what ``landscape.loss_slice`` takes as ``center``). ``result``: ``(coords (n,), grid (n,n))`` from
    ``landscape.loss_slice``.
    """
    widths = list(models)
    controls = {
        "width": widgets.Dropdown(options=widths, value=one_of("width", widths, default=-1), description="width"),
        "seed": widgets.Dropdown(options=list(seeds), value=one_of("seed", seeds), description="seed"),
        "span": widgets.FloatSlider(value=1.0, min=0.1, max=2.0, step=0.1, description="span", continuous_update=False),
    }

    def compute(width: int, seed: int, span: float) -> tuple[torch.Tensor, torch.Tensor]:
        return landscape.loss_slice(
            models[width], solutions(width, seed), x, y, span=span, n=n, seed=seed, progress=False
        )

    def draw(result: tuple[torch.Tensor, torch.Tensor], values: dict) -> tuple[Figure, str]:
        coords, grid = result
        fig = loss_contour(
            coords, grid, title=f"width {values['width']}, seed {values['seed']}", label="test cross-entropy"
        )
        centre = grid[n // 2, n // 2]
        return fig, f"loss at the solution {float(centre):.3f}, highest in the slice {float(grid.max()):.2f}"

    return Explorer(controls, compute, draw, title="loss slice explorer")


# --------------------------------------------------------------------------- 13: targeted attacks, side by side
def targeted_attack_explorer(
    models: Mapping[str, nn.Module],
    images: torch.Tensor,
    labels: torch.Tensor,
    class_names: Sequence[str],
    target: str | None = None,
    eps: float = 0.3,
    max_eps: float = 0.5,
    steps: int = 20,
    value: int = 0,
) -> Explorer:
    """Pick a test image, a target class and ε; show each model's targeted PGD image and its change (notebook 13).

    ``models``: name -> model (e.g. ``{"standard": ..., "robust": ...}``), all attacked with the same
    settings: ``adversarial.pgd(model, x, [target], eps, steps=steps, targeted=True)`` from ``x``
    itself. ``images``: ``(N,C,H,W)`` pixels in [0,1]; ε in pixel units. ``result``: name ->
    ``(adversarial image (1,C,H,W), probabilities (K,))``, plus ``"clean"`` -> the image.
    """
    if not models:
        raise ValueError("pass at least one model, e.g. {'standard': model, 'robust': robust_model}")
    if "clean" in models:
        raise ValueError("'clean' names the unchanged image in the result; give the model another name")
    if len(images) != len(labels) or not len(labels):
        raise ValueError(f"got {len(images)} images and {len(labels)} labels: pass one label per image (at least one)")
    top = int(torch.as_tensor(labels).max())
    if top >= len(class_names):
        raise ValueError(f"labels go up to {top}, but there are {len(class_names)} class names: pass one per class")
    target = one_of("target", class_names, target)
    in_range("max_eps", max_eps, 0.01, 1, "ε is in pixel units, [0,1]", integer=False)
    in_range("eps", eps, 0, max_eps, "0..max_eps", integer=False)
    in_range("steps", steps, 1, 1000, "PGD steps")
    in_range("value", value, 0, len(labels) - 1, f"{len(labels)} images")
    controls = {
        "index": widgets.IntSlider(
            value=value, min=0, max=len(labels) - 1, description="image", continuous_update=False
        ),
        "target": widgets.Dropdown(options=list(class_names), value=target, description="target"),
        "eps": widgets.FloatSlider(value=eps, min=0, max=max_eps, step=0.05, description="ε", continuous_update=False),
    }

    def compute(index: int, target: str, eps: float) -> dict[str, Any]:
        x = images[index : index + 1]
        t = list(class_names).index(target)
        result: dict[str, Any] = {"clean": x}
        for name, model in models.items():
            x_adv = adversarial.pgd(model, x, [t], eps, steps=steps, targeted=True)
            result[name] = (x_adv, probabilities(model, x_adv)[0])
        return result

    def draw(result: dict[str, Any], values: dict) -> tuple[Figure, str]:
        x, t, eps = result["clean"], list(class_names).index(values["target"]), values["eps"]
        fig, axes = plt.subplots(1, 1 + 2 * len(models), figsize=(2.6 * (1 + 2 * len(models)), 3.2))
        axes[0].imshow(deprocess(x), cmap="gray", vmin=0, vmax=1)
        axes[0].set_title(f"image: {class_names[int(labels[values['index']])]}")
        parts = []
        for i, name in enumerate(models):
            x_adv, probs = result[name]
            shown = class_names[int(probs.argmax())]
            axes[1 + 2 * i].imshow(deprocess(x_adv), cmap="gray", vmin=0, vmax=1)
            axes[1 + 2 * i].set_title(f"{name}: {shown} ({float(probs.max()):.0%})")
            lim = max(eps, 1e-3)  # one signed scale, ±ε, so the two changes compare
            change = (x_adv - x)[0].mean(0).detach().cpu().numpy()  # (H,W); channels averaged for a colour image
            axes[2 + 2 * i].imshow(change, cmap="RdBu_r", vmin=-lim, vmax=lim)
            axes[2 + 2 * i].set_title(f"{name}: change (±{eps:.2f})")
            parts.append(f"{name} p({values['target']}) = {float(probs[t]):.2f}")
        for ax in axes:
            ax.axis("off")
        fig.suptitle(f"targeted PGD towards '{values['target']}', ε = {eps:.2f}, {steps} steps")
        return fig, "; ".join(parts)

    return Explorer(controls, compute, draw, title="targeted attack explorer")
