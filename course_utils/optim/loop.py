"""The one image-optimization loop behind class visualization, inversion, DeepDream, style and fooling.

``optimize_image`` asks three questions, each answered by a small object you can swap: *what*
to maximize (an ``Objective``), *how the image is parameterized* (``PixelImage``,
``FourierImage``) and *what is done to it before the model sees it* (transforms). Step
operations edit the pixels after each optimizer step. Taught in notebook 07; used by 08-11.
"""

from __future__ import annotations

import random
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from typing import NamedTuple

import torch
from torch import nn
from tqdm.auto import tqdm

from ..core import frozen_eval
from ..hooks import StopForward, get_layer, hooked
from ..images import gaussian_blur
from .arguments import check_count, check_number
from .objectives import Acts, Objective
from .parameterizations import FourierImage, Param, PixelImage, SigmoidImage
from .steps import StepOp
from .transforms import Transform, compose

OptimizerFactory = Callable[[list[torch.Tensor], float], torch.optim.Optimizer]
# how PyTorch words a layer's refusal of an input's shape (a Linear's matmul, a conv's channels or size)
_SHAPE_ERROR = re.compile(r"shapes cannot be multiplied|channels|[Ss]ize|shape|dimension")
_NEGATE_HINT = "objectives are maximized: to minimize one, negate it (-objective), not the learning rate"


class NormalizedGradient(torch.optim.Optimizer):
    """Plain gradient steps of size ``lr`` divided by the mean absolute gradient (DeepDream's step).

    Normalizing makes the step size mean the same thing at every layer and every octave.
    ``smooth`` > 0 first blurs each image-shaped gradient ``(N,C,H,W)`` with a Gaussian of that
    many pixels, so the step carries no pixel-scale speckle (notebook 09).
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 0.01, smooth: float = 0.0):
        # a negative lr would silently run the opposite optimization (descent instead of ascent)
        super().__init__(params, {"lr": check_number(lr, "lr", hint=_NEGATE_HINT)})
        self.smooth = check_number(smooth, "smooth", low_open=False, hint="a blur width in pixels; 0 = no blur")

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """Take one step ``p -= lr * g / mean|g|`` on every parameter (after running ``closure`` if given)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    g = gaussian_blur(p.grad, self.smooth) if self.smooth and p.grad.dim() == 4 else p.grad
                    p.add_(g / g.abs().mean().clamp_min(1e-8), alpha=-group["lr"])
        return loss


