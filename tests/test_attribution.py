"""Attribution: every saliency method equals Captum on the same inputs (resnet18 with its in-place
ReLU used twice per block, alexnet, FashionNet, EfficientNet-Lite0 with ReLU6), the ReLU rules
match hand-computed values, and every call leaves the model as it found it."""

import pytest
import torch
import torchvision
from captum.attr import (
    Deconvolution,
    GuidedBackprop,
    GuidedGradCam,
    IntegratedGradients,
    LayerGradCam,
    NoiseTunnel,
    Saliency,
)
from torch import nn

from course_utils import attribution as A
from course_utils.hooks import get_layer
from course_utils.models import load_model

RTOL = 1e-5


def assert_equal(ours: torch.Tensor, ref: torch.Tensor) -> None:
    """Equal to rtol 1e-5; atol is 1e-6 of the map's largest value (sums of many float32 terms)."""
    assert ours.shape == ref.shape
    torch.testing.assert_close(ours, ref.detach(), rtol=RTOL, atol=1e-6 * ref.abs().max().item())


def _resnet():
    torch.manual_seed(0)
    return torchvision.models.resnet18(weights=None).eval(), "layer4", torch.randn(2, 3, 32, 32)


def _alexnet():
    torch.manual_seed(0)
    return torchvision.models.alexnet(weights=None).eval(), "features.11", torch.randn(2, 3, 64, 64)


def _fashionnet():
    torch.manual_seed(0)
    return load_model("fashionnet"), "relu3", torch.rand(2, 1, 28, 28)


def _efficientnet():
    torch.manual_seed(0)
    return load_model("efficientnet_lite0"), "bn2", torch.randn(2, 3, 64, 64)


CASES = {"resnet18": _resnet, "alexnet": _alexnet, "fashionnet": _fashionnet, "efficientnet_lite0": _efficientnet}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    model, layer, x = CASES[request.param]()
    return request.param, model, layer, x


def test_gradient_deconvnet_guided_equal_captum(case):
    name, model, _, x = case
    target = [3, 7]
    assert_equal(A.gradient(model, x, target), Saliency(model).attribute(x, target=target, abs=False))
    # Captum's rules act on nn.ReLU only; ours also on ReLU6, equal to Captum once it sees ReLU6 as a ReLU
    ref_model = A.captum_compatible(model) if name == "efficientnet_lite0" else model
    assert_equal(A.deconvnet(model, x, target), Deconvolution(ref_model).attribute(x, target=target))
    assert_equal(A.guided_backprop(model, x, target), GuidedBackprop(ref_model).attribute(x, target=target))


def test_relu6_rule_differs_from_plain_captum():
    model, _, x = _efficientnet()
    ours = A.guided_backprop(model, x[:1], 5)
    captum_plain = GuidedBackprop(model).attribute(x[:1], target=5)  # ReLU6 left with its ordinary gradient
    assert not torch.allclose(ours, captum_plain, rtol=1e-3, atol=1e-6)


def test_grad_cam_and_guided_grad_cam_equal_captum(case):
    name, model, layer, x = case
    target = torch.tensor([1, 4])
    ref = LayerGradCam(model, get_layer(model, layer)).attribute(x, target=target, relu_attributions=True)
    cam = A.grad_cam(model, x, target, layer)
    assert cam.shape == (x.shape[0], *ref.shape[2:])
    assert_equal(cam, ref[:, 0])
    if name != "efficientnet_lite0":  # GuidedGradCam's guided part ignores ReLU6 (see above)
        assert_equal(
            A.guided_grad_cam(model, x, target, layer),
            GuidedGradCam(model, get_layer(model, layer)).attribute(x, target=target),
        )


