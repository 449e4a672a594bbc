"""Time course_utils.attribution against Captum on the same inputs, side by side.

    python bench/saliency.py                  # EfficientNet-Lite0 (trained) and resnet18 (random weights), 224 px
    python bench/saliency.py --size 160 --repeats 3

Prints one table: seconds per call (best of ``--repeats``), Captum / ours ratio (> 1: ours is
faster) and the largest difference between the two maps relative to the map's largest value.
EfficientNet-Lite0's ReLU6 modules are shown to Captum as nn.ReLU subclasses so that its guided
backprop changes them too (it only overrides nn.ReLU). pytorch-grad-cam is timed too when it is
installed (``pip install grad-cam``; not a course requirement), otherwise skipped with a note.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch
import torchvision
from captum.attr import (
    Deconvolution,
    GuidedBackprop,
    GuidedGradCam,
    IntegratedGradients,
    LayerGradCam,
    NoiseTunnel,
    Saliency,
)
from torch import nn

from course_utils import attribution as A
from course_utils.hooks import get_layer
from course_utils.images import load_image, preprocess
from course_utils.models import load_model


def best_time(fn, repeats: int):
    """Return ``(result, best seconds)`` over ``repeats`` calls."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return result, best


def pytorch_grad_cam(model: nn.Module, layer: str, x: torch.Tensor, target: int):
    """Return a callable timing pytorch-grad-cam's GradCAM, or a string saying why it is skipped."""
    try:
        from pytorch_grad_cam import GradCAM
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    except ImportError as err:  # optional: not a course requirement
        return f"pytorch-grad-cam not available ({err.name or err}); pip install grad-cam to include it"
    cam = GradCAM(model=model, target_layers=[get_layer(model, layer)])
    return lambda: torch.as_tensor(cam(input_tensor=x, targets=[ClassifierOutputTarget(target)]))


def bench_model(label: str, model: nn.Module, layer: str, x: torch.Tensor, args) -> list[tuple]:
    with torch.no_grad():
        target = int(model(x).argmax())
    ref_model = A.captum_compatible(model)
    samples, steps, bs = args.samples, args.steps, args.batch_size
    stdev = 0.15 * (x.max() - x.min()).item()

    def smooth_ours():
        torch.manual_seed(0)
        return A.smoothgrad(model, x, target, samples=samples, batch_size=bs, progress=False)

    def smooth_captum():
        torch.manual_seed(0)
        return NoiseTunnel(Saliency(model)).attribute(
            x,
            nt_type="smoothgrad",
            nt_samples=samples,
            stdevs=stdev,
            nt_samples_batch_size=bs,
            target=target,
            abs=False,
        )

    pairs = {
        "gradient": (
            lambda: A.gradient(model, x, target),
            lambda: Saliency(model).attribute(x, target=target, abs=False),
        ),
        "deconvnet": (
            lambda: A.deconvnet(model, x, target),
            lambda: Deconvolution(ref_model).attribute(x, target=target),
        ),
        "guided backprop": (
            lambda: A.guided_backprop(model, x, target),
            lambda: GuidedBackprop(ref_model).attribute(x, target=target),
        ),
        "Grad-CAM": (
            lambda: A.grad_cam(model, x, target, layer),
            lambda: LayerGradCam(model, get_layer(model, layer)).attribute(x, target=target, relu_attributions=True)[
                :, 0
            ],
        ),
        "guided Grad-CAM": (
            lambda: A.guided_grad_cam(model, x, target, layer),
            lambda: GuidedGradCam(ref_model, get_layer(ref_model, layer)).attribute(x, target=target),
        ),
        f"SmoothGrad ({samples})": (smooth_ours, smooth_captum),
        f"integrated grad. ({steps})": (
            lambda: A.integrated_gradients(model, x, target, steps=steps, batch_size=bs, progress=False),
            lambda: IntegratedGradients(model).attribute(x, target=target, n_steps=steps, internal_batch_size=bs),
        ),
    }
    rows = []
    for method, (ours_fn, captum_fn) in pairs.items():
        ours, t_ours = best_time(ours_fn, args.repeats)
        ref, t_ref = best_time(captum_fn, args.repeats)
        diff = ((ours - ref.detach()).abs().max() / ref.abs().max().clamp(min=1e-30)).item()
        rows.append((label, method, t_ours, t_ref, t_ref / t_ours, diff))
    other = pytorch_grad_cam(model, layer, x, target)
    if isinstance(other, str):
        print(f"[{label}] {other}")
    else:
        _, t_other = best_time(other, args.repeats)
        t_ours = next(r[2] for r in rows if r[1] == "Grad-CAM")
        print(
            f"[{label}] pytorch-grad-cam GradCAM: {t_other:.3f} s (ours {t_ours:.3f} s; its map is resized and "
            "min-max scaled, so only the time is compared)"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--samples", type=int, default=16, help="SmoothGrad noisy copies")
    parser.add_argument("--steps", type=int, default=32, help="integrated-gradients path points")
    parser.add_argument("--batch-size", type=int, default=16, help="copies per forward pass (both libraries)")
    args = parser.parse_args()

    x = preprocess(load_image("chelsea"), size=args.size)
    torch.manual_seed(0)
    models = [
        ("EfficientNet-Lite0", load_model("efficientnet_lite0", device="cpu"), "bn2"),
        ("resnet18 (random)", torchvision.models.resnet18(weights=None).eval(), "layer4"),
    ]
    print(
        f"chelsea {args.size}x{args.size}, batch size {args.batch_size}, best of {args.repeats}; "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.machine()}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    rows = []
    for label, model, layer in models:
        rows += bench_model(label, model, layer, x, args)
    print(f"\n{'model':20s} {'method':26s} {'ours s':>8s} {'Captum s':>9s} {'Captum/ours':>12s} {'max rel diff':>13s}")
    for label, method, t_ours, t_ref, ratio, diff in rows:
        print(f"{label:20s} {method:26s} {t_ours:8.3f} {t_ref:9.3f} {ratio:12.2f} {diff:13.1e}")


if __name__ == "__main__":
    main()
