"""Performance as a function of image attributes: controlled changes of the input, and accuracy curves (notebook 14).

Russakovsky et al. (2015) sorted ILSVRC's test images by attributes (object size, texture,
deformability, clutter) and plotted accuracy per bin. Here the attributes are set by hand:
``corrupt(x, kind, severity)`` changes one attribute of every image by a known amount, and
``accuracy_curve`` measures how often the model still gives the reference answer (the true label,
or its own prediction on the clean image) as the severity grows. Severity 0 is always the
unchanged image. The kinds and their units:

- ``contrast``: the share of contrast removed, 0..1 (each image pulled towards its mean grey);
- ``blur``: the Gaussian's sigma in pixels (``images.gaussian_blur``);
- ``noise``: the standard deviation of added Gaussian noise, in pixel units (then clipped to [0,1]);
- ``rotation``: degrees, anticlockwise (as displayed) about the centre;
- ``scale``: the share the object shrinks by, 0..1 (0.5: half its width and height, centred);
- ``translation``: pixels, each image shifted in its own random direction;
- ``crop``: the share of each side cut away around the centre, 0..1, the rest enlarged back to full size.

The geometric kinds fill what comes into view with black (0), the background of Fashion-MNIST.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .core import Target, as_model_input, check_count, frozen_eval, resolve_targets
from .images import gaussian_blur

__all__ = ["CORRUPTIONS", "Corruption", "accuracy_curve", "corrupt", "hits", "rms_change"]


@dataclass(frozen=True)
class Corruption:
    """One attribute: how to change it, its unit, and the largest severity that makes sense."""

    apply: Callable[[torch.Tensor, float, torch.Generator], torch.Tensor]
    unit: str
    maximum: float | None  # None: no upper bound


def _affine(x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """Resample ``x`` (N,C,H,W) through per-image 2x3 affine maps from output to input (normalised coordinates)."""
    grid = F.affine_grid(matrix.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _contrast(x: torch.Tensor, s: float, _gen: torch.Generator) -> torch.Tensor:
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return mean + (1 - s) * (x - mean)


def _noise(x: torch.Tensor, s: float, gen: torch.Generator) -> torch.Tensor:
    noise = torch.randn(x.shape, generator=gen, dtype=x.dtype)
    return (x + s * noise.to(x.device)).clamp(0, 1)


def _rotation(x: torch.Tensor, degrees: float, _gen: torch.Generator) -> torch.Tensor:
    h, w = x.shape[-2:]
    a = -math.radians(degrees)  # anticlockwise as displayed (rows run downwards)
    c, s = math.cos(a), math.sin(a)
    # in normalised coordinates a non-square image needs its aspect ratio in the off-diagonal terms
    matrix = torch.tensor([[c, s * h / w, 0.0], [-s * w / h, c, 0.0]])
    return _affine(x, matrix.expand(len(x), 2, 3))


def _scale(x: torch.Tensor, s: float, _gen: torch.Generator) -> torch.Tensor:
    factor = 1 - s  # the object's new size; sampling the input 1/factor as far out shrinks it
    return _affine(x, torch.tensor([[1 / factor, 0.0, 0.0], [0.0, 1 / factor, 0.0]]).expand(len(x), 2, 3))


def _translation(x: torch.Tensor, pixels: float, gen: torch.Generator) -> torch.Tensor:
    n, _, h, w = x.shape
    angle = torch.rand(n, generator=gen) * 2 * math.pi
    matrix = torch.zeros(n, 2, 3)
    matrix[:, 0, 0] = matrix[:, 1, 1] = 1
    matrix[:, 0, 2] = -pixels * torch.cos(angle) * 2 / w  # sample from the left: the image moves right
    matrix[:, 1, 2] = -pixels * torch.sin(angle) * 2 / h
    return _affine(x, matrix)


def _crop(x: torch.Tensor, s: float, _gen: torch.Generator) -> torch.Tensor:
    h, w = x.shape[-2:]
    ch, cw = max(1, round(h * (1 - s))), max(1, round(w * (1 - s)))
    top, left = (h - ch) // 2, (w - cw) // 2
    part = x[..., top : top + ch, left : left + cw]
    return F.interpolate(part, size=(h, w), mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)


#: The attributes ``corrupt`` can change, by name.
CORRUPTIONS: dict[str, Corruption] = {
    "contrast": Corruption(_contrast, "share of contrast removed", 1.0),
    "blur": Corruption(lambda x, s, _g: gaussian_blur(x, s), "Gaussian sigma, pixels", None),
    "noise": Corruption(_noise, "noise standard deviation, pixel units", None),
    "rotation": Corruption(_rotation, "degrees", 360.0),
    "scale": Corruption(_scale, "share the object shrinks by", 0.95),
    "translation": Corruption(_translation, "pixels, random direction", None),
    "crop": Corruption(_crop, "share of each side cut away", 0.95),
}


def corrupt(x: torch.Tensor, kind: str, severity: float, seed: int = 0) -> torch.Tensor:
    """Return a copy of images ``x`` (N,C,H,W), pixels in [0,1], with attribute ``kind`` changed by ``severity``.

    Severity 0 returns ``x`` unchanged (a copy). ``seed`` fixes the noise and the shift directions.
    See the module docstring (or ``CORRUPTIONS[kind].unit``) for each kind's unit.
    """
    if kind not in CORRUPTIONS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {list(CORRUPTIONS)}")
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or not x.is_floating_point():
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be images (N,C,H,W) of float pixels in [0,1], got {shape}")
    spec = CORRUPTIONS[kind]
    if isinstance(severity, bool) or not isinstance(severity, (int, float)) or not math.isfinite(severity):
        raise ValueError(f"severity must be a finite number ({spec.unit}), got {severity!r}")
    top = f"0..{spec.maximum:g}" if spec.maximum is not None else ">= 0"
    if severity < 0 or (spec.maximum is not None and severity > spec.maximum):
        raise ValueError(f"{kind} severity must be {top} ({spec.unit}), got {severity:g}")
    if severity == 0:
        return x.clone()
    return spec.apply(x.detach(), float(severity), torch.Generator().manual_seed(seed))


@torch.no_grad()
def hits(
    model: nn.Module,
    x: torch.Tensor,
    reference: Target,
    kind: str,
    severities: Sequence[float],
    seed: int = 0,
    batch_size: int = 256,
) -> torch.Tensor:
    """Return ``(S,N)`` booleans: whether ``model``'s top class on each changed image ``x[n]`` is ``reference[n]``.

    One row per severity. ``reference`` is the true labels (accuracy) or the model's own clean
    predictions (agreement). The change is made per batch on the CPU, then the batch goes to the
    model's device.
    """
    if not len(severities):
        raise ValueError("severities is empty: pass at least one, e.g. [0, 1, 2, 4]")
    batch_size = check_count(batch_size, "batch_size", 1)
    targets = resolve_targets(reference, len(x), model=model)
    rows = []
    with frozen_eval(model):
        for severity in severities:
            row = []
            for start in range(0, len(x), batch_size):
                batch = corrupt(x[start : start + batch_size], kind, severity, seed=seed + start)
                row.append(model(as_model_input(batch, model)).argmax(1).cpu() == targets[start : start + batch_size])
            rows.append(torch.cat(row))
    return torch.stack(rows)


def accuracy_curve(
    model: nn.Module,
    x: torch.Tensor,
    reference: Target,
    kind: str,
    severities: Sequence[float],
    seed: int = 0,
    batch_size: int = 256,
) -> torch.Tensor:
    """Return, for each severity, the share of images ``x`` (N,C,H,W) on which ``model``'s top class is ``reference``.

    ``reference`` is the true labels (accuracy) or the model's own clean predictions (agreement);
    ``hits`` gives the same per image.
    """
    return hits(model, x, reference, kind, severities, seed, batch_size).float().mean(1)


def rms_change(x: torch.Tensor, kind: str, severities: Sequence[float], seed: int = 0) -> torch.Tensor:
    """Return, per severity, the root-mean-square pixel change ``corrupt`` makes to ``x`` (one axis for all kinds)."""
    if not len(severities):
        raise ValueError("severities is empty: pass at least one, e.g. [0, 1, 2, 4]")
    return torch.tensor([float((corrupt(x, kind, s, seed=seed) - x).pow(2).mean().sqrt()) for s in severities])
