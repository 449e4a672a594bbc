"""Saliency maps: which input pixels does a class score depend on? Taught in notebook 06.

Every method here is a gradient of one class score ``model(x)[n, target[n]]`` with respect to
the input, computed in a different way:

- ``gradient``: the plain gradient (Simonyan et al. 2014);
- ``deconvnet`` and ``guided_backprop``: the gradient with each ReLU's backward rule changed
  (Zeiler & Fergus 2014; Springenberg et al. 2015), via ``hooks.relu_gradient_rule``;
- ``smoothgrad``: the gradient averaged over noisy copies of the input (Smilkov et al. 2017);
- ``integrated_gradients``: (x - baseline) times the gradient averaged along the straight
  path from the baseline to x (Sundararajan et al. 2017);
- ``grad_cam``: a layer's activations weighted by their spatially averaged gradients
  (Selvaraju et al. 2017), and ``guided_grad_cam``, its product with guided backprop.

Numerics equal Captum's ``Saliency(abs=False)``, ``Deconvolution``, ``GuidedBackprop``,
``NoiseTunnel(Saliency)`` (smoothgrad), ``IntegratedGradients``, ``LayerGradCam(relu_attributions=True)``
and ``GuidedGradCam`` (see tests/test_attribution.py). Two differences: Captum's guided
backprop/deconvnet only change ``nn.ReLU``; ours also change ``nn.ReLU6`` (EfficientNet-Lite0),
whose guided rule passes a positive gradient where 0 < input < 6. And our "riemann_trapezoid"
integration is the textbook rule (weights sum to 1); Captum's weights sum to (n-1)/n.
(Sums over many path points depend slightly on the chunking, since some conv kernels round
differently per batch size: compare with Captum at equal chunks.)

Every function takes the device from the model, runs it in eval mode with frozen parameters,
restores each module's train/eval mode and each parameter's ``requires_grad`` afterwards,
removes its hooks also when an exception is raised, and never leaves ``.grad`` on ``x``.
Inputs are checked first (``core.as_model_input``): float pixels (float64 is cast to the model's
float32; uint8 is refused with the fix ``x.float() / 255``), no NaN/Inf. Targets go through
``core.resolve_targets``: indices, one per image or one for all, or class names ("tabby").
"""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .core import Target, as_model_input, check_count, check_finite, frozen_eval, resolve_targets
from .hooks import Layer, did_not_run, get_layer, hooked, relu_gradient_rule


# --------------------------------------------------------------------------- shared plumbing
def _check_input(x: torch.Tensor, model: nn.Module) -> torch.Tensor:
    """Check ``x`` (N,C,H,W) float pixels, no NaN/Inf; return it in the model's dtype (float64 -> float32)."""
    return as_model_input(x, model)


def _class_scores(logits: torch.Tensor, target: Target, model: nn.Module | None = None) -> torch.Tensor:
    """Return ``logits[n, target[n]]`` for each row n, as an ``(N,)`` tensor (class names looked up for ``model``)."""
    t = resolve_targets(target, logits.shape[0], logits.shape[1], model=model).to(logits.device)
    return logits.gather(1, t[:, None])[:, 0]


def _input_gradient(model: nn.Module, x: torch.Tensor, target: Target) -> torch.Tensor:
    """Return d sum_n model(x)[n, target[n]] / dx on a fresh leaf copy of x (x itself gets no .grad)."""
    leaf = x.detach().clone().requires_grad_(True)
    scores = _class_scores(model(leaf.clone()), target, model)  # the clone lets a first in-place ReLU modify its input
    (grad,) = torch.autograd.grad(scores.sum(), leaf)  # images are independent in eval mode
    return grad


def _progress(total: int, show: bool | None, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False, disable=not (total >= 4 if show is None else show))


def _as_baseline(baseline: torch.Tensor | float, x: torch.Tensor) -> torch.Tensor:
    """Return a number or a tensor broadcastable to ``x`` as a tensor the shape of ``x`` (no NaN, no graph)."""
    if not isinstance(baseline, (int, float, torch.Tensor)) or isinstance(baseline, bool):
        raise TypeError(f"baseline must be a number (0.0 = black) or a tensor, not {type(baseline).__name__}")
    base = torch.as_tensor(baseline, dtype=x.dtype, device=x.device).detach()
    check_finite(base, "baseline")
    try:
        return base.expand_as(x)
    except RuntimeError:
        raise ValueError(
            f"baseline of shape {tuple(base.shape)} does not broadcast to the input's shape {tuple(x.shape)}; "
            "pass a number (0.0 = black) or a tensor of the input's shape"
        ) from None


