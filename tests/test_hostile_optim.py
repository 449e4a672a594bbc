"""Hostile calls to optimization, attacks and training: each bad call gets one clear error, Ctrl-C follows one rule.

One table of (bad call, exception type, message regex) covers the arguments of ``optim``,
``adversarial``, ``train`` and ``landscape``; the tests below it check what the table cannot:
class names looked up, per-image fooling targets, Ctrl-C in a multi-octave DeepDream and in
training, and ``fit(seed=...)`` fixing the dropout masks.
"""

import warnings

import pytest
import torch
from torch import nn

from course_utils import adversarial, landscape, models, optim, train
from course_utils.data import FASHION_CLASSES


def tiny_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)
    ).eval()


TINY = tiny_net()
FASHION = models.FashionNet().eval()  # untrained: the checks come before anything that needs good weights
X3 = torch.rand(1, 3, 16, 16)
XF = torch.rand(2, 1, 28, 28)
Y = torch.tensor([0, 1])


def with_nan(x: torch.Tensor) -> torch.Tensor:
    x = x.clone()
    x[0, 0, 0, 0] = float("nan")
    return x


def pix(**kw) -> optim.PixelImage:
    return optim.PixelImage((1, 3, 16, 16), **kw)


def optimize(**kw):
    args = dict(model=TINY, objective=optim.class_logit(1), param=pix(), steps=2, progress=False) | kw
    return optim.optimize_image(**args)


def classviz(model=TINY, target=1, **kw):
    return optim.class_visualization(model, target, **({"steps": 2, "size": 16, "progress": False} | kw))


def dream(**kw):
    return optim.deep_dream(TINY, X3, "1", **({"octaves": 1, "steps_per_octave": 1, "progress": False} | kw))


def fit(**kw):
    net = models.FashionNet()
    images, labels = torch.rand(16, 1, 28, 28), torch.randint(0, 10, (16,))
    return train.fit(net, kw.pop("images", images), kw.pop("labels", labels), **({"progress": False} | kw))


