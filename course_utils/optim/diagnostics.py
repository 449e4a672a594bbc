"""Numbers that say whether a feature visualization is real: notebook 07's measures.

- ``unseen_augmentations`` / ``augmented_probability``: does the model still see the class after
  changes the optimizer never tried (a flip, a zoom, a rotation, a blur, a shift)? Pixel-exact
  adversarial patterns fail this test; a drawing of the object passes it.
- ``gram_similarity`` / ``pooled_similarity``: how alike two images are to the network *wherever*
  their parts sit (pixel correlation drops to 0 when the same picture is shifted).
- ``log_softmax_gradient``: the three parts of the gradient of ``log p_c``, to see it vanish as p → 1.
- ``unit_activity``: how often each unit of a layer fires on a set of images, and how much it
  follows their brightness (FashionNet's always-on units).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ..core import Target, frozen_eval, resolve_targets
from ..images import gaussian_blur
from .arguments import check_pixels
from .objectives import gram_matrix
from .recipes import layer_features
from .transforms import Transform


def _rotate(x: torch.Tensor, degrees: float) -> torch.Tensor:
    """Rotate ``x`` ``(N,C,H,W)`` about its centre by ``degrees`` (bilinear, border repeated)."""
    a = math.radians(degrees)
    theta = torch.tensor([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]], dtype=x.dtype)
    grid = F.affine_grid(theta.to(x.device).expand(x.shape[0], 2, 3), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _zoom_in(x: torch.Tensor, keep: float) -> torch.Tensor:
    """Crop the central ``keep`` share of each side and resize it back to the full size (bilinear)."""
    h, w = x.shape[-2:]
    ch, cw = max(1, round(h * keep)), max(1, round(w * keep))
    top, left = (h - ch) // 2, (w - cw) // 2
    return F.interpolate(x[..., top : top + ch, left : left + cw], size=(h, w), mode="bilinear", align_corners=False)


def unseen_augmentations() -> dict[str, Transform]:
    """Return six fixed changes of an image ``(N,C,H,W)``, none of them random, none used while optimizing.

    ``flip`` (left-right), ``zoom out`` (resized to 70 %, antialiased), ``zoom in`` (the central
    80 % resized to full size), ``rotate 20°``, ``blur`` (Gaussian, σ = 1.5 px) and ``shift`` (a
    circular shift by a third of the height and a fifth of the width). Each keeps the content a
    viewer recognises, so a real depiction of a class keeps its probability under all six.
    """
    return {
        "flip": lambda x: torch.flip(x, dims=[3]),
        "zoom out": lambda x: F.interpolate(
            x, size=[max(8, round(s * 0.7)) for s in x.shape[-2:]], mode="bilinear", align_corners=False, antialias=True
        ),
        "zoom in": lambda x: _zoom_in(x, 0.8),
        "rotate 20°": lambda x: _rotate(x, 20.0),
        "blur": lambda x: gaussian_blur(x, 1.5),
        "shift": lambda x: torch.roll(x, shifts=(x.shape[-2] // 3, x.shape[-1] // 5), dims=(2, 3)),
    }


@torch.no_grad()
def augmented_probability(
    model: nn.Module, images: torch.Tensor, target: Target, augmentations: dict[str, Transform] | None = None
) -> torch.Tensor:
    """Return the softmax probability of ``target`` (one class, or one per image) under each augmentation.

    ``images``: pixels ``(N,C,H,W)`` in [0,1]. Returns ``(A,N)``, one row per augmentation in the
    order of ``augmentations`` (default: ``unseen_augmentations()``); ``.mean(0)`` is one number per image.
    """
    check_pixels(images, "images")
    augmentations = unseen_augmentations() if augmentations is None else augmentations
    if not augmentations:
        raise ValueError("augmentations is empty: pass a dict of name -> transform, or None for the default six")
    rows: list[torch.Tensor] = []
    with frozen_eval(model) as device:
        x = images.to(device)
        for augment in augmentations.values():
            probs = F.softmax(model(augment(x)), dim=1)
            if not rows:
                index = resolve_targets(target, x.shape[0], num_classes=probs.shape[1], model=model).to(probs.device)
            rows.append(probs.gather(1, index[:, None])[:, 0].cpu())
    return torch.stack(rows)


def _cosines(vectors: torch.Tensor) -> torch.Tensor:
    """Return the ``(N,N)`` cosine similarities of the rows of ``vectors`` ``(N,D)``."""
    unit = F.normalize(vectors.flatten(1).double(), dim=1)
    return (unit @ unit.T).float()


def gram_similarity(model: nn.Module, layer: str, images: torch.Tensor) -> torch.Tensor:
    """Return the ``(N,N)`` cosine similarities of the images' Gram matrices at ``layer``.

    ``images``: pixels ``(N,C,H,W)`` in [0,1]. The Gram matrix ``F Fᵀ / (H·W)`` sums over positions,
    so the number asks "do the two images contain the same *combinations* of features?", wherever
    they sit: a circularly shifted copy scores about 1 (exactly 1 when the layer's map shifts with it).
    """
    check_pixels(images, "images")
    feats = layer_features(model, layer, images)
    if feats.dim() != 4:
        raise ValueError(f"gram_similarity needs a layer with (N,C,H,W) maps; {layer!r} gives {tuple(feats.shape)}")
    return _cosines(gram_matrix(feats))


def pooled_similarity(model: nn.Module, layer: str, images: torch.Tensor) -> torch.Tensor:
    """Return the ``(N,N)`` cosine similarities of the images' spatially averaged features at ``layer``.

    ``images``: pixels ``(N,C,H,W)`` in [0,1]. Averaging over positions keeps *which* channels are
    active and forgets *where*: the vector the classifier itself sees when ``layer`` is the last one.
    """
    check_pixels(images, "images")
    feats = layer_features(model, layer, images)
    return _cosines(feats.mean(dim=tuple(range(2, feats.dim()))) if feats.dim() > 2 else feats)


def pixel_correlation(images: torch.Tensor) -> torch.Tensor:
    """Return the ``(N,N)`` Pearson correlations of the images' pixels (position-dependent, for comparison)."""
    check_pixels(images, "images")
    flat = images.detach().flatten(1).double()
    return torch.corrcoef(flat).float()


def mean_frequency(image: torch.Tensor) -> float:
    """Return the power-weighted mean spatial frequency of ``image`` ``(N,C,H,W)``, in cycles per pixel (0 to 0.71).

    The mean is removed first, so a flat image counts as nothing. Fine stripes of period ``p`` pixels
    give about ``1/p``; large blobs give values near 0. One number for "how big are the patterns".
    """
    x = image.detach().float()
    x = x - x.mean(dim=(-2, -1), keepdim=True)
    power = torch.fft.fft2(x).abs().pow(2)
    h, w = x.shape[-2:]
    radius = (torch.fft.fftfreq(h)[:, None].pow(2) + torch.fft.fftfreq(w)[None, :].pow(2)).sqrt().to(power.device)
    total = power.sum()
    if total <= 1e-12:
        raise ValueError("mean_frequency got a flat image (no variation): it has no frequency to measure")
    return float((power * radius).sum() / total)


class SoftmaxGradient(NamedTuple):
    """The gradient of ``log p_c`` with respect to the pixels, ``total = own - others`` (each ``(1,C,H,W)``)."""

    p: float  # p_c, the softmax probability of the class
    total: torch.Tensor  # ∇ log p_c, by autograd
    own: torch.Tensor  # (1 - p_c) ∇S_c
    others: torch.Tensor  # Σ_{k≠c} p_k ∇S_k
    logit_grad: torch.Tensor  # ∇S_c itself


def log_softmax_gradient(model: nn.Module, image: torch.Tensor, target: Target) -> SoftmaxGradient:
    """Return the parts of ``∇ log p_c = (1 − p_c)∇S_c − Σ_{k≠c} p_k ∇S_k`` at ``image`` ``(1,C,H,W)``.

    ``S`` are the logits. Each part comes from its own backward pass, and ``total`` from autograd on
    ``log_softmax`` directly, so ``total`` ≈ ``own − others`` checks the formula. When ``p_c → 1`` both
    ``1 − p_c`` and every other ``p_k`` go to 0, and so does the whole gradient.
    """
    check_pixels(image, "image")
    if image.shape[0] != 1:
        raise ValueError(f"log_softmax_gradient takes one image (1,C,H,W), got a batch of {image.shape[0]}")
    with frozen_eval(model) as device:
        x = image.detach().to(device).float().requires_grad_(True)
        logits = model(x)[0]
        c = int(resolve_targets(target, 1, num_classes=logits.shape[0], model=model)[0])
        p = F.softmax(logits.detach().double(), dim=0).float()  # double: 1 - p_c is tiny near p_c = 1
        weights = p.clone()
        weights[c] = 0.0
        (logit_grad,) = torch.autograd.grad(logits[c], x, retain_graph=True)
        (others,) = torch.autograd.grad((weights * logits).sum(), x, retain_graph=True)
        # log-softmax in double: in float32, 1 - p_c is rounded to a multiple of 6e-8 once p_c is near 1
        (total,) = torch.autograd.grad(F.log_softmax(logits.double(), dim=0)[c], x)
        own_weight = float(weights.double().sum())  # 1 - p_c, summed from the others (exact near p_c = 1)
    return SoftmaxGradient(float(p[c]), total.cpu(), own_weight * logit_grad.cpu(), others.cpu(), logit_grad.cpu())


class UnitActivity(NamedTuple):
    """How each unit of a layer behaves on a set of images (each field ``(C,)``)."""

    active: torch.Tensor  # share of (image, position) values above 0
    images: torch.Tensor  # share of images on which the unit is above 0 somewhere
    brightness_corr: torch.Tensor  # correlation, over images, of the unit's mean activation with the mean pixel


def unit_activity(model: nn.Module, layer: str, images: torch.Tensor) -> UnitActivity:
    """Return how often each unit of ``layer`` fires on ``images`` ``(N,C,H,W)`` and how it follows their brightness.

    ``layer`` should be one whose output is the unit's firing, a ReLU (``relu4`` for FashionNet's
    code). A unit that fires on every image and whose mean activation follows the image's mean pixel
    value (correlation near 1) is an "always-on" brightness detector: its visualization is a bright
    image. A unit that never varies gets correlation 0; one that never fires, ``images`` = 0.
    """
    check_pixels(images, "images")
    if images.shape[0] < 2:
        raise ValueError("unit_activity needs at least two images to correlate with their brightness")
    feats = layer_features(model, layer, images).float()
    per_unit = feats.transpose(0, 1).reshape(feats.shape[1], -1)  # (C, N·positions)
    active = (per_unit > 0).float().mean(1)
    fired = (feats.reshape(feats.shape[0], feats.shape[1], -1) > 0).any(2).float().mean(0)
    means = feats.reshape(feats.shape[0], feats.shape[1], -1).mean(2)  # (N, C)
    brightness = images.detach().flatten(1).mean(1).to(means.device)
    a = means - means.mean(0)
    b = (brightness - brightness.mean())[:, None]
    denom = a.norm(dim=0) * b.norm()
    corr = torch.where(denom > 1e-12, (a * b).sum(0) / denom.clamp_min(1e-12), torch.zeros_like(denom))
    return UnitActivity(active.cpu(), fired.cpu(), corr.cpu())
