"""Adversarial examples: FGSM, PGD and targeted fooling images, with ε in pixel units.

Every function here takes and returns pixels in [0,1] and measures the perturbation in the
same units: ``eps=2/255`` means "no pixel moves by more than two grey levels". Every model
of the course normalizes inside itself, so no one does ε arithmetic in normalized space.
Used in notebook 11 (Szegedy et al. 2014; Goodfellow et al.
2015; Madry et al. 2018).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from . import optim
from .core import Target, frozen_eval, model_dtype, resolve_targets
from .optim.arguments import check_count, check_number, check_pixels

__all__ = [
    "fgsm",
    "pgd",
    "fooling_image",
    "project",
    "predict",
    "attack_accuracy",
    "transfer_rate",
    "flip_rate",
    "random_sign_noise",
    "linear_score_change",
    "to_8bit",
    "linear_template_attack",
]


def _check(x: torch.Tensor, eps: float) -> float:
    """Check that x holds finite pixels and eps is a pixel distance (every course model takes pixels in [0,1])."""
    check_pixels(x, "x")  # NaN would pass a [0,1] range test and come back as NaN pixels
    return _check_eps(eps)


def _check_eps(eps: float) -> float:
    return check_number(eps, "eps (in pixel units)", high=1, low_open=False, hint="e.g. 2/255 = two grey levels")


def _on_model(x: torch.Tensor, model: nn.Module, device: torch.device) -> torch.Tensor:
    """``x`` detached on the model's device, in the model's floating dtype (a float64 image is attacked in float32)."""
    return x.detach().to(device, model_dtype(model))


def _classes(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``y`` checked against the number of classes the logits show (known only after a forward pass)."""
    return resolve_targets(y, logits.shape[0], num_classes=logits.shape[1]).to(logits.device)


def project(x_adv: torch.Tensor, x: torch.Tensor, eps: float) -> torch.Tensor:
    """Clip ``x_adv`` into the L∞ ball of radius ``eps`` around ``x`` and into [0,1]."""
    return torch.maximum(torch.minimum(x_adv, x + eps), x - eps).clamp(0, 1)


def _loss_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor, targeted: bool) -> torch.Tensor:
    """Gradient of the summed cross-entropy w.r.t. ``x`` (negated for a targeted attack: move *towards* y)."""
    x = x.detach().requires_grad_(True)
    logits = model(x)
    loss = F.cross_entropy(logits, _classes(logits, y), reduction="sum")
    (grad,) = torch.autograd.grad(-loss if targeted else loss, x)
    return grad


def fgsm(model: nn.Module, x: torch.Tensor, y: Target, eps: float, targeted: bool = False) -> torch.Tensor:
    """Fast gradient sign method: ``x + eps * sign(∇x loss)``, clipped to [0,1]; ``(N,C,H,W)`` pixels in, pixels out.

    ``y`` holds the true labels (untargeted: raise their loss) or, with ``targeted``, the
    classes to reach (lower their loss). Returns a detached tensor on ``x``'s device, in the model's dtype.
    """
    eps = _check(x, eps)
    y = optim.resolve_class_names(model, y, x)
    with frozen_eval(model) as device:
        xd, yd = _on_model(x, model, device), resolve_targets(y, len(x)).to(device)
        grad = _loss_gradient(model, xd, yd, targeted)
        return project(xd + eps * grad.sign(), xd, eps).to(x.device)


def pgd(
    model: nn.Module,
    x: torch.Tensor,
    y: Target,
    eps: float,
    step: float | None = None,
    steps: int = 10,
    targeted: bool = False,
    random_start: bool = False,
    seed: int = 0,
) -> torch.Tensor:
    """Projected gradient descent (Madry et al. 2018): ``steps`` FGSM steps of size ``step``, each projected back.

    Pixels ``(N,C,H,W)`` in [0,1] in and out; the result stays within ``eps`` of ``x`` in every
    pixel. ``step`` (> 0) defaults to ``2.5 * eps / steps``; ``random_start`` begins at a uniform point
    of the ball. Ctrl-C re-raises (a half-finished attack would give a wrong accuracy).
    """
    eps = _check(x, eps)
    steps = check_count(steps, "steps")
    hint = "a negative step would run the opposite attack; for a targeted attack pass targeted=True"
    step = 2.5 * eps / steps if step is None else check_number(step, "step (pixels)", hint=hint)
    y = optim.resolve_class_names(model, y, x)
    with frozen_eval(model) as device:
        xd, yd = _on_model(x, model, device), resolve_targets(y, len(x)).to(device)
        x_adv = xd.clone()
        if random_start:
            gen = torch.Generator(device="cpu").manual_seed(seed)
            noise = (torch.rand(xd.shape, generator=gen) * 2 - 1).to(device)
            x_adv = project(xd + eps * noise, xd, eps)
        for _ in range(steps):
            grad = _loss_gradient(model, x_adv, yd, targeted)
            x_adv = project(x_adv + step * grad.sign(), xd, eps)
        return x_adv.to(x.device)


