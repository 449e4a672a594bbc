"""Time course_utils' occlusion against Captum's Occlusion on the same 224-px input.

    python bench/occlusion.py               # EfficientNet-Lite0, window 32, stride 8 (625 windows), one round
    python bench/occlusion.py --rounds 3    # on a busy machine: interleave the methods, report median ratios

Prints one table: seconds per map, how many times slower each method is than ours (the default,
which recomputes the layers up to ``blocks.2`` only on a crop around each window), and the largest
difference between the maps (they must be equal up to float32 rounding).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch
from captum.attr import Occlusion

from course_utils.images import load_image, preprocess
from course_utils.models import load_model
from course_utils.occlusion import default_prefix, occlusion


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
    parser.add_argument("--rounds", type=int, default=1, help="run every method this many times, interleaved")
    args = parser.parse_args()

    model = load_model("efficientnet_lite0", device="cpu")
    x = preprocess(load_image(args.image), size=224)
    with torch.no_grad():
        target = int(model(x).argmax())
    w, s = args.window, args.stride
    n_windows = ((224 - w + s - 1) // s + 1) ** 2
    print(f"EfficientNet-Lite0, {args.image} 224x224, window {w}, stride {s}: {n_windows} occluded copies")
    cpu = platform.processor() or platform.machine()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {cpu}, load average {os.getloadavg()[0]:.2f}")

    def captum(per_eval: int) -> torch.Tensor:
        with torch.no_grad():
            return Occlusion(model).attribute(
                x,
                target=target,
                sliding_window_shapes=(3, w, w),
                strides=s,
                baselines=0.0,
                perturbations_per_eval=per_eval,
            )

    def ours(prefix: str | None) -> torch.Tensor:
        return occlusion(model, x, target, w, s, batch_size=args.batch_size, progress=False, prefix=prefix)

    runs = {
        f"ours (crops up to {default_prefix(model)}, batch_size={args.batch_size})": lambda: ours("auto"),
        f"ours, whole images (prefix=None, batch_size={args.batch_size})": lambda: ours(None),
        f"Captum (perturbations_per_eval={args.per_eval})": lambda: captum(args.per_eval),
        "Captum default (perturbations_per_eval=1)": lambda: captum(1),
    }
    maps: dict[str, torch.Tensor] = {}
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for r in range(args.rounds):  # interleaved, so a burst of load from elsewhere hits every method alike
        for name, fn in runs.items():
            maps[name], t = timed(fn)
            seconds[name].append(t)
            print(f"  round {r + 1}: {name}: {t:.1f} s", flush=True)

    first = next(iter(runs))
    print(f"\n| method | seconds (median of {args.rounds}) | times ours | max abs difference to ours |")
    print("| --- | ---: | ---: | ---: |")
    for name in runs:
        # ratio per round, then the median: robust to load that changes between rounds
        ratio = statistics.median(t / t0 for t, t0 in zip(seconds[name], seconds[first]))
        diff = (maps[name].float() - maps[first].float()).abs().max().item()
        print(f"| {name} | {statistics.median(seconds[name]):.1f} | {ratio:.2f}x | {diff:.2e} |")
    scale = maps[first].abs().max().item()
    for name in runs:
        torch.testing.assert_close(maps[name].float(), maps[first].float(), rtol=1e-4, atol=1e-4 * scale)
    print(f"\nmaps equal up to float32 rounding (largest |attribution| {scale:.3f})")


if __name__ == "__main__":
    main()
