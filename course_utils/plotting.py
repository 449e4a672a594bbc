"""Figures for the notebooks. Every helper returns its ``Figure`` and never calls ``plt.show()``:
the notebook decides when to show (Jupyter shows a cell's figures when the cell ends).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image

plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "axes.titlesize": 11, "image.interpolation": "nearest"})


def as_array(img) -> np.ndarray:
    """Turn a PIL image, an ``(H,W)``/``(H,W,3)`` array or a ``(C,H,W)``/``(1,C,H,W)`` pixel tensor into an array."""
    if isinstance(img, Image.Image):
        return np.asarray(img)
    if isinstance(img, torch.Tensor):
        t = img.detach().float().cpu()
        if t.dim() == 4 and t.shape[0] == 1:
            t = t[0]
        if t.dim() == 3 and t.shape[0] in (1, 3):
            t = t.movedim(0, -1)
        arr = t.numpy()
    else:
        arr = np.asarray(img)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3):
        raise ValueError(f"cannot show an array of shape {arr.shape} as an image")
    return arr


def image_grid(
    images: Sequence,
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    cell: float = 2.4,
    cmap: str = "gray",
    suptitle: str | None = None,
    normalize_each: bool = False,
    title_colors: Sequence[str] | None = None,
) -> Figure:
    """Show ``images`` in a grid, one titled panel each; return the figure.

    Gray images use ``cmap``. ``normalize_each`` stretches each image to its own min..max
    (for filters and feature maps, whose values are not pixels). ``title_colors`` colours
    each title (e.g. red for a wrong prediction).
    """
    n = len(images)
    if n == 0:
        raise ValueError("image_grid needs at least one image")
    ncols = ncols or min(n, 8)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(cell * ncols, cell * nrows + (0.4 if suptitle else 0)),
        squeeze=False,
        constrained_layout=True,
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        arr = as_array(images[i])
        style: dict[str, Any] = {"cmap": cmap} if arr.ndim == 2 else {}
        if normalize_each:
            arr = arr.astype(np.float32)
            lo, hi = float(arr.min()), float(arr.max())
            arr = (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)
            style.update(vmin=0, vmax=1)
        ax.imshow(arr, **style)
        if titles is not None and i < len(titles):
            ax.set_title(titles[i], fontsize=10, color=title_colors[i] if title_colors else "black")
    if suptitle:
        fig.suptitle(suptitle, fontsize=13)
    return fig


def feature_maps(
    activation: torch.Tensor,
    n: int = 16,
    ncols: int = 8,
    title: str | None = None,
    cmap: str = "viridis",
    cell: float = 1.6,
) -> Figure:
    """Show the first ``n`` channels of one activation ``(C,H,W)`` or ``(1,C,H,W)``, each on its own colour scale.

    A fully connected layer's output ``(1,D)`` is shown as one block of its D numbers, 16 per row.
    """
    act = activation.detach().cpu()
    if act.dim() == 2 and act.shape[0] == 1:
        d = act.shape[1]
        cols = 16 if d % 16 == 0 else d  # 8x16 for FashionNet's 128-number code
        return image_grid(
            [act.reshape(d // cols, cols)],
            [f"{d} values  max {act.max():.2f}"],
            cell=cell * 2,
            cmap=cmap,
            suptitle=title,
            normalize_each=True,
        )
    if act.dim() == 4:
        act = act[0]
    if act.dim() != 3:
        raise ValueError(f"expected an activation of shape (C,H,W), (1,C,H,W) or (1,D), got {tuple(activation.shape)}")
    n = min(n, act.shape[0])
    titles = [f"ch {c}  max {act[c].max():.2f}" for c in range(n)]
    return image_grid(
        list(act[:n]), titles, ncols=min(ncols, n), cell=cell, cmap=cmap, suptitle=title, normalize_each=True
    )


def heatmap_overlay(
    image,
    heatmap,
    ax=None,
    alpha: float = 0.5,
    cmap: str = "jet",
    title: str | None = None,
    colorbar: bool = True,
    label: str = "",
) -> Figure:
    """Draw ``heatmap`` (any ``(h,w)`` array or tensor) upsampled and overlaid on ``image``; return the figure."""
    img = as_array(image)
    heat = torch.as_tensor(heatmap.detach() if isinstance(heatmap, torch.Tensor) else heatmap).float().cpu().squeeze()
    if heat.dim() != 2:
        raise ValueError(f"heatmap must be 2-D after squeezing, got shape {tuple(heat.shape)}")
    if heat.shape != img.shape[:2]:
        heat = torch.nn.functional.interpolate(
            heat[None, None], size=img.shape[:2], mode="bilinear", align_corners=False
        )[0, 0]
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 5), constrained_layout=True)
    else:
        fig = ax.figure
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
    shown = ax.imshow(heat.numpy(), cmap=cmap, alpha=alpha)
    if colorbar:
        fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04, label=label)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig


def prediction_bars(predictions: Sequence[tuple[str, float]], ax=None, title: str | None = None) -> Figure:
    """Draw top-k ``(class name, probability)`` pairs as horizontal bars, most probable on top."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 0.45 * len(predictions) + 0.8), constrained_layout=True)
    else:
        fig = ax.figure
    names = [name for name, _ in predictions][::-1]
    probs = [p for _, p in predictions][::-1]
    ax.barh(names, probs, color="tab:blue")
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    for y, p in enumerate(probs):
        inside = p > 0.8  # long bars carry their number inside, in white
        ax.text(
            p - 0.02 if inside else p + 0.02,
            y,
            f"{p:.2f}",
            va="center",
            ha="right" if inside else "left",
            color="white" if inside else "black",
            fontsize=9,
        )
    if title:
        ax.set_title(title)
    return fig


