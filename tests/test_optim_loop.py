"""optim.loop and optim.steps: the loop raises its objective and keeps its promises (hooks, modes, stop, interrupt)."""

import warnings

import pytest
import torch
from torch import nn

from course_utils import hooks, images, models, optim


@pytest.fixture(scope="module")
def fashionnet():
    return models.load_model("fashionnet")


def tiny_net() -> nn.Module:
    """A 3-channel net small enough to optimize in milliseconds; like every model of the course, it takes pixels."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)
    )


def no_hooks_left(model: nn.Module) -> bool:
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


# ----------------------------------------------------------------------------- optimizers
def test_normalized_gradient_step_by_hand():
    p = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    opt = optim.NormalizedGradient([p], lr=0.1)
    p.grad = torch.tensor([1.0, -2.0, 3.0])  # mean |g| = 2
    opt.step()
    assert torch.allclose(p.detach(), torch.tensor([1.0 - 0.05, 2.0 + 0.1, 3.0 - 0.15]))


# ----------------------------------------------------------------------------- the loop
def test_loop_raises_the_objective_and_restores_the_model(fashionnet):
    fashionnet.train()
    flags = [p.requires_grad for p in fashionnet.parameters()]
    param = optim.PixelImage((1, 1, 28, 28), seed=0)
    result = optim.optimize_image(fashionnet, optim.class_logit(3), param, steps=30, lr=0.05, progress=False)
    img, history = result  # unpacks
    assert len(history) == 30 and history[-1] > history[0] + 1.0
    assert img.shape == (1, 1, 28, 28) and img.min() >= 0 and img.max() <= 1
    assert fashionnet.training and [p.requires_grad for p in fashionnet.parameters()] == flags
    assert no_hooks_left(fashionnet)
    fashionnet.eval()


def test_history_holds_the_objective_of_each_step(fashionnet):
    x0 = optim.PixelImage((1, 1, 28, 28), seed=1).image().detach()
    result = optim.optimize_image(fashionnet, optim.class_logit(3), optim.PixelImage(init=x0), steps=2, progress=False)
    with torch.no_grad():
        first = fashionnet(x0)[0, 3]  # history[0]: the objective at the start image, before the first step
    torch.testing.assert_close(torch.tensor(result.history[0]), first, rtol=1e-5, atol=1e-5)


def test_recorded_activations_are_not_changed_by_a_later_inplace_relu():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 2, 3, padding=1), nn.ReLU(inplace=True), nn.Flatten(), nn.LazyLinear(2))
    x0 = torch.rand(1, 3, 6, 6)
    net(x0)  # materialize the lazy layer
    with torch.no_grad():
        net[0].bias[0] -= 1.0  # channel 0 mostly negative: the ReLU would change it
    # the logits are wanted too, so the in-place ReLU runs after the conv's output was recorded
    objective = optim.channel("0", 0) + 0 * optim.class_logit(0)
    result = optim.optimize_image(net, objective, optim.PixelImage(init=x0), steps=1, progress=False)
    with torch.no_grad():
        conv_mean = net[0](x0)[:, 0].mean()
    assert conv_mean < net[0](x0)[:, 0].clamp(min=0).mean() - 0.5  # so a value read after the ReLU would differ
    torch.testing.assert_close(torch.tensor(result.history[0]), conv_mean, rtol=1e-5, atol=1e-6)


def test_hooks_are_removed_when_the_objective_fails(fashionnet):
    def broken(acts):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        optim.optimize_image(
            fashionnet,
            optim.Objective(broken, "broken", ["conv2"]),
            optim.PixelImage((1, 1, 28, 28)),
            steps=3,
            progress=False,
        )
    assert no_hooks_left(fashionnet)
    assert not fashionnet.training


def test_forward_stops_after_the_last_needed_layer(fashionnet):
    calls = []
    with hooks.hooked(forward=[(fashionnet.fc2, lambda *a: calls.append(1))]):
        optim.optimize_image(
            fashionnet, optim.channel("relu1", 0), optim.PixelImage((1, 1, 28, 28)), steps=2, progress=False
        )
        assert calls == []  # the classifier never ran
        optim.optimize_image(
            fashionnet,
            optim.channel("relu1", 0) + 0.1 * optim.class_logit(0),
            optim.PixelImage((1, 1, 28, 28)),
            steps=2,
            progress=False,
        )
        assert len(calls) == 2  # logits wanted: full forward each step


def test_unknown_layer_lists_close_names(fashionnet):
    with pytest.raises(ValueError, match="did you mean 'conv1'"):
        optim.optimize_image(
            fashionnet, optim.channel("conv_1", 0), optim.PixelImage((1, 1, 28, 28)), steps=1, progress=False
        )
    with pytest.raises(TypeError, match="optim.Objective"):
        optim.optimize_image(fashionnet, lambda acts: acts["logits"].sum(), optim.PixelImage((1, 1, 28, 28)))


def test_a_class_past_the_last_logit_fails_with_the_class_count():
    with pytest.raises(ValueError, match="3 classes"):
        optim.optimize_image(tiny_net(), optim.class_logit(7), optim.PixelImage((1, 3, 8, 8)), steps=1, progress=False)


def test_interrupt_returns_the_partial_result():
    net = tiny_net()

    def stop_at_three(step, image):
        if step == 3:
            raise KeyboardInterrupt

    with pytest.warns(UserWarning, match="interrupted after 4 of 50"):
        result = optim.optimize_image(
            net, optim.class_logit(0), optim.PixelImage((1, 3, 8, 8)), steps=50, callback=stop_at_three, progress=False
        )
    assert len(result.history) == 4 and result.image.shape == (1, 3, 8, 8)
    assert no_hooks_left(net)


def test_lbfgs_and_seeded_transforms_are_reproducible():
    net = tiny_net()

    def run():
        return optim.optimize_image(
            net,
            optim.class_logit(1) - 0.1 * optim.total_variation(),
            optim.PixelImage((1, 3, 16, 16)),
            steps=5,
            lr=0.5,
            optimizer="lbfgs",
            transforms=[optim.jitter(2)],
            progress=False,
        )

    first, second = run(), run()
    assert torch.equal(first.image, second.image)
    assert first.history[-1] > first.history[0]
    with pytest.raises(ValueError, match="unknown optimizer"):
        optim.optimize_image(net, optim.class_logit(1), optim.PixelImage((1, 3, 8, 8)), optimizer="rmsprop")


# ----------------------------------------------------------------------------- step operations
def test_projection_keeps_the_image_in_the_eps_ball():
    net = tiny_net()
    x0 = torch.rand(1, 3, 8, 8)
    eps = 2 / 255
    result = optim.optimize_image(
        net,
        optim.class_log_prob(2),
        optim.PixelImage(init=x0),
        steps=20,
        lr=0.01,
        step_ops=[optim.project_linf(x0, eps)],
        progress=False,
    )
    assert (result.image - x0).abs().max() <= eps + 1e-7
    assert result.image.min() >= 0 and result.image.max() <= 1
    assert result.history[-1] > result.history[0]


def test_pixel_only_step_ops_refuse_fourier():
    with pytest.raises(ValueError, match="PixelImage"):
        optim.optimize_image(
            tiny_net(),
            optim.class_logit(0),
            optim.FourierImage((1, 3, 8, 8)),
            steps=1,
            step_ops=[optim.blur_every(1, 1.0)],
            progress=False,
        )


def test_blur_every_applies_the_course_blur_on_every_kth_step():
    x = torch.rand(1, 3, 16, 16)
    param = optim.PixelImage(init=x)
    op = optim.blur_every(2, sigma=1.0)
    op(0, param)  # step 0 of every 2: untouched
    assert torch.equal(param.pixels.detach(), x)
    op(1, param)
    blurred = param.pixels.detach()
    torch.testing.assert_close(blurred, images.gaussian_blur(x, 1.0), rtol=0, atol=1e-6)
    assert blurred.std() < 0.6 * x.std()  # it smooths ...
    assert blurred.mean() == pytest.approx(float(x.mean()), abs=0.02)  # ... and keeps the mean


def test_warnings_are_not_raised_by_a_plain_run(fashionnet):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optim.optimize_image(
            fashionnet, optim.channel("conv2", 0), optim.PixelImage((1, 1, 28, 28)), steps=2, progress=False
        )
