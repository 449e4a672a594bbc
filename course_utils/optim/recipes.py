"""The techniques of notebooks 07-10 as one call each, all built on ``optimize_image``; and their measures.

Class and channel visualization (07), feature inversion (08), DeepDream (09) and style
transfer / texture synthesis (10) each pick an objective, a parameterization and transforms,
then run the loop. ``class_probability``, ``feature_error``, ``gram_error`` and
``high_frequency_fraction`` are the numbers the notebooks check their results with.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..core import Target, check_finite, frozen_eval, resolve_targets
from ..hooks import capture_activations, get_layer, run_until
from ..models import FashionNet
from .arguments import check_count, check_number, check_pixels
from .loop import NormalizedGradient, OptimizerFactory, Result, _optimize, optimize_image
from .objectives import (
    Objective,
    channel,
    class_log_prob,
    class_logit,
    feature_match,
    gram_match,
    gram_matrix,
    l2,
    layer_norm,
    resolve_class_names,
    total_variation,
)
from .parameterizations import FourierImage, Param, PixelImage, SigmoidImage
from .steps import blur_every
from .transforms import Transform, jitter, standard_transforms

Callback = Callable[[int, torch.Tensor], None]


# --------------------------------------------------------------------------- measures
@torch.no_grad()
def class_probability(model: nn.Module, image: torch.Tensor, target: Target) -> float:
    """Return the softmax probability of class ``target`` for ``image`` ``(1,C,H,W)``, pixels in [0,1]."""
    check_pixels(image, "image")
    with frozen_eval(model) as device:
        probs = F.softmax(model(image.to(device)), dim=1)
    index = resolve_targets(target, 1, num_classes=probs.shape[1], model=model)
    return float(probs[0, index[0]])


def high_frequency_fraction(image: torch.Tensor, cutoff: float = 0.25) -> float:
    """Return the share of an image's spectral energy (mean removed) above ``cutoff`` cycles/pixel (Nyquist = 0.5).

    About 0.8 for white noise, near 0 for smooth images: one number for "how noisy does it look".
    """
    x = image.detach().float()
    x = x - x.mean(dim=(-2, -1), keepdim=True)
    power = torch.fft.fft2(x).abs().pow(2)
    h, w = x.shape[-2:]
    radius = (torch.fft.fftfreq(h)[:, None].pow(2) + torch.fft.fftfreq(w)[None, :].pow(2)).sqrt()
    return float(power[..., radius > cutoff].sum() / power.sum().clamp_min(1e-12))


@torch.no_grad()
def layer_features(model: nn.Module, layer: str, pixels: torch.Tensor) -> torch.Tensor:
    """Return ``layer``'s activation (detached) for ``pixels`` ``(N,C,H,W)`` in [0,1]; later layers never run."""
    check_finite(pixels, "pixels")  # a NaN would give NaN features, and every measure built on them
    module = get_layer(model, layer)
    with frozen_eval(model) as device, capture_activations(model, layer) as acts:
        run_until(model, pixels.to(device), stop_at=module)
    return acts[layer]


def feature_error(model: nn.Module, layer: str, image: torch.Tensor, reference: torch.Tensor) -> float:
    """Return the relative feature error ``‖φ(image) − φ(reference)‖ / ‖φ(reference)‖`` at ``layer`` (0: same)."""
    a, b = layer_features(model, layer, image), layer_features(model, layer, reference)
    return float((a - b).norm() / b.norm().clamp_min(1e-12))


def gram_error(model: nn.Module, image: torch.Tensor, reference: torch.Tensor, layers: Sequence[str]) -> float:
    """Return the relative Gram error ``‖G(image) − G(reference)‖² / ‖G(reference)‖²``, averaged over ``layers``.

    ``image``, ``reference``: pixels ``(1,3,H,W)`` in [0,1] (sizes may differ: Gram matrices do not see layout).
    """
    if not layers:
        raise ValueError("gram_error needs at least one layer name")
    errors = []
    for layer in layers:
        g = gram_matrix(layer_features(model, layer, image))
        r = gram_matrix(layer_features(model, layer, reference))
        errors.append(float((g - r).pow(2).sum() / r.pow(2).sum().clamp_min(1e-12)))
    return sum(errors) / len(errors)


