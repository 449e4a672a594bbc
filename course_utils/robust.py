"""Standard vs adversarially trained models, measured: worst-case accuracy, where gradients fall, image likeness.

A robust model (PGD training, Madry et al. 2018) answers the same question as a standard one, but
its gradients, its class visualizations and its feature inversions look like the data (Tsipras et
al. 2019; Santurkar et al. 2019; Engstrom et al. 2019). This module holds the few measurements that
turn "looks like a garment" into numbers. Pixels in [0,1] everywhere; taught in notebook 13.
"""

from __future__ import annotations

import torch
from torch import nn

from . import optim
from .adversarial import pgd, predict
from .core import resolve_targets
from .optim.arguments import check_count, check_number, check_pixels

__all__ = ["pgd_accuracy", "object_mask", "mass_on_object", "pixel_correlation", "class_images", "invert"]


def pgd_accuracy(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    steps: int = 20,
    restarts: int = 1,
    step: float | None = None,
    source: nn.Module | None = None,
    batch_size: int = 500,
) -> float:
    """Return ``model``'s accuracy on ``x`` ``(N,C,H,W)`` under PGD from a random start, worst over ``restarts``.

    An image counts as correct only if it survives every restart (seeds 0 .. restarts-1), as in
    Madry et al.'s evaluation. ``source``: craft the attack on this model instead and test it on
    ``model`` (a transfer, or black-box, attack); None = white-box. ``step`` defaults to
    ``2.5 * eps / steps``. Ctrl-C re-raises: a half-finished accuracy would be a wrong number.
    """
    check_pixels(x, "x")
    restarts = check_count(restarts, "restarts")
    steps = check_count(steps, "steps")
    batch_size = check_count(batch_size, "batch_size")
    y = resolve_targets(y, len(x))
    attacker = model if source is None else source
    correct = predict(model, x, batch_size) == y
    for seed in range(restarts):
        for i in range(0, len(x), batch_size):  # batches as in adversarial.attack_accuracy: the same random starts
            xb, yb = x[i : i + batch_size], y[i : i + batch_size]
            x_adv = pgd(attacker, xb, yb, eps, step=step, steps=steps, random_start=True, seed=seed)
            correct[i : i + batch_size] &= predict(model, x_adv, batch_size) == yb
    return int(correct.sum()) / len(x)


def object_mask(images: torch.Tensor, threshold: float = 0.05) -> torch.Tensor:
    """Return the boolean mask of the object: pixels brighter than ``threshold`` (Fashion-MNIST's background is 0)."""
    check_pixels(images, "images")
    threshold = check_number(threshold, "threshold (pixels)", high=1, hint="e.g. 0.05: brighter than the background")
    return images > threshold


def mass_on_object(maps: torch.Tensor, images: torch.Tensor, threshold: float = 0.05) -> torch.Tensor:
    """Return, per image, the share of ``|maps|`` that falls on the object's pixels, ``(N,)`` in [0,1].

    ``maps`` (e.g. input gradients) has the shape of ``images`` ``(N,C,H,W)``. Compare it with the
    object's share of the pixels (``object_mask(images).mean()``): a map that ignores the image
    puts about that share on it.
    """
    if maps.shape != images.shape:
        raise ValueError(f"maps {tuple(maps.shape)} and images {tuple(images.shape)} must have the same shape")
    mask = object_mask(images, threshold).flatten(1)
    mass = maps.detach().abs().flatten(1).to(torch.float64)
    return (mass * mask).sum(1) / mass.sum(1).clamp_min(1e-30)


def pixel_correlation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Return the Pearson correlation of ``a`` and ``b`` ``(N,...)`` per image: ``(N,)`` in [-1,1], 0 for a constant."""
    if a.shape != b.shape or a.dim() < 2:
        raise ValueError(f"a {tuple(a.shape)} and b {tuple(b.shape)} must be batches (N,...) of the same shape")
    a = a.detach().flatten(1).to(torch.float64)
    b = b.detach().flatten(1).to(torch.float64)
    a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-30)


def class_images(
    model: nn.Module,
    classes: int | list[int],
    shape: tuple[int, int, int] = (1, 28, 28),
    steps: int = 200,
    lr: float = 0.01,
    start: str = "blank",
    seed: int = 0,
    progress: bool = False,
) -> torch.Tensor:
    """Return one image per class ``(K,*shape)`` in [0,1] that maximizes its class logit, with **no prior at all**.

    Plain gradient ascent (Adam) on the pixels: no L2, no blur, no jitter, no Fourier basis, only
    the clip to [0,1]. ``start``: ``"blank"`` (all pixels 0, the background of every Fashion-MNIST
    image) or ``"noise"`` (mid-grey plus Gaussian noise, ``seed``: the start of notebook 07). For a
    standard network the result is noise; for a robust one, the class's shape (Santurkar et al. 2019).
    """
    classes = [classes] if isinstance(classes, int) else list(classes)
    targets = resolve_targets(classes, len(classes))
    param = _start_image((len(classes), *shape), start, seed)
    return optim.optimize_image(
        model, optim.class_logit(targets), param, steps=steps, lr=lr, progress=progress, seed=seed
    ).image


def invert(
    model: nn.Module,
    layer: str,
    images: torch.Tensor,
    steps: int = 400,
    lr: float = 0.02,
    start: str = "blank",
    seed: int = 0,
    progress: bool = False,
) -> torch.Tensor:
    """Return pixels ``(N,C,H,W)`` in [0,1] whose ``layer`` features match those of ``images``, with **no prior**.

    Feature inversion (Mahendran & Vedaldi 2015) without its total-variation term: Adam on the
    relative feature error ``‖φ(x) − φ(images)‖² / ‖φ(images)‖²`` over the raw pixels, from ``start``
    (``"blank"`` or ``"noise"``, as in ``class_images``). Engstrom et al. (2019) invert robust models so.
    """
    check_pixels(images, "images")
    begin = _start_image(tuple(images.shape), start, seed).image().detach()
    return optim.invert_features(
        model, layer, images, steps=steps, lr=lr, tv_weight=0.0, seed=seed, progress=progress, start=begin
    )


def _start_image(shape: tuple[int, ...], start: str, seed: int) -> optim.PixelImage:
    """The image an optimization starts from: all zeros (``"blank"``) or mid-grey plus noise (``"noise"``)."""
    if start not in ("blank", "noise"):
        raise ValueError(f"start must be 'blank' (all pixels 0) or 'noise' (mid-grey plus noise), not {start!r}")
    return optim.PixelImage(init=torch.zeros(shape)) if start == "blank" else optim.PixelImage(shape, seed=seed)
