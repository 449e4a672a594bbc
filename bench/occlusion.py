"""Time course_utils' batched occlusion against Captum's Occlusion on the same 224-px input.

    python bench/occlusion.py            # EfficientNet-Lite0, window 32, stride 8 (625 windows)
    python bench/occlusion.py --stride 16

Prints one table: seconds per map, speed-up of ours over each Captum setting, and the largest
difference between the maps (they must be equal up to float32 rounding).
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import torch
from captum.attr import Occlusion

from course_utils.images import load_image, preprocess
from course_utils.models import load_model
from course_utils.occlusion import occlusion


def timed(fn):
    """Return ``(result, seconds)`` of one call."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="chelsea")
    parser.add_argument("--window", type=int, default=32)
    parser.add_argument("--stride", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=8, help="ours: occluded copies per forward pass")
    parser.add_argument("--per-eval", type=int, default=64, help="batched Captum: perturbations_per_eval")
    args = parser.parse_args()

    model = load_model("efficientnet_lite0", device="cpu")
    x = preprocess(load_image(args.image), size=224)
    with torch.no_grad():
        target = int(model(x).argmax())
    w, s = args.window, args.stride
    n_windows = ((224 - w + s - 1) // s + 1) ** 2
    print(f"EfficientNet-Lite0, {args.image} 224x224, window {w}, stride {s}: {n_windows} occluded copies")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}, "
          f"load average {os.getloadavg()[0]:.2f}")

    def captum(per_eval: int) -> torch.Tensor:
        with torch.no_grad():
            return Occlusion(model).attribute(x, target=target, sliding_window_shapes=(3, w, w), strides=s,
                                              baselines=0.0, perturbations_per_eval=per_eval)

    runs = {
        f"ours (batch_size={args.batch_size})":
            lambda: occlusion(model, x, target, w, s, batch_size=args.batch_size, progress=False),
        f"Captum (perturbations_per_eval={args.per_eval})": lambda: captum(args.per_eval),
        "Captum default (perturbations_per_eval=1)": lambda: captum(1),
    }
    maps, seconds = {}, {}
    for name, fn in runs.items():
        maps[name], seconds[name] = timed(fn)
        print(f"  {name}: {seconds[name]:.1f} s", flush=True)

    ours = next(iter(runs))
    print(f"\n| method | seconds | ours is faster by | max abs difference to ours |")
    print("| --- | ---: | ---: | ---: |")
    for name in runs:
        diff = (maps[name].float() - maps[ours].float()).abs().max().item()
        print(f"| {name} | {seconds[name]:.1f} | {seconds[name] / seconds[ours]:.2f}x | {diff:.2e} |")
    scale = maps[ours].abs().max().item()
    for name in runs:
        torch.testing.assert_close(maps[name].float(), maps[ours].float(), rtol=1e-4, atol=1e-4 * scale)
    print(f"\nmaps equal up to float32 rounding (largest |attribution| {scale:.3f})")


if __name__ == "__main__":
    main()
