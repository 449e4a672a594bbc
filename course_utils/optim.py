"""One image-optimization loop for class visualization, feature inversion, DeepDream, style and fooling.

The loop (``optimize_image``) asks three questions, each answered by a small object you can
swap: *what* to maximize (an ``Objective``, composable with ``+``, ``-`` and scalar ``*``),
*how the image is parameterized* (``PixelImage`` or ``FourierImage``), and *what to do to the
image before the model sees it* (transforms such as ``jitter``). Step operations (blur,
clipping, projection onto an ε-ball) run on the pixels after each optimizer step.

    obj = optim.class_logit(281) - 1e-3 * optim.l2() - 0.1 * optim.total_variation()
    img, history = optim.optimize_image(model, obj, optim.PixelImage((1, 3, 128, 128)), steps=80)

Objectives are *maximized*; ``history`` holds the objective's value at each step. The loop
only computes: showing the result is the notebook's (or ``plotting``'s) job. Taught in
notebooks 07 (class visualization), 08 (inversion), 09 (DeepDream), 10 (style), 11 (fooling).
"""
from __future__ import annotations

import math
import random
import warnings
from typing import Callable, Iterable, NamedTuple, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .core import frozen_eval
from .hooks import get_layer
from .models import IMAGENET_MEAN, IMAGENET_STD

Acts = dict  # {"image": (N,C,H,W) pixels, "input": what the model saw, "logits": (N,K), layer: activation}
Transform = Callable[[torch.Tensor], torch.Tensor]


# --------------------------------------------------------------------------- objectives
class Objective:
    """A scalar to maximize, computed from the dict of activations one forward pass produced.

    ``layers`` names what the forward pass must record (``named_modules()`` names, or
    ``"logits"`` for the model's output). Objectives compose: ``a + b``, ``a - b``, ``2 * a``.
    """

    def __init__(self, fn: Callable[[Acts], torch.Tensor], name: str, layers: Iterable[str] = ()):
        self.fn, self.name, self.layers = fn, name, tuple(dict.fromkeys(layers))

    def __call__(self, acts: Acts) -> torch.Tensor:
        return self.fn(acts)

    def __repr__(self) -> str:
        return self.name

    def __add__(self, other: "Objective") -> "Objective":
        if isinstance(other, (int, float)) and other == 0:  # lets sum([...]) start from 0
            return self
        if not isinstance(other, Objective):
            return NotImplemented
        return Objective(lambda a: self(a) + other(a), f"{self} + {other}", self.layers + other.layers)

    __radd__ = __add__

    def __neg__(self) -> "Objective":
        return Objective(lambda a: -self(a), f"-({self})", self.layers)

    def __sub__(self, other: "Objective") -> "Objective":
        if not isinstance(other, Objective):
            return NotImplemented
        return Objective(lambda a: self(a) - other(a), f"{self} - {_wrap(other)}", self.layers + other.layers)

    def __mul__(self, weight: float) -> "Objective":
        if not isinstance(weight, (int, float)):
            return NotImplemented
        return Objective(lambda a: weight * self(a), f"{weight:g}·{_wrap(self)}", self.layers)

    __rmul__ = __mul__


def _wrap(obj: Objective) -> str:
    """Parenthesize a composite objective's name when it is nested in another."""
    return f"({obj})" if any(op in obj.name for op in (" + ", " - ")) else obj.name


def class_logit(target: int) -> Objective:
    """The pre-softmax score of class ``target``, averaged over the batch."""
    return Objective(lambda a: a["logits"][:, target].mean(), f"logit[{target}]", ["logits"])


def class_log_prob(target: int) -> Objective:
    """The log-softmax probability of class ``target``: it can also rise by pushing other classes down."""
    return Objective(lambda a: F.log_softmax(a["logits"], dim=1)[:, target].mean(), f"log p[{target}]", ["logits"])


def channel(layer: str, index: int) -> Objective:
    """The mean activation of channel ``index`` of ``layer`` (negate the objective to minimize it)."""
    return Objective(lambda a: a[layer][:, index].mean(), f"{layer}[{index}]", [layer])


def layer_norm(layer: str) -> Objective:
    """The mean squared activation of ``layer``: DeepDream's "amplify whatever is there"."""
    return Objective(lambda a: a[layer].pow(2).mean(), f"‖{layer}‖²", [layer])


