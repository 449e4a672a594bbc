"""Hooks: capture_activations records the right tensors and cleans up; relu_gradient_rule
implements guided backprop and the deconvnet exactly (by hand and against Captum) and
leaves the model as it found it."""

import pytest
import torch
import torch.nn.functional as F
import torchvision
from captum.attr import Deconvolution, GuidedBackprop
from torch import nn

from course_utils.hooks import (
    StopForward,
    capture_activations,
    get_layer,
    hooked,
    layer_names,
    relu_gradient_rule,
    run_until,
    stop_hook,
)


def no_forward_hooks(model: nn.Module) -> bool:
    return all(len(m._forward_hooks) == 0 for m in model.modules())


def no_patched_forward(model: nn.Module) -> bool:
    return all("forward" not in vars(m) for m in model.modules())


def input_gradient(model: nn.Module, x: torch.Tensor, target: int | None = None) -> torch.Tensor:
    """d model(x)[0, target] / dx (the sum of the outputs when target is None)."""
    x = x.detach().clone().requires_grad_(True)
    out = model(x)
    (out.sum() if target is None else out[0, target]).backward()
    return x.grad


@pytest.fixture(scope="module")
def resnet():
    torch.manual_seed(0)
    return torchvision.models.resnet18(weights=None).eval()


@pytest.fixture(scope="module")
def alexnet():
    torch.manual_seed(0)
    return torchvision.models.alexnet(weights=None).eval()


# --------------------------------------------------------------------------- capture_activations
def mlp() -> nn.Sequential:
    """x (2) -> Linear W=[[1,-1],[2,0.5]], b=[0.5,-1] -> ReLU -> Linear W=[[1,2]], b=0."""
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, -1.0], [2.0, 0.5]]))
        model[0].bias.copy_(torch.tensor([0.5, -1.0]))
        model[2].weight.copy_(torch.tensor([[1.0, 2.0]]))
        model[2].bias.zero_()
    return model


def test_captured_activations_match_hand_computation():
    model = mlp()
    x = torch.tensor([[1.0, 3.0]])
    with capture_activations(model, ["0", "1", "2"]) as acts:
        model(x)
    # 0: [1 - 3 + 0.5, 2 + 1.5 - 1] = [-1.5, 2.5]; 1: relu -> [0, 2.5]; 2: 0 + 2 * 2.5 = 5
    torch.testing.assert_close(acts["0"], torch.tensor([[-1.5, 2.5]]), rtol=0, atol=0)
    torch.testing.assert_close(acts["1"], torch.tensor([[0.0, 2.5]]), rtol=0, atol=0)
    torch.testing.assert_close(acts["2"], torch.tensor([[5.0]]), rtol=0, atol=0)


def test_single_layer_name_string_works_like_a_list():
    model = mlp()
    x = torch.tensor([[1.0, 3.0]])
    with capture_activations(model, "0") as one:
        model(x)
    with capture_activations(model, ["0"]) as listed:
        model(x)
    assert list(one) == ["0"]
    torch.testing.assert_close(one["0"], listed["0"], rtol=0, atol=0)


def test_last_forward_pass_wins():
    model = mlp()
    with capture_activations(model, "1") as acts:
        model(torch.tensor([[1.0, 3.0]]))
        model(torch.tensor([[0.0, 0.0]]))
    # second pass: relu([0.5, -1]) = [0.5, 0]
    torch.testing.assert_close(acts["1"], torch.tensor([[0.5, 0.0]]), rtol=0, atol=0)


def test_captured_outputs_are_detached_by_default():
    model = mlp()
    x = torch.tensor([[1.0, 3.0]], requires_grad=True)
    with capture_activations(model, ["0", "2"]) as acts:
        model(x)
    assert not acts["0"].requires_grad and acts["0"].grad_fn is None
    assert not acts["2"].requires_grad


def test_capture_is_a_clone_unchanged_by_later_inplace_relu():
    """Layer "0" (conv, weight 2) is followed by ReLU(inplace=True); the capture keeps its negatives."""
    model = nn.Sequential(nn.Conv2d(1, 1, kernel_size=1, bias=False), nn.ReLU(inplace=True))
    with torch.no_grad():
        model[0].weight.fill_(2.0)
    x = torch.tensor([[[[-1.0, 2.0], [3.0, -4.0]]]])
    with capture_activations(model, "0") as acts:
        out = model(x)
    torch.testing.assert_close(acts["0"], 2 * x, rtol=0, atol=0)
    assert (acts["0"] < 0).any()
    torch.testing.assert_close(out, (2 * x).clamp(min=0), rtol=0, atol=0)


