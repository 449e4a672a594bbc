"""What happens to the pixels after each optimizer step: blur, clipping, projection onto an ε-ball.

A step operation is ``op(step, param) -> None``, run under ``torch.no_grad()`` after the
optimizer step and the parameterization's own ``constrain()``. The pixel-editing ones need a
``PixelImage`` (a Fourier spectrum has no pixels to edit). Taught in notebooks 07 (blur) and 11 (ε-ball).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..images import gaussian_blur
from .arguments import check_count, check_number, check_pixels
from .parameterizations import Param, PixelImage

StepOp = Callable[[int, Param], None]


def _pixels_of(param: Param, what: str) -> torch.Tensor:
    """Return the ``(N,C,H,W)`` pixels of a ``PixelImage``; any other parameterization raises."""
    if not isinstance(param, PixelImage):
        raise ValueError(f"{what} edits pixels, so it needs PixelImage, not {type(param).__name__}")
    return param.pixels


def blur_every(k: int, sigma: float = 0.5) -> StepOp:
    """Blur the pixels every ``k >= 1`` steps: a cheap prior against high frequencies (Yosinski et al. 2015)."""
    k = check_count(k, "blur_every k", what="steps between blurs")
    sigma = check_number(sigma, "blur sigma (pixels)", low_open=False, hint="0 turns the blur off")

    @torch.no_grad()
    def op(step: int, param: Param) -> None:
        pixels = _pixels_of(param, "blur_every")  # checked at every step, so a Fourier image fails at once
        if sigma > 0 and (step + 1) % k == 0:
            pixels.copy_(gaussian_blur(pixels, sigma))

    return op


def clip_pixels() -> StepOp:
    """Keep pixels in [0,1] (PixelImage already does this; listed for completeness)."""
    return lambda step, param: param.constrain()


def project_linf(x0: torch.Tensor, eps: float) -> StepOp:
    """Keep the pixels within ``eps`` (in [0,1]) of ``x0`` ``(N,C,H,W)`` in every pixel (L∞ ball) and inside [0,1]."""
    x0 = check_pixels(x0, "x0").detach()
    eps = check_number(eps, "eps", high=1, low_open=False, hint="eps is a pixel distance, e.g. 2/255")

    @torch.no_grad()
    def op(step: int, param: Param) -> None:
        pixels = _pixels_of(param, "project_linf")
        ref = x0.to(pixels.device)
        pixels.copy_(torch.maximum(torch.minimum(pixels, ref + eps), ref - eps).clamp_(0, 1))

    return op
