"""Scores: cascading randomization leaves the model alone and destroys what it should; deletion /
insertion rank a correct map above a reversed one, fill with the mean colour (or a given pixel value) and
start insertion from the course's one blur, the same in any batch size."""

import numpy as np
import pytest
import torch
from torch import nn

from course_utils import attribution as A
from course_utils import scores as S
from course_utils.images import gaussian_blur
from course_utils.models import load_model


class PatchModel(nn.Module):
    """Class 0's logit is 10 * mean of the top-left 4x4 patch; class 1's is 0."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(10.0))

    def forward(self, x):
        patch = x[:, :, :4, :4].mean(dim=(1, 2, 3))
        return torch.stack([self.scale * patch, torch.zeros_like(patch)], dim=1)


def test_deletion_insertion_prefers_the_right_map():
    model, x = PatchModel(), torch.zeros(1, 3, 8, 8)
    x[:, :, :4, :4] = 1  # a bright patch: blurring it lowers the class score
    right = torch.zeros(1, 8, 8)
    right[:, :4, :4] = 1
    good = S.deletion_insertion(model, x, right, 0, steps=16, blur_sigma=1.0)
    bad = S.deletion_insertion(model, x, 1 - right, 0, steps=16, blur_sigma=1.0)
    assert good["deletion"].shape == (1, 17)
    assert good["deletion"][0, 0] == pytest.approx(torch.sigmoid(torch.tensor(10.0)).item())
    # all 16 patch pixels gone after 16/64 of the image, set to the image's mean colour 16/64: logit 10 * 0.25
    assert good["deletion"][0, 4] == pytest.approx(torch.sigmoid(torch.tensor(2.5)).item())
    black = S.deletion_insertion(model, x, right, 0, steps=16, blur_sigma=1.0, deleted=0.0)
    assert black["deletion"][0, 4] == pytest.approx(0.5)  # black pixels: logit 0
    # insertion starts from images.gaussian_blur(x, blur_sigma) and ends at x
    blurred_patch = gaussian_blur(x, 1.0)[:, :, :4, :4].mean()
    assert blurred_patch < 0.9  # the blur really spread the patch (0.83)
    assert good["insertion"][0, 0] == pytest.approx(torch.sigmoid(10 * blurred_patch).item())
    assert good["insertion"][0, -1] == pytest.approx(good["deletion"][0, 0])
    assert good["deletion_auc"][0] < bad["deletion_auc"][0]
    assert good["insertion_auc"][0] > bad["insertion_auc"][0]


def test_deletion_insertion_batched_equals_one_at_a_time():
    model = load_model("fashionnet")
    x = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    sal = A.gradient(model, x, [1, 2])
    a = S.deletion_insertion(model, x, sal, [1, 2], steps=10, batch_size=1)
    b = S.deletion_insertion(model, x, sal, [1, 2], steps=10, batch_size=11)
    for key in ("deletion", "insertion"):
        np.testing.assert_allclose(a[key], b[key], rtol=1e-5, atol=1e-7)


def test_auc_and_bad_fill():
    assert S.auc(np.array([1.0, 1.0, 1.0])) == pytest.approx(1.0)
    assert S.auc(np.array([0.0, 1.0])) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="deleted must be 'mean' or a pixel value"):
        S.deletion_insertion(PatchModel(), torch.rand(1, 3, 8, 8), torch.rand(1, 8, 8), 0, deleted="black")


def test_rank_correlation():
    a = torch.arange(10.0)
    assert S.rank_correlation(a, a**3) == pytest.approx(1.0)
    assert S.rank_correlation(a, -a) == pytest.approx(-1.0)
    assert S.rank_correlation(a, torch.zeros(10)) == 0.0


def test_cascading_randomization_changes_the_copy_only():
    model = load_model("fashionnet")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    methods = {
        "gradient": A.gradient,
        "guided": A.guided_backprop,
        "grad_cam": lambda m, x, t: A.grad_cam(m, x, t, "relu3"),
    }
    result = S.cascading_randomization(model, x, 3, methods, progress=False)
    assert result["layers"] == ["none", "fc2", "fc1", "conv3", "conv2", "conv1"]
    for corr in result["correlation"].values():
        assert corr.shape == (6,) and corr[0] == pytest.approx(1.0)
    # the gradient depends on every weight: after all layers are random it has little to do with the original
    assert result["correlation"]["gradient"][-1] < 0.5
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_randomization_layers_and_errors():
    top = ["classifier", "bn2", "conv_head", "blocks.6"]
    assert S.randomization_layers(load_model("efficientnet_lite0"))[:4] == top
    with pytest.raises(ValueError, match="no parameters"):
        S.randomization_layers(nn.ReLU())
    with pytest.raises(ValueError, match="did you mean"):
        S.cascading_randomization(
            load_model("fashionnet"), torch.rand(1, 1, 28, 28), 0, {"g": A.gradient}, layers=["fc3"], progress=False
        )
