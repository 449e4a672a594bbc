"""What is done to the image before the model sees it: random, differentiable robustness transforms.

Each transform is a plain ``(N,C,H,W) -> (N,C,H',W')`` function, random per call, and
``compose`` chains them (Lucent's layout). A feature that survives jitter, scaling and rotation
is one the network really responds to, not a pixel-exact adversarial pattern (notebook 07).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F

from .arguments import check_count, check_number

Transform = Callable[[torch.Tensor], torch.Tensor]


def _choices(values: Sequence[float], what: str, check: Callable[[float], float]) -> list[float]:
    """Return ``values`` as a non-empty list of checked numbers (a transform draws one per call)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{what} wants a list of values to draw from, e.g. [0.95, 1.0, 1.05], not {values!r}")
    chosen = [check(v) for v in values]
    if not chosen:
        raise ValueError(f"{what} needs at least one value to draw from, e.g. [0.95, 1.0, 1.05]")
    return chosen


def jitter(d: int) -> Transform:
    """Shift the image by up to ``d`` pixels in x and y (circularly), a new shift each step (``d >= 0``)."""
    d = check_count(d, "jitter distance d", minimum=0, what="pixels")

    def fn(x: torch.Tensor) -> torch.Tensor:
        dy, dx = random.randint(-d, d), random.randint(-d, d)
        return torch.roll(x, shifts=(dy, dx), dims=(2, 3))

    return fn


def pad(k: int, value: float = 0.5) -> Transform:
    """Pad by ``k >= 0`` pixels of constant ``value`` so jitter and rotation do not wrap the border."""
    k = check_count(k, "pad width k", minimum=0, what="pixels")  # a negative pad would crop
    value = check_number(value, "pad value", low=0, high=1, low_open=False, hint="it is a pixel value")
    return lambda x: F.pad(x, (k, k, k, k), value=value)


def random_scale(scales: Sequence[float]) -> Transform:
    """Resize by a factor drawn from ``scales`` (bilinear; each factor > 0)."""
    scales = _choices(scales, "random_scale", lambda v: check_number(v, "a scale factor", hint="1 keeps the size"))

    def fn(x: torch.Tensor) -> torch.Tensor:
        s = random.choice(scales)
        if s == 1:
            return x
        return F.interpolate(x, scale_factor=s, mode="bilinear", align_corners=False)

    return fn


def random_rotate(degrees: Sequence[float]) -> Transform:
    """Rotate by an angle drawn from ``degrees`` about the image centre (bilinear, border repeated)."""
    degrees = _choices(
        degrees, "random_rotate", lambda v: check_number(v, "an angle", low=-360, high=360, low_open=False)
    )

    def fn(x: torch.Tensor) -> torch.Tensor:
        angle = math.radians(random.choice(degrees))
        cos, sin = math.cos(angle), math.sin(angle)
        theta = torch.tensor([[cos, -sin, 0.0], [sin, cos, 0.0]], dtype=x.dtype, device=x.device)
        grid = F.affine_grid(theta.expand(x.shape[0], 2, 3), list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    return fn


def compose(transforms: Sequence[Transform]) -> Transform:
    """Chain transforms left to right."""
    if isinstance(transforms, (str, bytes)) or not isinstance(transforms, Iterable):
        raise TypeError(f"compose wants a list of transforms, not {type(transforms).__name__}")
    chain = list(transforms)
    bad = [t for t in chain if not callable(t)]
    if bad:
        raise TypeError(f"each transform must be a function (N,C,H,W) -> (N,C,H',W'), got {bad[0]!r}")

    def fn(x: torch.Tensor) -> torch.Tensor:
        for t in chain:
            x = t(x)
        return x

    return fn


def standard_transforms(size: int = 128) -> Transform:
    """Pad, jitter, scale ±5 %, rotate ±5°, jitter again: robustness that keeps the image natural.

    Jitter distances grow with ``size`` (8 px at 128 px), following Lucid's defaults.
    """
    size = check_count(size, "size", what="the image side in pixels")
    k = max(1, round(size / 16))
    return compose(
        [
            pad(k),
            jitter(k),
            random_scale([0.95, 0.975, 1.0, 1.025, 1.05]),
            random_rotate(range(-5, 6)),
            jitter(max(1, k // 2)),
        ]
    )


def random_zoom(scales: Sequence[float]) -> Transform:
    """Resize by a factor drawn from ``scales`` (each > 0), antialiased, so shrinking averages pixels, never skips them.

    Unlike ``random_scale`` (plain bilinear), a shrunk image here is what a camera farther away
    would see: fine pixel patterns are averaged away, so they cannot carry the objective.
    """
    scales = _choices(scales, "random_zoom", lambda v: check_number(v, "a zoom factor", hint="1 keeps the size"))

    def fn(x: torch.Tensor) -> torch.Tensor:
        s = random.choice(scales)
        if s == 1:
            return x
        size = [max(1, round(x.shape[-2] * s)), max(1, round(x.shape[-1] * s))]
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)

    return fn


def zoom_out_transforms(size: int = 224, zoom: tuple[float, float] = (0.55, 0.95)) -> Transform:
    """Pad, jitter, rotate ±10°, shrink to ``zoom`` of the size (antialiased), jitter again (notebook 07's gallery).

    The model sees the image 5-45 % smaller than it is drawn, so whatever raises the objective must
    be drawn large and survive averaging: parts grow, pixel speckle stops paying. Shrinking also
    makes each step cheaper than at full size. Pad and jitter distances follow Lucid's (12 and 8 px
    at 128 px), scaled with ``size``.
    """
    size = check_count(size, "size", what="the image side in pixels")
    lo, hi = (check_number(z, "zoom factor", high=1, hint="zoom=(lo, hi) with 0 < lo <= hi <= 1") for z in zoom)
    if lo > hi:
        raise ValueError(f"zoom=(lo, hi) needs lo <= hi, got {zoom}")
    factors = [lo + (hi - lo) * i / 8 for i in range(9)]
    return compose(
        [
            pad(max(1, round(12 * size / 128))),
            jitter(max(1, round(8 * size / 128))),
            random_rotate(list(range(-10, 11)) + 5 * [0]),
            random_zoom(factors),
            jitter(max(1, round(4 * size / 128 * lo))),
        ]
    )
