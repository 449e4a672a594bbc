"""Maximally activating patches: which image regions make a unit (or a direction) fire most.

For a unit ``c`` of a conv layer and an image ``n``, the response is the largest value of the
unit's map, ``max_{h,w} a[n, c, h, w]``. The top-k images by that value, each cropped to the
receptive field of the position where the maximum sits, are the unit's "maximally activating
patches" (Girshick et al. 2014; Zeiler & Fergus 2014). A *direction* ``v`` in activation space
replaces the unit's map by the projection ``sum_c v_c a[n, c, h, w]`` (Szegedy et al. 2013).
Taught in notebook 03.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from .core import check_count, check_finite, frozen_eval
from .hooks import Layer, capture_activations, layer_list, layer_name
from .receptive_field import ReceptiveField


@dataclass
class LayerMaxima:
    """Per image and channel, the largest activation and where it is: ``values``, ``rows``, ``cols`` all (N, C)."""

    values: torch.Tensor
    rows: torch.Tensor
    cols: torch.Tensor
    grid: tuple[int, int]  # (H, W) of the layer's map

    def top(self, channel: int, k: int = 9) -> TopActivations:
        """Return the ``k`` images whose maximum of ``channel`` is largest, best first."""
        channel = _check_unit(channel, self.values.shape[1])
        k = min(_check_k(k), self.values.shape[0])
        values, indices = self.values[:, channel].topk(k)
        return TopActivations(indices, self.rows[indices, channel], self.cols[indices, channel], values)


@dataclass
class TopActivations:
    """The top-k images: dataset ``indices`` (k,), map position ``rows``/``cols`` (k,), activation ``values`` (k,)."""

    indices: torch.Tensor
    rows: torch.Tensor
    cols: torch.Tensor
    values: torch.Tensor


def _check_k(k: int) -> int:
    """Return ``k`` if it is a whole number >= 1; else raise a ValueError that says so."""
    return check_count(k, "k", what="how many images or positions to keep")


def _check_unit(unit: int, channels: int) -> int:
    """Return ``unit`` if it is a channel index 0..channels-1 (no negative indices); else raise a ValueError."""
    try:
        return check_count(unit, "channel", 0, channels - 1)
    except ValueError:
        raise ValueError(
            f"channel {unit!r} is out of range: the layer has {channels} channels, indices 0..{channels - 1} "
            "(-1 is not the last one)"
        ) from None


def random_direction(channels: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Return a random unit vector ``(channels,)`` with a uniformly distributed direction."""
    v = torch.randn(channels, generator=generator)
    return v / v.norm()