def test_detach_false_keeps_the_graph_for_backprop():
    model = mlp()
    x = torch.tensor([[1.0, 3.0]], requires_grad=True)
    with capture_activations(model, "0", detach=False) as acts:
        model(x)
    assert acts["0"].requires_grad
    acts["0"].sum().backward()
    # d/dx sum(W x + b) = column sums of W = [1 + 2, -1 + 0.5]
    torch.testing.assert_close(x.grad, torch.tensor([[3.0, -0.5]]), rtol=0, atol=0)


def test_hooks_are_removed_after_the_block():
    model = mlp()
    with capture_activations(model, ["0", "1", "2"]) as acts:
        model(torch.tensor([[1.0, 3.0]]))
        assert not no_forward_hooks(model)  # sanity: hooks were there inside
    assert no_forward_hooks(model)
    before = acts["0"].clone()
    model(torch.tensor([[5.0, 5.0]]))
    torch.testing.assert_close(acts["0"], before, rtol=0, atol=0)  # nothing records any more


def test_hooks_are_removed_after_an_exception_in_the_block():
    model = mlp()
    with pytest.raises(KeyError):
        with capture_activations(model, ["0", "2"]):
            model(torch.tensor([[1.0, 3.0]]))
            raise KeyError("boom")
    assert no_forward_hooks(model)


def test_unknown_layer_is_rejected_before_any_hook_is_added():
    model = mlp()
    with pytest.raises(ValueError, match="'5'"):
        with capture_activations(model, ["0", "5"]):
            pass
    assert no_forward_hooks(model)


def test_unknown_resnet_layer_suggests_close_names(resnet):
    with pytest.raises(ValueError) as info:
        with capture_activations(resnet, "layer5"):
            pass
    assert "layer4" in str(info.value)
    with pytest.raises(ValueError) as info:
        with capture_activations(resnet, ["conv"]):
            pass
    assert "did you mean" in str(info.value) and "'conv1'" in str(info.value)
    assert no_forward_hooks(resnet)


def test_capturing_a_layer_that_returns_no_tensor_raises_typeerror():
    class Pair(nn.Module):
        def forward(self, x):
            return x, x

    model = nn.Sequential(Pair())
    with pytest.raises(TypeError, match="tuple"):
        with capture_activations(model, "0"):
            model(torch.zeros(1))
    assert no_forward_hooks(model)


def test_layer_names_and_get_layer():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Sequential(nn.Conv2d(2, 2, 3), nn.ReLU()))
    assert layer_names(model) == ["0", "1", "2", "2.0", "2.1"]
    assert layer_names(model, nn.Conv2d) == ["0", "2.0"]
    assert layer_names(model, (nn.Conv2d, nn.ReLU)) == ["0", "1", "2.0", "2.1"]
    assert get_layer(model, "2.0") is model[2][0]
    assert get_layer(model, "1") is model[1]
    with pytest.raises(ValueError, match="did you mean '2.1'"):
        get_layer(model, "2.1.0")


def test_resnet_layer_names_are_dotted_module_names(resnet):
    names = layer_names(resnet)
    assert {"conv1", "layer4", "layer4.1.conv2", "fc"} <= set(names)
    assert get_layer(resnet, "layer4.1.conv2") is resnet.layer4[1].conv2
    assert len(layer_names(resnet, nn.Conv2d)) == 20  # 1 stem + 16 block convs + 3 downsample convs


# --------------------------------------------------------------------------- relu_gradient_rule
def hand_model() -> nn.Sequential:
    """x (3) -> Linear(3,4) -> ReLU -> Linear(4,1), weights chosen so that at x = [1, 2, -1]
    the ReLU inputs are z = [1, 2, -1, -2] and the gradient reaching the ReLU is g = [3, -4, 5, -6]:
    every (sign z, sign g) combination occurs once."""
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]]))
        model[0].bias.copy_(torch.tensor([0.0, 0, 0, -4]))
        model[2].weight.copy_(torch.tensor([[3.0, -4, 5, -6]]))
        model[2].bias.zero_()
    return model