def make_optimizer(optimizer: str | OptimizerFactory, params: list[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    """Build the optimizer by name ("adam", "sgd", "lbfgs", "normalized") or call a factory ``f(params, lr)``.

    ``lr`` must be a finite number > 0 for every optimizer (a zero step does nothing, a negative one
    runs the opposite optimization).
    """
    lr = check_number(lr, "lr", hint=_NEGATE_HINT)
    if callable(optimizer):
        return optimizer(params, lr)
    choices: dict[str, Callable[[], torch.optim.Optimizer]] = {
        "adam": lambda: torch.optim.Adam(params, lr=lr),
        "sgd": lambda: torch.optim.SGD(params, lr=lr, momentum=0.9),
        # one L-BFGS iteration per step keeps the progress bar and the callback per step
        "lbfgs": lambda: torch.optim.LBFGS(params, lr=lr, max_iter=1, history_size=20),
        "normalized": lambda: NormalizedGradient(params, lr=lr),
    }
    if optimizer not in choices:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {sorted(choices)} or pass a factory")
    return choices[optimizer]()


class Result(NamedTuple):
    """What ``optimize_image`` returns: ``image`` ``(N,C,H,W)`` pixels in [0,1] on the CPU, ``history`` per step."""

    image: torch.Tensor
    history: list[float]


def optimize_image(
    model: nn.Module,
    objective: Objective,
    param: Param,
    steps: int = 80,
    lr: float = 0.05,
    optimizer: str | OptimizerFactory = "adam",
    transforms: Transform | Sequence[Transform] | None = None,
    step_ops: Sequence[StepOp] = (),
    callback: Callable[[int, torch.Tensor], None] | None = None,
    progress: bool = True,
    seed: int | None = 0,
) -> Result:
    """Change ``param``'s image (pixels in [0,1]) to maximize ``objective`` for ``steps`` optimizer steps.

    Each step: param.image() → transforms → model, recording the layers the objective names and
    ending the pass once they are all computed; an optimizer step on ``-objective``; the param's
    constraint, then ``step_ops``. ``callback(step, image)`` sees each step's image. ``seed`` fixes
    the random transforms (``random``'s state is restored after). ``steps >= 1`` and ``lr > 0``.

    Ctrl-C (``KeyboardInterrupt``) stops the loop, warns how many steps were done and returns the
    image reached: the course's rule for every image optimization (see ``optim``).
    """
    return _optimize(model, objective, param, steps, lr, optimizer, transforms, step_ops, callback, progress, seed)[0]


def _optimize(
    model: nn.Module,
    objective: Objective,
    param: Param,
    steps: int,
    lr: float,
    optimizer: str | OptimizerFactory,
    transforms: Transform | Sequence[Transform] | None,
    step_ops: Sequence[StepOp],
    callback: Callable[[int, torch.Tensor], None] | None,
    progress: bool,
    seed: int | None,
    warn_interrupt: bool = True,
) -> tuple[Result, bool]:
    """``optimize_image``, also saying whether Ctrl-C stopped it (multi-stage recipes then stop too)."""
    if not isinstance(objective, Objective):
        raise TypeError(f"objective must be an optim.Objective (e.g. optim.class_logit(281)), not {type(objective)}")
    if not isinstance(param, (PixelImage, FourierImage, SigmoidImage)):
        raise TypeError(
            f"param must be an optim.PixelImage, FourierImage or SigmoidImage, not {type(param).__name__}; "
            "to start from a tensor of pixels, pass optim.PixelImage(init=x)"
        )
    steps = check_count(steps, "steps")
    lr = check_number(lr, "lr", hint=_NEGATE_HINT)
    transform = transforms if transforms is None or callable(transforms) else compose(transforms)
    modules = {name: get_layer(model, name) for name in objective.layers if name not in ("logits", "image", "input")}
    acts: Acts = {}
    own_pass = [False]  # True only during the loop's own forward: a callback's passes are neither recorded nor cut

    def record(name: str) -> Callable:
        def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
            if not own_pass[0]:
                return
            if not isinstance(output, torch.Tensor):
                raise TypeError(f"layer {name!r} returns {type(output).__name__}, not a tensor; name a submodule")
            acts[name] = output.clone()  # clone: a later in-place op (ReLU(inplace=True)) would change it
            if "logits" not in objective.layers and all(n in acts for n in modules):
                raise StopForward  # nothing after the last layer we need matters: skip the rest

        return hook

    def closure() -> float:
        opt.zero_grad()
        acts.clear()
        image = param.image()
        x = transform(image) if transform is not None else image
        try:
            own_pass[0] = True
            with suppress(StopForward):
                acts["logits"] = model(x)
        except RuntimeError as exc:  # e.g. a fixed-size model (FashionNet: 28 px) given another size
            if history or not _SHAPE_ERROR.search(str(exc)):
                raise
            raise ValueError(
                f"the model cannot run on the image being optimized, shape {tuple(x.shape)}: {exc}. "
                "Give the image the channel count and size the model takes (FashionNet: (1,1,28,28))"
            ) from exc
        finally:
            own_pass[0] = False
        missing = [name for name in modules if name not in acts]
        if missing:
            raise ValueError(
                f"layer {missing[0]!r} did not run in the forward pass, so the objective has nothing to measure; "
                "name a layer that forward() calls (see hooks.layer_names(model))"
            )
        acts.update(image=image, input=x)
        loss = -objective(acts)
        loss.backward()
        return float(loss.detach())

    history: list[float] = []
    interrupted = False
    rng_state = random.getstate()
    with frozen_eval(model) as device, hooked(forward=[(m, record(name)) for name, m in modules.items()]):
        param.to(device)
        opt = make_optimizer(optimizer, param.parameters(), lr)
        bar = tqdm(range(steps), desc=str(objective)[:40], disable=not progress, leave=False)
        try:
            random.seed(seed)  # seed=None: fresh randomness, still restored below
            for step in bar:
                history.append(-opt.step(closure))  # the objective before this step (L-BFGS: its first evaluation)
                with torch.no_grad():
                    param.constrain()
                    for op in step_ops:
                        op(step, param)
                if progress and step % 10 == 0:
                    bar.set_postfix(objective=f"{history[-1]:.3g}")
                if callback is not None:
                    callback(step, param.image().detach())
        except KeyboardInterrupt:
            interrupted = True
            if warn_interrupt:
                warnings.warn(f"interrupted after {len(history)} of {steps} steps; returning the image", stacklevel=3)
        finally:
            bar.close()
            random.setstate(rng_state)
            acts.clear()  # drop the last pass's activations (and their graph) now, not at garbage collection
    return Result(param.image().detach().cpu(), history), interrupted