# --------------------------------------------------------------------------- the ReLU-rule family
def gradient(model: nn.Module, x: torch.Tensor, target: Target) -> torch.Tensor:
    """Return the input gradient of the target score, ``(N,C,H,W)`` like x (Captum ``Saliency(abs=False)``)."""
    x = _check_input(x, model)
    with frozen_eval(model):
        return _input_gradient(model, x, target)


def deconvnet(model: nn.Module, x: torch.Tensor, target: Target) -> torch.Tensor:
    """Return the deconvnet map: ReLUs pass back only positive gradients, ``(N,C,H,W)`` (Captum ``Deconvolution``)."""
    x = _check_input(x, model)
    with frozen_eval(model), relu_gradient_rule(model, "deconvnet"):
        return _input_gradient(model, x, target)


def guided_backprop(model: nn.Module, x: torch.Tensor, target: Target) -> torch.Tensor:
    """Return guided backprop: ReLUs pass back positive gradients where their input was positive, ``(N,C,H,W)``."""
    x = _check_input(x, model)
    with frozen_eval(model), relu_gradient_rule(model, "guided"):
        return _input_gradient(model, x, target)


# --------------------------------------------------------------------------- averaged gradients
def smoothgrad(
    model: nn.Module,
    x: torch.Tensor,
    target: Target,
    samples: int = 25,
    noise_level: float = 0.15,
    batch_size: int = 16,
    generator: torch.Generator | None = None,
    progress: bool | None = None,
) -> torch.Tensor:
    """Return the gradient averaged over ``samples`` noisy copies of x, ``(N,C,H,W)``.

    The noise is Gaussian with std ``noise_level * (max - min)`` of each image (Smilkov et al.
    use 10-20 %). Noisy copies go through the model ``batch_size`` at a time, drawn (image-major)
    from ``generator`` or, if None, from torch's global generator on the model's device -- the
    same draws as Captum's ``NoiseTunnel(Saliency).attribute(nt_type="smoothgrad",
    nt_samples_batch_size=batch_size)`` after the same ``torch.manual_seed``.
    """
    x = _check_input(x, model)
    samples = check_count(samples, "samples", what="noisy copies to average")
    batch_size = check_count(batch_size, "batch_size")
    if not (isinstance(noise_level, (int, float, np.floating)) and 0 <= noise_level < math.inf):
        raise ValueError(
            f"noise_level must be a number >= 0 (a share of the pixel range, e.g. 0.15), got {noise_level}"
        )
    n = x.shape[0]
    with frozen_eval(model) as dev:
        targets = resolve_targets(target, n, model=model)  # the class range is checked against the logits later
        sigma = noise_level * (x.flatten(1).amax(1) - x.flatten(1).amin(1))  # (N,)
        total = torch.zeros_like(x)
        bar = _progress(math.ceil(samples / batch_size), progress, "smoothgrad")
        with bar:
            for start in range(0, samples, batch_size):
                k = min(batch_size, samples - start)
                shape = (n * k, *x.shape[1:])
                if generator is None:
                    noise = torch.randn(shape, device=dev)
                else:
                    noise = torch.randn(shape, generator=generator, device=generator.device).to(dev)
                noisy = x.repeat_interleave(k, 0) + noise * sigma.repeat_interleave(k).view(-1, 1, 1, 1)
                t = targets.repeat_interleave(k)
                total += _input_gradient(model, noisy, t).view(n, k, *x.shape[1:]).sum(1)
                bar.update()
        return total / samples


def path_nodes(steps: int, method: str = "gausslegendre") -> tuple[list[float], list[float]]:
    """Return (alphas, weights) to integrate over [0, 1] with ``steps`` points: Gauss-Legendre or trapezoid rule."""
    steps = check_count(steps, "steps", minimum=2, what="integrated gradients needs at least 2 points on the path")
    if method == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(steps)  # on [-1, 1]
        return (0.5 * (nodes + 1)).tolist(), (0.5 * weights).tolist()
    if method == "riemann_trapezoid":
        h = 1.0 / (steps - 1)
        return torch.linspace(0, 1, steps).tolist(), [h / 2] + [h] * (steps - 2) + [h / 2]
    raise ValueError(
        f"unknown integration method {method!r}; choose 'gausslegendre' (Captum's default) or 'riemann_trapezoid'"
    )