HAND_X = torch.tensor([[1.0, 2.0, -1.0]])
# input gradient = W1^T (g * mask); the columns of W1^T pick units (0, 3), (1, 3), (2, 3)
HAND_GRADIENTS = {
    None: torch.tensor([[3.0, -4.0, 0.0]]),  # mask z > 0: g * mask = [3, -4, 0, 0]
    "guided": torch.tensor([[3.0, 0.0, 0.0]]),  # z > 0 and g > 0: [3, 0, 0, 0]
    "deconvnet": torch.tensor([[3.0, 0.0, 5.0]]),  # g > 0 only: [3, 0, 5, 0]
}


def test_hand_model_ordinary_gradient_matches_hand_computation():
    torch.testing.assert_close(input_gradient(hand_model(), HAND_X), HAND_GRADIENTS[None], rtol=0, atol=0)


@pytest.mark.parametrize("rule", ["guided", "deconvnet"])
def test_hand_model_rule_gradient_matches_hand_computation(rule):
    model = hand_model()
    with relu_gradient_rule(model, rule):
        grad = input_gradient(model, HAND_X)
    torch.testing.assert_close(grad, HAND_GRADIENTS[rule], rtol=0, atol=0)


# one ReLU, forward input x, incoming gradient g: (x<0,g>0), (x<0,g<0), (x>0,g>0), (x>0,g<0)
TOY_X = [-2.0, -1.0, 1.0, 2.0]
TOY_G = [1.0, -1.0, 1.0, -1.0]
TOY_EXPECTED = {None: [0.0, 0.0, 1.0, -1.0], "guided": [0.0, 0.0, 1.0, 0.0], "deconvnet": [1.0, 0.0, 1.0, 0.0]}


def relu_backward(relu: nn.Module, x_values, grad_values, rule=None):
    """Return (forward output, gradient at the input) of ``relu`` under ``rule`` (None: ordinary)."""
    leaf = torch.tensor(x_values, requires_grad=True)
    x = leaf * 1.0  # not a leaf, so an in-place ReLU may overwrite it
    if rule is None:
        out = relu(x)
    else:
        with relu_gradient_rule(relu, rule):
            out = relu(x)
    out.backward(torch.tensor(grad_values))
    return out.detach(), leaf.grad


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("rule", [None, "guided", "deconvnet"])
def test_single_relu_passes_the_gradient_its_rule_says(rule, inplace):
    out, grad = relu_backward(nn.ReLU(inplace=inplace), TOY_X, TOY_G, rule)
    torch.testing.assert_close(out, torch.tensor([0.0, 0.0, 1.0, 2.0]), rtol=0, atol=0)
    torch.testing.assert_close(grad, torch.tensor(TOY_EXPECTED[rule]), rtol=0, atol=0)


@pytest.mark.parametrize("inplace", [False, True])
def test_relu6_guided_blocks_gradient_below_zero_and_above_six(inplace):
    x, g = [-1.0, 3.0, 7.0, 5.0, 8.0], [1.0, 1.0, 1.0, -1.0, -1.0]
    out, ordinary = relu_backward(nn.ReLU6(inplace=inplace), x, g)
    _, guided = relu_backward(nn.ReLU6(inplace=inplace), x, g, "guided")
    _, deconv = relu_backward(nn.ReLU6(inplace=inplace), x, g, "deconvnet")
    torch.testing.assert_close(out, torch.tensor([0.0, 3.0, 6.0, 5.0, 6.0]), rtol=0, atol=0)
    torch.testing.assert_close(ordinary, torch.tensor([0.0, 1.0, 0.0, -1.0, 0.0]), rtol=0, atol=0)
    torch.testing.assert_close(guided, torch.tensor([0.0, 1.0, 0.0, 0.0, 0.0]), rtol=0, atol=0)
    torch.testing.assert_close(deconv, torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0]), rtol=0, atol=0)


def test_relu6_in_a_model_uses_the_guided_rule():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU6(), nn.Linear(2, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.eye(2))
        model[0].bias.zero_()
        model[2].weight.copy_(torch.tensor([[2.0, 3.0]]))
        model[2].bias.zero_()
    x = torch.tensor([[7.0, 4.0]])  # first unit saturates above 6
    with relu_gradient_rule(model, "guided"):
        grad = input_gradient(model, x)
    torch.testing.assert_close(grad, torch.tensor([[0.0, 3.0]]), rtol=0, atol=0)


