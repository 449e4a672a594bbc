"""``garment_quiz``: label test garments yourself, then compare your accuracy and confusions with the network's.

After Karpathy's "What I learned from competing against a ConvNet on ImageNet" (2014), for
Fashion-MNIST (notebook 14). One garment at a time, ten class buttons; each click records the
answer and shows the next garment. At the end (or on **show results** once one is answered) the
learner's accuracy and confusion matrix are shown beside the model's *on the same images*, with the
published crowd baseline as a reference. Computing and showing are separate: ``quiz_results`` is a
pure function, ``quiz.results()`` returns a ``QuizResults`` at any time, and a test answers by calling
``quiz.buttons[k].click()``, as the mouse would.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image

from ..images import deprocess
from .explorer import figure_png, in_range

__all__ = [
    "CROWD_ACCURACY",
    "GarmentQuiz",
    "QuizResults",
    "confusion_matrix",
    "garment_quiz",
    "quiz_figure",
    "quiz_results",
]

#: Human accuracy on Fashion-MNIST from the dataset's own benchmark table (zalandoresearch/fashion-mnist README):
#: crowd-sourced, people with no fashion expertise, 1000 random test images, 3 labels each, majority vote.
CROWD_ACCURACY = 0.835
CROWD_SOURCE = "crowd of non-experts, majority of 3 labels on 1000 test images (Fashion-MNIST's benchmark)"


def confusion_matrix(truth: torch.Tensor, predicted: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Return the ``(K,K)`` int64 counts: row = true class, column = the class given (both ``(N,)`` ints in 0..K-1)."""
    truth, predicted = torch.as_tensor(truth).long().flatten(), torch.as_tensor(predicted).long().flatten()
    if truth.shape != predicted.shape:
        raise ValueError(f"truth has {truth.numel()} labels but predicted has {predicted.numel()}: pass one each")
    for what, t in (("truth", truth), ("predicted", predicted)):
        if t.numel() and (int(t.min()) < 0 or int(t.max()) >= num_classes):
            raise ValueError(
                f"{what} must be class indices in 0..{num_classes - 1}, got {int(t.min())}..{int(t.max())}"
            )
    return torch.bincount(truth * num_classes + predicted, minlength=num_classes * num_classes).view(
        num_classes, num_classes
    )


@dataclass(frozen=True)
class QuizResults:
    """What a quiz run gave: the questions answered, in order, and the learner's and the model's scores on them.

    ``questions``: indices into the quiz's images; ``answers``, ``truth`` and ``model``: the learner's
    answer, the label and the model's prediction for each. Accuracies are NaN while nothing is
    answered. Confusion matrices are ``(K,K)`` int64 counts, row = true class, column = the answer.
    """

    questions: tuple[int, ...]
    answers: tuple[int, ...]
    truth: tuple[int, ...]
    model: tuple[int, ...]
    learner_accuracy: float
    model_accuracy: float
    agreement: float  # share of answered images where the learner and the model gave the same class
    learner_confusion: torch.Tensor
    model_confusion: torch.Tensor
    class_names: tuple[str, ...]
    total: int  # questions in the quiz, answered or not
    crowd_accuracy: float = CROWD_ACCURACY

    @property
    def answered(self) -> int:
        """How many questions have an answer."""
        return len(self.answers)

    def summary(self, model_name: str = "the model") -> str:
        """One line: the learner's score, the model's on the same images, the crowd baseline."""
        if not self.answered:
            return f"no answers yet (0 of {self.total}); crowd baseline {self.crowd_accuracy:.3f}"
        n = self.answered
        you, net = (
            sum(a == t for a, t in zip(self.answers, self.truth)),
            sum(m == t for m, t in zip(self.model, self.truth)),
        )
        return (
            f"you: {you} of {n} right (accuracy {self.learner_accuracy:.3f}); {model_name} on the same {n}: "
            f"{net} of {n} ({self.model_accuracy:.3f}); you agreed with it on {self.agreement:.0%}; "
            f"crowd baseline {self.crowd_accuracy:.3f}"
        )