def _margin(target: Target, n: int) -> optim.Objective:
    """The target's logit minus the best other logit, capped at 5 (enough to win; then stop pushing).

    ``target``: one class for all ``n`` images or one per image, checked now (type, count) and
    against the number of classes at the first forward pass.
    """
    classes = resolve_targets(target, n)

    def fn(acts) -> torch.Tensor:
        logits = acts["logits"]
        index = resolve_targets(classes, logits.shape[0], num_classes=logits.shape[1]).to(logits.device)[:, None]
        others = logits.scatter(1, index, float("-inf"))
        return (logits.gather(1, index)[:, 0] - others.max(dim=1).values).clamp(max=5.0).mean()

    label = str(int(classes[0])) if bool((classes == classes[0]).all()) else str(classes.tolist())
    return optim.Objective(fn, f"margin({label})", layers=("logits",))


def fooling_image(
    model: nn.Module,
    x: torch.Tensor,
    target: Target,
    eps: float = 2 / 255,
    steps: int = 20,
    lr: float | None = None,
    objective: str = "margin",
    progress: bool = True,
) -> torch.Tensor:
    """Change ``x`` ``(N,C,H,W)`` (pixels in [0,1]) by at most ``eps`` per pixel so the model predicts ``target``.

    One call of ``optim.optimize_image``: pixels initialised at ``x``, Adam steps of size ``lr``
    (default ``eps / 4``), after each step projected into the ε-ball and [0,1]. ``objective`` is
    ``"margin"`` (target logit minus best other, capped) or ``"log_prob"``. ``target``: one class,
    or one per image. Returns pixels on the CPU. Ctrl-C returns the image reached (``optimize_image``).
    """
    eps = _check(x, eps)
    choices = {"margin": _margin, "log_prob": lambda t, n: optim.class_log_prob(resolve_targets(t, n))}
    if objective not in choices:
        raise ValueError(f"objective must be one of {sorted(choices)}, not {objective!r}")
    x = x.detach().cpu()
    target = optim.resolve_class_names(model, target, x)  # "ostrich" -> 9 for an ImageNet model
    param = optim.PixelImage(init=x)
    result = optim.optimize_image(
        model,
        choices[objective](target, len(x)),
        param,
        steps=steps,
        lr=eps / 4 if lr is None else lr,
        optimizer="adam",
        step_ops=[optim.project_linf(x, eps)],
        progress=progress,
    )
    # the optimizer's image already sits in the ball; project once more so float error cannot leave it
    return project(result.image, x, eps)


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Return the predicted class ``(N,)`` (on the CPU) of pixels ``x`` ``(N,C,H,W)``."""
    batch_size = check_count(batch_size, "batch_size")
    with frozen_eval(model) as device:
        return torch.cat(
            [model(x[i : i + batch_size].to(device)).argmax(1).cpu() for i in range(0, len(x), batch_size)]
        )


def attack_accuracy(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    epsilons: Sequence[float],
    attack: str = "fgsm",
    batch_size: int = 500,
    **pgd_kwargs,
) -> list[float]:
    """Return the accuracy on ``attack``-perturbed ``x`` for each ε ("fgsm" or "pgd"; ε=0: clean accuracy).

    Ctrl-C re-raises: the accuracies of a half-finished run would be wrong numbers.
    """
    if attack not in ("fgsm", "pgd"):
        raise ValueError(f"attack must be 'fgsm' or 'pgd', not {attack!r}")
    if isinstance(epsilons, (int, float)):
        raise TypeError(f"epsilons must be a list of pixel distances, e.g. [{epsilons}], not one number")
    epsilons = [_check_eps(eps) for eps in epsilons]  # a negative ε would silently be the clean accuracy
    batch_size = check_count(batch_size, "batch_size")
    check_pixels(x, "x")
    resolve_targets(y, len(x))  # one label per image, before any attack runs
    accuracies = []
    for eps in epsilons:
        correct = 0.0
        for i in range(0, len(x), batch_size):
            xb, yb = x[i : i + batch_size], y[i : i + batch_size]
            if eps > 0:
                xb = fgsm(model, xb, yb, eps) if attack == "fgsm" else pgd(model, xb, yb, eps, **pgd_kwargs)
            correct += (predict(model, xb) == yb.cpu()).sum().item()
        accuracies.append(correct / len(x))
    return accuracies


def transfer_rate(source: nn.Module, target: nn.Module, x: torch.Tensor, y: torch.Tensor, x_adv: torch.Tensor) -> dict:
    """Of the images both models get right and whose ``x_adv`` fools ``source``, the share that also fools ``target``.

    Returns counts (``both_correct``, ``fool_source``, ``fool_both``) and ``rate`` = fool_both / fool_source.
    """
    y = y.cpu()
    both_right = (predict(source, x) == y) & (predict(target, x) == y)
    fools_source = both_right & (predict(source, x_adv) != y)
    fools_target = fools_source & (predict(target, x_adv) != y)
    n = int(fools_source.sum())
    return {
        "both_correct": int(both_right.sum()),
        "fool_source": n,
        "fool_both": int(fools_target.sum()),
        "rate": float(fools_target.sum()) / max(n, 1),
    }


def flip_rate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, x_changed: torch.Tensor) -> float:
    """Of the images ``model`` classifies correctly, the share that ``x_changed`` makes it get wrong."""
    y = y.cpu()
    right = predict(model, x) == y
    return float((right & (predict(model, x_changed) != y)).sum()) / max(int(right.sum()), 1)


def random_sign_noise(x: torch.Tensor, eps: float, seed: int = 0) -> torch.Tensor:
    """``x`` plus ``±eps`` with random signs, clipped to [0,1]: the non-adversarial change of the same L∞ size."""
    eps = _check(x, eps)
    gen = torch.Generator().manual_seed(seed)
    signs = torch.randint(0, 2, x.shape, generator=gen).to(x.device, x.dtype) * 2 - 1
    return project(x + eps * signs, x, eps)


def linear_score_change(d: int, eps: float, seed: int = 0, trials: int = 20) -> dict:
    """Change of a random linear score ``wᵀx`` (``d`` inputs, w ~ N(0,1)) under ``eps·sign(w)`` and under random signs.

    ``adversarial`` = eps·‖w‖₁ (grows like d); ``random`` = the root-mean-square change over
    ``trials`` random ±eps perturbations (about eps·‖w‖₂, grows like √d).
    """
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(d, generator=gen, dtype=torch.float64)
    changes = [
        eps * ((torch.randint(0, 2, (d,), generator=gen, dtype=torch.float64) * 2 - 1) @ w) for _ in range(trials)
    ]
    return {
        "d": d,
        "adversarial": float(eps * w.sign() @ w),
        "eps_l1": float(eps * w.abs().sum()),
        "random": float(torch.stack(changes).pow(2).mean().sqrt()),
        "eps_l2": float(eps * w.norm()),
    }


def to_8bit(x: torch.Tensor) -> torch.Tensor:
    """Round pixels in [0,1] to the 256 grey levels of an 8-bit image file (what saving as PNG keeps)."""
    check_pixels(x, "x")
    return (x * 255).round() / 255


def linear_template_attack(weight: torch.Tensor, x: torch.Tensor, y: Target, target: Target, eps: float) -> dict:
    """FGSM on a linear softmax classifier, in closed form (Goodfellow et al. 2015, Fig. 2).

    For logits ``W x + b`` (``weight`` ``(K, D)``, pixels ``x`` ``(N, ...)`` with D values each) the
    change that raises the gap ``s_target - s_y`` most within ``‖η‖∞ ≤ eps`` is
    ``η = eps·sign(w_target - w_y)``, and it raises the gap by exactly ``eps·‖w_target - w_y‖₁``
    (before clipping to [0,1]). Returns ``eta`` (shape of ``x``), ``x_adv`` (clipped) and
    ``gap_gain`` ``(N,)``, the unclipped rise of the gap.
    """
    eps = _check(x, eps)
    if weight.dim() != 2 or weight.shape[1] != x[0].numel():
        raise ValueError(
            f"weight must be (classes, {x[0].numel()}) for inputs of shape {tuple(x.shape[1:])}, "
            f"got {tuple(weight.shape)}"
        )
    y = resolve_targets(y, len(x), num_classes=weight.shape[0])
    target = resolve_targets(target, len(x), num_classes=weight.shape[0])
    delta_w = (weight[target] - weight[y]).to(x.dtype)  # (N, D)
    eta = (eps * delta_w.sign()).view_as(x)
    return {"eta": eta, "x_adv": (x + eta).clamp(0, 1), "gap_gain": eps * delta_w.abs().sum(1)}
