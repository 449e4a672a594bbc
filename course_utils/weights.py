"""Look at convolution weights: scale filters for display, and measure how smooth they are.

A trained first-layer filter is a smooth pattern (an edge, a blob, a colour contrast); a
freshly initialized one is white noise. ``filter_roughness`` puts one number on that.
Taught in notebook 01.
"""

from __future__ import annotations

import torch
from torch import nn


def _check_filters(w: torch.Tensor) -> torch.Tensor:
    if not isinstance(w, torch.Tensor):
        raise TypeError(f"expected a weight tensor (out, in, kh, kw), got {type(w).__name__}")
    if w.dim() != 4:
        raise ValueError(f"expected conv weights of shape (out, in, kh, kw), got {tuple(w.shape)}")
    return w.detach().float().cpu()


def conv_weight(model: nn.Module, layer: str) -> torch.Tensor:
    """Return the weight ``(out, in, kh, kw)`` of the ``nn.Conv2d`` called ``layer`` (detached, on the CPU)."""
    from .hooks import get_layer

    module = get_layer(model, layer)
    if not isinstance(module, nn.Conv2d):
        raise ValueError(f"layer {layer!r} is a {type(module).__name__}, not a Conv2d")
    return module.weight.detach().cpu()


def normalize_filters(w: torch.Tensor) -> torch.Tensor:
    """Scale each filter of ``w`` (out, in, kh, kw) on its own to [0,1]: min -> 0, max -> 1 (a constant filter -> 0.5).

    All input channels of one filter share its scale, so an RGB filter keeps its colours.
    """
    w = _check_filters(w)
    flat = w.flatten(1)
    lo = flat.min(dim=1).values.view(-1, 1, 1, 1)
    hi = flat.max(dim=1).values.view(-1, 1, 1, 1)
    span = hi - lo
    return torch.where(span > 0, (w - lo) / span.clamp_min(1e-12), torch.full_like(w, 0.5))


def normalize_symmetric(w: torch.Tensor) -> torch.Tensor:
    """Scale each filter of ``w`` (out, in, kh, kw) to [0,1] with 0 -> 0.5 (grey), keeping the sign visible."""
    w = _check_filters(w)
    peak = w.flatten(1).abs().max(dim=1).values.clamp_min(1e-12).view(-1, 1, 1, 1)
    return 0.5 + 0.5 * w / peak


def filters_as_images(w: torch.Tensor, symmetric: bool = False) -> list[torch.Tensor]:
    """Return one displayable image per filter of ``w`` (out, in, kh, kw): ``(3,kh,kw)`` if in == 3, else ``(kh,kw)``.

    Values are in [0,1], each filter scaled on its own (``normalize_filters``; ``normalize_symmetric`` if
    ``symmetric``). Filters with another number of input channels are shown as gray slices by
    ``filter_slices``.
    """
    w = _check_filters(w)
    if w.shape[1] not in (1, 3):
        raise ValueError(f"filters with {w.shape[1]} input channels are not images; use filter_slices(w, ...)")
    scaled = normalize_symmetric(w) if symmetric else normalize_filters(w)
    return [f if f.shape[0] == 3 else f[0] for f in scaled]


def filter_slices(w: torch.Tensor, out_channels: list[int], in_channels: list[int] | None = None) -> torch.Tensor:
    """Return ``(len(out), len(in), kh, kw)`` slices of ``w``, with 0 -> 0.5, scaled per output channel.

    Each output channel of a deeper layer is a stack of one small kernel per input channel;
    this picks some of them and scales them together (zero is grey) so their relative
    strength stays comparable within a row.
    """
    w = _check_filters(w)
    out_channels = list(out_channels)
    in_channels = list(range(w.shape[1])) if in_channels is None else list(in_channels)
    for name, idx, n in (("out", out_channels, w.shape[0]), ("in", in_channels, w.shape[1])):
        bad = [i for i in idx if not 0 <= i < n]
        if bad:
            raise ValueError(f"{name}_channels {bad} out of range: the weight has {n} {name}put channels")
    return normalize_symmetric(w[out_channels][:, in_channels])


def filter_roughness(w: torch.Tensor) -> torch.Tensor:
    """Return the roughness of each filter of ``w`` (out, in, kh, kw) as an ``(out,)`` tensor, 0 = constant.

    Each filter is scaled to unit L2 norm, then the squared differences between neighbouring
    weights (down and across, in every input channel) are summed. A smooth filter scores
    near 0; white noise scores about ``4 (k-1)/k`` for a k x k filter (3.43 for 7x7, 2.67 for 3x3).
    """
    w = _check_filters(w)
    if w.shape[-1] < 2 and w.shape[-2] < 2:
        raise ValueError("a 1x1 filter has no neighbours, so it has no roughness")
    unit = w / w.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)
    down = (unit[..., 1:, :] - unit[..., :-1, :]).pow(2).flatten(1).sum(1)
    across = (unit[..., :, 1:] - unit[..., :, :-1]).pow(2).flatten(1).sum(1)
    return down + across


def noise_roughness(kernel_size: int) -> float:
    """Return the expected ``filter_roughness`` of white-noise k x k filters: 4 (k-1)/k."""
    return 4 * (kernel_size - 1) / kernel_size


def filter_mosaic(filters: torch.Tensor, pad: int = 1, pad_value: float = 1.0) -> torch.Tensor:
    """Tile ``filters`` (rows, cols, kh, kw) in [0,1] into one ``(H,W)`` image, ``pad`` pixels of ``pad_value`` apart.

    One image shown with one colour scale keeps the tiles comparable (a grid of separate
    panels would stretch each panel to its own range).
    """
    if filters.dim() != 4:
        raise ValueError(f"expected filters arranged as (rows, cols, kh, kw), got {tuple(filters.shape)}")
    rows, cols, kh, kw = filters.shape
    out = torch.full((rows * (kh + pad) + pad, cols * (kw + pad) + pad), pad_value)
    for r in range(rows):
        for c in range(cols):
            top, left = pad + r * (kh + pad), pad + c * (kw + pad)
            out[top : top + kh, left : left + kw] = filters[r, c]
    return out