def test_integrated_gradients_equal_captum(case):
    _, model, _, x = case
    ours = A.integrated_gradients(model, x, 2, steps=12, batch_size=5)  # 3 chunks of path points
    # same chunks as ours (Captum counts images, we count path points): some conv kernels round
    # differently for different batch sizes, by up to ~1e-3 of the map's scale
    ref = IntegratedGradients(model).attribute(x, target=2, n_steps=12, internal_batch_size=5 * len(x))
    assert_equal(ours, ref)


def test_integrated_gradients_result_is_detached_when_the_baseline_requires_grad():
    model, _, x = _fashionnet()
    baseline = torch.zeros_like(x).requires_grad_(True)  # e.g. a baseline someone is optimizing
    ig = A.integrated_gradients(model, x, 1, baseline=baseline, steps=4)
    assert not ig.requires_grad and ig.grad_fn is None
    torch.testing.assert_close(ig, A.integrated_gradients(model, x, 1, baseline=torch.zeros_like(x), steps=4))


def test_smoothgrad_equals_captum_noise_tunnel(case):
    _, model, _, x = case
    x = x[:1]  # Captum's stdev is one number; ours is 15 % of each image's range
    stdev = 0.15 * (x.max() - x.min()).item()
    torch.manual_seed(11)
    ours = A.smoothgrad(model, x, 3, samples=5, noise_level=0.15, batch_size=2)
    torch.manual_seed(11)
    ref = NoiseTunnel(Saliency(model)).attribute(
        x, nt_type="smoothgrad", nt_samples=5, nt_samples_batch_size=2, stdevs=stdev, target=3, abs=False
    )
    assert_equal(ours, ref)


def test_trapezoid_rule_is_textbook_and_captum_scales_it():
    model, _, x = _fashionnet()
    ours = A.integrated_gradients(model, x, 1, steps=10, method="riemann_trapezoid")
    ref = IntegratedGradients(model).attribute(x, target=1, n_steps=10, method="riemann_trapezoid")
    assert_equal(ours, ref * 10 / 9)  # Captum's trapezoid weights sum to (n-1)/n, ours to 1
    assert sum(A.path_nodes(10, "riemann_trapezoid")[1]) == pytest.approx(1.0)


def test_integrated_gradients_completeness():
    model, _, x = _fashionnet()
    attr = A.integrated_gradients(model, x, 4, steps=512)  # on noise the ReLU kinks need many nodes: 64 miss by 10 %
    with torch.no_grad():
        gap = model(x)[:, 4] - model(torch.zeros_like(x))[:, 4]
    torch.testing.assert_close(attr.sum(dim=(1, 2, 3)), gap, rtol=0.02, atol=0.02)


def test_smoothgrad_generator_is_reproducible():
    model, _, x = _fashionnet()
    runs = [
        A.smoothgrad(model, x, 0, samples=6, batch_size=4, generator=torch.Generator().manual_seed(3)) for _ in range(2)
    ]
    torch.testing.assert_close(runs[0], runs[1], rtol=0, atol=0)


# --------------------------------------------------------------------------- the three ReLU rules by hand
def test_relu_backward_rules_by_hand():
    x = torch.tensor([2.0, -1.0, 3.0, -2.0])
    g = torch.tensor([1.0, -2.0, -3.0, 4.0])
    rules = A.relu_backward_rules(x, g)
    torch.testing.assert_close(rules["gradient"], torch.tensor([1.0, 0.0, -3.0, 0.0]))  # where x > 0
    torch.testing.assert_close(rules["deconvnet"], torch.tensor([1.0, 0.0, 0.0, 4.0]))  # where g > 0
    torch.testing.assert_close(rules["guided"], torch.tensor([1.0, 0.0, 0.0, 0.0]))  # where both