# --------------------------------------------------------------------------- 07: class and channel visualization
def input_channels(model: nn.Module) -> int:
    """Return the number of input channels the model's first convolution expects (3 for photos, 1 for FashionNet)."""
    first = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    return first.in_channels if first is not None else 3


def default_size(model: nn.Module) -> int:
    """Return the image side an optimization starts from: 28 for FashionNet (its classifier is fixed), else 128."""
    return 28 if isinstance(model, FashionNet) else 128


def _side(model: nn.Module, size: int | None) -> int:
    """Return the checked image side: ``size``, or the model's ``default_size`` for None."""
    return (
        default_size(model) if size is None else check_count(size, "size", minimum=8, what="the image side in pixels")
    )


def _start_image(model: nn.Module, size: int, fourier: bool, seed: int) -> Param:
    """Return a fresh parameterized image of the model's channel count, square ``size``."""
    c = input_channels(model)
    shape = (1, c, size, size)
    return FourierImage(shape, seed=seed, decorrelate=c == 3) if fourier else PixelImage(shape, seed=seed)


def class_visualization(
    model: nn.Module,
    target: Target,
    steps: int = 80,
    size: int | None = None,
    seed: int = 0,
    lr: float = 0.05,
    l2_weight: float = 0.0,
    tv_weight: float = 0.0,
    blur_sigma: float = 0.0,
    blur_every_k: int = 4,
    jitter_px: int = 0,
    fourier: bool = False,
    softmax: bool = False,
    transforms: Transform | None = None,
    progress: bool = True,
    callback: Callback | None = None,
) -> torch.Tensor:
    """Return a ``(1,C,size,size)`` image in [0,1] that makes ``model`` score class ``target`` highly.

    Gradient ascent on the class logit (or its log-probability if ``softmax``) from noise,
    with optional L2 and total-variation penalties, blur every ``blur_every_k`` steps, jitter,
    or the Fourier parameterization (Simonyan et al. 2014; Yosinski et al. 2015; Olah et al. 2017).
    ``size`` defaults to the model's own (``default_size``: 28 px for FashionNet, 128 px otherwise).
    """
    l2_weight = check_number(l2_weight, "l2_weight", low_open=False, hint="it is a penalty weight (0 = off)")
    tv_weight = check_number(tv_weight, "tv_weight", low_open=False, hint="it is a penalty weight (0 = off)")
    param = _start_image(model, _side(model, size), fourier, seed)
    target = resolve_class_names(model, target, param.image())  # "flamingo" -> 130
    objective = class_log_prob(target) if softmax else class_logit(target)
    if l2_weight:
        objective = objective - l2_weight * l2()
    if tv_weight:
        objective = objective - tv_weight * total_variation()
    if transforms is None and jitter_px:
        transforms = jitter(jitter_px)
    ops = [blur_every(blur_every_k, blur_sigma)] if blur_sigma else []
    return optimize_image(
        model,
        objective,
        param,
        steps=steps,
        lr=lr,
        transforms=transforms,
        step_ops=ops,
        progress=progress,
        callback=callback,
        seed=seed,
    ).image


def channel_visualization(
    model: nn.Module,
    layer: str,
    index: int,
    steps: int = 80,
    size: int | None = None,
    seed: int = 0,
    sign: int = +1,
    lr: float = 0.05,
    fourier: bool = True,
    transforms: Transform | None = None,
    progress: bool = True,
) -> torch.Tensor:
    """Return a ``(1,C,size,size)`` image in [0,1] that maximizes (``sign=+1``) or minimizes (-1) a channel.

    ``size`` defaults to the model's own (``default_size``: 28 px for FashionNet, 128 px otherwise).
    """
    if isinstance(sign, bool) or sign not in (1, -1):
        raise ValueError("sign must be +1 (maximize) or -1 (minimize)")
    objective = channel(layer, index) if sign == 1 else -channel(layer, index)
    size = _side(model, size)
    param = _start_image(model, size, fourier, seed)
    transforms = standard_transforms(size) if transforms is None else transforms
    return optimize_image(
        model, objective, param, steps=steps, lr=lr, transforms=transforms, progress=progress, seed=seed
    ).image


