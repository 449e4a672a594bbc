"""The course on one screen: for each notebook, the question it answers, its techniques, and a thumbnail.

Notebook 00 shows it (``course_map_html()``); the thumbnails are the README's figure strip
(``docs/strip/NN.jpg``, made by ``tools/figure_strip.py`` from the rendered notebooks).
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Stop:
    notebook: str  # file name without extension, e.g. "05_occlusion"
    question: str  # the question a learner brings to it
    techniques: str  # what it teaches to answer it


COURSE_MAP = (
    Stop("00_setup_and_tour", "What is in a model, and how do I look inside one?", "top-5 predictions, forward hooks"),
    Stop("01_weights", "What does the first layer look for?", "filters as pictures, ICA of photo patches"),
    Stop("02_activations", "What does each layer compute for this image?", "activation maps, sparsity, dead units"),
    Stop(
        "03_max_activating_patches",
        "What makes one unit fire?",
        "top-k image patches, receptive fields, guided backprop of one unit",
    ),
    Stop(
        "04_codes_tsne_neighbours", "Which images does the network find alike?", "CNN codes, nearest neighbours, t-SNE"
    ),
    Stop("05_occlusion", "Which part of the image does the network need?", "occlusion sensitivity"),
    Stop(
        "06_saliency",
        "Which pixels is the decision most sensitive to?",
        "gradients, deconvnet, guided backprop, Grad-CAM, SmoothGrad, integrated gradients, sanity checks",
    ),
    Stop(
        "07_class_visualization",
        "What input does a class or unit like most?",
        "activation maximization, priors, Fourier",
    ),
    Stop("08_feature_inversion", "What does a layer remember of the image?", "feature inversion"),
    Stop("09_deepdream", "What does a layer see in any photo, exaggerated?", "DeepDream, octaves"),
    Stop("10_neural_style", "Can content and style be pulled apart?", "Gram matrices, neural style transfer"),
    Stop("11_adversarial", "How easily is the network fooled?", "FGSM, PGD, fooling images"),
    Stop("12_loss_surfaces", "What does the loss look like around a trained network?", "1-D and 2-D loss slices"),
    Stop(
        "13_robust_models",
        "Does a network trained against attacks see more like we do?",
        "adversarial training, perceptually aligned gradients, prior-free class visualization and inversion",
    ),
    Stop(
        "14_what_it_relies_on",
        "What does the network rely on: where things are, which changes hurt, how it compares with me?",
        "feature matching, position probes, accuracy vs image attributes, a human-vs-network quiz",
    ),
)


def _thumbnail(number: str, strip_dir: Path, height: int) -> str:
    path = strip_dir / f"{number}.jpg"
    if not path.exists():
        return "<i>(no thumbnail yet: run tools/figure_strip.py)</i>"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/jpeg;base64,{data}" style="height:{height}px;max-width:none" alt="notebook {number}">'


def course_map_html(strip_dir: Path | str | None = None, height: int = 56) -> str:
    """An HTML table: notebook, question, techniques and thumbnail, one row per notebook.

    The thumbnails are embedded (base64), so the table shows wherever the notebook is opened.
    """
    strip_dir = Path(strip_dir) if strip_dir is not None else ROOT / "docs" / "strip"
    rows = []
    for stop in COURSE_MAP:
        number, title = stop.notebook[:2], stop.notebook[3:].replace("_", " ")
        rows.append(
            "<tr>"
            f'<td style="text-align:left"><a href="{stop.notebook}.ipynb"><b>{number}</b> {html.escape(title)}</a></td>'
            f'<td style="text-align:left">{html.escape(stop.question)}</td>'
            f'<td style="text-align:left">{html.escape(stop.techniques)}</td>'
            f"<td>{_thumbnail(number, strip_dir, height)}</td>"
            "</tr>"
        )
    head = "<tr><th>notebook</th><th>question</th><th>techniques</th><th>what you will see</th></tr>"
    return f'<table style="font-size:90%">{head}{"".join(rows)}</table>'