@torch.no_grad()
def layer_maxima(
    model: nn.Module,
    layers: Layer | list[Layer],
    images: torch.Tensor,
    directions: torch.Tensor | None = None,
    batch_size: int = 500,
    progress: bool = True,
) -> LayerMaxima | dict[Layer, LayerMaxima]:
    """Run ``images`` (N,C,H,W) through ``model`` in batches and keep each channel's spatial maximum and its position.

    With ``directions`` (D, C) a layer's (N,C,h,w) map is first projected onto each direction,
    giving D "virtual channels". Returns ``LayerMaxima`` with (N, C) or (N, D) CPU tensors, or a
    dict of them when ``layers`` is a list (all filled in the same pass).
    """
    single = isinstance(layers, (str, nn.Module))
    names = layer_list(layers)
    label = {name: layer_name(model, name) for name in names}  # checks every layer before any work
    if len(images) == 0:
        raise ValueError("layer_maxima needs at least one image")
    batch_size = check_count(batch_size, "batch_size")
    check_finite(images, "images")  # a NaN would win every max
    values: dict[Layer, list[torch.Tensor]] = {name: [] for name in names}
    positions: dict[Layer, list[torch.Tensor]] = {name: [] for name in names}
    grids: dict[Layer, tuple[int, int]] = {}
    with frozen_eval(model) as device:
        with capture_activations(model, names) as acts:
            for start in tqdm(
                range(0, len(images), batch_size),
                desc=f"max activations of {', '.join(label.values())}",
                disable=not progress,
                leave=False,
            ):
                model(images[start : start + batch_size].to(device))
                for name in names:
                    a = acts[name]
                    if a.dim() != 4:
                        raise ValueError(f"layer {label[name]!r} outputs shape {tuple(a.shape)}, not a (N,C,H,W) map")
                    if directions is not None:
                        if directions.shape[-1] != a.shape[1]:
                            raise ValueError(
                                f"directions have {directions.shape[-1]} components, "
                                f"layer {label[name]!r} has {a.shape[1]} channels"
                            )
                        a = torch.einsum("nchw,dc->ndhw", a, directions.to(a))
                    grids[name] = tuple(a.shape[-2:])
                    best, where = a.flatten(2).max(dim=2)  # (n, C): max over all positions of each map
                    values[name].append(best.cpu())
                    positions[name].append(where.cpu())
    result = {}
    for name in names:
        flat, width = torch.cat(positions[name]), grids[name][1]
        result[name] = LayerMaxima(torch.cat(values[name]), flat // width, flat % width, grids[name])
    return result[names[0]] if single else result


def top_activations(
    model: nn.Module,
    layer: Layer,
    images: torch.Tensor,
    unit: int | None = None,
    direction: torch.Tensor | None = None,
    k: int = 9,
    batch_size: int = 500,
    progress: bool = True,
) -> TopActivations:
    """Return the ``k`` images of ``images`` (N,C,H,W) where channel ``unit`` (or ``direction`` (C,)) peaks highest.

    Each image counts once, at the position of its maximum; the result is sorted best first.
    """
    if (unit is None) == (direction is None):
        raise ValueError("give exactly one of unit (a channel index) or direction (a (C,) vector)")
    directions = None if direction is None else direction.reshape(1, -1)
    maxima = layer_maxima(model, layer, images, directions, batch_size, progress)
    assert isinstance(maxima, LayerMaxima)  # one layer name in, one result out
    return maxima.top(0 if unit is None else unit, k)


def crop_patches(
    images: torch.Tensor, top: TopActivations, rf: ReceptiveField, fill: float = 0.5
) -> list[torch.Tensor]:
    """Cut each top image's receptive-field window (C, size, size) around its peak; outside the image is ``fill``.

    The padded border shows where the window hangs over the image edge (the network saw zero
    padding there), and keeps every patch the same size so they line up in a grid.
    """
    height, width = images.shape[-2:]
    patches = []
    for n, i, j in zip(top.indices.tolist(), top.rows.tolist(), top.cols.tolist()):
        top_, left, bottom, right = rf.box(i, j)
        patch = torch.full((images.shape[1], bottom - top_, right - left), fill, dtype=images.dtype)
        t, lft, b, r = rf.box(i, j, (height, width))
        if b > t and r > lft:
            patch[:, t - top_ : b - top_, lft - left : r - left] = images[n, :, t:b, lft:r]
        patches.append(patch)
    return patches


@torch.no_grad()
def top_positions(
    activations: torch.Tensor,
    unit: int | None = None,
    direction: torch.Tensor | None = None,
    k: int = 9,
    min_distance: int = 2,
    border: int = 0,
) -> TopActivations:
    """Return the ``k`` best (image, row, col) positions of a layer's ``activations`` (N,C,h,w), not one per image.

    Every position of every image counts, so a few large photos give many candidate crops.
    Positions closer than ``min_distance`` grid cells to a better one in the same image are
    skipped, so overlapping crops of the same spot are not shown twice; so are the ``border``
    outermost rows and columns, whose windows hang mostly over the image edge.
    """
    if (unit is None) == (direction is None):
        raise ValueError("give exactly one of unit (a channel index) or direction (a (C,) vector)")
    if activations.dim() != 4:
        raise ValueError(f"expected activations of shape (N,C,h,w), got {tuple(activations.shape)}")
    k = _check_k(k)
    a = activations.detach().cpu()
    if direction is None:
        unit = _check_unit(unit, a.shape[1])  # type: ignore[arg-type]
    elif direction.numel() != a.shape[1]:
        raise ValueError(f"direction has {direction.numel()} components, the activations have {a.shape[1]} channels")
    maps = a[:, unit] if direction is None else torch.einsum("nchw,c->nhw", a, direction.flatten().to(a))
    n, h, w = maps.shape
    if not 0 <= 2 * border < min(h, w):
        raise ValueError(f"border {border} leaves no positions in a {h}x{w} map")
    inner = torch.full_like(maps, float("-inf"))
    inner[:, border : h - border, border : w - border] = maps[:, border : h - border, border : w - border]
    chosen: list[tuple[int, int, int]] = []
    for flat in inner.flatten().argsort(descending=True).tolist():
        img, rest = divmod(flat, h * w)
        i, j = divmod(rest, w)
        if all(img != ci or max(abs(i - cr), abs(j - cc)) >= min_distance for ci, cr, cc in chosen):
            chosen.append((img, i, j))
            if len(chosen) == k:
                break
    idx, rows, cols = (torch.tensor(c) for c in zip(*chosen))
    return TopActivations(idx, rows, cols, maps[idx, rows, cols])