def quiz_results(
    answers: Sequence[int],
    labels: torch.Tensor,
    model_predictions: torch.Tensor,
    class_names: Sequence[str],
    crowd_accuracy: float = CROWD_ACCURACY,
) -> QuizResults:
    """Score ``answers`` (the learner's classes for questions 0, 1, ... in order) against ``labels`` ``(N,)``.

    The model is scored on the same questions only: its ``model_predictions`` ``(N,)`` for the first
    ``len(answers)`` images.
    """
    k, total = len(class_names), len(labels)
    if len(answers) > total:
        raise ValueError(f"{len(answers)} answers for a quiz of {total} questions: at most one answer per question")
    n = len(answers)
    given = torch.as_tensor(list(answers), dtype=torch.long)
    truth, model = torch.as_tensor(labels[:n]).long(), torch.as_tensor(model_predictions[:n]).long()
    learner_cm, model_cm = confusion_matrix(truth, given, k), confusion_matrix(truth, model, k)

    def share(hits: torch.Tensor) -> float:
        return int(hits.sum()) / n if n else math.nan

    return QuizResults(
        questions=tuple(range(n)),
        answers=tuple(int(a) for a in given),
        truth=tuple(int(t) for t in truth),
        model=tuple(int(m) for m in model),
        learner_accuracy=share(given == truth),
        model_accuracy=share(model == truth),
        agreement=share(given == model),
        learner_confusion=learner_cm,
        model_confusion=model_cm,
        class_names=tuple(class_names),
        total=total,
        crowd_accuracy=crowd_accuracy,
    )


def quiz_figure(results: QuizResults, model_name: str = "model") -> Figure:
    """Accuracy bars (you, the model, the crowd line) beside the two confusion matrices on one colour scale."""
    fig = Figure(figsize=(16, 5.2), layout="constrained")  # not pyplot's: nothing to leave open
    bars, *matrices = fig.subplots(1, 3, width_ratios=[0.7, 1, 1])
    accuracies = [results.learner_accuracy, results.model_accuracy]
    shown = [0.0 if math.isnan(a) else a for a in accuracies]
    bars.bar(["you", model_name], shown, color=["#e08a3c", "#3b75af"])
    for x, a in enumerate(accuracies):
        bars.text(x, (0 if math.isnan(a) else a) + 0.02, "–" if math.isnan(a) else f"{a:.2f}", ha="center", fontsize=12)
    bars.axhline(results.crowd_accuracy, color="k", linestyle="--", linewidth=1.2)
    crowd = f"crowd\n{results.crowd_accuracy:.3f}"  # beside the axes, never over a bar
    bars.text(1.02, results.crowd_accuracy, crowd, transform=bars.get_yaxis_transform(), va="center", fontsize=10)
    bars.set_ylim(0, 1.1)
    bars.set_ylabel("accuracy")
    bars.set_title(f"accuracy on the {results.answered} images you answered")
    top = max(1, int(results.learner_confusion.max()), int(results.model_confusion.max()))
    k = len(results.class_names)
    for ax, cm, who in zip(matrices, (results.learner_confusion, results.model_confusion), ("you", model_name)):
        im = ax.imshow(cm.numpy(), cmap="viridis", vmin=0, vmax=top)
        for (r, c), count in np.ndenumerate(cm.numpy()):
            if count:
                ax.text(c, r, str(count), ha="center", va="center", color="k" if count > top / 2 else "w")
        ax.set_xticks(range(k), results.class_names, rotation=45, ha="right")
        ax.set_yticks(range(k), results.class_names)
        ax.set_xlabel(f"answer ({who})")
        ax.set_ylabel("true class")
        ax.set_title(f"confusion matrix: {who}")
    fig.colorbar(im, ax=matrices, shrink=0.8, label="images", ticks=MaxNLocator(integer=True))
    return fig


def _garment_png(image: torch.Tensor, side: int) -> bytes:
    """One image ``(1,C,H,W)`` as PNG bytes, enlarged by a whole factor to about ``side`` px (crisp pixels)."""
    arr = (deprocess(image) * 255).round().astype(np.uint8)
    img = Image.fromarray(arr)
    factor = max(1, round(side / max(img.size)))
    buffer = io.BytesIO()
    img.resize((img.width * factor, img.height * factor), Image.Resampling.NEAREST).save(buffer, format="png")
    return buffer.getvalue()