def feature_match(layer: str, target: torch.Tensor) -> Objective:
    """Minus the relative squared error ``‖φ(x) − φ₀‖² / ‖φ₀‖²`` of ``layer``'s features (inversion)."""
    target = target.detach()
    norm = target.pow(2).sum().clamp_min(1e-12)

    def fn(a: Acts) -> torch.Tensor:
        return -(a[layer] - target.to(a[layer].device)).pow(2).sum() / norm.to(a[layer].device)

    return Objective(fn, f"-‖{layer} − φ₀‖²/‖φ₀‖²", [layer])


def gram_matrix(x: torch.Tensor) -> torch.Tensor:
    """Return the Gram matrices ``F Fᵀ / (H·W)`` of features ``(N,C,H,W)`` as ``(N,C,C)``."""
    if x.dim() != 4:
        raise ValueError(f"gram_matrix wants features of shape (N,C,H,W), got {tuple(x.shape)}")
    n, c, h, w = x.shape
    feats = x.reshape(n, c, h * w)
    return feats @ feats.transpose(1, 2) / (h * w)


def gram_match(layer: str, target_gram: torch.Tensor) -> Objective:
    """Minus the mean squared difference between ``layer``'s Gram matrix and ``target_gram`` (style)."""
    target_gram = target_gram.detach()

    def fn(a: Acts) -> torch.Tensor:
        return -(gram_matrix(a[layer]) - target_gram.to(a[layer].device)).pow(2).mean()

    return Objective(fn, f"-‖G({layer}) − G₀‖²", [layer])


def l2() -> Objective:
    """The mean squared distance of the pixels from mid-gray 0.5 (use as ``- w * l2()``)."""
    return Objective(lambda a: (a["image"] - 0.5).pow(2).mean(), "L2")


def total_variation(beta: float = 2.0) -> Objective:
    """The mean ``(Δx² + Δy²)^(β/2)`` over pixels: large for noisy images (use as ``- w * total_variation()``)."""

    def fn(a: Acts) -> torch.Tensor:
        img = a["image"]
        dx = img[..., :-1, 1:] - img[..., :-1, :-1]
        dy = img[..., 1:, :-1] - img[..., :-1, :-1]
        return (dx.pow(2) + dy.pow(2) + 1e-8).pow(beta / 2).mean()

    return Objective(fn, f"TV^{beta:g}" if beta != 2 else "TV")


# --------------------------------------------------------------------------- parameterizations
class PixelImage:
    """Optimize the pixels themselves, kept in [0,1] by clipping after each step.

    ``init`` (``(N,C,H,W)`` in [0,1]) starts from a photo; otherwise mid-gray plus Gaussian
    noise of standard deviation ``sd``.
    """

    def __init__(self, shape: Sequence[int] = (1, 3, 128, 128), init: torch.Tensor | None = None,
                 sd: float = 0.1, seed: int | None = 0):
        if init is not None:
            if init.dim() != 4 or init.min() < 0 or init.max() > 1:
                raise ValueError("init must be pixels of shape (N,C,H,W) in [0,1]; use images.to_tensor(), "
                                 "not the ImageNet-normalized images.preprocess()")
            pixels = init.detach().clone().float()
        else:
            gen = torch.Generator().manual_seed(seed) if seed is not None else None
            pixels = (0.5 + sd * torch.randn(tuple(shape), generator=gen)).clamp(0, 1)
        self.pixels = pixels.requires_grad_(True)

    def parameters(self) -> list[torch.Tensor]:
        return [self.pixels]

    def image(self) -> torch.Tensor:
        """The current image ``(N,C,H,W)`` in [0,1]."""
        return self.pixels

    def to(self, device: torch.device) -> "PixelImage":
        self.pixels = self.pixels.detach().to(device).requires_grad_(True)
        return self

    @torch.no_grad()
    def constrain(self) -> None:
        self.pixels.clamp_(0, 1)


# Colour correlations of ImageNet photos: the square root of their RGB covariance, as
# published with Lucid (Olah et al. 2017). Optimizing in this decorrelated basis lets one
# parameter move all three channels together, the way natural colours vary.
_COLOR_SQRT_COV = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])


