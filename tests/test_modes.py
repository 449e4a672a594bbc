"""Every public function that runs a model leaves it exactly as it found it.

The model here has mixed module modes on purpose (in train mode, but with its dropout frozen in
eval mode, as a user who fine-tunes with dropout off would have it) and one frozen parameter. After
each call, also after one that fails half-way, every module's own mode, every ``requires_grad``
flag and every hook list must be as before, and no parameter may have a ``.grad``.
"""

import pytest
import torch

from course_utils import activations, adversarial, attribution, codes, occlusion, optim, patches, scores
from course_utils import receptive_field as rf
from course_utils.models import FashionNet, top_predictions
from course_utils.train import evaluate


def mixed_model() -> FashionNet:
    torch.manual_seed(0)
    model = FashionNet()
    model.train()
    model.dropout.eval()  # frozen on purpose: model.train(was) would switch it back on
    model.conv1.bias.requires_grad_(False)
    return model


def snapshot(model: torch.nn.Module) -> dict:
    return {
        "modes": [(name, m.training) for name, m in model.named_modules()],
        "flags": [(name, p.requires_grad) for name, p in model.named_parameters()],
        "hooks": sum(
            len(m._forward_hooks)
            + len(m._forward_pre_hooks)
            + len(m._backward_hooks)
            + len(getattr(m, "_backward_pre_hooks", {}))
            for m in model.modules()
        ),
        "patched": [name for name, m in model.named_modules() if "forward" in vars(m)],
        "grads": [name for name, p in model.named_parameters() if p.grad is not None],
    }


X = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(1))
Y = torch.tensor([3, 7])

CALLS = {
    "top_predictions": lambda m: top_predictions(m, X, k=2),
    "evaluate": lambda m: evaluate(m, X, Y),
    "channel_max_over_dataset": lambda m: activations.channel_max_over_dataset(
        m, ["relu1", "relu3"], X, progress=False
    ),
    "count_dead_units": lambda m: activations.count_dead_units(m, "relu2", X, progress=False),
    "layer_sparsity": lambda m: activations.layer_sparsity(m, ["relu1"], X),
    "layer_activations": lambda m: activations.layer_activations(m, X, ["relu1", "fc2"]),
    "compute_codes": lambda m: codes.compute_codes(m, "relu4", X),
    "layer_maxima": lambda m: patches.layer_maxima(m, "relu2", X, progress=False),
    "top_activations": lambda m: patches.top_activations(m, "relu2", X, unit=1, k=2, progress=False),
    "receptive_field": lambda m: rf.receptive_field(m, "relu3", input_size=(28, 28)),
    "receptive_field_gradient": lambda m: rf.receptive_field(m, "relu3", input_size=(28, 28), method="gradient"),
    "occlusion": lambda m: occlusion.occlusion(m, X, 3, window=8, stride=8),
    "gradient": lambda m: attribution.gradient(m, X, 3),
    "deconvnet": lambda m: attribution.deconvnet(m, X, 3),
    "guided_backprop": lambda m: attribution.guided_backprop(m, X, 3),
    "smoothgrad": lambda m: attribution.smoothgrad(m, X, 3, samples=3),
    "integrated_gradients": lambda m: attribution.integrated_gradients(m, X, 3, steps=4),
    "grad_cam": lambda m: attribution.grad_cam(m, X, 3, "relu3"),
    "guided_grad_cam": lambda m: attribution.guided_grad_cam(m, X, 3, "relu3"),
    "cascading_randomization": lambda m: scores.cascading_randomization(
        m, X, 3, {"gradient": attribution.gradient}, layers=["fc2"], progress=False
    ),
    "deletion_insertion": lambda m: scores.deletion_insertion(m, X, torch.rand(2, 28, 28), 3, steps=4),
    "optimize_image": lambda m: optim.optimize_image(
        m, optim.class_logit(3), optim.PixelImage((1, 1, 28, 28)), steps=2, progress=False
    ),
    "class_visualization": lambda m: optim.class_visualization(m, 3, steps=2, size=28, progress=False),
    "channel_visualization": lambda m: optim.channel_visualization(m, "relu2", 1, steps=2, size=28, progress=False),
    "layer_features": lambda m: optim.layer_features(m, "relu2", X),
    "invert_features": lambda m: optim.invert_features(m, "relu2", X[:1], steps=2, progress=False),
    "deep_dream": lambda m: optim.deep_dream(m, X[:1], "relu2", octaves=1, steps_per_octave=2, progress=False),
    "class_probability": lambda m: optim.class_probability(m, X[:1], 3),
    "fgsm": lambda m: adversarial.fgsm(m, X, Y, 0.1),
    "pgd": lambda m: adversarial.pgd(m, X, Y, 0.1, steps=2),
    "fooling_image": lambda m: adversarial.fooling_image(m, X[:1], 5, eps=0.1, steps=2, progress=False),
    "predict": lambda m: adversarial.predict(m, X),
    "attack_accuracy": lambda m: adversarial.attack_accuracy(m, X, Y, [0.0, 0.1]),
    "flip_rate": lambda m: adversarial.flip_rate(m, X, Y, X.flip(-1)),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_model_comes_back_unchanged(name):
    model = mixed_model()
    before = snapshot(model)
    CALLS[name](model)
    assert snapshot(model) == before


class Boom(RuntimeError):
    pass


def _explode(*_):
    raise Boom("raised inside the forward pass")


@pytest.mark.parametrize("name", sorted(CALLS))
def test_model_comes_back_unchanged_after_an_error_inside(name):
    model = mixed_model()
    before = snapshot(model)
    original = model.fc1.forward
    model.fc1.forward = _explode  # fails deep inside every pass that reaches the code layer
    try:
        try:
            CALLS[name](model)
        except Boom:
            pass
    finally:
        model.fc1.forward = original
        del model.fc1.forward  # the instance attribute: back to the class's forward
    assert snapshot(model) == before


def test_fit_trains_and_gives_back_each_module_its_own_mode():
    """fit trains in train mode, but a dropout frozen on purpose must come back frozen."""
    from course_utils.train import fit

    model = mixed_model()
    model.eval()
    model.dropout.train()  # the odd one out, the other way round
    modes = [m.training for m in model.modules()]
    images = X.repeat(16, 1, 1, 1)
    labels = Y.repeat(16)
    losses = fit(model, images, labels, epochs=4, lr=3e-3, batch_size=8, progress=False)
    assert [m.training for m in model.modules()] == modes
    assert sum(losses[-4:]) < sum(losses[:4])  # it learned the two images
