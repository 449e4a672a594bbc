"""occluded_probabilities (all classes per window) and the plots of notebook 05: the same numbers as
occlusion(), a hand-built model whose label map is known, the nearest-window lookup, the diverging
overlay centred at 0 with a shared scale, and the label-map legend."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from course_utils.models import load_model  # noqa: E402
from course_utils.occlusion import occlusion  # noqa: E402
from course_utils.occlusion_labels import occluded_probabilities  # noqa: E402
from course_utils.plotting import delta_overlay, heatmap_overlay, label_overlay  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


class HalfBrightness(nn.Module):
    """Logits = 4 * (mean brightness of the left half, of the right half): class 0 = left, class 1 = right."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = x.shape[-1]
        return 4 * torch.stack([x[..., : w // 2].mean(dim=(1, 2, 3)), x[..., w // 2 :].mean(dim=(1, 2, 3))], dim=1)


def tiny_convnet() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 5)
    ).eval()


def test_pixel_maps_are_the_numbers_of_occlusion_probability_for_every_class():
    model, x = tiny_convnet(), torch.rand(1, 3, 12, 10)
    wp = occluded_probabilities(model, x, 4, 3, baseline=0.5)
    assert wp.probs.shape == (len(wp.starts_h), len(wp.starts_w), 5) and wp.starts_h == [0, 3, 6, 9]
    torch.testing.assert_close(wp.probs.sum(-1), torch.ones(wp.probs.shape[:2]))  # each window: one softmax
    for c in range(5):
        ref = occlusion(model, x, c, 4, 3, baseline=0.5, output="probability", progress=False)[0, 0]
        torch.testing.assert_close(wp.pixel_map(c), ref)
        torch.testing.assert_close(wp.delta_map(c), ref - model(x).softmax(1)[0, c])


def test_efficientnet_on_crops_gives_the_same_maps_as_occlusion():
    model = load_model("efficientnet_lite0")
    x = torch.rand(1, 3, 64, 64)
    wp = occluded_probabilities(model, x, 16, 16, baseline=0.3)  # prefix "auto": the crop accelerator
    whole = occluded_probabilities(model, x, 16, 16, baseline=0.3, prefix=None)
    torch.testing.assert_close(wp.probs, whole.probs, atol=1e-5, rtol=1e-4)
    c = int(wp.clean.argmax())
    ref = occlusion(model, x, c, 16, 16, baseline=0.3, output="probability", progress=False)[0, 0]
    torch.testing.assert_close(wp.pixel_map(c), ref, atol=1e-5, rtol=1e-4)


def test_label_map_of_a_hand_built_model_flips_where_the_winning_half_is_hidden():
    x = torch.zeros(1, 3, 8, 8)
    x[..., :4] = 0.6  # left half brighter: class 0 wins on the clean image
    x[..., 4:] = 0.5
    wp = occluded_probabilities(HalfBrightness(), x, 4, 4, baseline=0.0)
    assert int(wp.clean.argmax()) == 0
    # windows on the left half darken it below the right half: class 1 wins there, class 0 elsewhere
    np.testing.assert_array_equal(wp.labels().numpy(), [[1, 0], [1, 0]])
    assert wp.delta_map(0)[:, :4].lt(0).all() and wp.delta_map(1)[:, :4].gt(0).all()
    assert torch.equal(wp.at(1, 1), wp.probs[0, 0]) and torch.equal(wp.at(7, 6), wp.probs[1, 1])
    assert wp.extent() == (0.0, 8.0, 8.0, 0.0)  # centres 2 and 6, cells 4 wide: the grid covers the image


def test_bad_input_is_refused_with_a_readable_message():
    model, x = tiny_convnet(), torch.rand(1, 3, 12, 10)
    with pytest.raises(ValueError, match="one image"):
        occluded_probabilities(model, x.expand(2, -1, -1, -1), 4, 2)
    with pytest.raises(ValueError, match="stride 5 is larger than the window 4"):
        occluded_probabilities(model, x, 4, 5)
    with pytest.raises(ValueError, match="larger than the input"):
        occluded_probabilities(model, x, 11, 2)
    wp = occluded_probabilities(model, x, 4, 4)
    with pytest.raises(ValueError, match="class must be an index 0..4"):
        wp.pixel_map(5)
    with pytest.raises(ValueError, match="outside the 12x10 image"):
        wp.at(12, 0)


def test_delta_overlay_is_centred_at_zero_on_the_shared_scale():
    img, delta = np.zeros((6, 6, 3)), torch.linspace(-0.2, 0.1, 36).view(6, 6)
    fig, axes = plt.subplots(1, 2)
    delta_overlay(img, delta, ax=axes[0])  # own scale: the largest |delta|
    delta_overlay(img, delta / 2, ax=axes[1], limit=0.5)
    own, shared = axes[0].images[1], axes[1].images[1]
    assert own.get_clim() == pytest.approx((-0.2, 0.2)) and shared.get_clim() == (-0.5, 0.5)
    assert own.get_cmap().name == "RdBu_r"
    with pytest.raises(ValueError, match="limit must be a finite number"):
        delta_overlay(img, delta, limit=float("nan"))


def test_delta_overlay_draws_a_colour_photo_in_grey():
    photo = np.zeros((6, 6, 3))
    photo[..., 0] = 1.0  # pure red: drawn in colour it would read as Δp > 0
    fig, axes = plt.subplots(1, 2)
    delta_overlay(photo, torch.zeros(6, 6), ax=axes[0])
    delta_overlay(photo, torch.zeros(6, 6), ax=axes[1], grey=False)
    underlay = axes[0].images[0].get_array()
    assert underlay.ndim == 2 and np.allclose(underlay, 0.299)
    assert axes[1].images[0].get_array().shape == (6, 6, 3)


def test_heatmap_overlay_marks_a_value_on_its_colorbar():
    fig = heatmap_overlay(np.zeros((4, 4)), torch.rand(4, 4), vmin=0, vmax=1, mark=0.3, cmap="viridis")
    bar_ax = fig.axes[-1]
    assert fig.axes[0].images[1].get_clim() == (0, 1)
    assert any(np.allclose(line.get_ydata(), 0.3) for line in bar_ax.lines)


def test_label_overlay_legend_names_the_most_frequent_labels_and_the_rest():
    labels = torch.tensor([[0, 0, 0], [2, 2, 1], [3, 0, 0]])
    fig = label_overlay(np.zeros((30, 30, 3)), labels, ["a", "b", "c", "d"], top=2)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts == ["a (56%)", "c (22%)", "other (22%)"]
    shown = fig.axes[0].images[1].get_array()
    assert shown[0, 0] == 0 and shown[1, 0] == 1 and shown[1, 2] == 2 and shown[2, 0] == 2  # 'other' = colour 2
    with pytest.raises(ValueError, match="class indices 0..3"):
        label_overlay(np.zeros((3, 3)), torch.tensor([[4]]), ["a", "b", "c", "d"])