@pytest.mark.parametrize("rule", ["guided", "deconvnet"])
def test_inplace_and_non_inplace_relu_models_give_the_same_gradient(rule):
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3),
        nn.ReLU(inplace=True),
        nn.Conv2d(4, 3, 3),
        nn.ReLU(inplace=True),
        nn.Flatten(),
        nn.Linear(3 * 4 * 4, 1),
    )
    twin = nn.Sequential(*[nn.ReLU() if isinstance(m, nn.ReLU) else m for m in model])
    x = torch.randn(1, 2, 8, 8)
    with relu_gradient_rule(model, rule):
        grad_inplace = input_gradient(model, x)
    with relu_gradient_rule(twin, rule):
        grad_plain = input_gradient(twin, x)
    torch.testing.assert_close(grad_inplace, grad_plain, rtol=0, atol=0)
    assert not torch.equal(grad_inplace, input_gradient(model, x))  # the rule changed something


@pytest.mark.parametrize("rule, captum_cls", [("guided", GuidedBackprop), ("deconvnet", Deconvolution)])
@pytest.mark.parametrize("net, size", [("resnet", 64), ("alexnet", 96)])
def test_rules_match_captum_on_torchvision_models(net, size, rule, captum_cls, request):
    """ResNet reuses one in-place ReLU twice per block; AlexNet has in-place ReLUs in two Sequentials."""
    model = request.getfixturevalue(net)
    torch.manual_seed(1)
    x = torch.randn(1, 3, size, size)
    target = 7
    with pytest.warns(UserWarning):  # Captum warns that it sets backward hooks
        expected = captum_cls(model).attribute(x.clone().requires_grad_(True), target=target).detach()
    with relu_gradient_rule(model, rule):
        actual = input_gradient(model, x, target)
    assert expected.abs().max() > 0
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5 * expected.abs().max().item())
    ordinary = input_gradient(model, x, target)
    assert not torch.allclose(actual, ordinary)  # the comparison is not trivially true


@pytest.mark.parametrize("rule", ["guided", "deconvnet"])
def test_forward_outputs_inside_the_block_are_unchanged(resnet, rule):
    torch.manual_seed(2)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = resnet(x)
        with relu_gradient_rule(resnet, rule):
            actual = resnet(x)
    torch.testing.assert_close(actual, expected, rtol=0, atol=0)


def relu_state(model: nn.Module):
    return [(name, m, m.inplace) for name, m in model.named_modules() if isinstance(m, (nn.ReLU, nn.ReLU6))]


@pytest.mark.parametrize("fail", [False, True])
def test_model_is_restored_after_the_block(resnet, fail):
    """Same module objects, same inplace flags, no instance ``forward`` left, ordinary gradients back."""
    torch.manual_seed(3)
    x = torch.randn(1, 3, 64, 64)
    before_state = relu_state(resnet)
    before_grad = input_gradient(resnet, x, 0)
    try:
        with relu_gradient_rule(resnet, "guided"):
            assert not no_patched_forward(resnet)  # sanity: the rule is active inside
            if fail:
                raise RuntimeError("stop")
    except RuntimeError:
        assert fail
    after_state = relu_state(resnet)
    assert len(after_state) == len(before_state) > 0
    for (name_b, mod_b, inplace_b), (name_a, mod_a, inplace_a) in zip(before_state, after_state):
        assert name_a == name_b and mod_a is mod_b and inplace_a == inplace_b
    assert resnet.relu.inplace is True
    assert no_patched_forward(resnet)
    torch.testing.assert_close(input_gradient(resnet, x, 0), before_grad, rtol=0, atol=0)


def test_unknown_rule_raises_valueerror_and_patches_nothing():
    model = hand_model()
    with pytest.raises(ValueError, match="guided"):
        with relu_gradient_rule(model, "gradcam"):
            pass
    assert no_patched_forward(model)


def test_model_with_only_functional_relu_raises_valueerror_naming_f_relu():
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 1)

        def forward(self, x):
            return self.fc(F.relu(x))

    with pytest.raises(ValueError, match=r"F\.relu"):
        with relu_gradient_rule(Functional(), "guided"):
            pass