def integrated_gradients(
    model: nn.Module,
    x: torch.Tensor,
    target: Target,
    baseline: torch.Tensor | float = 0.0,
    steps: int = 50,
    method: str = "gausslegendre",
    batch_size: int = 16,
    progress: bool | None = None,
) -> torch.Tensor:
    """Return (x - baseline) * the path-averaged gradient from baseline to x, ``(N,C,H,W)``.

    The path integral uses ``steps`` points of ``method`` ("gausslegendre", Captum's default,
    or the textbook "riemann_trapezoid" = Captum's * n/(n-1)), ``batch_size`` path points at a time.
    ``baseline`` is a number or a tensor broadcastable to x; the default 0.0 is a black image.
    The attributions over pixels sum to about model(x) - model(baseline) for the target.
    """
    x = _check_input(x, model)
    batch_size = check_count(batch_size, "batch_size")
    alphas, weights = path_nodes(steps, method)
    n = x.shape[0]
    with frozen_eval(model) as dev:
        base = _as_baseline(baseline, x)  # no graph into the result
        targets = resolve_targets(target, n, model=model)  # the class range is checked against the logits later
        total = torch.zeros_like(x)
        bar = _progress(math.ceil(steps / batch_size), progress, "integrated gradients")
        with bar:
            for start in range(0, steps, batch_size):
                a, w = alphas[start : start + batch_size], weights[start : start + batch_size]
                path = torch.cat([base + alpha * (x - base) for alpha in a])  # step-major: (k*N, C, H, W)
                grads = _input_gradient(model, path, targets.repeat(len(a))).view(len(a), n, *x.shape[1:])
                total += (grads * torch.tensor(w, device=dev).view(-1, 1, 1, 1, 1)).sum(0)
                bar.update()
        return total * (x - base)


# --------------------------------------------------------------------------- class activation maps
def grad_cam(model: nn.Module, x: torch.Tensor, target: Target, layer: Layer) -> torch.Tensor:
    """Return Grad-CAM at ``layer``: ReLU(sum_c mean_hw(dscore/dA_c) * A_c), ``(N,h,w)`` at the layer's resolution.

    Equals Captum ``LayerGradCam(model, layer).attribute(x, target, relu_attributions=True)[:, 0]``.
    Upsample it with ``upsample_map`` to lay it over the image. ``layer``: a name or the submodule itself.
    """
    x = _check_input(x, model)
    module = get_layer(model, layer)
    store: dict[str, torch.Tensor] = {}

    def keep_output(_module, _inputs, output):
        if not isinstance(output, torch.Tensor) or output.dim() != 4:
            raise ValueError(f"layer {layer!r} must output a (N,C,h,w) feature map for Grad-CAM")
        store["act"] = output
        return output.clone()  # a later in-place op (ResNet's ReLU(inplace=True), +=) must not change what we keep

    with frozen_eval(model):
        leaf = x.clone().requires_grad_(True)  # gives the layer's output a graph
        with hooked(forward=[(module, keep_output)]):
            logits = model(leaf.clone())  # the clone lets a first in-place ReLU modify its input
        if "act" not in store:
            raise did_not_run(model, layer)
        act = store["act"]
        (grads,) = torch.autograd.grad(_class_scores(logits, target, model).sum(), act)
        weights = grads.mean(dim=(2, 3), keepdim=True)  # one weight per channel
        return F.relu((weights * act).sum(dim=1)).detach()


def upsample_map(cam: torch.Tensor, size: tuple[int, int], mode: str = "bilinear") -> torch.Tensor:
    """Resize ``(N,h,w)`` maps to ``(N,H,W)`` = ``size`` ("nearest" is what Captum's GuidedGradCam uses)."""
    extra = {"align_corners": False} if mode in ("bilinear", "bicubic") else {}
    return F.interpolate(cam[:, None], size=tuple(size), mode=mode, **extra)[:, 0]


def guided_grad_cam(
    model: nn.Module, x: torch.Tensor, target: Target, layer: Layer, interpolate: str = "nearest"
) -> torch.Tensor:
    """Return guided backprop times the upsampled Grad-CAM map, ``(N,C,H,W)`` (Captum ``GuidedGradCam``)."""
    cam = upsample_map(grad_cam(model, x, target, layer), (x.shape[2], x.shape[3]), interpolate)
    return guided_backprop(model, x, target) * cam[:, None]


METHODS = (
    "gradient",
    "deconvnet",
    "guided_backprop",
    "smoothgrad",
    "integrated_gradients",
    "grad_cam",
    "guided_grad_cam",
)


def saliency_2d(attribution: torch.Tensor) -> torch.Tensor:
    """Reduce ``(N,C,H,W)`` attributions to ``(N,H,W)`` importance: |a| summed over channels.

    ``(N,h,w)`` maps (Grad-CAM) pass through unchanged.
    """
    if attribution.dim() == 3:
        return attribution.detach()
    if attribution.dim() != 4:
        raise ValueError(f"expected (N,C,H,W) or (N,h,w) attributions, got {tuple(attribution.shape)}")
    return attribution.detach().abs().sum(1)


