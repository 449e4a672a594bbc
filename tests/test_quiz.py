"""The garment quiz (course_utils.widgets.quiz): click its buttons as a learner would and check the scores,
the confusion matrices and what it shows against a hand computation; bad input is refused with a clear message."""

import matplotlib

matplotlib.use("Agg")

import io  # noqa: E402
import math  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from course_utils import widgets as W  # noqa: E402
from course_utils.widgets import CROWD_ACCURACY, confusion_matrix, garment_quiz, quiz_figure  # noqa: E402

NAMES = ["a", "b", "c", "d"]
LABELS = torch.tensor([0, 1, 2, 3, 1, 2])
MODEL = torch.tensor([0, 1, 1, 3, 3, 0])  # right on questions 0, 1, 3: 3 of 6
CLICKS = [0, 2, 2, 3, 0, 2]  # right on questions 0, 2, 3, 5: 4 of 6; the same class as the model on 0 and 3
IMAGES = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0))
EXACT = {"rtol": 0.0, "atol": 1e-12}  # ratios of small counts: exact up to float rounding


@pytest.fixture(autouse=True)
def no_figure_left_open():
    plt.close("all")
    yield
    left = plt.get_fignums()
    plt.close("all")
    assert not left, "the quiz left a matplotlib figure open"


def quiz(**kwargs):
    return garment_quiz(IMAGES, LABELS, NAMES, MODEL, **kwargs)


def click_all(q, answers):
    for k in answers:
        q.buttons[k].click()


def test_a_full_run_scores_the_learner_and_the_model_on_the_same_images_as_by_hand():
    q = quiz()
    click_all(q, CLICKS)
    r = q.results()
    assert q.done and r.answered == r.total == 6 and q.error is None
    assert r.answers == tuple(CLICKS) and r.truth == tuple(LABELS.tolist()) and r.model == tuple(MODEL.tolist())
    torch.testing.assert_close(r.learner_accuracy, 4 / 6, **EXACT)
    torch.testing.assert_close(r.model_accuracy, 3 / 6, **EXACT)
    torch.testing.assert_close(r.agreement, 2 / 6, **EXACT)
    # row = true class, column = the answer, counted by hand from LABELS, CLICKS and MODEL above
    learner = torch.tensor([[1, 0, 0, 0], [1, 0, 1, 0], [0, 0, 2, 0], [0, 0, 0, 1]])
    model = torch.tensor([[1, 0, 0, 0], [0, 1, 0, 1], [1, 1, 0, 0], [0, 0, 0, 1]])
    torch.testing.assert_close(r.learner_confusion, learner, rtol=0, atol=0)
    torch.testing.assert_close(r.model_confusion, model, rtol=0, atol=0)
    assert r.crowd_accuracy == CROWD_ACCURACY == 0.835


def test_results_part_way_score_the_model_only_on_the_questions_answered():
    q = quiz()
    click_all(q, CLICKS[:2])  # questions 0 and 1: the learner 1 of 2, the model 2 of 2 (3 of 6 on all)
    q.results_button.click()
    r = q.results()
    assert r.answered == 2 and r.questions == (0, 1) and q.error is None
    torch.testing.assert_close(r.learner_accuracy, 1 / 2, **EXACT)
    torch.testing.assert_close(r.model_accuracy, 1.0, **EXACT)
    expected = torch.zeros(4, 4, dtype=torch.long)
    expected[0, 0] = expected[1, 2] = 1
    torch.testing.assert_close(r.learner_confusion, expected, rtol=0, atol=0)
    assert int(r.model_confusion.sum()) == 2 and int(r.model_confusion.trace()) == 2
    assert "1 of 2 right" in q.summary.value and "2 of 2" in q.summary.value and "0.835" in q.summary.value
    first = bytes(q.results_image.value)
    assert first.startswith(b"\x89PNG") and q.results_image.layout.display != "none"
    q.buttons[CLICKS[2]].click()  # once shown, the results follow each new answer
    assert q.results().answered == 3 and "2 of 3 right" in q.summary.value and bytes(q.results_image.value) != first


