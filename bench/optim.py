"""How much does optim.optimize_image add to one forward + backward pass of the model?

Times, on the same input and in one run: a bare forward + backward to the input pixels, one
step of optimize_image on a class logit (pixels, no transforms), the same with jitter + TV +
blur (the notebook 07 recipe) and with the Fourier parameterization, and a whole 80-step
class visualization at 128 px (issue target: ~15 s or less on 2 cores).

    .venv/bin/python bench/optim.py [--size 128] [--steps 40] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import torch

from course_utils import models, optim


def best_of(fn, repeats: int) -> float:
    """Run ``fn`` ``repeats`` times after one warm-up; return the fastest wall time in seconds."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = models.load_model("efficientnet_lite0")
    pixels = torch.rand(1, 3, args.size, args.size)
    target, n = 130, args.steps

    def bare():
        for _ in range(n):
            x = pixels.clone().requires_grad_(True)
            model(x)[:, target].sum().backward()  # the model normalizes the pixels itself, as in the loop

    def loop(**kw):
        return lambda: optim.optimize_image(
            model,
            kw.pop("objective", optim.class_logit(target)),
            kw.pop("param", None) or optim.PixelImage(init=pixels),
            steps=n,
            progress=False,
            **kw,
        )

    recipe = optim.class_logit(target) - 1e-3 * optim.l2() - 0.1 * optim.total_variation()
    rows = {
        "bare forward+backward": best_of(bare, args.repeats),
        "optimize_image, pixels": best_of(loop(), args.repeats),
        "  + jitter, L2, TV, blur": best_of(
            lambda: optim.optimize_image(
                model,
                recipe,
                optim.PixelImage(init=pixels),
                steps=n,
                transforms=optim.jitter(4),
                step_ops=[optim.blur_every(4, 0.5)],
                progress=False,
            ),
            args.repeats,
        ),
        "optimize_image, Fourier": best_of(
            lambda: optim.optimize_image(
                model,
                optim.class_logit(target),
                optim.FourierImage((1, 3, args.size, args.size)),
                steps=n,
                progress=False,
            ),
            args.repeats,
        ),
    }
    base = rows["bare forward+backward"] / n
    print(f"EfficientNet-Lite0, {args.size} px, {n} steps, {torch.get_num_threads()} threads")
    print(f"{'':28s} {'ms/step':>8s} {'vs bare':>8s}")
    for name, seconds in rows.items():
        print(f"{name:28s} {1000 * seconds / n:8.1f} {seconds / n / base:8.2f}x")
    start = time.perf_counter()
    img = optim.class_visualization(
        model,
        target,
        steps=80,
        size=args.size,
        l2_weight=1e-3,
        tv_weight=0.1,
        jitter_px=4,
        blur_sigma=0.5,
        progress=False,
    )
    elapsed = time.perf_counter() - start
    print(
        f"class_visualization, 80 steps, {args.size} px: {elapsed:.1f} s, "
        f"p(target) = {optim.class_probability(model, img, target):.3f}"
    )


if __name__ == "__main__":
    main()