def relu_backward_rules(x: torch.Tensor, grad_output: torch.Tensor) -> dict[str, torch.Tensor]:
    """Return what one ReLU passes back for forward input ``x`` and incoming ``grad_output`` under each rule.

    Keys: "gradient" (the ordinary backward), "deconvnet" and "guided". For the toy table of notebook 06.
    """
    relu = nn.ReLU()
    passed = {}
    for rule in ("gradient", "deconvnet", "guided"):
        leaf = x.detach().clone().requires_grad_(True)
        if rule == "gradient":
            out = relu(leaf)
        else:
            with relu_gradient_rule(relu, rule):
                out = relu(leaf)
        (passed[rule],) = torch.autograd.grad(out, leaf, grad_output)
    return passed


# --------------------------------------------------------------------------- arrays to look at
def _finite_scale(values: np.ndarray, percentile: float, what: str) -> float:
    """Return the ``percentile`` of the finite ``values`` (0.0 if none is above 0); NaN/Inf entries are left out.

    Non-finite entries get a ``RuntimeWarning`` (they stay NaN in the result: a gap in the figure);
    a map with no finite value at all raises a ``ValueError``.
    """
    if isinstance(percentile, bool) or not isinstance(percentile, (int, float)) or not 0 <= percentile <= 100:
        raise ValueError(f"percentile must be a number in [0, 100] (99 clips the top 1 %), got {percentile!r}")
    finite = np.isfinite(values)
    if not finite.any():
        raise ValueError(f"the {what} holds no finite value (all NaN/Inf): check the input image and the model")
    if not finite.all():
        warnings.warn(
            f"{what}: {int((~finite).sum())} of {finite.size} values are NaN/Inf; they are left out of the scale "
            "and shown as gaps (NaN)",
            RuntimeWarning,
            stacklevel=3,
        )
    return float(np.percentile(values[finite], percentile))


def as_heat(attribution: torch.Tensor, percentile: float = 99.0) -> np.ndarray:
    """Return one map as an ``(H,W)`` array in [0,1]: |a| summed over channels, clipped at ``percentile``.

    NaN/Inf entries stay NaN (gaps, with a warning) and do not change the scale of the rest.
    """
    heat = saliency_2d(attribution if attribution.dim() in (3, 4) else attribution[None])[0].float().cpu().numpy()
    heat = np.where(np.isfinite(heat), heat, np.nan)
    top = _finite_scale(heat, percentile, "heat map")
    return np.clip(heat / top, 0, 1) if top > 0 else np.where(np.isnan(heat), np.nan, 0.0).astype(heat.dtype)


def as_rgb(attribution: torch.Tensor, percentile: float = 99.0) -> np.ndarray:
    """Return one ``(1,3,H,W)``/``(3,H,W)`` attribution as an ``(H,W,3)`` image in [0,1], grey = 0.

    That is the guided-backprop look of Springenberg et al. NaN/Inf entries stay NaN (with a warning).
    """
    a = attribution.detach().float().cpu()
    a = a[0] if a.dim() == 4 else a
    a = torch.where(torch.isfinite(a), a, torch.nan)
    top = _finite_scale(a.abs().numpy(), percentile, "attribution")
    scaled = a / top if top > 0 else a * 0
    return (0.5 + 0.5 * scaled.clamp(-1, 1)).movedim(0, -1).numpy()


class _ReLU6AsReLU(nn.ReLU):
    """ReLU6 disguised as nn.ReLU, so that Captum's guided backprop / deconvnet override it too."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(x, inplace=self.inplace)


def captum_compatible(model: nn.Module) -> nn.Module:
    """Return a copy of ``model`` whose ReLU6 modules Captum treats as ReLUs (Captum overrides nn.ReLU only).

    Same function and weights; used to compare our ReLU6 rules with Captum's (tests, bench).
    """
    model = copy.deepcopy(model)
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if type(child) is nn.ReLU6:
                setattr(module, name, _ReLU6AsReLU(inplace=child.inplace))
    return model


def occlusion(model: nn.Module, x: torch.Tensor, target: Target, *args, **kwargs) -> torch.Tensor:
    """Return the sliding-occluder map of ``course_utils.occlusion.occlusion`` (notebook 05; listed here too)."""
    from .occlusion import occlusion as occlusion_map  # its own module: notebook 05

    return occlusion_map(model, x, target, *args, **kwargs)