# --------------------------------------------------------------------------- 08: feature inversion
def invert_features(
    model: nn.Module,
    layer: str,
    image: torch.Tensor,
    steps: int = 200,
    lr: float = 0.05,
    tv_weight: float = 30.0,
    jitter_px: int = 0,
    seed: int = 0,
    progress: bool = True,
    callback: Callback | None = None,
    optimizer: str | OptimizerFactory = "adam",
    start: torch.Tensor | None = None,
) -> torch.Tensor:
    """Return pixels ``(1,C,H,W)`` in [0,1] whose ``layer`` features match those of ``image`` (pixels in [0,1]).

    Mahendran & Vedaldi (2015): minimize the relative feature error plus a total-variation
    prior, starting from noise (or from the pixels ``start``, the shape of ``image``). ``optimizer``:
    a name or a factory, e.g. ``optim.cosine_adam(steps)``, whose falling step lets the run settle
    (notebook 08).
    """
    check_pixels(image, "image")
    tv_weight = check_number(tv_weight, "tv_weight", low_open=False, hint="it is a penalty weight (0 = off)")
    objective = feature_match(layer, layer_features(model, layer, image))
    if tv_weight:
        objective = objective - tv_weight * total_variation()
    if start is not None and tuple(start.shape) != tuple(image.shape):
        raise ValueError(f"start {tuple(start.shape)} must have the shape of image {tuple(image.shape)}")
    param = PixelImage(tuple(image.shape), seed=seed) if start is None else PixelImage(init=start)
    return optimize_image(
        model,
        objective,
        param,
        steps=steps,
        lr=lr,
        optimizer=optimizer,
        transforms=jitter(jitter_px) if jitter_px else None,
        progress=progress,
        callback=callback,
        seed=seed,
    ).image


