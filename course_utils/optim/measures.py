"""Numbers that say what an optimized image shows: layout kept, pixels clipped, feature error per step.

``layout_correlation`` asks "is the picture arranged like the photo?" (inversion of pooled codes,
notebook 08); ``clipped_fraction`` counts pixels pinned at black or white (DeepDream's clipping
dither, notebook 09); ``FeatureErrorTrace`` is a callback that records how the relative feature
error of an inversion falls with the steps (notebook 08); ``channel_means`` gives a layer's mean
activation per channel (post-ReLU layers have none below 0, notebook 09); ``peak_patch`` cuts out
the part of an image where one channel fires most (what a dream's motif is made of, notebook 09).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..hooks import get_layer
from .arguments import check_count, check_pixels
from .recipes import feature_error, layer_features

_LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601 weights of R, G, B in the brightness a viewer sees


def _luminance_map(image: torch.Tensor, grid: int) -> torch.Tensor:
    """Return the brightness of image ``(1,C,H,W)`` averaged onto a ``grid × grid`` map, flattened."""
    x = image.detach().float()
    if x.shape[1] == 3:
        x = (x * torch.tensor(_LUMA, device=x.device).view(1, 3, 1, 1)).sum(1, keepdim=True)
    else:
        x = x.mean(1, keepdim=True)
    return F.adaptive_avg_pool2d(x, grid).flatten()


def layout_correlation(image: torch.Tensor, reference: torch.Tensor, grid: int = 16) -> float:
    """Return the correlation of the two images' brightness maps, each averaged onto a ``grid × grid`` grid.

    ``image``, ``reference``: pixels ``(1,C,H,W)`` in [0,1] (sizes may differ). 1: bright and dark
    regions in the same places; about 0: an unrelated arrangement (e.g. the same parts moved
    elsewhere); -1: the negative. Averaging onto the grid ignores texture and fine detail, so the
    number measures *where* things are, not *what* they look like. A flat image gives 0.
    """
    check_pixels(image, "image")
    check_pixels(reference, "reference")
    if image.shape[0] != 1 or reference.shape[0] != 1:
        raise ValueError(
            f"layout_correlation compares one image with one reference, got batches "
            f"{image.shape[0]} and {reference.shape[0]}; index them, e.g. x[:1]"
        )
    grid = check_count(grid, "grid", minimum=2, what="cells per side of the brightness map")
    a, b = _luminance_map(image, grid).double(), _luminance_map(reference, grid).to(image.device).double()
    a, b = a - a.mean(), b - b.mean()
    if a.abs().max() < 1e-6 or b.abs().max() < 1e-6:  # a flat map (to float rounding) has no layout to share
        return 0.0
    return float((a * b).sum() / (a.norm() * b.norm()))


def clipped_fraction(image: torch.Tensor) -> float:
    """Return the share of channel values of ``image`` (pixels in [0,1]) that are black or white in 8 bits.

    A value counts as clipped when it rounds to 0 or 255 (below 0.5/255 or above 254.5/255), the
    levels a clamp to [0,1] piles values onto.
    """
    x = check_pixels(image, "image", batch=False).detach()
    if not x.numel():
        raise ValueError("clipped_fraction got an empty tensor; pass an image (N,C,H,W)")
    return float(((x < 0.5 / 255) | (x > 254.5 / 255)).float().mean())


def channel_means(model: nn.Module, layer: str, image: torch.Tensor) -> torch.Tensor:
    """Return ``layer``'s mean activation per channel for ``image`` ``(1,C,H,W)`` in [0,1], shape ``(channels,)``."""
    check_pixels(image, "image")
    acts = layer_features(model, layer, image)
    if acts.dim() < 2:
        raise ValueError(f"layer {layer!r} gives a tensor of shape {tuple(acts.shape)}, which has no channels")
    dims = [0] + list(range(2, acts.dim()))
    return acts.mean(dim=dims)


def peak_patch(
    model: nn.Module, layer: str, image: torch.Tensor, channel: int, side: int = 96
) -> tuple[torch.Tensor, tuple[int, int]]:
    """Return the ``side × side`` patch of ``image`` where ``channel`` of ``layer`` fires most, and its top-left.

    ``image``: pixels ``(1,C,H,W)`` in [0,1]. The channel's map (``h × w``) is averaged over windows as
    large as the patch (so a ReLU6 channel that saturates at 6 in many places picks its largest
    region, not its first saturated cell), and the best window is mapped to pixels by ``H/h``.
    Returns ``(patch (1,C,side,side), (top, left))``.
    """
    check_pixels(image, "image")
    acts = layer_features(model, layer, image)
    if acts.dim() != 4:
        raise ValueError(f"layer {layer!r} gives shape {tuple(acts.shape)}; peak_patch needs a spatial map (N,C,h,w)")
    channel = check_count(channel, "channel", minimum=0, maximum=acts.shape[1] - 1)
    height, width = image.shape[-2:]
    side = check_count(side, "side", minimum=1, maximum=min(height, width), what="pixels, at most the image side")
    fmap = acts[0, channel]
    kh = max(1, min(fmap.shape[0], round(side * fmap.shape[0] / height)))
    kw = max(1, min(fmap.shape[1], round(side * fmap.shape[1] / width)))
    windows = F.avg_pool2d(fmap[None, None], (kh, kw), stride=1)[0, 0]  # mean over each patch-sized window
    row, col = divmod(int(windows.flatten().argmax()), windows.shape[1])
    cy, cx = (row + kh / 2) * height / fmap.shape[0], (col + kw / 2) * width / fmap.shape[1]
    top = int(min(max(round(cy - side / 2), 0), height - side))
    left = int(min(max(round(cx - side / 2), 0), width - side))
    return image[..., top : top + side, left : left + side], (top, left)


class FeatureErrorTrace:
    """A callback for ``optimize_image``/``invert_features`` recording the relative feature error every ``every`` steps.

    ``trace = FeatureErrorTrace(model, layer, reference, every=10)``; pass ``callback=trace``; then
    ``trace.steps`` (1-based step counts) and ``trace.errors`` (``feature_error`` of the image after
    that many steps) are the curve. Each record costs one forward pass up to ``layer``.
    """

    def __init__(self, model: nn.Module, layer: str, reference: torch.Tensor, every: int = 10):
        check_pixels(reference, "reference")
        get_layer(model, layer)  # an unknown name fails now, with close matches, not at the first record
        self.model, self.layer, self.reference = model, layer, reference
        self.every = check_count(every, "every", what="steps between two records")
        self.steps: list[int] = []
        self.errors: list[float] = []

    def __call__(self, step: int, image: torch.Tensor) -> None:
        done = step + 1  # the loop calls back after step `step` (0-based)
        if done % self.every == 0 or done == 1:
            self.steps.append(done)
            self.errors.append(feature_error(self.model, self.layer, image, self.reference))
