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
from .core import frozen_eval, resolve_targets

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
]


def _check(x: torch.Tensor, eps: float) -> None:
    """Check that x holds pixels and eps is a pixel distance (every course model takes pixels in [0,1])."""
    if x.dim() != 4:
        raise ValueError(f"x must be a batch of images (N,C,H,W), got shape {tuple(x.shape)}")
    if x.min() < 0 or x.max() > 1:
        raise ValueError("x must hold pixels in [0,1] (images.preprocess gives them; do not normalize them yourself)")
    if not 0 <= eps <= 1:
        raise ValueError(f"eps is in pixel units and must lie in [0,1], got {eps}")


def project(x_adv: torch.Tensor, x: torch.Tensor, eps: float) -> torch.Tensor:
    """Clip ``x_adv`` into the L∞ ball of radius ``eps`` around ``x`` and into [0,1]."""
    return torch.maximum(torch.minimum(x_adv, x + eps), x - eps).clamp(0, 1)


def _loss_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor, targeted: bool) -> torch.Tensor:
    """Gradient of the summed cross-entropy w.r.t. ``x`` (negated for a targeted attack: move *towards* y)."""
    x = x.detach().requires_grad_(True)
    loss = F.cross_entropy(model(x), y, reduction="sum")
    (grad,) = torch.autograd.grad(-loss if targeted else loss, x)
    return grad


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, targeted: bool = False) -> torch.Tensor:
    """Fast gradient sign method: ``x + eps * sign(∇x loss)``, clipped to [0,1]; ``(N,C,H,W)`` pixels in, pixels out.

    ``y`` holds the true labels (untargeted: raise their loss) or, with ``targeted``, the
    classes to reach (lower their loss). Returns a detached tensor on ``x``'s device.
    """
    _check(x, eps)
    with frozen_eval(model) as device:
        xd, yd = x.detach().to(device), resolve_targets(y, len(x)).to(device)
        grad = _loss_gradient(model, xd, yd, targeted)
        return project(xd + eps * grad.sign(), xd, eps).to(x.device)


def pgd(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    step: float | None = None,
    steps: int = 10,
    targeted: bool = False,
    random_start: bool = False,
    seed: int = 0,
) -> torch.Tensor:
    """Projected gradient descent (Madry et al. 2018): ``steps`` FGSM steps of size ``step``, each projected back.

    Pixels ``(N,C,H,W)`` in [0,1] in and out; the result stays within ``eps`` of ``x`` in every
    pixel. ``step`` defaults to ``2.5 * eps / steps``; ``random_start`` begins at a uniform point
    of the ball.
    """
    _check(x, eps)
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    step = 2.5 * eps / steps if step is None else step
    with frozen_eval(model) as device:
        xd, yd = x.detach().to(device), resolve_targets(y, len(x)).to(device)
        x_adv = xd.clone()
        if random_start:
            gen = torch.Generator(device="cpu").manual_seed(seed)
            noise = (torch.rand(xd.shape, generator=gen) * 2 - 1).to(device)
            x_adv = project(xd + eps * noise, xd, eps)
        for _ in range(steps):
            grad = _loss_gradient(model, x_adv, yd, targeted)
            x_adv = project(x_adv + step * grad.sign(), xd, eps)
        return x_adv.to(x.device)


def _margin(target: int) -> optim.Objective:
    """The target's logit minus the best other logit, capped at 5 (enough to win; then stop pushing)."""
    resolve_targets(target, 1)  # an int class index, checked before any work

    def fn(acts) -> torch.Tensor:
        logits = acts["logits"]
        others = logits.clone()
        others[:, target] = float("-inf")
        return (logits[:, target] - others.max(dim=1).values).clamp(max=5.0).mean()

    return optim.Objective(fn, f"margin({target})", layers=("logits",))


def fooling_image(
    model: nn.Module,
    x: torch.Tensor,
    target: int,
    eps: float = 2 / 255,
    steps: int = 20,
    lr: float | None = None,
    objective: str = "margin",
    progress: bool = True,
) -> torch.Tensor:
    """Change ``x`` ``(N,C,H,W)`` (pixels in [0,1]) by at most ``eps`` per pixel so the model predicts ``target``.

    One call of ``optim.optimize_image``: pixels initialised at ``x``, Adam steps of size ``lr``
    (default ``eps / 4``), after each step projected into the ε-ball and [0,1]. ``objective`` is
    ``"margin"`` (target logit minus best other, capped) or ``"log_prob"``. Returns pixels on the CPU.
    """
    _check(x, eps)
    choices = {"margin": _margin, "log_prob": optim.class_log_prob}
    if objective not in choices:
        raise ValueError(f"objective must be one of {sorted(choices)}, not {objective!r}")
    x = x.detach().cpu()
    param = optim.PixelImage(init=x)
    result = optim.optimize_image(
        model,
        choices[objective](target),
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
    """Return the accuracy on ``attack``-perturbed ``x`` for each ε ("fgsm" or "pgd"; ε=0: clean accuracy)."""
    if attack not in ("fgsm", "pgd"):
        raise ValueError(f"attack must be 'fgsm' or 'pgd', not {attack!r}")
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