def test_rules_on_tiny_model_by_hand():
    """ReLU -> Linear(w): the incoming gradient at the ReLU is w."""
    model = nn.Sequential(nn.ReLU(inplace=True), nn.Flatten(), nn.Linear(4, 1, bias=False))
    with torch.no_grad():
        model[2].weight.copy_(torch.tensor([[1.0, -2.0, -3.0, 4.0]]))
    x = torch.tensor([2.0, -1.0, 3.0, -2.0]).view(1, 1, 2, 2)
    expect = {A.gradient: [1.0, 0.0, -3.0, 0.0], A.deconvnet: [1.0, 0.0, 0.0, 4.0], A.guided_backprop: [1.0, 0, 0, 0]}
    for method, values in expect.items():
        torch.testing.assert_close(method(model, x, 0), torch.tensor(values).view(1, 1, 2, 2))
    assert x.tolist() == [[[[2.0, -1.0], [3.0, -2.0]]]]  # the in-place ReLU worked on a copy


# --------------------------------------------------------------------------- leaves the model as it was
class Boom(nn.Module):
    def forward(self, x):
        raise RuntimeError("boom")


def clean(model: nn.Module) -> bool:
    hooks = sum(len(m._forward_hooks) + len(m._backward_hooks) + len(m._forward_pre_hooks) for m in model.modules())
    return hooks == 0 and all("forward" not in vars(m) for m in model.modules())


ALL = {
    "gradient": lambda m, x, t: A.gradient(m, x, t),
    "deconvnet": lambda m, x, t: A.deconvnet(m, x, t),
    "guided_backprop": lambda m, x, t: A.guided_backprop(m, x, t),
    "smoothgrad": lambda m, x, t: A.smoothgrad(m, x, t, samples=3),
    "integrated_gradients": lambda m, x, t: A.integrated_gradients(m, x, t, steps=4),
    "grad_cam": lambda m, x, t: A.grad_cam(m, x, t, "relu3"),
    "guided_grad_cam": lambda m, x, t: A.guided_grad_cam(m, x, t, "relu3"),
}


@pytest.mark.parametrize("method", list(ALL))
def test_modes_flags_hooks_and_input_restored(method):
    model, _, x = _fashionnet()
    model.train()
    model.conv1.eval()  # mixed modes must come back exactly
    model.fc2.weight.requires_grad_(False)
    flags = {n: p.requires_grad for n, p in model.named_parameters()}
    modes = {n: m.training for n, m in model.named_modules()}
    x.requires_grad_(True)
    out = ALL[method](model, x, 3)
    assert out.shape == (x.shape if method != "grad_cam" else (2, 7, 7))
    assert x.grad is None and all(p.grad is None for p in model.parameters())
    assert flags == {n: p.requires_grad for n, p in model.named_parameters()}
    assert modes == {n: m.training for n, m in model.named_modules()}
    assert clean(model)


@pytest.mark.parametrize("method", list(ALL))
def test_hooks_removed_after_exception(method):
    model, _, x = _fashionnet()
    model.relu4 = nn.Sequential(nn.ReLU(), Boom())  # raises mid-forward, after relu3 and its hooks ran
    model.train()
    model.conv1.weight.requires_grad_(True)
    flags = [p.requires_grad for p in model.parameters()]
    with pytest.raises(RuntimeError, match="boom"):
        ALL[method](model, x, 3)
    assert clean(model) and model.training and flags == [p.requires_grad for p in model.parameters()]


@pytest.mark.parametrize(
    "bad, message", [(10, "out of range"), (-1, "out of range"), ([1, 2, 3], "3 targets"), ("cat", "class index")]
)
def test_bad_targets_raise(bad, message):
    model, _, x = _fashionnet()
    for method in ALL.values():
        with pytest.raises(ValueError, match=message):
            method(model, x, bad)
    assert clean(model)


def test_bad_input_and_layer_raise():
    model, _, x = _fashionnet()
    with pytest.raises(ValueError, match="batch"):
        A.gradient(model, x[0], 1)
    with pytest.raises(ValueError, match="did you mean"):
        A.grad_cam(model, x, 1, "relu5")
    with pytest.raises(ValueError, match="gausslegendre"):
        A.integrated_gradients(model, x, 1, method="simpson")
