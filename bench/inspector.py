"""Time the network inspector: how long a finished stroke or a new image takes to answer.

    python bench/inspector.py            # about half a minute on a 2-core CPU

For FashionNet (28x28, layer relu1 and relu3) and EfficientNet-Lite0 (224 px, conv_stem: 32 maps of
112x112, and blocks.3), prints the best of ``REPEATS`` times of: ``draw_stroke`` (rasterize the stroke,
one forward and backward pass, every picture and the probability bars, as the mouse's release does),
``select_image`` (a new image), and the bare ``inspect_network`` pass that the pictures are drawn from.
Targets (issue 16): ~0.2 s for FashionNet and ~1 s for EfficientNet-Lite0 on 2 cores.
"""

from __future__ import annotations

import platform
import time

import torch

from course_utils.inspection import inspect_network
from course_utils.models import load_model
from course_utils.widgets import network_inspector

REPEATS = 5
STROKE = [(40.0 + 8 * k, 60.0 + 5 * k) for k in range(25)]  # a slanted line across the 280 px canvas


def best(fn) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def time_layer(model, name: str, layer: str) -> None:
    inspector = network_inspector(model, layer=layer)
    images = list(inspector.images)
    x = inspector.current_input()
    bare = best(lambda: inspect_network(model, x, layer))
    stroke = best(lambda: (inspector.select_image(images[0]), inspector.draw_stroke(STROKE)))
    pick = best(lambda: inspector.select_image(images[1]))
    print(f"{name:19s} {layer:10s} stroke + image {stroke:6.3f} s | new image {pick:6.3f} s | bare pass {bare:6.3f} s")


def main() -> None:
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name, layers in (("fashionnet", ("relu1", "relu3")), ("efficientnet_lite0", ("conv_stem", "blocks.3"))):
        model = load_model(name)
        for layer in layers:
            time_layer(model, name, layer)


if __name__ == "__main__":
    main()
