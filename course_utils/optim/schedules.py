"""Learning-rate schedules for the image optimizations: steps that shrink, so the loop ends at a minimum.

Adam with a constant step never settles: near a minimum it keeps jumping by about ``lr`` per
pixel, so the objective wobbles at a level set by the step size, not by the problem. Letting the
step fall to zero along half a cosine (Loshchilov & Hutter 2017) ends the run at the bottom of
the valley it found. Use it as an optimizer factory::

    optim.optimize_image(model, obj, param, steps=300, lr=0.1, optimizer=optim.cosine_adam(300))

Taught in notebook 08 (feature inversion converges; the prior, not the optimizer, sets the error).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch

from .arguments import check_count, check_number
from .loop import OptimizerFactory


class CosineAdam(torch.optim.Adam):
    """Adam whose learning rate falls from ``lr`` to 0 along half a cosine over ``total_steps`` steps.

    Step ``t`` (0-based) uses ``lr · (1 + cos(π t / total_steps)) / 2``; after ``total_steps`` steps the
    rate stays 0. L-BFGS-style closures are accepted, as by ``torch.optim.Adam``.
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 0.1, total_steps: int = 100):
        self.base_lr = check_number(lr, "lr", hint="a learning rate is > 0; objectives are maximized by the loop")
        self.total_steps = check_count(total_steps, "total_steps", what="steps over which the rate falls to 0")
        self.steps_taken = 0
        super().__init__(params, lr=self.base_lr)

    def rate(self, step: int) -> float:
        """Return the learning rate of step ``step`` (0-based)."""
        progress = min(step, self.total_steps) / self.total_steps
        return self.base_lr * 0.5 * (1.0 + math.cos(math.pi * progress))

    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """Set this step's learning rate, then take one Adam step."""
        for group in self.param_groups:
            group["lr"] = self.rate(self.steps_taken)
        self.steps_taken += 1
        return super().step(closure)


def cosine_adam(total_steps: int) -> OptimizerFactory:
    """Return an optimizer factory ``f(params, lr)`` that builds a ``CosineAdam`` decaying over ``total_steps``.

    Pass the same number as the loop's ``steps`` so the rate reaches 0 at the last step.
    """
    total_steps = check_count(total_steps, "total_steps", what="steps over which the rate falls to 0")

    def factory(params: list[torch.Tensor], lr: float) -> torch.optim.Optimizer:
        return CosineAdam(params, lr=lr, total_steps=total_steps)

    return factory
