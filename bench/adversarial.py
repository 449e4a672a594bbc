"""Time the attacks of notebook 11 and the batched loss-surface evaluation of notebook 12.

    python bench/adversarial.py            # a few seconds to a minute on a 2-core CPU

Prints: seconds per FGSM and per PGD step on FashionNet (against one plain forward+backward of the
same batch, the floor for any gradient attack); seconds to train 10 seeds of a small MLP with
``landscape.train_restarts`` (one vmapped model) against 10 separate runs; and seconds for one 2-D
loss slice evaluated with ``vmap`` (``landscape.loss_slice``) against a Python loop of one forward
per point (same numbers up to float32 rounding), and the same comparison for FashionNet, where
vmapped convolutions lose. Each timing is the best of ``REPEATS`` calls.
"""

from __future__ import annotations

import platform
import time

import torch
import torch.nn.functional as F
from torch.func import functional_call

from course_utils import adversarial, landscape
from course_utils.data import fashion_mnist
from course_utils.models import load_model

REPEATS = 3


def timed(fn):
    """Return ``(result, seconds)``: the result of the last call, the best time of ``REPEATS`` (busy machines)."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return result, best


def forward_backward(model, x, y) -> None:
    """One forward and backward pass w.r.t. the input: the cost floor of one attack step."""
    x = x.clone().requires_grad_(True)
    F.cross_entropy(model(x), y).backward()


def main() -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")
    test = fashion_mnist("test")
    model = load_model("fashionnet", device="cpu")
    x, y = test.images[:200], test.labels[:200]
    _, t_fb = timed(lambda: forward_backward(model, x, y))
    _, t_fgsm = timed(lambda: adversarial.fgsm(model, x, y, 0.1))
    _, t_pgd = timed(lambda: adversarial.pgd(model, x, y, 0.1, steps=5))
    print(
        f"FashionNet, 200 images: forward+backward {t_fb:.2f} s | FGSM {t_fgsm:.2f} s "
        f"| PGD {t_pgd / 5:.2f} s per step ({t_pgd / 5 / t_fb:.1f}x forward+backward)"
    )

    train = fashion_mnist("train")
    xt, yt = landscape.shrink_images(train.images[:2000]), train.labels[:2000]
    seeds = list(range(10))
    _, t_vmap = timed(
        lambda: landscape.train_restarts(lambda: landscape.mlp(16), seeds, xt, yt, epochs=3, progress=False)
    )
    _, t_seq = timed(
        lambda: [
            landscape.train_restarts(lambda: landscape.mlp(16), [s], xt, yt, epochs=3, progress=False) for s in seeds
        ]
    )
    print(
        f"10 seeds of MLP-16, 3 epochs on 2000 images: vmapped {t_vmap:.2f} s | one by one {t_seq:.2f} s "
        f"({t_seq / t_vmap:.1f}x)"
    )

    xs, ys = landscape.shrink_images(test.images[:2000]), test.labels[:2000]
    run = landscape.train_restarts(lambda: landscape.mlp(64), [0], xt, yt, epochs=3, progress=False)
    center, n = landscape.unstack(run.final, 0), 15
    (_, batched), t_batched = timed(lambda: landscape.loss_slice(run.model, center, xs, ys, n=n, progress=False))
    d1, d2 = landscape.filter_normalized_direction(center, 0), landscape.filter_normalized_direction(center, 1)
    coords = torch.linspace(-1, 1, n)

    def loop() -> torch.Tensor:
        out = torch.empty(n, n)
        with torch.no_grad():
            for i, b in enumerate(coords):
                for j, a in enumerate(coords):
                    p = {k: center[k] + a * d1[k] + b * d2[k] for k in center}
                    out[i, j] = F.cross_entropy(functional_call(run.model, p, (xs,)), ys)
        return out

    looped, t_loop = timed(loop)
    print(
        f"MLP-64 loss slice, {n}x{n} points on 2000 images: vmap {t_batched:.2f} s | loop {t_loop:.2f} s "
        f"({t_loop / t_batched:.1f}x) | max difference {float((batched - looped).abs().max()):.1e}"
    )

    start, end = (
        landscape.params_of(load_model("fashionnet", checkpoint="init", device="cpu")),
        landscape.params_of(model),
    )
    points = {k: torch.stack([(1 - a) * start[k] + a * end[k] for a in torch.linspace(0, 1, 8)]) for k in start}
    _, t_conv_loop = timed(lambda: landscape.stacked_losses(model, points, x, y, chunk=1))
    _, t_conv_vmap = timed(lambda: landscape.stacked_losses(model, points, x, y, chunk=8))
    print(
        f"FashionNet, 8 parameter points on 200 images: loop {t_conv_loop:.2f} s | vmap {t_conv_vmap:.2f} s "
        f"(loop is the default for conv nets)"
    )


if __name__ == "__main__":
    main()