# --------------------------------------------------------------------------- 09: DeepDream
def deep_dream(
    model: nn.Module,
    image: torch.Tensor,
    layer: str,
    octaves: int = 4,
    scale: float = 1.4,
    steps_per_octave: int = 20,
    step_size: float = 0.01,
    jitter_px: int = 16,
    channel_index: int | None = None,
    seed: int = 0,
    progress: bool = True,
    parameterization: str = "pixels",
    smooth: float = 0.0,
) -> torch.Tensor:
    """Return ``image`` ``(1,3,H,W)`` in [0,1] with whatever ``layer`` sees amplified (Mordvintsev et al. 2015).

    Runs from the smallest octave (``image`` shrunk by ``scale**(octaves-1)``, ``scale >= 1``) to full
    size; at each octave, normalized gradient steps of ``step_size > 0`` on ``‖layer‖²`` (or one
    channel's mean) with jitter, and the detail added so far is carried up to the next octave.
    ``parameterization="pixels"`` steps on the pixels and clips them to [0,1]; ``"sigmoid"`` steps on
    their logits (``SigmoidImage``: nothing is clipped, and the detail is carried in logits).
    ``smooth`` > 0 blurs each gradient by that many pixels before the normalized step.
    Ctrl-C stops the whole dream (not just the current octave) and returns the detail reached so
    far, added to ``image`` at full size, with a warning. A float64 image is dreamed in float32.
    """
    image = check_pixels(image, "image").float()
    octaves = check_count(octaves, "octaves", what="image scales; 1 dreams at full size only")
    scale = check_number(
        scale, "scale", low=1, low_open=False, hint="it is the size ratio between octaves, e.g. 1.4 (not its inverse)"
    )
    steps_per_octave = check_count(steps_per_octave, "steps_per_octave")
    step_size = check_number(step_size, "step_size", hint="a negative step would erase what the layer sees, not dream")
    if parameterization not in ("pixels", "sigmoid"):
        raise ValueError(
            f"parameterization must be 'pixels' (clipped) or 'sigmoid' (never clipped), not {parameterization!r}"
        )
    smooth = check_number(smooth, "smooth", low_open=False, hint="a blur width in pixels; 0 = no blur")
    sigmoid = parameterization == "sigmoid"
    objective = layer_norm(layer) if channel_index is None else channel(layer, channel_index)
    move = jitter(jitter_px)
    h, w = image.shape[-2:]
    sizes = [(max(8, round(h / scale**i)), max(8, round(w / scale**i))) for i in reversed(range(octaves))]
    detail = torch.zeros_like(image[..., : sizes[0][0], : sizes[0][1]])
    interrupted, done = False, 0
    bar = tqdm(sizes, desc=f"DeepDream {layer}", disable=not progress, leave=False)
    try:
        for octave, size in enumerate(bar):
            base = F.interpolate(image, size=size, mode="bilinear", align_corners=False, antialias=True)
            detail = F.interpolate(detail, size=size, mode="bilinear", align_corners=False)
            param: Param = (
                SigmoidImage(_sigmoid(_logit(base) + detail))
                if sigmoid
                else PixelImage(init=(base + detail).clamp(0, 1))
            )
            result, interrupted = _optimize(
                model,
                objective,
                param,
                steps_per_octave,
                step_size,
                lambda params, lr: NormalizedGradient(params, lr, smooth=smooth),
                move,
                (),
                None,
                False,
                seed + octave,  # a fresh jitter sequence per octave
                warn_interrupt=False,
            )
            reached = result.image.to(base.device)  # an interrupted octave keeps the steps it took
            detail = _logit(reached) - _logit(base) if sigmoid else reached - base
            if interrupted:
                break
            done = octave + 1  # octaves finished
    except KeyboardInterrupt:  # between two octaves' optimizations: keep the detail of the finished ones
        interrupted = True
    finally:
        bar.close()
    if interrupted:
        warnings.warn(
            f"DeepDream interrupted after {done} of {octaves} octaves; returning the image dreamed so far", stacklevel=2
        )
        base = F.interpolate(image, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
        detail = F.interpolate(detail, size=(h, w), mode="bilinear", align_corners=False)
    return _sigmoid(_logit(base) + detail) if sigmoid else (base + detail).clamp(0, 1)


def _logit(pixels: torch.Tensor) -> torch.Tensor:
    """The logits of pixels held 1e-3 away from 0 and 1, as ``SigmoidImage`` starts them."""
    return torch.logit(pixels.clamp(1e-3, 1 - 1e-3))


def _sigmoid(logits: torch.Tensor) -> torch.Tensor:
    """Pixels from logits, held inside [1e-3, 1 - 1e-3] so that ``SigmoidImage`` starts from them unchanged."""
    return torch.sigmoid(logits).clamp(1e-3, 1 - 1e-3)


# --------------------------------------------------------------------------- 10: style transfer
def style_transfer(
    model: nn.Module,
    content: torch.Tensor,
    style: torch.Tensor,
    content_layer: str,
    style_layers: Sequence[str],
    content_weight: float = 1.0,
    style_weight: float = 1e3,
    tv_weight: float = 0.0,
    steps: int = 100,
    lr: float = 1.0,
    optimizer: str = "lbfgs",
    init: str = "content",
    seed: int = 0,
    progress: bool = True,
    callback: Callback | None = None,
) -> Result:
    """Return the ``Result`` of making an image with ``content``'s layout and ``style``'s textures (Gatys et al. 2016).

    ``content`` and ``style`` are pixels ``(1,3,H,W)`` in [0,1] (sizes may differ). The
    objective is ``-content_weight·feature error - style_weight·Σ Gram error`` over
    ``style_layers``. Set ``content_weight=0`` for texture synthesis and ``style_weight=0``
    for a plain content reconstruction; ``init`` is "content" or "noise".
    """
    if init not in ("content", "noise"):
        raise ValueError(f"init must be 'content' or 'noise', not {init!r}")
    check_pixels(content, "content")
    check_pixels(style, "style")
    if isinstance(style_layers, str):
        raise TypeError(f"style_layers must be a list of layer names, e.g. [{style_layers!r}], not one string")
    for name, weight in (("content_weight", content_weight), ("style_weight", style_weight), ("tv_weight", tv_weight)):
        check_number(weight, name, low_open=False, hint="weights are >= 0; 0 turns that term off")
    parts: list[Objective] = []
    if content_weight:
        parts.append(content_weight * feature_match(content_layer, layer_features(model, content_layer, content)))
    for layer in style_layers if style_weight else ():
        parts.append(style_weight * gram_match(layer, gram_matrix(layer_features(model, layer, style))))
    if tv_weight:
        parts.append(-tv_weight * total_variation())
    if not parts:
        raise ValueError("both weights are zero: nothing to optimize")
    objective = sum(parts[1:], parts[0])
    param = PixelImage(init=content) if init == "content" else PixelImage(tuple(content.shape), seed=seed)
    return optimize_image(
        model,
        objective,
        param,
        steps=steps,
        lr=lr,
        optimizer=optimizer,
        progress=progress,
        callback=callback,
        seed=seed,
    )