def test_progress_line_garment_and_buttons_follow_the_clicks():
    q = quiz()
    assert "question 1 of 6" in q.progress.value and q.results_button.disabled
    assert q.results_image.layout.display == "none" and not q.summary.value
    shown = [bytes(q.image.value)]
    for step, k in enumerate(CLICKS, start=1):
        q.buttons[k].click()
        if step < 6:
            assert f"question {step + 1} of 6" in q.progress.value
            shown.append(bytes(q.image.value))
        assert not q.results_button.disabled
    assert len(set(shown)) == 6, "each question must show its own garment"
    assert "all 6 questions answered" in q.progress.value
    assert all(b.disabled for b in q.buttons), "a finished quiz takes no more answers"
    assert "4 of 6 right" in q.summary.value and "3 of 6" in q.summary.value, "the results show at the end"
    q.buttons[0].click()  # a click that slipped through: said in red, nothing recorded
    assert q.results().answered == 6 and "all 6 questions are answered" in q.error
    assert "b00020" in q.status.value and "4 of 6 right" in q.summary.value, "the error beside the results"


def test_a_failure_while_drawing_the_results_is_said_in_red_and_the_answers_stay(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(W.quiz, "quiz_figure", broken)
    q = quiz()
    click_all(q, CLICKS)  # the last click draws the results, which fails
    assert q.error == "RuntimeError: drawing failed" and "drawing failed" in q.status.value
    assert q.done and "all 6 questions answered" in q.progress.value and q.results().answered == 6


def test_the_garment_is_enlarged_by_a_whole_factor_with_crisp_pixels():
    q = quiz(side=224)
    shown = np.asarray(Image.open(io.BytesIO(q.image.value)).convert("L"), dtype=np.int64)
    assert shown.shape == (224, 224)
    expected = (IMAGES[0, 0].numpy() * 255).round().astype(np.int64)
    np.testing.assert_array_equal(shown[::8, ::8], expected)
    blocks = shown.reshape(28, 8, 28, 8)
    assert (blocks == blocks[:, :1, :, :1]).all(), "every 8x8 block must be one pixel of the garment"


def test_scores_are_turned_into_classes_and_match_class_indices():
    scores = torch.nn.functional.one_hot(MODEL, 4).float() * 3 + 0.1 * torch.rand(6, 4)
    q, q_scores = quiz(), garment_quiz(IMAGES, LABELS, NAMES, scores)
    click_all(q, CLICKS)
    click_all(q_scores, CLICKS)
    assert q_scores.results().model == q.results().model == tuple(MODEL.tolist())


def test_nothing_answered_gives_nan_accuracies_and_show_results_says_what_to_do():
    q = quiz()
    r = q.results()
    assert r.answered == 0 and math.isnan(r.learner_accuracy) and math.isnan(r.model_accuracy)
    assert int(r.learner_confusion.sum()) == 0 and "no answers yet" in r.summary()
    with pytest.raises(ValueError, match="answer at least one question"):
        q.show_results()
    q.results_button.click()  # disabled in the browser; if called anyway, a red message and no results
    assert "answer at least one question" in q.error and "answer at least one" in q.status.value
    assert q.results_image.layout.display == "none"
    q.buttons[1].click()  # the next valid click clears the message
    assert q.error is None and not q.status.value and q.results().answered == 1


def test_answer_refuses_a_class_that_does_not_exist():
    q = quiz()
    with pytest.raises(ValueError, match=r"answer=4 is out of range: pick one in 0\.\.3"):
        q.answer(4)
    assert q.answers == []


def test_confusion_matrix_matches_a_count_by_hand():
    g = torch.Generator().manual_seed(3)
    truth, given = torch.randint(0, 5, (200,), generator=g), torch.randint(0, 5, (200,), generator=g)
    counted = torch.zeros(5, 5, dtype=torch.long)
    for t, p in zip(truth.tolist(), given.tolist()):
        counted[t, p] += 1
    cm = confusion_matrix(truth, given, 5)
    torch.testing.assert_close(cm, counted, rtol=0, atol=0)
    assert int(cm.trace()) == int((truth == given).sum()) and not torch.equal(cm, cm.T), "orientation is tested"
    with pytest.raises(ValueError, match="class indices in 0..4"):
        confusion_matrix(torch.tensor([5]), torch.tensor([0]), 5)


def test_the_results_figure_and_the_still_for_a_notebook_without_kernel():
    q = quiz()
    click_all(q, CLICKS[:3])
    fig = quiz_figure(q.results(), "FashionNet")
    assert len(fig.axes) == 4  # accuracy bars, two matrices, one shared colorbar
    bars, you, net = fig.axes[:3]
    assert [round(p.get_height(), 6) for p in bars.patches] == [round(2 / 3, 6), round(2 / 3, 6)]
    assert any(line.get_ydata()[0] == CROWD_ACCURACY for line in bars.lines), "the crowd baseline line"
    assert you.images[0].get_clim() == net.images[0].get_clim(), "one colour scale for both matrices"
    bundle = q._repr_mimebundle_()
    assert "3 of 6 answered" in bundle["text/plain"] and "image/jpeg" in bundle


def test_package_exports_the_quiz():
    for name in W.quiz.__all__:
        assert name in W.__all__ and getattr(W, name) is getattr(W.quiz, name), name


BAD_INPUTS = [
    ({"images": torch.rand(6, 2, 28, 28)}, r"images must be \(N,1,H,W\)"),
    ({"images": torch.rand(0, 1, 28, 28), "labels": LABELS[:0], "model_predictions": MODEL[:0]}, "N >= 1"),
    ({"images": IMAGES.numpy()}, "images must be a tensor"),
    ({"images": IMAGES * 255}, r"pixels in \[0,1\], got values"),
    ({"images": torch.full((6, 1, 28, 28), float("nan"))}, "finite pixels"),
    ({"images": (IMAGES * 255).to(torch.uint8)}, "float pixels"),
    ({"labels": LABELS[:5]}, r"labels must have shape \(6,\)"),
    ({"labels": torch.tensor([0, 1, 2, 4, 1, 2])}, r"labels must be class indices in 0\.\.3 .*got values 0\.\.4"),
    ({"labels": torch.tensor([0, 1, 2, -1, 1, 2])}, r"labels must be class indices in 0\.\.3"),
    ({"labels": LABELS.float()}, "labels must be integer class indices"),
    ({"model_predictions": MODEL[:4]}, r"model_predictions must have shape \(6,\)"),
    ({"model_predictions": torch.rand(6, 10)}, r"must be \(N,K\) = \(6,4\)"),
    ({"model_predictions": MODEL + 1}, r"model_predictions must be class indices in 0\.\.3"),
    ({"class_names": NAMES[:3]}, r"labels must be class indices in 0\.\.2 \(there are 3 class names\)"),
    ({"class_names": "abcd"}, "class_names must be a list"),
    ({"class_names": ["a", "a", "c", "d"]}, "at least 2 distinct names"),
    ({"crowd_accuracy": 83.5}, r"crowd_accuracy=83\.5 is out of range"),
    ({"side": 4}, r"side=4 is out of range"),
]


@pytest.mark.parametrize("change, message", BAD_INPUTS, ids=[str(i) for i in range(len(BAD_INPUTS))])
def test_bad_input_is_refused_with_what_was_wrong(change, message):
    arguments = {"images": IMAGES, "labels": LABELS, "class_names": NAMES, "model_predictions": MODEL} | change
    with pytest.raises(ValueError, match=message):
        garment_quiz(**arguments)
