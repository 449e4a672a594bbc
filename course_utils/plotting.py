"""Figures for the notebooks. Every helper returns its ``Figure`` and never calls ``plt.show()``:
the notebook decides when to show (Jupyter shows a cell's figures when the cell ends).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from PIL import Image

plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "axes.titlesize": 11, "image.interpolation": "nearest"})


@contextmanager
def _closed_on_error(fig: Figure | None) -> Iterator[None]:
    """Close ``fig`` (one this helper made; None: the caller's) if drawing fails: no half-drawn figure stays open."""
    try:
        yield
    except BaseException:
        if fig is not None:
            plt.close(fig)
        raise


@contextmanager
def _drawing_on(ax, figsize: tuple[float, float]) -> Iterator[tuple[Figure, Any]]:
    """Yield ``(figure, axes)``: the caller's ``ax`` and its figure, or a new figure of ``figsize``.

    A figure made here is closed if drawing fails; the caller's figure is left to the caller.
    """
    if ax is not None:
        yield ax.figure, ax
        return
    fig, ax = plt.subplots(figsize=figsize, constrained_layout=True)
    with _closed_on_error(fig):
        yield fig, ax


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
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (3, 4)) or arr.dtype.kind not in "buif":
        what = "an array" if isinstance(img, (np.ndarray, torch.Tensor)) else f"a {type(img).__name__}"
        batch = " (a batch: pass list(batch))" if arr.ndim == 4 else ""
        raise ValueError(
            f"cannot show {what} of shape {arr.shape} and dtype {arr.dtype} as an image{batch}: pass (H,W) or "
            "(H,W,3) arrays, (C,H,W) or (1,C,H,W) tensors with 1 or 3 channels, or PIL images"
        )
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
    each title (e.g. red for a wrong prediction). Everything is checked before the figure is
    made, so a bad argument raises a ``ValueError`` and leaves no figure open.
    """
    arrays = [as_array(image) for image in images]  # any iterable, a batch tensor too
    n = len(arrays)
    if n == 0:
        raise ValueError("image_grid needs at least one image")
    if isinstance(titles, str) or (titles is not None and len(titles) > n):
        raise ValueError(f"titles must be a list of at most one title per image ({n}), not {titles!r}")
    if title_colors is not None and (isinstance(title_colors, str) or len(title_colors) < len(titles or [])):
        raise ValueError(f"title_colors must be a list with one colour per title, not {title_colors!r}")
    if ncols is not None and (isinstance(ncols, bool) or not isinstance(ncols, numbers.Integral) or ncols < 1):
        raise ValueError(f"ncols must be a positive int (or None for up to 8), not {ncols!r}")
    if isinstance(cell, bool) or not isinstance(cell, numbers.Real) or not 0 < cell < 100:
        raise ValueError(f"cell must be a panel size in inches, above 0 and below 100, not {cell!r}")
    ncols = ncols or min(n, 8)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(cell * ncols, cell * nrows + (0.4 if suptitle else 0)),
        squeeze=False,
        constrained_layout=True,
    )
    with _closed_on_error(fig):  # e.g. an unknown cmap
        for i, ax in enumerate(axes.flat):
            ax.axis("off")
            if i >= n:
                continue
            arr = arrays[i]
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
    cmap: str = "inferno",
    title: str | None = None,
    colorbar: bool = True,
    label: str = "",
    vmin: float | None = None,
    vmax: float | None = None,
    mark: float | None = None,
) -> Figure:
    """Draw ``heatmap`` (any ``(h,w)`` array or tensor) upsampled and overlaid on ``image``; return the figure.

    ``vmin``/``vmax`` fix the colour scale (e.g. one scale shared by panels that are compared);
    ``mark`` draws a line at that value on the colorbar (e.g. the unoccluded probability).
    """
    img = as_array(image)
    heat = torch.as_tensor(heatmap.detach() if isinstance(heatmap, torch.Tensor) else heatmap).float().cpu().squeeze()
    if heat.dim() != 2:
        raise ValueError(f"heatmap must be 2-D after squeezing, got shape {tuple(heat.shape)}")
    if heat.shape != img.shape[:2]:
        heat = torch.nn.functional.interpolate(
            heat[None, None], size=img.shape[:2], mode="bilinear", align_corners=False
        )[0, 0]
    with _drawing_on(ax, figsize=(5, 5)) as (fig, ax):  # e.g. an unknown cmap
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
        shown = ax.imshow(heat.numpy(), cmap=cmap, alpha=alpha, vmin=vmin, vmax=vmax)
        if colorbar:
            bar = fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04, label=label)
            if mark is not None:
                bar.ax.axhline(mark, color="black", lw=2)
        ax.axis("off")
        if title:
            ax.set_title(title)
    return fig


def delta_overlay(
    image,
    delta,
    ax=None,
    limit: float | None = None,
    alpha: float = 0.6,
    title: str | None = None,
    label: str = "Δp",
    colorbar: bool = True,
    grey: bool = True,
) -> Figure:
    """Overlay a signed map ``delta`` ``(h,w)`` (e.g. Δp = p(occluded) - p(clean)) on ``image``, white at 0.

    Blue is negative, red positive (``RdBu_r``), on the scale ``-limit..limit`` (default: the
    largest ``|delta|``); pass one ``limit`` to every panel of a comparison so equal colours mean equal values.
    ``grey``: draw a colour photo in grey underneath, so that its own reds and blues (an apple, a sky) are not
    read as values of the map.
    """
    if grey:
        photo = as_array(image)
        if photo.ndim == 3:
            scale = 255.0 if photo.dtype == np.uint8 else 1.0
            image = photo[..., :3].astype(np.float32) / scale @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    heat = torch.as_tensor(delta.detach() if isinstance(delta, torch.Tensor) else delta).float().cpu()
    if limit is None:
        limit = float(heat.abs().max())
    if not math.isfinite(limit) or limit < 0:
        raise ValueError(f"limit must be a finite number >= 0 (half the colour range), got {limit!r}")
    limit = max(limit, 1e-12)  # an all-zero map is drawn white, not as an error
    return heatmap_overlay(image, heat, ax, alpha, "RdBu_r", title, colorbar, label, vmin=-limit, vmax=limit)


def label_overlay(
    image,
    labels,
    names: Sequence[str],
    ax=None,
    extent: tuple[float, float, float, float] | None = None,
    alpha: float = 0.55,
    top: int = 6,
    title: str | None = None,
) -> Figure:
    """Colour each cell of an integer ``labels`` map ``(h,w)`` by its class over ``image``, with a legend of ``names``.

    The ``top`` most frequent classes get their own colour (tab10), the rest share gray ("other").
    ``extent`` ``(left, right, bottom, top)`` in image pixels places the grid (default: the whole image).
    Zeiler & Fergus's "most probable label while this region is hidden" (notebook 05).
    """
    grid = np.asarray(torch.as_tensor(labels).cpu())
    if grid.ndim != 2 or grid.dtype.kind not in "iu":
        raise ValueError(f"labels must be a 2-D array of class indices, got shape {grid.shape}, dtype {grid.dtype}")
    if grid.min() < 0 or grid.max() >= len(names):
        raise ValueError(f"labels must be class indices 0..{len(names) - 1}, got {grid.min()}..{grid.max()}")
    top = max(1, min(int(top), 9))
    values, counts = np.unique(grid, return_counts=True)
    order = values[np.argsort(-counts, kind="stable")]
    shown = list(order[:top])
    colour_of = np.full(len(names), top, dtype=int)  # index into the palette; `top` = "other"
    colour_of[shown] = np.arange(len(shown))
    palette = [plt.get_cmap("tab10")(i) for i in range(len(shown))] + [(0.5, 0.5, 0.5, 1.0)]
    img = as_array(image)
    with _drawing_on(ax, figsize=(5, 5)) as (fig, ax):
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
        h, w = img.shape[:2]
        ax.imshow(
            colour_of[grid],
            cmap=ListedColormap(palette),
            vmin=-0.5,
            vmax=len(palette) - 0.5,
            alpha=alpha,
            extent=extent if extent is not None else (-0.5, w - 0.5, h - 0.5, -0.5),
            interpolation="nearest",
        )
        ax.set(xlim=(-0.5, w - 0.5), ylim=(h - 0.5, -0.5))
        share = {v: c / grid.size for v, c in zip(values, counts)}

        def pct(x: float) -> str:
            return f"{x:.0%}" if x >= 0.005 else "<1%"

        handles = [Patch(color=palette[i], label=f"{names[v]} ({pct(share[v])})") for i, v in enumerate(shown)]
        if len(order) > top:
            rest = sum(share[v] for v in order[top:])
            handles.append(Patch(color=palette[-1], label=f"other ({pct(rest)})"))
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=1, fontsize=9, frameon=False)
        ax.axis("off")
        if title:
            ax.set_title(title)
    return fig


def prediction_bars(predictions: Sequence[tuple[str, float]], ax=None, title: str | None = None) -> Figure:
    """Draw top-k ``(class name, probability)`` pairs as horizontal bars, most probable on top."""
    try:
        names = [str(name) for name, _ in predictions][::-1]
        probs = [float(p) for _, p in predictions][::-1]
    except (TypeError, ValueError):
        raise ValueError(f"predictions must be (class name, probability) pairs, got {predictions!r:.80}") from None
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 0.45 * len(predictions) + 0.8), constrained_layout=True)
    else:
        fig = ax.figure
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
    arrays = [as_array(image) for image in images]
    n = len(arrays)
    if n == 0 or len(predictions) != n or (titles is not None and len(titles) != n):
        raise ValueError(
            f"got {n} images, {len(predictions)} prediction lists and {len(titles) if titles else 'no'} titles: "
            "pass one of each per image (at least one image)"
        )
    fig, axes = plt.subplots(
        2,
        n,
        figsize=(cell * n * 1.25, cell * 1.9),
        squeeze=False,
        constrained_layout=True,
        gridspec_kw={"height_ratios": [1.4, 1]},
    )
    with _closed_on_error(fig):
        for i, arr in enumerate(arrays):
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
    if xy.ndim != 2 or xy.shape[1] != 2 or labels.shape != (len(xy),):
        raise ValueError(f"expected points (N,2) and labels (N,), got {xy.shape} and {labels.shape}")
    with _drawing_on(ax, figsize=(7, 6)) as (fig, ax):
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
    cmap: str = "inferno",
) -> Figure:
    """Show ``image`` on the left and ``heatmap`` ``(h,w)`` overlaid on it on the right, with a colorbar."""
    img = as_array(image)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.3), constrained_layout=True)
    with _closed_on_error(fig):  # e.g. a heatmap that is not 2-D
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
    arrays = [as_array(img) for img in images]
    fig, axes = plt.subplots(
        1, 3, figsize=(12, 3.6), gridspec_kw={"width_ratios": [1, 1, 1.5]}, constrained_layout=True
    )
    with _closed_on_error(fig):
        for ax, arr, title in zip(axes[:2], arrays, titles):
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
    if not np.isfinite(grid).any():
        raise ValueError("the loss grid has no finite value to draw (all NaN or infinite): check the loss slice")
    fig, ax = plt.subplots(figsize=(5.5, 4.5), constrained_layout=True)
    with _closed_on_error(fig):
        filled = ax.contourf(coords, coords, grid, levels=levels, cmap="viridis")
        ax.plot(0, 0, "rx", ms=10, mew=2)  # the solution the slice is centred on
        fig.colorbar(filled, ax=ax, label=label)
        ax.set(xlabel="a  (direction δ)", ylabel="b  (direction η)")
        if title:
            ax.set_title(title)
        ax.locator_params(nbins=5)
    return fig