NEGATE = r"negate it \(-objective\)"
BAD_CALLS = [
    # class targets: one resolver, one message (H3's core.resolve_targets)
    ("class_logit(-1)", lambda: optim.class_logit(-1), ValueError, "start at 0.*-1 is not the last class"),
    ("class too large", lambda: classviz(target=3), ValueError, "3 classes"),
    ("float tensor target", lambda: classviz(target=torch.tensor(2.7)), ValueError, "not a class index"),
    ("[1.9] target", lambda: classviz(target=[1.9]), ValueError, "not a class index"),
    ("unknown class name", lambda: classviz(FASHION, "Sandals", size=28), ValueError, "did you mean 'Sandal'"),
    ("name, names unknown", lambda: classviz(target="cat"), ValueError, "class names of .* are not known"),
    ("fooling -1", lambda: adversarial.fooling_image(FASHION, XF, -1, steps=1, progress=False), ValueError, "start"),
    ("fooling 10", lambda: adversarial.fooling_image(FASHION, XF, 10, steps=1, progress=False), ValueError, "10 cl"),
    ("fooling 3.7", lambda: adversarial.fooling_image(FASHION, XF, torch.tensor(3.7), steps=1), ValueError, "index"),
    ("fgsm y=10", lambda: adversarial.fgsm(FASHION, XF, torch.tensor([0, 10]), 0.1), ValueError, "10 classes"),
    ("channel -1", lambda: optim.channel("1", -1), ValueError, "channel index must be a whole number >= 0"),
    ("channel 99", lambda: optimize(objective=optim.channel("1", 99)), ValueError, "channel 99 .* 4 channels"),
    ("deep_dream channel 99", lambda: dream(channel_index=99), ValueError, "channel 99 .* 4 channels"),
    # NaN and dtypes at the boundaries
    ("fgsm NaN", lambda: adversarial.fgsm(FASHION, with_nan(XF), Y, 0.1), ValueError, "1 NaN/Inf"),
    ("pgd NaN", lambda: adversarial.pgd(FASHION, with_nan(XF), Y, 0.1, steps=1), ValueError, "NaN/Inf"),
    ("fooling NaN", lambda: adversarial.fooling_image(FASHION, with_nan(XF), 1, steps=1), ValueError, "NaN/Inf"),
    ("fgsm uint8", lambda: adversarial.fgsm(FASHION, (XF * 255).byte(), Y, 0.1), ValueError, r"x.float\(\) / 255"),
    ("PixelImage NaN", lambda: optim.PixelImage(init=with_nan(X3)), ValueError, "NaN/Inf"),
    ("PixelImage uint8", lambda: optim.PixelImage(init=torch.zeros(1, 3, 4, 4, dtype=torch.uint8)), ValueError, "255"),
    ("PixelImage ndarray", lambda: optim.PixelImage(init=X3.numpy()), TypeError, "to_tensor"),
    ("PixelImage 3-d", lambda: optim.PixelImage(init=X3[0]), ValueError, r"x\[None\]"),
    ("PixelImage sd NaN", lambda: optim.PixelImage(sd=float("nan")), ValueError, "sd must be a finite number"),
    ("PixelImage empty", lambda: optim.PixelImage((1, 3, 0, 16)), ValueError, r"shape\[2\] must be .* \(H\)"),
    ("FourierImage 3-d shape", lambda: optim.FourierImage((3, 16, 16)), ValueError, r"\(N,C,H,W\)"),
    ("deep_dream NaN", lambda: optim.deep_dream(TINY, with_nan(X3), "1"), ValueError, "NaN/Inf"),
    ("invert NaN", lambda: optim.invert_features(TINY, "1", with_nan(X3), steps=1), ValueError, "NaN/Inf"),
    ("style NaN", lambda: optim.style_transfer(TINY, with_nan(X3), X3, "1", ["1"], steps=1), ValueError, "NaN/Inf"),
    ("objective weight NaN", lambda: float("nan") * optim.l2(), ValueError, "finite"),
    # sizes, counts, signs
    ("FashionNet at 128 px", lambda: classviz(FASHION, 1, size=128), ValueError, "cannot run .*28"),
    ("size=1", lambda: classviz(size=1), ValueError, "size .* >= 8"),
    ("size='16'", lambda: classviz(size="16"), ValueError, "size .* whole number"),
    ("steps=-3", lambda: classviz(steps=-3), ValueError, "steps must be a whole number >= 1, got -3"),
    ("steps=2.5", lambda: optimize(steps=2.5), ValueError, "steps must be a whole number"),
    ("normalized lr<0", lambda: optimize(lr=-0.1, optimizer="normalized"), ValueError, "lr must be .*" + NEGATE),
    ("NormalizedGradient lr<0", lambda: optim.NormalizedGradient([torch.zeros(1)], lr=-1), ValueError, NEGATE),
    ("adam lr=0", lambda: optimize(lr=0), ValueError, r"lr must be a finite number in \(0"),
    ("lr NaN", lambda: classviz(lr=float("nan")), ValueError, "lr must be a finite number"),
    ("param is a tensor", lambda: optimize(param=X3), TypeError, r"PixelImage\(init=x\)"),
    ("transforms=5", lambda: optimize(transforms=5), TypeError, "list of transforms"),
    ("jitter(-3)", lambda: optim.jitter(-3), ValueError, "jitter distance d .* >= 0"),
    ("jitter(2.5)", lambda: optim.jitter(2.5), ValueError, "whole number"),
    ("pad(-2)", lambda: optim.pad(-2), ValueError, "pad width"),
    ("random_scale([0])", lambda: optim.random_scale([0]), ValueError, "scale factor"),
    ("random_scale([])", lambda: optim.random_scale([]), ValueError, "at least one value"),
    ("random_rotate([])", lambda: optim.random_rotate([]), ValueError, "at least one value"),
    ("compose([5])", lambda: optim.compose([5]), TypeError, "must be a function"),
    ("blur_every(0)", lambda: optim.blur_every(0), ValueError, "blur_every k"),
    ("blur sigma<0", lambda: classviz(blur_sigma=-1), ValueError, "0 turns the blur off"),
    ("tv_weight<0", lambda: classviz(tv_weight=-1), ValueError, "penalty weight"),
    ("project_linf eps NaN", lambda: optim.project_linf(X3, float("nan")), ValueError, r"eps .* \[0, 1\]"),
    ("octaves=0", lambda: dream(octaves=0), ValueError, "octaves .* >= 1"),
    ("scale=0", lambda: dream(octaves=2, scale=0), ValueError, "scale must be .*not its inverse"),
    ("scale=0.7", lambda: dream(octaves=2, scale=0.7), ValueError, "scale must be"),
    ("steps_per_octave=-3", lambda: dream(steps_per_octave=-3), ValueError, "steps_per_octave"),
    ("step_size<0", lambda: dream(step_size=-0.01), ValueError, "erase what the layer sees"),
    ("dream jitter -3", lambda: dream(jitter_px=-3), ValueError, "jitter distance"),
    ("style_layers str", lambda: optim.style_transfer(TINY, X3, X3, "1", "1", steps=1), TypeError, "list of layer"),
    ("style weight<0", lambda: optim.style_transfer(TINY, X3, X3, "1", ["1"], style_weight=-1), ValueError, ">= 0"),
    ("pgd step<0", lambda: adversarial.pgd(FASHION, XF, Y, 0.1, step=-0.01), ValueError, "opposite attack"),
    ("pgd step NaN", lambda: adversarial.pgd(FASHION, XF, Y, 0.1, step=float("nan")), ValueError, "step"),
    ("pgd steps=2.5", lambda: adversarial.pgd(FASHION, XF, Y, 0.1, steps=2.5), ValueError, "steps"),
    ("attack eps<0", lambda: adversarial.attack_accuracy(FASHION, XF, Y, [-0.1]), ValueError, r"eps .* \[0, 1\]"),
    ("attack eps number", lambda: adversarial.attack_accuracy(FASHION, XF, Y, 0.1), TypeError, "list of pixel"),
    ("attack batch 0", lambda: adversarial.attack_accuracy(FASHION, XF, Y, [0.1], batch_size=0), ValueError, "batch"),
    ("random noise eps<0", lambda: adversarial.random_sign_noise(XF, -1), ValueError, "eps"),
    ("fooling steps=0", lambda: adversarial.fooling_image(FASHION, XF, 1, steps=0), ValueError, "steps"),
    ("fooling lr<0", lambda: adversarial.fooling_image(FASHION, XF, 1, lr=-0.01), ValueError, NEGATE),
    # training
    ("fit epochs=0", lambda: fit(epochs=0), ValueError, "epochs must be"),
    ("fit epochs too few", lambda: fit(epochs=0.4), ValueError, "rounds to 0 optimizer steps"),
    ("fit lr<0", lambda: fit(lr=-1), ValueError, "lr must be"),
    ("fit batch 0", lambda: fit(batch_size=0), ValueError, "batch_size"),
    ("fit label count", lambda: fit(labels=torch.zeros(3, dtype=torch.long)), ValueError, "16 images but 3 labels"),
    ("fit float labels", lambda: fit(labels=torch.zeros(16)), ValueError, r"labels.long\(\)"),
    ("fit label 10", lambda: fit(labels=torch.full((16,), 10)), ValueError, "10 classes"),
    ("fit NaN images", lambda: fit(images=with_nan(torch.rand(16, 1, 28, 28))), ValueError, "NaN/Inf"),
    ("fit uint8 images", lambda: fit(images=torch.zeros(16, 1, 28, 28, dtype=torch.uint8)), ValueError, "255"),
    ("evaluate batch 0", lambda: train.evaluate(FASHION, XF, Y, batch_size=0), ValueError, "batch_size"),
    ("restarts epochs=0", lambda: landscape.train_restarts(nn.Flatten, [0], XF, Y, epochs=0), ValueError, "epochs"),
    ("slice span<0", lambda: landscape.loss_slice(TINY, {}, X3, Y, span=-1), ValueError, "span"),
]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS])
def test_bad_calls_get_a_clear_error(call, error, message):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a bad call must not merely warn and go on
        with pytest.raises(error, match=message):
            call()