class FourierImage:
    """Optimize the image's Fourier spectrum, scaled by ``1/f^decay``, in decorrelated colours.

    Plain pixels let the optimizer put energy in the highest frequencies, which the network
    happily amplifies (the "adversarial noise" look). Scaling each frequency by ``1/f`` makes
    every frequency equally easy to change, so low frequencies get their fair share
    (Olah et al., "Feature Visualization", 2017). A sigmoid maps the result into [0,1].
    """

    def __init__(self, shape: Sequence[int] = (1, 3, 128, 128), sd: float = 0.01, decay: float = 1.0,
                 decorrelate: bool = True, seed: int | None = 0):
        n, c, h, w = shape
        if decorrelate and c != 3:
            raise ValueError(f"colour decorrelation needs 3 channels, got {c}; pass decorrelate=False")
        self.size, self.decorrelate = (h, w), decorrelate
        fy = torch.fft.fftfreq(h)[:, None]
        fx = torch.fft.rfftfreq(w)[None, :]
        freqs = (fy.pow(2) + fx.pow(2)).sqrt()
        self.scale = 1.0 / freqs.clamp_min(1.0 / max(h, w)).pow(decay)
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        self.spectrum = (sd * torch.randn(n, c, h, w // 2 + 1, 2, generator=gen)).requires_grad_(True)

    def parameters(self) -> list[torch.Tensor]:
        return [self.spectrum]

    def image(self) -> torch.Tensor:
        """The current image ``(N,C,H,W)`` in [0,1]."""
        spec = torch.view_as_complex(self.spectrum) * self.scale
        img = torch.fft.irfft2(spec, s=self.size, norm="ortho") / 4  # /4: sigmoid starts near-linear
        if self.decorrelate:
            colors = _COLOR_SQRT_COV.to(img.device)
            colors = colors / colors.norm(dim=0).max()
            img = torch.einsum("ij,njhw->nihw", colors, img)
        return torch.sigmoid(img)

    def to(self, device: torch.device) -> "FourierImage":
        self.spectrum = self.spectrum.detach().to(device).requires_grad_(True)
        self.scale = self.scale.to(device)
        return self

    def constrain(self) -> None:
        """Nothing to do: the sigmoid already keeps pixels in [0,1]."""


# --------------------------------------------------------------------------- transforms
# Each transform is a plain (N,C,H,W) -> (N,C,H,W) function, random per call, differentiable.
def jitter(d: int) -> Transform:
    """Shift the image by up to ``d`` pixels in x and y (circularly), a new shift each step."""

    def fn(x: torch.Tensor) -> torch.Tensor:
        dy, dx = random.randint(-d, d), random.randint(-d, d)
        return torch.roll(x, shifts=(dy, dx), dims=(2, 3))

    return fn


def pad(k: int, value: float = 0.5) -> Transform:
    """Pad by ``k`` pixels of constant ``value`` so jitter and rotation do not wrap the border."""
    return lambda x: F.pad(x, (k, k, k, k), value=value)


def random_scale(scales: Sequence[float]) -> Transform:
    """Resize by a factor drawn from ``scales`` (bilinear)."""

    def fn(x: torch.Tensor) -> torch.Tensor:
        s = random.choice(list(scales))
        if s == 1:
            return x
        return F.interpolate(x, scale_factor=s, mode="bilinear", align_corners=False)

    return fn


def random_rotate(degrees: Sequence[float]) -> Transform:
    """Rotate by an angle drawn from ``degrees`` about the image centre (bilinear, border repeated)."""

    def fn(x: torch.Tensor) -> torch.Tensor:
        angle = math.radians(random.choice(list(degrees)))
        cos, sin = math.cos(angle), math.sin(angle)
        theta = torch.tensor([[cos, -sin, 0.0], [sin, cos, 0.0]], dtype=x.dtype, device=x.device)
        grid = F.affine_grid(theta.expand(x.shape[0], 2, 3), list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    return fn


def compose(transforms: Sequence[Transform]) -> Transform:
    """Chain transforms left to right."""
    transforms = list(transforms)

    def fn(x: torch.Tensor) -> torch.Tensor:
        for t in transforms:
            x = t(x)
        return x

    return fn


def standard_transforms(size: int = 128) -> Transform:
    """Pad, jitter, scale ±5 %, rotate ±5°, jitter again: robustness that keeps the image natural.

    Jitter distances grow with ``size`` (8 px at 128 px), following Lucid's defaults.
    """
    k = max(1, round(size / 16))
    return compose([pad(k), jitter(k), random_scale([0.95, 0.975, 1.0, 1.025, 1.05]),
                    random_rotate(range(-5, 6)), jitter(max(1, k // 2))])


# --------------------------------------------------------------------------- step operations
StepOp = Callable[[int, object], None]


def _pixels_of(param, what: str) -> torch.Tensor:
    if not isinstance(param, PixelImage):
        raise ValueError(f"{what} edits pixels, so it needs PixelImage, not {type(param).__name__}")
    return param.pixels


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur ``(N,C,H,W)`` with a separable Gaussian of standard deviation ``sigma`` pixels (reflect padding)."""
    radius = max(1, int(math.ceil(3 * sigma)))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-0.5 * (t / sigma) ** 2)
    kernel = kernel / kernel.sum()
    c = x.shape[1]
    x = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    x = F.conv2d(x, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def blur_every(k: int, sigma: float = 0.5) -> StepOp:
    """Blur the pixels every ``k`` steps: a cheap prior against high frequencies (Yosinski et al. 2015)."""

    @torch.no_grad()
    def op(step: int, param) -> None:
        if sigma > 0 and (step + 1) % k == 0:
            pixels = _pixels_of(param, "blur_every")
            pixels.copy_(gaussian_blur(pixels, sigma))

    return op


def clip_pixels() -> StepOp:
    """Keep pixels in [0,1] (PixelImage already does this; listed for completeness)."""
    return lambda step, param: param.constrain()


def project_linf(x0: torch.Tensor, eps: float) -> StepOp:
    """Keep the pixels within ``eps`` of ``x0`` in every pixel (L∞ ball) and inside [0,1]."""
    x0 = x0.detach()

    @torch.no_grad()
    def op(step: int, param) -> None:
        pixels = _pixels_of(param, "project_linf")
        ref = x0.to(pixels.device)
        pixels.copy_(torch.maximum(torch.minimum(pixels, ref + eps), ref - eps).clamp_(0, 1))

    return op


# --------------------------------------------------------------------------- optimizers
class NormalizedGradient(torch.optim.Optimizer):
    """Plain gradient steps of size ``lr`` divided by the mean absolute gradient (DeepDream's step).

    Normalizing makes the step size mean the same thing at every layer and every octave.
    """

    def __init__(self, params, lr: float = 0.01):
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad / p.grad.abs().mean().clamp_min(1e-8), alpha=-group["lr"])
        return loss


def make_optimizer(optimizer: str | Callable, params: list[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    """Build the optimizer by name ("adam", "sgd", "lbfgs", "normalized") or call a factory ``f(params, lr)``."""
    if callable(optimizer):
        return optimizer(params, lr)
    choices = {
        "adam": lambda: torch.optim.Adam(params, lr=lr),
        "sgd": lambda: torch.optim.SGD(params, lr=lr, momentum=0.9),
        # one L-BFGS iteration per step keeps the progress bar and the callback per step
        "lbfgs": lambda: torch.optim.LBFGS(params, lr=lr, max_iter=1, history_size=20),
        "normalized": lambda: NormalizedGradient(params, lr=lr),
    }
    if optimizer not in choices:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {sorted(choices)} or pass a factory")
    return choices[optimizer]()


# --------------------------------------------------------------------------- the loop
class Result(NamedTuple):
    """What ``optimize_image`` returns: ``image`` ``(N,C,H,W)`` pixels in [0,1] on the CPU, ``history`` per step."""

    image: torch.Tensor
    history: list[float]


class _StopForward(Exception):
    """Raised by a hook once every layer the objective needs has been computed."""


def takes_pixels(model: nn.Module) -> bool:
    """True when ``model`` wants pixels in [0,1] (FashionNet, adversarial.pixel_input) rather than ImageNet-normalized input."""
    return bool(getattr(model, "takes_pixels", False))


def _imagenet_normalize(x: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(IMAGENET_MEAN, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
    return (x - mean) / std


def optimize_image(
    model: nn.Module,
    objective: Objective,
    param: PixelImage | FourierImage,
    steps: int = 80,
    lr: float = 0.05,
    optimizer: str | Callable = "adam",
    transforms: Transform | Sequence[Transform] | None = None,
    step_ops: Sequence[StepOp] = (),
    normalize: bool | None = None,
    callback: Callable[[int, torch.Tensor], None] | None = None,
    progress: bool = True,
    seed: int | None = 0,
) -> Result:
    """Change ``param``'s image to maximize ``objective`` for ``steps`` optimizer steps.

    Each step: image = param.image() → transforms → (ImageNet normalization unless the model
    takes pixels) → model, recording only the layers the objective names and stopping the
    forward pass once they are all computed; then one optimizer step on ``-objective``, then
    the param's own constraint and each of ``step_ops``. ``callback(step, image)`` sees every
    step's image (for live display). Ctrl-C stops early and returns what was reached.
    ``seed`` fixes the random transforms (Python's ``random`` state is restored afterwards).
    """
    if not isinstance(objective, Objective):
        raise TypeError(f"objective must be an optim.Objective (e.g. optim.class_logit(281)), not {type(objective).__name__}")
    if isinstance(transforms, (list, tuple)):
        transforms = compose(transforms)
    normalize = (not takes_pixels(model)) if normalize is None else normalize
    wanted = [name for name in objective.layers if name not in ("logits", "image", "input")]
    needs_logits = "logits" in objective.layers
    modules = {name: get_layer(model, name) for name in wanted}  # unknown names fail before any work
    acts: Acts = {}

    def make_hook(name: str):
        def hook(_module, _inputs, output):
            acts[name] = output
            if not needs_logits and all(n in acts for n in wanted):
                raise _StopForward  # nothing after this layer matters: skip the rest of the network

        return hook

    history: list[float] = []
    rng_state = random.getstate()
    handles = []
    with frozen_eval(model) as device:
        param.to(device)
        opt = make_optimizer(optimizer, param.parameters(), lr)

        def closure() -> torch.Tensor:
            opt.zero_grad()
            acts.clear()
            image = param.image()
            x = transforms(image) if transforms is not None else image
            if normalize:
                x = _imagenet_normalize(x)
            try:
                acts["logits"] = model(x)
            except _StopForward:
                pass
            acts.update(image=image, input=x)
            loss = -objective(acts)
            loss.backward()
            return loss

        try:
            if seed is not None:
                random.seed(seed)
            for name, module in modules.items():
                handles.append(module.register_forward_hook(make_hook(name)))
            bar = tqdm(range(steps), desc=str(objective)[:40], disable=not progress, leave=False)
            for step in bar:
                loss = opt.step(closure)
                with torch.no_grad():
                    param.constrain()
                    for op in step_ops:
                        op(step, param)
                history.append(-float(loss.detach()))
                if progress and step % 10 == 0:
                    bar.set_postfix(objective=f"{history[-1]:.3g}")
                if callback is not None:
                    callback(step, param.image().detach())
        except KeyboardInterrupt:
            warnings.warn(f"interrupted after {len(history)} of {steps} steps; returning the image reached so far")
        finally:
            for handle in handles:
                handle.remove()
            random.setstate(rng_state)
            acts.clear()
    with torch.no_grad():
        image = param.image().detach().cpu()
    return Result(image, history)


# --------------------------------------------------------------------------- techniques
@torch.no_grad()
def class_probability(model: nn.Module, image: torch.Tensor, target: int) -> float:
    """The softmax probability of ``target`` for ``image`` ``(1,C,H,W)`` in [0,1] (normalized as the model needs)."""
    with frozen_eval(model) as device:
        x = image.to(device)
        if not takes_pixels(model):
            x = _imagenet_normalize(x)
        return float(F.softmax(model(x), dim=1)[0, target])


def high_frequency_fraction(image: torch.Tensor, cutoff: float = 0.25) -> float:
    """The share of an image's spectral energy (mean removed) above ``cutoff`` cycles/pixel (Nyquist = 0.5).

    About 0.8 for white noise, near 0 for smooth images: one number for "how noisy does it look".
    """
    x = image.detach().float()
    x = x - x.mean(dim=(-2, -1), keepdim=True)
    power = torch.fft.fft2(x).abs().pow(2)
    h, w = x.shape[-2:]
    radius = (torch.fft.fftfreq(h)[:, None].pow(2) + torch.fft.fftfreq(w)[None, :].pow(2)).sqrt()
    return float(power[..., radius > cutoff].sum() / power.sum().clamp_min(1e-12))


def input_channels(model: nn.Module) -> int:
    """The number of input channels the model's first convolution expects (3 for photos, 1 for FashionNet)."""
    first = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    return first.in_channels if first is not None else 3


def _start_image(model: nn.Module, size: int, fourier: bool, seed: int) -> PixelImage | FourierImage:
    """A fresh parameterized image of the model's channel count, square ``size``."""
    c = input_channels(model)
    shape = (1, c, size, size)
    return FourierImage(shape, seed=seed, decorrelate=c == 3) if fourier else PixelImage(shape, seed=seed)


def class_visualization(model: nn.Module, target: int, steps: int = 80, size: int = 128, seed: int = 0,
                        lr: float = 0.05, l2_weight: float = 0.0, tv_weight: float = 0.0, blur_sigma: float = 0.0,
                        blur_every_k: int = 4, jitter_px: int = 0, fourier: bool = False,
                        softmax: bool = False, transforms: Transform | None = None,
                        progress: bool = True, callback=None) -> torch.Tensor:
    """Return a ``(1,C,size,size)`` image in [0,1] that makes ``model`` score class ``target`` highly.

    Gradient ascent on the class logit (or its log-probability if ``softmax``) from noise,
    with optional L2 and total-variation penalties, blur every ``blur_every_k`` steps, jitter,
    or the Fourier parameterization (Simonyan et al. 2014; Yosinski et al. 2015; Olah et al. 2017).
    """
    objective = class_log_prob(target) if softmax else class_logit(target)
    if l2_weight:
        objective = objective - l2_weight * l2()
    if tv_weight:
        objective = objective - tv_weight * total_variation()
    param = _start_image(model, size, fourier, seed)
    if transforms is None and jitter_px:
        transforms = jitter(jitter_px)
    ops = [blur_every(blur_every_k, blur_sigma)] if blur_sigma else []
    return optimize_image(model, objective, param, steps=steps, lr=lr, transforms=transforms, step_ops=ops,
                          progress=progress, callback=callback, seed=seed).image


def channel_visualization(model: nn.Module, layer: str, index: int, steps: int = 80, size: int = 128,
                          seed: int = 0, sign: int = +1, lr: float = 0.05, fourier: bool = True,
                          transforms: Transform | None = None, progress: bool = True) -> torch.Tensor:
    """Return a ``(1,C,size,size)`` image in [0,1] that maximizes (``sign=+1``) or minimizes (-1) a channel."""
    if sign not in (1, -1):
        raise ValueError("sign must be +1 (maximize) or -1 (minimize)")
    objective = channel(layer, index) if sign == 1 else -channel(layer, index)
    param = _start_image(model, size, fourier, seed)
    transforms = standard_transforms(size) if transforms is None else transforms
    return optimize_image(model, objective, param, steps=steps, lr=lr, transforms=transforms,
                          progress=progress, seed=seed).image


def layer_features(model: nn.Module, layer: str, pixels: torch.Tensor, normalize: bool | None = None) -> torch.Tensor:
    """Return ``layer``'s activation (detached) for ``pixels`` ``(N,C,H,W)`` in [0,1], normalized as the loop does."""
    acts: dict = {}
    normalize = (not takes_pixels(model)) if normalize is None else normalize

    def hook(_m, _i, out):
        acts["out"] = out.detach()
        raise _StopForward

    handle = get_layer(model, layer).register_forward_hook(hook)
    try:
        with torch.no_grad(), frozen_eval(model) as device:
            x = pixels.to(device)
            try:
                model(_imagenet_normalize(x) if normalize else x)
            except _StopForward:
                pass
    finally:
        handle.remove()
    return acts["out"]


def feature_error(model: nn.Module, layer: str, image: torch.Tensor, reference: torch.Tensor) -> float:
    """The relative feature error ``‖φ(image) − φ(reference)‖ / ‖φ(reference)‖`` at ``layer``."""
    a, b = layer_features(model, layer, image), layer_features(model, layer, reference)
    return float((a - b).norm() / b.norm().clamp_min(1e-12))


def invert_features(model: nn.Module, layer: str, image: torch.Tensor, steps: int = 200, lr: float = 0.05,
                    tv_weight: float = 30.0, jitter_px: int = 0, seed: int = 0, progress: bool = True,
                    callback=None) -> torch.Tensor:
    """Return pixels ``(1,3,H,W)`` whose ``layer`` features match those of ``image`` (pixels in [0,1]).

    Mahendran & Vedaldi (2015): minimize the relative feature error plus a total-variation
    prior, starting from noise.
    """
    target = layer_features(model, layer, image)
    objective = feature_match(layer, target)
    if tv_weight:
        objective = objective - tv_weight * total_variation()
    param = PixelImage(tuple(image.shape), seed=seed)
    return optimize_image(model, objective, param, steps=steps, lr=lr,
                          transforms=jitter(jitter_px) if jitter_px else None,
                          progress=progress, callback=callback, seed=seed).image


def deep_dream(model: nn.Module, image: torch.Tensor, layer: str, octaves: int = 4, scale: float = 1.4,
               steps_per_octave: int = 20, step_size: float = 0.01, jitter_px: int = 16,
               channel_index: int | None = None, seed: int = 0, progress: bool = True) -> torch.Tensor:
    """Return ``image`` ``(1,3,H,W)`` in [0,1] with whatever ``layer`` sees amplified (Mordvintsev et al. 2015).

    Runs from the smallest octave (``image`` shrunk by ``scale**(octaves-1)``) to full size;
    at each octave, normalized gradient steps on ``‖layer‖²`` (or one channel's mean) with
    jitter, and the detail added so far is carried up to the next octave.
    """
    if image.dim() != 4 or image.min() < 0 or image.max() > 1:
        raise ValueError("deep_dream wants pixels (1,3,H,W) in [0,1]; use images.to_tensor()")
    objective = layer_norm(layer) if channel_index is None else channel(layer, channel_index)
    h, w = image.shape[-2:]
    sizes = [(max(8, round(h / scale ** i)), max(8, round(w / scale ** i))) for i in reversed(range(octaves))]
    detail = torch.zeros_like(image[..., : sizes[0][0], : sizes[0][1]])
    bar = tqdm(sizes, desc=f"DeepDream {layer}", disable=not progress, leave=False)
    for octave, size in enumerate(bar):
        base = F.interpolate(image, size=size, mode="bilinear", align_corners=False, antialias=True)
        detail = F.interpolate(detail, size=size, mode="bilinear", align_corners=False)
        param = PixelImage(init=(base + detail).clamp(0, 1))
        dreamed = optimize_image(model, objective, param, steps=steps_per_octave, lr=step_size,
                                 optimizer="normalized", transforms=jitter(jitter_px), progress=False,
                                 seed=seed + octave).image  # a fresh jitter sequence per octave
        detail = dreamed - base
    return (base + detail).clamp(0, 1)


def style_transfer(model: nn.Module, content: torch.Tensor, style: torch.Tensor, content_layer: str,
                   style_layers: Sequence[str], content_weight: float = 1.0, style_weight: float = 1e3,
                   tv_weight: float = 0.0, steps: int = 100, lr: float = 1.0, optimizer: str = "lbfgs",
                   init: str = "content", seed: int = 0, progress: bool = True, callback=None) -> Result:
    """Return the ``Result`` of making an image with ``content``'s layout and ``style``'s textures (Gatys et al. 2016).

    ``content`` and ``style`` are pixels ``(1,3,H,W)`` in [0,1] (sizes may differ). The
    objective is ``-content_weight·feature error - style_weight·Σ Gram error`` over
    ``style_layers``. Set ``content_weight=0`` for texture synthesis and ``style_weight=0``
    for a plain content reconstruction; ``init`` is "content" or "noise".
    """
    parts = []
    if content_weight:
        parts.append(content_weight * feature_match(content_layer, layer_features(model, content_layer, content)))
    for layer in style_layers if style_weight else ():
        parts.append(style_weight * gram_match(layer, gram_matrix(layer_features(model, layer, style))))
    if tv_weight:
        parts.append(-tv_weight * total_variation())
    if not parts:
        raise ValueError("both weights are zero: nothing to optimize")
    objective = sum(parts)
    if init == "content":
        param = PixelImage(init=content)
    elif init == "noise":
        param = PixelImage(tuple(content.shape), seed=seed)
    else:
        raise ValueError(f"init must be 'content' or 'noise', not {init!r}")
    return optimize_image(model, objective, param, steps=steps, lr=lr, optimizer=optimizer,
                          progress=progress, callback=callback, seed=seed)
