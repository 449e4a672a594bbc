"""Tile a layer's activation maps into one image on one shared scale, zero = black (notebook 02).

Stretching each map to its own range (``plotting.feature_maps``) shows the shape of every map but
hides how strong it is: a map with max 0.04 looks as bright as one with max 6. On one shared scale
with 0 drawn black, the sparsity of a ReLU layer is visible at a glance, as in the cs231n notes'
picture of AlexNet's conv1 and conv5 activations.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Mosaic:
    """``image`` (H,W) in [0,1] (0 = a zero activation, 1 = ``vmax`` or more; gaps are ``pad_value``),
    the ``vmax`` it was scaled by, the ``channels`` shown (row by row) and their share of exact zeros."""

    image: np.ndarray
    vmax: float
    channels: list[int]
    zero_share: float


def activation_mosaic(
    activation: torch.Tensor,
    channels: int | Sequence[int] | None = None,
    ncols: int | None = None,
    vmax: float | None = None,
    percentile: float = 99.5,
    pad: int = 1,
    pad_value: float = 1.0,
) -> Mosaic:
    """Tile the maps of ``activation`` (C,H,W) or (1,C,H,W) into one ``Mosaic``, all on one scale.

    ``channels``: the first n channels (an int), a list of them, or all (None). ``vmax``: the value
    shown white; by default the ``percentile`` of all shown values (so a few outliers do not darken
    everything; 100 = the maximum). Values are divided by ``vmax`` and clipped to [0,1], so 0 stays
    black and every map keeps its strength relative to the others.
    """
    act = activation.detach().float().cpu()
    if act.dim() == 4 and act.shape[0] == 1:
        act = act[0]
    if act.dim() != 3:
        raise ValueError(f"expected one image's activation (C,H,W) or (1,C,H,W), got {tuple(activation.shape)}")
    n_channels = act.shape[0]
    if channels is None:
        chosen = list(range(n_channels))
    elif isinstance(channels, bool):
        raise ValueError(f"channels must be a count, a list of channels or None, not {channels!r}")
    elif isinstance(channels, (int, np.integer)):
        if not 1 <= channels <= n_channels:
            raise ValueError(f"channels={channels}: this layer has {n_channels} channels; ask for 1..{n_channels}")
        chosen = list(range(int(channels)))
    else:
        chosen = [int(c) for c in channels]
        bad = [c for c in chosen if not 0 <= c < n_channels]
        if bad or not chosen:
            raise ValueError(f"channels {bad or chosen} out of range: this layer has channels 0..{n_channels - 1}")
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    if pad < 0:
        raise ValueError(f"pad must be >= 0 pixels, got {pad}")
    if ncols is not None and (isinstance(ncols, bool) or not isinstance(ncols, numbers.Integral) or ncols < 1):
        raise ValueError(f"ncols must be a positive int (or None for a square-ish grid), got {ncols!r}")
    maps = act[chosen]
    if (maps < 0).any():
        raise ValueError(
            f"the activation has negative values (min {maps.min():.3g}): zero = black only makes sense after a "
            "ReLU; capture a ReLU's output, or clamp it with .clamp_min(0) if that is what you mean"
        )
    if vmax is None:
        vmax = float(np.percentile(maps.numpy(), percentile))
        vmax = vmax if vmax > 0 else float(maps.max())  # a layer that is almost all zeros
    if not vmax > 0:
        vmax = 1.0  # every shown value is 0: any scale draws them black
    ncols = ncols or int(np.ceil(np.sqrt(len(chosen))))
    nrows = -(-len(chosen) // ncols)
    h, w = maps.shape[1:]
    image = np.full((nrows * (h + pad) + pad, min(ncols, len(chosen)) * (w + pad) + pad), pad_value, np.float32)
    scaled = (maps / vmax).clamp(0, 1).numpy()
    for i, m in enumerate(scaled):
        top, left = pad + (i // ncols) * (h + pad), pad + (i % ncols) * (w + pad)
        image[top : top + h, left : left + w] = m
    return Mosaic(image=image, vmax=float(vmax), channels=chosen, zero_share=float((maps == 0).float().mean()))