def test_valid_edge_calls_still_work():
    assert classviz(FASHION, 3, steps=1, size=None).shape == (1, 1, 28, 28)  # no size: FashionNet's own 28 px
    assert optim.PixelImage(init=X3.double()).pixels.dtype == torch.float32  # float64 is optimized as float32
    assert adversarial.fgsm(FASHION, XF.double(), Y, 0.1).dtype == torch.float32
    assert optim.jitter(0)(X3).equal(X3) and optim.pad(0)(X3).equal(X3)
    assert dream(octaves=2, scale=1.0).shape == X3.shape  # scale 1: every octave at full size


def test_class_names_are_looked_up_where_the_model_is_known():
    bag = FASHION_CLASSES.index("Bag")
    by_name = classviz(FASHION, "bag", size=28, steps=3)  # any case
    by_index = classviz(FASHION, bag, size=28, steps=3)
    assert torch.equal(by_name, by_index)
    pushed = adversarial.fooling_image(FASHION, XF, ["Bag", "Coat"], eps=0.1, steps=2, progress=False)
    same = adversarial.fooling_image(
        FASHION, XF, [bag, FASHION_CLASSES.index("Coat")], eps=0.1, steps=2, progress=False
    )
    assert torch.equal(pushed, same)
    assert optim.class_probability(FASHION, XF[:1], "Bag") == optim.class_probability(FASHION, XF[:1], bag)
    # an objective alone does not know its model: with 1000 logits a name means an ImageNet class
    logits = torch.zeros(1, 1000)
    logits[0, 130] = 7.0
    assert float(optim.class_logit("flamingo")({"logits": logits})) == 7.0