class GarmentQuiz(widgets.VBox):
    """One garment, one button per class, a progress line; then the learner's results beside the model's.

    ``answers``: the classes clicked so far, one per question in order. ``results()``: a
    ``QuizResults`` at any time. ``answer(k)`` does what a click on button ``k`` does.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        class_names: Sequence[str],
        model_predictions: torch.Tensor,
        model_name: str,
        crowd_accuracy: float,
        side: int,
    ):
        self.images, self.labels, self.model_predictions = images, labels, model_predictions
        self.class_names, self.model_name, self.crowd_accuracy = tuple(class_names), model_name, crowd_accuracy
        self.answers: list[int] = []
        self.error: str | None = None
        self.exception: BaseException | None = None
        self._side = side
        self.progress = widgets.HTML()
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="auto", height="auto"))
        self.buttons = [
            widgets.Button(description=name, tooltip=f"answer: {name}", layout=widgets.Layout(width="auto"))
            for name in self.class_names
        ]
        for k, button in enumerate(self.buttons):
            button.on_click(lambda _button, k=k: self._clicked(k))
        self.results_button = widgets.Button(description="show results", icon="bar-chart", disabled=True)
        self.results_button.on_click(lambda _button: self._clicked(None))
        self.status = widgets.HTML()  # an error, in red
        self.summary = widgets.HTML()
        self.results_image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
        self.results_image.layout.display = "none"
        grid = widgets.GridBox(
            self.buttons, layout=widgets.Layout(grid_template_columns="repeat(5, 9.5em)", grid_gap="4px")
        )
        question = widgets.HBox([self.image, widgets.VBox([grid, self.results_button, self.status])])
        super().__init__([self.progress, question, self.summary, self.results_image])
        self._showing_results = False
        self._show_question()

    @property
    def done(self) -> bool:
        """True once every question has an answer."""
        return len(self.answers) == len(self.labels)

    def answer(self, k: int) -> QuizResults:
        """Record class ``k`` as the answer to the current question, move on, and return the results so far."""
        if self.done:
            raise ValueError(f"all {len(self.labels)} questions are answered; make a new quiz to play again")
        k = in_range("answer", k, 0, len(self.class_names) - 1, f"there are {len(self.class_names)} classes")
        self.answers.append(int(k))
        self._show_question()  # first: the next garment shows even if drawing the results fails
        if self.done or self._showing_results:
            self.show_results()
        return self.results()

    def results(self) -> QuizResults:
        """The learner's and the model's scores on the questions answered so far."""
        return quiz_results(self.answers, self.labels, self.model_predictions, self.class_names, self.crowd_accuracy)

    def show_results(self) -> QuizResults:
        """Show the accuracies and confusion matrices of the questions answered so far (at least one)."""
        r = self.results()
        if not r.answered:
            raise ValueError("answer at least one question first: there is nothing to score yet")
        self.results_image.value = figure_png(quiz_figure(r, self.model_name))
        self.results_image.layout.display = None
        self.summary.value = html.escape(r.summary(self.model_name)) + (
            f"<br><small>crowd: {html.escape(CROWD_SOURCE)}</small>" if r.crowd_accuracy == CROWD_ACCURACY else ""
        )
        self._showing_results = True
        return r

    def _clicked(self, k: int | None) -> None:
        try:
            if k is None:
                self.show_results()
            else:
                self.answer(k)
        except Exception as err:  # said in red under the buttons, never a traceback in the log
            self.error, self.exception = f"{type(err).__name__}: {err}".removesuffix(": "), err
            self.status.value = f"<span style='color:#b00020'>{html.escape(self.error)}</span>"
        else:
            self.error = self.exception = None
            self.status.value = ""

    def _show_question(self) -> None:
        n, total = len(self.answers), len(self.labels)
        self.results_button.disabled = n == 0
        for button in self.buttons:
            button.disabled = self.done
        if self.done:
            self.image.layout.display = "none"  # the last garment stays out of the way of the results
            self.progress.value = f"<b>all {total} questions answered</b>: your results are below"
            return
        self.image.value = _garment_png(self.images[n : n + 1], self._side)
        self.progress.value = f"<b>question {n + 1} of {total}</b>: which class is this garment?"

    def _repr_mimebundle_(self, **kwargs) -> dict:
        # the live quiz when a kernel runs; elsewhere (GitHub, nbviewer) the current garment or the results, still
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = (
            f"garment quiz ({len(self.answers)} of {len(self.labels)} answered): run the notebook to play"
        )
        png = self.results_image.value if self._showing_results else self.image.value
        if png:
            still = io.BytesIO()
            Image.open(io.BytesIO(png)).convert("RGB").save(still, format="jpeg", quality=85)
            bundle["image/jpeg"] = base64.b64encode(still.getvalue()).decode("ascii")
        return bundle


def _class_indices(what: str, values, n: int, k: int, fix: str) -> torch.Tensor:
    """``values`` as an ``(n,)`` int64 tensor of class indices in 0..k-1, or a ValueError that says what is wrong."""
    t = torch.as_tensor(values)
    if t.dtype == torch.bool or t.is_floating_point() or t.is_complex():
        raise ValueError(f"{what} must be integer class indices, got {t.dtype}{fix}")
    if t.shape != (n,):
        raise ValueError(f"{what} must have shape ({n},), one per image, got {tuple(t.shape)}")
    t = t.long()
    if n and (int(t.min()) < 0 or int(t.max()) >= k):
        raise ValueError(
            f"{what} must be class indices in 0..{k - 1} (there are {k} class names), "
            f"got values {int(t.min())}..{int(t.max())}"
        )
    return t


def garment_quiz(
    images: torch.Tensor,
    labels: torch.Tensor,
    class_names: Sequence[str],
    model_predictions: torch.Tensor,
    model_name: str = "FashionNet",
    crowd_accuracy: float = CROWD_ACCURACY,
    side: int = 224,
) -> GarmentQuiz:
    """A quiz: label ``images`` yourself, then see your accuracy and confusions beside the model's (notebook 14).

    ``images``: ``(N,1,H,W)`` (or ``(N,H,W)``, ``(N,3,H,W)``) pixels in [0,1], shown one at a time,
    in order, enlarged by a whole factor to about ``side`` px. ``labels``: ``(N,)`` true classes.
    ``class_names``: one per class (one button each). ``model_predictions``: the model's ``(N,)``
    classes, or its ``(N,K)`` scores (argmax taken). ``crowd_accuracy``: the human reference line
    (Fashion-MNIST's published crowd accuracy by default).
    """
    if isinstance(class_names, str) or not isinstance(class_names, Sequence):
        raise ValueError(f"class_names must be a list of names, one per class, not {type(class_names).__name__}")
    names = [str(c) for c in class_names]
    if len(names) < 2 or len(set(names)) != len(names):
        raise ValueError(f"class_names needs at least 2 distinct names (one button each), got {names}")
    k = len(names)
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"images must be a tensor (N,1,H,W) of pixels in [0,1], not {type(images).__name__}")
    x = images.detach().cpu()
    if x.dim() == 3:
        x = x[:, None]
    if x.dim() != 4 or x.shape[1] not in (1, 3) or x.shape[0] == 0 or min(x.shape[2:]) < 1:
        raise ValueError(f"images must be (N,1,H,W), (N,H,W) or (N,3,H,W) with N >= 1, got {tuple(images.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"images must be float pixels in [0,1], got {x.dtype}; for 0-255 values use x.float() / 255")
    if not bool(torch.isfinite(x).all()) or float(x.min()) < 0 or float(x.max()) > 1:
        raise ValueError(
            f"images must be finite pixels in [0,1], got values {float(x.min()):.3g}..{float(x.max()):.3g}; "
            "pass the dataset's images (course_utils.data.fashion_mnist) or clamp them"
        )
    n = x.shape[0]
    y = _class_indices("labels", labels, n, k, "; pass the dataset's labels (torch.long)")
    predictions = torch.as_tensor(model_predictions).detach().cpu()
    if predictions.dim() == 2:
        if predictions.shape != (n, k):
            raise ValueError(
                f"model_predictions as scores must be (N,K) = ({n},{k}) (one row per image, one score per class "
                f"name), got {tuple(predictions.shape)}"
            )
        predictions = predictions.argmax(1)
    p = _class_indices(
        "model_predictions", predictions, n, k, "; pass predicted classes (logits.argmax(1)) or (N,K) scores"
    )
    in_range("crowd_accuracy", crowd_accuracy, 0, 1, "an accuracy", integer=False)
    in_range("side", side, 28, 1024, "the garment's size on screen in px")
    return GarmentQuiz(x.float(), y, names, p, str(model_name), float(crowd_accuracy), int(side))
