"""Maximally activating patches over a photo collection, and what in each patch the unit responds to.

A dozen photos give too few patches, and a 224-pixel photo too few positions: one photo then
fills a unit's whole top-9. So the search here cuts every photo into overlapping crops at
several scales (``multiscale_crops``), keeps each unit's peak in every crop (``crop_maxima``),
and ranks the *photos* by their best crop (``top_per_photo``): the top-9 are nine different
photos, each patch at the scale where the unit liked it best.

Zeiler & Fergus (2014, Fig. 2) show next to each patch what in it drives the unit: the
gradient of that one activation ``a[c, i, j]`` with respect to the input, passed back
through the ReLUs by the deconvnet or guided-backprop rule (``unit_gradient``). Taught in notebook 03.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from .core import as_model_input, check_finite, frozen_eval
from .hooks import RULES, Layer, capture_activations, get_layer, layer_list, layer_name, relu_gradient_rule, run_until
from .patches import LayerMaxima, TopActivations, _check_k, _check_unit
from .receptive_field import ReceptiveField


@dataclass
class CropSet:
    """Square crops of several photos: ``pixels`` (M,3,size,size) in [0,1], and for each crop its source ``photo``
    index (M,), the ``scale`` (M,) its photo was resized to (short side, px) and its ``top``/``left`` (M,) there."""

    pixels: torch.Tensor
    photo: torch.Tensor
    scale: torch.Tensor
    top: torch.Tensor
    left: torch.Tensor

    def __len__(self) -> int:
        return len(self.pixels)


def _starts(length: int, size: int, stride: int) -> list[int]:
    """Start offsets of ``size``-long windows every ``stride`` pixels, the last one flush with the end."""
    starts = list(range(0, length - size + 1, stride))
    if starts[-1] != length - size:
        starts.append(length - size)
    return starts


def multiscale_crops(
    photos: Sequence[torch.Tensor], scales: Sequence[int] = (224, 320), size: int = 224, stride: int = 112
) -> CropSet:
    """Cut each photo (1,3,H,W) or (3,H,W), pixels in [0,1], into ``size`` x ``size`` crops at each scale.

    At each scale the photo's short side is resized to ``scale`` (antialiased bilinear), then crops
    are taken every ``stride`` pixels along both axes (the last one flush with the edge), so
    every pixel is in some crop. Larger scales mean the same unit sees a smaller part of the scene.
    """
    if len(photos) == 0:
        raise ValueError("multiscale_crops needs at least one photo")
    for name, value in (("size", size), ("stride", stride)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number of pixels >= 1, got {value!r}")
    if len(scales) == 0 or any(isinstance(s, bool) or not isinstance(s, int) or s < size for s in scales):
        raise ValueError(f"scales must be short-side lengths >= the crop size {size}, got {list(scales)!r}")
    pixels, photo, scale_of, tops, lefts = [], [], [], [], []
    for n, img in enumerate(photos):
        x = img[None] if img.dim() == 3 else img
        if x.dim() != 4 or x.shape[:2] != (1, 3):
            raise ValueError(f"photo {n} has shape {tuple(img.shape)}; expected one RGB image (1,3,H,W) or (3,H,W)")
        check_finite(x, f"photo {n}")
        h, w = x.shape[-2:]
        for s in scales:
            new_h, new_w = max(s, round(h * s / min(h, w))), max(s, round(w * s / min(h, w)))
            resized = F.interpolate(x.float(), size=(new_h, new_w), mode="bilinear", antialias=True).clamp(0, 1)
            for t in _starts(new_h, size, stride):
                for lft in _starts(new_w, size, stride):
                    pixels.append(resized[0, :, t : t + size, lft : lft + size])
                    photo.append(n)
                    scale_of.append(s)
                    tops.append(t)
                    lefts.append(lft)
    as_long = lambda v: torch.tensor(v, dtype=torch.long)  # noqa: E731
    return CropSet(torch.stack(pixels), as_long(photo), as_long(scale_of), as_long(tops), as_long(lefts))


@torch.no_grad()
def crop_maxima(
    model: nn.Module,
    layers: Layer | list[Layer],
    pixels: torch.Tensor,
    border: int | dict[str, int] = 0,
    batch_size: int = 64,
) -> LayerMaxima | dict[str, LayerMaxima]:
    """Return each channel's peak value and position in each crop of ``pixels`` (M,3,H,W), as ``LayerMaxima``.

    Like ``patches.layer_maxima``, but the forward pass stops right after the last of ``layers``
    (give them in the order they run: nothing later is computed), and the ``border`` outermost
    rows/columns of each map (one number, or ``{layer: cells}``) are skipped: their windows hang
    over the crop's edge, where the network saw padding instead of the photo (an overlapping
    crop holds the same spot in its interior). A list of layers gives a dict of results.
    """
    single = isinstance(layers, (str, nn.Module))
    names = layer_list(layers)
    label = {key: layer_name(model, key) for key in names}  # checks every name before any work
    modules = {key: get_layer(model, key) for key in names}
    borders = {key: border.get(label[key], 0) if isinstance(border, dict) else border for key in names}
    if len(pixels) == 0:
        raise ValueError("crop_maxima needs at least one crop")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
    for key, b in borders.items():
        if isinstance(b, bool) or not isinstance(b, int) or b < 0:
            raise ValueError(f"border of {label[key]!r} must be a whole number of map cells >= 0, got {b!r}")
    pixels = as_model_input(pixels, model, "pixels")
    values: dict[Layer, list[torch.Tensor]] = {key: [] for key in names}
    positions: dict[Layer, list[torch.Tensor]] = {key: [] for key in names}
    grids: dict[Layer, tuple[int, int]] = {}
    with frozen_eval(model) as device, capture_activations(model, list(modules.values())) as acts:
        for start in range(0, len(pixels), batch_size):
            run_until(model, pixels[start : start + batch_size].to(device), stop_at=modules[names[-1]])
            for key in names:
                a, b = acts[modules[key]], borders[key]
                if a.dim() != 4:
                    raise ValueError(f"layer {label[key]!r} outputs shape {tuple(a.shape)}, not a (N,C,H,W) map")
                h, w = a.shape[-2:]
                if not 2 * b < min(h, w):
                    raise ValueError(f"border {b} leaves no positions in layer {label[key]!r}'s {h}x{w} map")
                best, where = a[:, :, b : h - b, b : w - b].flatten(2).max(dim=2)  # (n, C), inside the border
                values[key].append(best.cpu())
                positions[key].append(torch.stack([where // (w - 2 * b) + b, where % (w - 2 * b) + b]).cpu())
                grids[key] = (h, w)
    result = {}
    for key in names:
        rows, cols = torch.cat(positions[key], dim=1)
        result[label[key]] = LayerMaxima(torch.cat(values[key]), rows, cols, grids[key])
    return result[label[names[0]]] if single else result


def top_per_photo(maxima: LayerMaxima, photo: torch.Tensor, unit: int, k: int = 9) -> TopActivations:
    """Return the ``k`` crops where ``unit`` peaks highest, at most one per photo, best first.

    ``maxima`` comes from ``crop_maxima`` over M crops, ``photo`` (M,) says which photo each crop
    was cut from. The returned ``indices`` are crop indices, so ``patches.crop_patches(crops.pixels,
    top, rf)`` cuts the patches.
    """
    _check_unit(unit, maxima.values.shape[1])
    _check_k(k)
    if photo.shape != maxima.values.shape[:1]:
        raise ValueError(f"photo has shape {tuple(photo.shape)}; expected one index per crop, ({len(maxima.values)},)")
    values = maxima.values[:, unit]
    order = values.argsort(descending=True)
    _, first = photo[order].unique(return_inverse=True)  # group id per ranked crop
    seen: set[int] = set()
    chosen: list[int] = []
    for rank, g in enumerate(first.tolist()):
        if g not in seen:  # the first time a photo appears in the ranking is its best crop
            seen.add(g)
            chosen.append(int(order[rank]))
            if len(chosen) == k:
                break
    idx = torch.tensor(chosen, dtype=torch.long)
    return TopActivations(idx, maxima.rows[idx, unit], maxima.cols[idx, unit], values[idx])


def unit_gradient(
    model: nn.Module,
    layer: Layer,
    x: torch.Tensor,
    unit: int | Sequence[int] | torch.Tensor,
    rows: Sequence[int] | torch.Tensor,
    cols: Sequence[int] | torch.Tensor,
    rule: str | None = "guided",
    shifts: Sequence[tuple[int, int]] = ((0, 0),),
) -> torch.Tensor:
    """Return d a[n, unit_n, rows[n], cols[n]] / d x[n] for each image of ``x`` (N,3,H,W): (N,3,H,W).

    The gradient of one neuron of ``layer`` per image (Zeiler & Fergus Fig. 2 show it as their
    "deconvnet" projection). ``rule`` changes how the ReLUs pass it back: ``"guided"`` (guided
    backprop), ``"deconvnet"``, or ``None`` (the plain gradient). ``unit`` is one channel for
    all images or one per image. The forward pass stops at ``layer``; ``x`` gets no ``.grad``.

    ``shifts``: average the map over copies of ``x`` rolled by each ``(dy, dx)`` pixels (and the
    gradient rolled back). Stride-2 convolutions leave a checkerboard fixed to the network's grid
    (Odena et al. 2016); under the shifts it moves against the image and averages out, while what
    the image contributes stays in place. All shifted copies go through in one batch.
    """
    if rule is not None and rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; choose 'guided', 'deconvnet' or None (plain gradient)")
    name = layer_name(model, layer)
    module = get_layer(model, layer)
    x = as_model_input(x, model)
    n = len(x)
    units = torch.as_tensor(unit, dtype=torch.long)
    units = units.expand(n) if units.dim() == 0 else units
    rows_t, cols_t = torch.as_tensor(rows, dtype=torch.long), torch.as_tensor(cols, dtype=torch.long)
    if not (units.shape == rows_t.shape == cols_t.shape == (n,)):
        raise ValueError(
            f"need one unit (or a single unit for all), row and column per image: got {n} images, "
            f"{units.numel()} units, {rows_t.numel()} rows, {cols_t.numel()} cols"
        )
    if len(shifts) == 0 or any(len(shift) != 2 or not all(isinstance(v, int) for v in shift) for shift in shifts):
        raise ValueError(f"shifts must be a non-empty list of (dy, dx) pixel offsets, got {shifts!r}")
    k = len(shifts)
    x = torch.cat([torch.roll(x, tuple(shift), dims=(2, 3)) for shift in shifts])  # (k*N,3,H,W), shift-major
    units, rows_t, cols_t = units.repeat(k), rows_t.repeat(k), cols_t.repeat(k)
    backward_rule = nullcontext() if rule is None else relu_gradient_rule(model, rule)
    with frozen_eval(model) as device:
        leaf = x.detach().clone().to(device).requires_grad_(True)
        with capture_activations(model, [module], detach=False) as acts, backward_rule:
            run_until(model, leaf.clone(), stop_at=module)  # the clone lets an in-place first ReLU modify its input
            a = acts[module]  # the rule is recorded in the graph, so it still applies to the backward pass below
        if a.dim() != 4:
            raise ValueError(f"layer {name!r} outputs shape {tuple(a.shape)}, not a (N,C,H,W) map")
        c, h, w = a.shape[1:]
        for what, values, limit in (("unit", units, c), ("row", rows_t, h), ("col", cols_t, w)):
            if values.min() < 0 or values.max() >= limit:
                raise ValueError(f"{what} index out of range 0..{limit - 1} for layer {name!r}'s map {(c, h, w)}")
        picked = a[torch.arange(k * n, device=a.device), units.to(a.device), rows_t.to(a.device), cols_t.to(a.device)]
        (grad,) = torch.autograd.grad(picked.sum(), leaf)  # images are independent in eval mode
    unshifted = [torch.roll(g, (-dy, -dx), dims=(2, 3)) for g, (dy, dx) in zip(grad.detach().split(n), shifts)]
    return torch.stack(unshifted).mean(0)


def central_window(rf: ReceptiveField, fraction: float = 0.5) -> ReceptiveField:
    """Return the centred square whose side is ``fraction`` of ``rf``'s window, as a receptive field to crop with.

    A unit's *effective* receptive field is much smaller than its window (Luo et al. 2016): its
    gradient sits mostly in the middle, so patches cut to the central part show what it responds to.
    """
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
        raise ValueError(f"fraction must be a share of the window side in (0, 1], got {fraction!r}")
    (h, w), (top, left) = rf.size_hw, rf.offset_hw
    size = (max(1, round(h * fraction)), max(1, round(w * fraction)))
    offset = (top + (h - size[0]) // 2, left + (w - size[1]) // 2)
    return replace(rf, size_hw=size, offset_hw=offset)


def central_share(maps: torch.Tensor, fraction: float = 0.5) -> torch.Tensor:
    """Return the share of each map's magnitude (N,C,S,S) inside its centred square of side ``fraction`` * S: (N,)."""
    if maps.dim() != 4:
        raise ValueError(f"expected maps of shape (N,C,S,S), got {tuple(maps.shape)}")
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
        raise ValueError(f"fraction must be a share of the window side in (0, 1], got {fraction!r}")
    magnitude = maps.abs().sum(1)  # (N,S,S)
    h, w = magnitude.shape[-2:]
    th, tw = max(1, round(h * fraction)), max(1, round(w * fraction))
    t, lft = (h - th) // 2, (w - tw) // 2
    inside = magnitude[:, t : t + th, lft : lft + tw].sum((1, 2))
    return inside / magnitude.sum((1, 2)).clamp_min(torch.finfo(magnitude.dtype).tiny)


def top_k_purity(values: torch.Tensor, labels: torch.Tensor, k: int = 50) -> torch.Tensor:
    """Return, per column of ``values`` (N,D), the share of its top-``k`` rows that carry its most common label: (D,).

    ``labels`` (N,) are class indices. A unit (or direction) whose top images are all of one class
    has purity 1; for ``C`` equally common classes, chance is about 1/C (a bit more, from the max).
    """
    _check_k(k)
    if values.dim() != 2 or labels.shape != values.shape[:1]:
        raise ValueError(f"need values (N,D) and labels (N,): got {tuple(values.shape)} and {tuple(labels.shape)}")
    if k > len(values):
        raise ValueError(f"k = {k} is more than the {len(values)} rows there are")
    top = labels[values.topk(k, dim=0).indices]  # (k, D)
    n_classes = int(labels.max()) + 1
    counts = torch.stack([torch.bincount(col, minlength=n_classes) for col in top.T])  # (D, classes)
    return counts.max(dim=1).values.float() / k