def images_with_predictions(
    images: Sequence,
    predictions: Sequence[Sequence[tuple[str, float]]],
    titles: Sequence[str] | None = None,
    cell: float = 3.0,
) -> Figure:
    """Show each image above a bar chart of its top-k predictions, in columns."""
    n = len(images)
    fig, axes = plt.subplots(
        2,
        n,
        figsize=(cell * n * 1.25, cell * 1.9),
        squeeze=False,
        constrained_layout=True,
        gridspec_kw={"height_ratios": [1.4, 1]},
    )
    for i in range(n):
        arr = as_array(images[i])
        axes[0, i].imshow(arr, cmap="gray" if arr.ndim == 2 else None)
        axes[0, i].axis("off")
        if titles:
            axes[0, i].set_title(titles[i])
        prediction_bars(predictions[i], ax=axes[1, i])
    return fig


def compact_notebook_figures(quality: int = 90) -> None:
    """Make Jupyter show figures as JPEG, several times smaller than PNG for photos (keeps notebooks small).

    Does nothing outside IPython. Call once in a notebook's setup cell.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    if get_ipython() is None:
        return
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("jpeg", pil_kwargs={"quality": quality}, bbox_inches="tight")


def class_scatter(
    xy, labels, class_names: Sequence[str], ax=None, title: str | None = None, size: float = 6.0
) -> Figure:
    """Scatter 2-D points ``xy`` (N,2) coloured by integer ``labels`` (N,), with a legend of ``class_names``."""
    xy, labels = np.asarray(xy), np.asarray(labels)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 6), constrained_layout=True)
    else:
        fig = ax.figure
    colors = plt.get_cmap("tab10")
    for c, name in enumerate(class_names):
        pick = labels == c
        ax.scatter(xy[pick, 0], xy[pick, 1], s=size, color=colors(c % 10), label=name, alpha=0.8, linewidths=0)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(markerscale=3, fontsize=9, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    if title:
        ax.set_title(title)
    return fig


def image_and_heatmap(
    image,
    heatmap,
    image_title: str = "",
    heatmap_title: str = "",
    label: str = "",
    alpha: float = 0.55,
    cmap: str = "jet",
) -> Figure:
    """Show ``image`` on the left and ``heatmap`` ``(h,w)`` overlaid on it on the right, with a colorbar."""
    img = as_array(image)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.3), constrained_layout=True)
    axes[0].imshow(img, cmap="gray" if img.ndim == 2 else None)
    axes[0].axis("off")
    axes[0].set_title(image_title)
    heatmap_overlay(img, heatmap, ax=axes[1], alpha=alpha, cmap=cmap, title=heatmap_title, label=label)
    return fig


def prediction_comparison(
    images: Sequence,
    probabilities: torch.Tensor,
    class_names: Sequence[str],
    titles: Sequence[str],
    legend: Sequence[str],
) -> Figure:
    """Show two pixel images side by side and their class probabilities ``(2,K)`` as paired bars (notebook 11)."""
    probs = torch.as_tensor(probabilities).detach().float().cpu()
    if probs.shape != (2, len(class_names)) or len(images) != 2:
        raise ValueError(
            f"expected 2 images and probabilities (2, {len(class_names)}), got {len(images)} and {tuple(probs.shape)}"
        )
    fig, axes = plt.subplots(
        1, 3, figsize=(12, 3.6), gridspec_kw={"width_ratios": [1, 1, 1.5]}, constrained_layout=True
    )
    for ax, img, title in zip(axes[:2], images, titles):
        arr = as_array(img)
        ax.imshow(arr, cmap="gray" if arr.ndim == 2 else None, vmin=0, vmax=1)  # pixels: one fixed 0..1 scale
        ax.axis("off")
        ax.set_title(title)
    pos = np.arange(len(class_names))
    for offset, p, name in zip((0.2, -0.2), probs, legend):
        axes[2].barh(pos + offset, p.numpy(), 0.4, label=name)
    axes[2].set_yticks(pos, list(class_names))
    axes[2].invert_yaxis()  # first class on top, as in the class list
    axes[2].set(xlabel="probability", xlim=(0, 1))
    axes[2].legend(loc="lower right")
    return fig


def loss_contour(coords, grid, title: str | None = None, label: str = "loss", levels: int = 20) -> Figure:
    """Draw a 2-D loss slice ``grid`` ``(n,n)`` over ``coords`` ``(n,)`` as filled contours, the centre marked ×."""
    coords, grid = np.asarray(coords), np.asarray(grid)
    if grid.shape != (len(coords), len(coords)):
        raise ValueError(f"grid must be ({len(coords)}, {len(coords)}) for {len(coords)} coords, got {grid.shape}")
    fig, ax = plt.subplots(figsize=(5.5, 4.5), constrained_layout=True)
    filled = ax.contourf(coords, coords, grid, levels=levels, cmap="viridis")
    ax.plot(0, 0, "rx", ms=10, mew=2)  # the solution the slice is centred on
    fig.colorbar(filled, ax=ax, label=label)
    ax.set(xlabel="a  (direction δ)", ylabel="b  (direction η)")
    if title:
        ax.set_title(title)
    ax.locator_params(nbins=5)
    return fig
