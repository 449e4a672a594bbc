"""The image-optimization loop: objectives, parameterizations, transforms, and the loop's promises."""
import warnings

import pytest
import torch
from torch import nn

from course_utils import models, optim


@pytest.fixture(scope="module")
def fashionnet():
    return models.load_model("fashionnet")


@pytest.fixture(scope="module")
def effnet():
    return models.load_model("efficientnet_lite0")


def tiny_net() -> nn.Module:
    """A 3-channel net small enough to optimize in milliseconds; it takes pixels."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
    net.takes_pixels = True
    return net


# ----------------------------------------------------------------------------- objectives
def test_objectives_compose_like_numbers():
    a = optim.Objective(lambda acts: acts["u"], "u", ["layer_u"])
    b = optim.Objective(lambda acts: acts["v"], "v", ["layer_v", "layer_u"])
    acts = {"u": torch.tensor(3.0), "v": torch.tensor(5.0)}
    combo = 2 * a - 0.5 * b + a
    assert float(combo(acts)) == pytest.approx(2 * 3 - 0.5 * 5 + 3)
    assert float((-a)(acts)) == -3.0
    assert combo.layers == ("layer_u", "layer_v")  # each layer recorded once
    assert repr(a - b) == "u - v" and repr(2 * (a + b)) == "2·(u + v)"
    assert float(sum([a, b])(acts)) == 8.0  # sum() starts from 0


def test_gram_matrix_equals_hand_computation():
    # two channels on a 2x2 map: F = [[1,2,3,4],[0,1,0,1]] -> F Fᵀ / 4
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [0.0, 1.0]]]])
    expected = torch.tensor([[[30.0, 6.0], [6.0, 2.0]]]) / 4
    assert torch.equal(optim.gram_matrix(x), expected)
    with pytest.raises(ValueError, match=r"\(N,C,H,W\)"):
        optim.gram_matrix(x[0])


def test_total_variation_and_l2_by_hand():
    img = torch.zeros(1, 1, 3, 3)
    img[..., 1, 1] = 1.0  # one bright pixel in the middle
    # forward differences on the top-left 2x2 grid, (dx, dy): (0,0)=(0,0), (0,1)=(0,1), (1,0)=(1,0), (1,1)=(-1,-1)
    # squared norms 0, 1, 1, 2 -> mean 1
    assert float(optim.total_variation()({"image": img})) == pytest.approx(1.0, abs=1e-6)
    assert float(optim.total_variation(beta=1)({"image": img})) == pytest.approx((0 + 1 + 1 + 2**0.5) / 4, abs=1e-4)
    assert float(optim.l2()({"image": torch.full((1, 3, 2, 2), 0.75)})) == pytest.approx(0.0625)


def test_normalized_gradient_step_by_hand():
    p = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    opt = optim.NormalizedGradient([p], lr=0.1)
    p.grad = torch.tensor([1.0, -2.0, 3.0])  # mean |g| = 2
    opt.step()
    assert torch.allclose(p.detach(), torch.tensor([1.0 - 0.05, 2.0 + 0.1, 3.0 - 0.15]))


# ----------------------------------------------------------------------------- parameterizations
def test_fourier_image_is_in_range_and_differentiable():
    param = optim.FourierImage((2, 3, 32, 48), sd=0.5)
    img = param.image()
    assert img.shape == (2, 3, 32, 48) and 0 < img.min() and img.max() < 1
    img.mean().backward()
    assert param.spectrum.grad is not None and param.spectrum.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="decorrelate"):
        optim.FourierImage((1, 1, 28, 28))
    assert optim.FourierImage((1, 1, 28, 28), decorrelate=False).image().shape == (1, 1, 28, 28)


def test_pixel_image_refuses_normalized_input():
    with pytest.raises(ValueError, match="to_tensor"):
        optim.PixelImage(init=torch.full((1, 3, 4, 4), -1.5))


def test_transforms_keep_or_change_shape_as_documented():
    x = torch.rand(1, 3, 20, 20)
    assert optim.pad(3)(x).shape == (1, 3, 26, 26)
    assert torch.equal(optim.random_rotate([0])(x), optim.random_rotate([0])(x))
    assert torch.allclose(optim.random_rotate([0])(x), x, atol=1e-5)
    shifted = optim.jitter(2)(x)
    shifts = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)]
    assert any(torch.equal(shifted, torch.roll(x, s, dims=(2, 3))) for s in shifts)
    assert optim.random_scale([2.0])(x).shape == (1, 3, 40, 40)
    assert optim.compose([optim.pad(2), optim.random_scale([0.5])])(x).shape == (1, 3, 12, 12)


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
    assert all(not m._forward_hooks for m in fashionnet.modules())
    fashionnet.eval()


def test_hooks_are_removed_when_the_objective_fails(fashionnet):
    def broken(acts):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        optim.optimize_image(fashionnet, optim.Objective(broken, "broken", ["conv2"]),
                             optim.PixelImage((1, 1, 28, 28)), steps=3, progress=False)
    assert all(not m._forward_hooks for m in fashionnet.modules())
    assert not fashionnet.training


def test_forward_stops_after_the_last_needed_layer(fashionnet):
    calls = []
    handle = fashionnet.fc2.register_forward_hook(lambda *a: calls.append(1))
    try:
        optim.optimize_image(fashionnet, optim.channel("relu1", 0), optim.PixelImage((1, 1, 28, 28)), steps=2,
                             progress=False)
        assert calls == []  # the classifier never ran
        optim.optimize_image(fashionnet, optim.channel("relu1", 0) + 0.1 * optim.class_logit(0),
                             optim.PixelImage((1, 1, 28, 28)), steps=2, progress=False)
        assert len(calls) == 2  # logits wanted: full forward each step
    finally:
        handle.remove()


def test_unknown_layer_lists_close_names(fashionnet):
    with pytest.raises(ValueError, match="did you mean 'conv1'"):
        optim.optimize_image(fashionnet, optim.channel("conv_1", 0), optim.PixelImage((1, 1, 28, 28)), steps=1,
                             progress=False)


def test_interrupt_returns_the_partial_result():
    net = tiny_net()

    def stop_at_three(step, image):
        if step == 3:
            raise KeyboardInterrupt

    with pytest.warns(UserWarning, match="interrupted after 4 of 50"):
        result = optim.optimize_image(net, optim.class_logit(0), optim.PixelImage((1, 3, 8, 8)), steps=50,
                                      callback=stop_at_three, progress=False)
    assert len(result.history) == 4 and result.image.shape == (1, 3, 8, 8)
    assert all(not m._forward_hooks for m in net.modules())


def test_projection_keeps_the_image_in_the_eps_ball():
    net = tiny_net()
    x0 = torch.rand(1, 3, 8, 8)
    eps = 2 / 255
    result = optim.optimize_image(net, optim.class_log_prob(2), optim.PixelImage(init=x0), steps=20, lr=0.01,
                                  step_ops=[optim.project_linf(x0, eps)], progress=False)
    assert (result.image - x0).abs().max() <= eps + 1e-7
    assert result.image.min() >= 0 and result.image.max() <= 1
    assert result.history[-1] > result.history[0]


def test_pixel_only_step_ops_refuse_fourier():
    with pytest.raises(ValueError, match="PixelImage"):
        optim.optimize_image(tiny_net(), optim.class_logit(0), optim.FourierImage((1, 3, 8, 8)), steps=1,
                             step_ops=[optim.blur_every(1, 1.0)], progress=False)


def test_blur_smooths_and_keeps_the_mean():
    x = torch.rand(1, 3, 16, 16)
    blurred = optim.gaussian_blur(x, 1.0)
    assert blurred.shape == x.shape
    assert blurred.std() < 0.6 * x.std()
    assert blurred.mean() == pytest.approx(float(x.mean()), abs=0.02)


def test_lbfgs_and_seeded_transforms_are_reproducible():
    net = tiny_net()
    run = lambda: optim.optimize_image(net, optim.class_logit(1) - 0.1 * optim.total_variation(),  # noqa: E731
                                       optim.PixelImage((1, 3, 16, 16)), steps=5, lr=0.5, optimizer="lbfgs",
                                       transforms=[optim.jitter(2)], progress=False)
    first, second = run(), run()
    assert torch.equal(first.image, second.image)
    assert first.history[-1] > first.history[0]
    with pytest.raises(ValueError, match="unknown optimizer"):
        optim.optimize_image(net, optim.class_logit(1), optim.PixelImage((1, 3, 8, 8)), optimizer="rmsprop")


# ----------------------------------------------------------------------------- techniques
def test_high_frequency_fraction_separates_noise_from_smooth():
    torch.manual_seed(0)
    noise = torch.rand(1, 3, 64, 64)
    ramp = torch.linspace(0, 1, 64).view(1, 1, 1, 64).expand(1, 3, 64, 64)
    blob = optim.gaussian_blur(noise, 4.0)
    assert optim.high_frequency_fraction(noise) == pytest.approx(1 - torch.pi * 0.25**2, abs=0.03)  # area outside r=0.25
    assert optim.high_frequency_fraction(ramp) < 0.05
    assert optim.high_frequency_fraction(blob) < 0.05


def test_class_visualization_convinces_the_model(effnet):
    target = 130  # flamingo
    img = optim.class_visualization(effnet, target, steps=60, size=64, l2_weight=1e-3, jitter_px=1, progress=False)
    assert img.shape == (1, 3, 64, 64)
    assert optim.class_probability(effnet, img, target) >= 0.9


def test_minimizing_a_channel_lowers_it(fashionnet):
    low = optim.channel_visualization(fashionnet, "relu2", 5, steps=1, size=28, sign=-1, fourier=False,
                                      transforms=lambda x: x, progress=False)
    up = optim.optimize_image(fashionnet, optim.channel("conv2", 5), optim.PixelImage(init=low), steps=20,
                              progress=False)
    down = optim.optimize_image(fashionnet, -optim.channel("conv2", 5), optim.PixelImage(init=low), steps=20,
                                progress=False)
    assert up.history[-1] > up.history[0] and down.history[-1] > down.history[0]


def test_inversion_matches_features(fashionnet):
    from course_utils import data

    x = data.fashion_mnist("test").images[:1]
    inv = optim.invert_features(fashionnet, "relu2", x, steps=60, tv_weight=0.0, progress=False)
    noise = torch.rand_like(x)
    assert optim.feature_error(fashionnet, "relu2", inv, x) < 0.5 * optim.feature_error(fashionnet, "relu2", noise, x)


def test_deep_dream_amplifies_the_layer(effnet):
    x = torch.rand(1, 3, 48, 48) * 0.5 + 0.25
    dreamed = optim.deep_dream(effnet, x, "blocks.2", octaves=2, steps_per_octave=5, progress=False)
    before = optim.layer_features(effnet, "blocks.2", x).pow(2).mean()
    after = optim.layer_features(effnet, "blocks.2", dreamed).pow(2).mean()
    assert dreamed.shape == x.shape and 0 <= dreamed.min() and dreamed.max() <= 1
    assert after > 1.5 * before


def test_texture_synthesis_lowers_the_gram_error(effnet):
    style = torch.rand(1, 3, 32, 32)
    result = optim.style_transfer(effnet, style, style, "blocks.1", ["blocks.0", "blocks.1"], content_weight=0,
                                  style_weight=1.0, steps=10, init="noise", progress=False)
    assert result.history[-1] > 2 * result.history[0]  # objective = minus Gram error: it rose towards 0
    with pytest.raises(ValueError, match="nothing to optimize"):
        optim.style_transfer(effnet, style, style, "blocks.1", [], content_weight=0, style_weight=0)
