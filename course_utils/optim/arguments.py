"""Argument checks for the optimization, attack and training code: one clear message per kind of mistake.

Each check returns the value it accepted (as a plain ``int`` or ``float``) or raises: a ``TypeError``
when the argument is not the kind of thing asked for (a string for a learning rate), a ``ValueError``
when it is outside the valid range (``steps=-3``, ``lr=nan``, a NaN pixel). Every message names
the argument, the valid range and what to pass instead. Counts and NaN checks are the core's
(``core.check_count``, ``core.check_finite``); this module adds real numbers and pixel tensors.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..core import check_count, check_finite

__all__ = ["check_count", "check_number", "check_pixels"]  # check_count is the core's, re-exported


def check_number(
    value: object,
    name: str,
    *,
    low: float = 0.0,
    high: float = math.inf,
    low_open: bool = True,
    hint: str = "",
) -> float:
    """Return ``value`` as a ``float`` if it is a finite real number in ``(low, high]`` (``[low, high]``
    with ``low_open=False``); else raise, saying the valid range and ``hint``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    number = float(value)
    bracket = "(" if low_open else "["
    upper = "∞)" if math.isinf(high) else f"{high:g}]"
    valid = f"{bracket}{low:g}, {upper}"
    if not math.isfinite(number) or number < low or (low_open and number == low) or number > high:
        raise ValueError(f"{name} must be a finite number in {valid}, got {value}" + (f"; {hint}" if hint else ""))
    return number


def check_pixels(x: object, name: str = "x", batch: bool = True) -> torch.Tensor:
    """Check that ``x`` holds pixels: a floating tensor ``(N,C,H,W)`` (or any shape if not ``batch``), finite, in [0,1].

    Returns ``x`` unchanged. Integer images (uint8 0..255) are refused with the conversion to use;
    float64 is accepted (the model's dtype is applied where the model sees it).
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch tensor of pixels (N,C,H,W) in [0,1], not {type(x).__name__}; "
            "convert with images.to_tensor(img) or torch.from_numpy(array)"
        )
    if batch and x.dim() != 4:
        hint = "; add a batch dimension with x[None]" if x.dim() == 3 else ""
        raise ValueError(f"{name} must be a batch of images (N,C,H,W), got shape {tuple(x.shape)}{hint}")
    if not x.dtype.is_floating_point:
        raise ValueError(
            f"{name} holds {x.dtype} values, not pixels in [0,1]; convert 0..255 images with x.float() / 255 "
            "(images.to_tensor does this)"
        )
    check_finite(x, name)  # before the range test: NaN passes "min >= 0 and max <= 1"
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError(
            f"{name} must hold pixels in [0,1], got values in [{float(x.min()):.3g}, {float(x.max()):.3g}]: "
            "images.preprocess() and images.to_tensor() give pixels; do not normalize them yourself"
        )
    return x