def test_fooling_targets_one_per_image_and_the_margin_by_hand():
    logits = torch.tensor([[1.0, 4.0, 2.0], [3.0, 0.0, 5.0]])
    # image 0 wants class 2: 2 - 4 = -2; image 1 wants class 0: 3 - 5 = -2; class 2 for both: (-2 + 2) / 2
    assert float(adversarial._margin([2, 0], 2)({"logits": logits})) == pytest.approx(-2.0)
    assert float(adversarial._margin(2, 2)({"logits": logits})) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="3 targets for a batch of 2"):
        adversarial._margin([0, 1, 2], 2)


def test_ctrl_c_stops_every_octave_of_deep_dream_and_returns_a_full_size_image():
    calls = []

    def interrupt_in_octave_two(_module, _inputs, _output):
        calls.append(1)
        if len(calls) == 5:  # octave 1 runs 3 steps; this is step 2 of octave 2
            raise KeyboardInterrupt

    net = tiny_net()
    x = torch.rand(1, 3, 32, 32)
    handle = net[0].register_forward_hook(interrupt_in_octave_two)
    try:
        with pytest.warns(UserWarning, match="interrupted after 1 of 3 octaves"):
            out = optim.deep_dream(net, x, "1", octaves=3, steps_per_octave=3, jitter_px=1, progress=False)
    finally:
        handle.remove()
    assert len(calls) == 5  # octave 3 never ran
    assert out.shape == x.shape and torch.isfinite(out).all() and 0 <= out.min() and out.max() <= 1
    assert not torch.equal(out, x)  # the detail of octave 1 is kept
    assert all(not m._forward_hooks for m in net.modules())


def test_ctrl_c_in_training_re_raises_after_cleanup():
    net = models.FashionNet().eval()
    images, labels = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    state = torch.get_rng_state()
    steps = []

    def stop(step, _model):
        steps.append(step)
        if step == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train.fit(net, images, labels, batch_size=8, on_step=stop, progress=False)
    assert steps == [0, 1, 2]  # it stopped at once
    assert not any(m.training for m in net.modules())  # its eval mode came back
    assert torch.equal(torch.get_rng_state(), state)  # and so did the global generator


def test_fit_seed_fixes_dropout_and_leaves_the_global_generator_alone():
    images, labels = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    start = models.FashionNet().state_dict()

    def run(seed, global_seed):
        net = models.FashionNet()
        net.load_state_dict(start)
        torch.manual_seed(global_seed)
        before = torch.get_rng_state()
        losses = train.fit(net, images, labels, epochs=2, batch_size=16, seed=seed, progress=False)
        assert torch.equal(torch.get_rng_state(), before)  # fit's dropout draws do not move the caller's generator
        return losses

    assert run(3, global_seed=0) == run(3, global_seed=1)  # same weights and seed: same losses, dropout included
    assert run(3, global_seed=0) != run(4, global_seed=0)