def test_nested_blocks_raise_and_leave_the_model_clean():
    model = hand_model()
    with relu_gradient_rule(model, "guided"):
        with pytest.raises(RuntimeError, match="nested"):
            with relu_gradient_rule(model, "deconvnet"):
                pass
        # the failed inner block must not undo the outer one
        torch.testing.assert_close(input_gradient(model, HAND_X), HAND_GRADIENTS["guided"], rtol=0, atol=0)
    assert no_patched_forward(model)
    torch.testing.assert_close(input_gradient(model, HAND_X), HAND_GRADIENTS[None], rtol=0, atol=0)


def test_block_yields_the_model():
    model = hand_model()
    with relu_gradient_rule(model, "deconvnet") as inside:
        assert inside is model


def test_capture_works_inside_a_rule_block():
    """Notebooks capture ReLU outputs while a rule is active: both must work together."""
    model = hand_model()
    with relu_gradient_rule(model, "guided"), capture_activations(model, "1") as acts:
        grad = input_gradient(model, HAND_X)
    torch.testing.assert_close(acts["1"], torch.tensor([[1.0, 2.0, 0.0, 0.0]]), rtol=0, atol=0)  # relu(z)
    torch.testing.assert_close(grad, HAND_GRADIENTS["guided"], rtol=0, atol=0)
    assert no_forward_hooks(model) and no_patched_forward(model)


# --------------------------------------------------------------------------- hooked, run_until
def test_hooked_registers_in_order_and_removes_everything_on_error():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    seen = []
    with pytest.raises(RuntimeError, match="boom"):
        with hooked(
            forward=[(model[1], lambda m, i, o: seen.append("f1")), (model[1], lambda m, i, o: seen.append("f2"))],
            pre=[(model[0], lambda m, i: seen.append("pre"))],
        ):
            model(torch.zeros(1, 2))
            raise RuntimeError("boom")
    assert seen == ["pre", "f1", "f2"]
    assert no_forward_hooks(model) and all(len(m._forward_pre_hooks) == 0 for m in model.modules())


def test_run_until_skips_every_module_after_the_stop():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    ran = []
    with hooked(forward=[(m, lambda m, i, o, k=k: ran.append(k)) for k, m in enumerate(model)]):
        assert run_until(model, torch.zeros(1, 2), stop_at=model[1]) is None
    assert ran == [0, 1]  # the stop layer's own hooks ran; the last Linear never did
    out = run_until(model, torch.zeros(1, 2))
    assert out is not None and out.shape == (1, 1)
    assert no_forward_hooks(model)


def test_run_until_a_module_that_never_runs_says_so():
    class OneLayer(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Linear(2, 2), nn.ReLU()  # forward never calls `unused`

        def forward(self, x):
            return self.used(x)

    model = OneLayer()
    unused = model.unused
    with pytest.raises(ValueError, match="never ran"):
        run_until(model, torch.zeros(1, 2), stop_at=unused)
    assert no_forward_hooks(model)


def test_stop_forward_is_the_one_stop_mechanism():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    with hooked(forward=[(model[0], stop_hook)]), pytest.raises(StopForward):
        model(torch.zeros(1, 2))


# --------------------------------------------------------------------------- ReLU subclasses
class QuietReLU(nn.ReLU):
    """A subclass that only renames the module: the rule must still apply."""


class LeakyishReLU(nn.ReLU):
    def forward(self, x):
        return torch.where(x > 0, x, 0.1 * x)


def test_relu_subclass_without_its_own_forward_gets_the_rule():
    model = nn.Sequential(nn.Linear(3, 4), QuietReLU(), nn.Linear(4, 1))
    model.load_state_dict(hand_model().state_dict())  # the same weights: every sign case occurs once
    for rule in ("guided", "deconvnet"):
        with relu_gradient_rule(model, rule):
            torch.testing.assert_close(input_gradient(model, HAND_X), HAND_GRADIENTS[rule], rtol=0, atol=0)
    assert no_patched_forward(model)


def test_relu_subclass_with_its_own_forward_raises_naming_the_module():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4), LeakyishReLU())
    with pytest.raises(ValueError, match=r"'3' \(LeakyishReLU\)"):
        with relu_gradient_rule(model, "guided"):
            pass
    assert no_patched_forward(model)
