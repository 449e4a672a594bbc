"""Train FashionNet; re-create the weights, checkpoints and manifest shipped in ``data/``.

    python -m course_utils.train                       # full Fashion-MNIST, 10 epochs (~6-11 min on 2 cores)
    python -m course_utils.train --name fashionnet_robust --adversarial-eps 0.1   # PGD training (~6x as long)
    python -m course_utils.train --name fashionnet_plain --conv1-init-scale 1 --conv1-weight-decay 0 --final-only
    python -m course_utils.train --subset --epochs 2 --out /tmp/fashionnet   # a quick try

``fit`` and ``evaluate`` are also used by the notebooks (e.g. the too-high learning rate run
in notebook 02).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from . import config
from .core import frozen_eval, train_mode
from .data import MANIFEST_FILE, SUBSET_FILE, fashion_mnist, sha256
from .models import FASHIONNET_VARIANTS, FashionNet
from .optim.arguments import check_count, check_number, check_pixels

# Checkpoints kept along the run, by optimizer step (469 steps = one epoch at batch size 128).
CHECKPOINT_STEPS = {"init": 0, "step100": 100, "epoch1": 469, "epoch3": 3 * 469}
# Smooth first-layer filters (notebook 01): with PyTorch's default init and plain Adam each trained
# conv1 filter stays ~85 % its initial white noise (roughness 2.7 of 3.4), because the gradient of a
# first-layer filter is a sum of smooth image patches and never removes that noise. Starting conv1
# 10x smaller lets the learned part dominate, and decoupled weight decay on conv1 only (AdamW) keeps
# shrinking what is left of the noise; the other layers train exactly as before.
CONV1_INIT_SCALE = 0.1
CONV1_WEIGHT_DECAY = 1.0
# No dead code units (v2): each fc1 unit starts firing on 90 % of the init batch, and the learning rate warms up
# over the first epoch. Measured after 3 epochs: 2 of 128 code units dead on the test subset, against 16 with the
# warmup alone and 33 with neither (Adam's first full-size steps push a fan-in of 2048 far below zero).
WARMUP_STEPS = 469
CODE_ACTIVE = 0.9


@torch.no_grad()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    """Return the accuracy of ``model`` on ``images`` (N,C,H,W) with ``labels`` (N,); restores train/eval mode."""
    batch_size = check_count(batch_size, "batch_size")
    _check_data(images, labels)
    with frozen_eval(model) as dev:
        correct = sum(
            (model(images[i : i + batch_size].to(dev)).argmax(1).cpu() == labels[i : i + batch_size]).sum().item()
            for i in range(0, len(labels), batch_size)
        )
    return correct / len(labels)


def fit(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    epochs: float = 1.0,
    lr: float = 1e-3,
    batch_size: int = 128,
    optimizer: str = "adam",
    seed: int = 0,
    on_step: Callable[[int, nn.Module], None] | None = None,
    progress: bool = True,
    weight_decay: dict[str, float] | None = None,
    adversary: Callable[[nn.Module, torch.Tensor, torch.Tensor, int], torch.Tensor] | None = None,
    warmup_steps: int = 0,
) -> list[float]:
    """Train ``model`` with cross-entropy for ``epochs`` passes over (images, labels); return the loss per step.

    ``on_step(step, model)`` is called before the first step and after every step (step 1, 2, …),
    e.g. to save checkpoints. ``optimizer`` is "adam" or "sgd" (momentum 0.9). ``weight_decay``
    maps parameter names to a decay, e.g. ``{"conv1.weight": 1.0}``; the other parameters get none.
    With "adam" the decay is decoupled (AdamW: each step shrinks the weight by ``lr * decay``).

    ``adversary(model, x, y, step)`` turns each minibatch into the images the model trains on
    instead (adversarial training, Madry et al. 2018: ``pgd_adversary(eps)``); it gets the model in
    train mode and must hand it back so. ``warmup_steps`` raises the learning rate linearly from
    ``lr / warmup_steps`` to ``lr`` over the first steps (Goyal et al. 2017): Adam's first full-size
    steps otherwise push many code units below zero for good.

    ``seed`` fixes everything random in the run: the minibatch order and the dropout masks (drawn
    from torch's global generator, seeded with ``seed`` for the run and restored after it), so two
    runs from the same weights with the same seed give the same losses. Ctrl-C re-raises after
    closing the progress bar and restoring the modules' modes; the model keeps the weights reached.
    """
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', not {optimizer!r}")
    epochs = check_number(epochs, "epochs", hint="e.g. 1 (one pass over the data) or 0.5")
    lr = check_number(lr, "lr", hint="e.g. 1e-3 for Adam")
    batch_size = check_count(batch_size, "batch_size")
    seed = check_count(seed, "seed", minimum=0)
    _check_data(images, labels)
    dev = config.model_device(model)
    named = {name: p for name, p in model.named_parameters() if p.requires_grad}
    if not named:
        raise ValueError("model has no trainable parameters (load_model freezes them: call p.requires_grad_(True))")
    decay = dict(weight_decay or {})
    unknown = sorted(set(decay) - set(named))
    if unknown:
        raise ValueError(f"weight_decay names {unknown}, which are not trainable parameters; choose from {list(named)}")
    groups: list[dict[str, Any]] = [
        {"params": [p for n, p in named.items() if n not in decay], "weight_decay": 0.0},
        *({"params": [named[n]], "weight_decay": d} for n, d in decay.items()),
    ]
    opt: torch.optim.Optimizer
    if optimizer == "sgd":
        opt = torch.optim.SGD(groups, lr=lr, momentum=0.9)
    else:  # AdamW without decay is Adam; plain Adam when no decay is asked for keeps old runs bit-identical
        opt = torch.optim.AdamW(groups, lr=lr) if decay else torch.optim.Adam(groups[0]["params"], lr=lr)
    warmup_steps = check_count(warmup_steps, "warmup_steps", minimum=0)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: min(1.0, (i + 1) / max(warmup_steps, 1)))
    generator = torch.Generator().manual_seed(seed)
    steps_per_epoch = -(-len(labels) // batch_size)
    total_steps = round(epochs * steps_per_epoch)
    if total_steps < 1:
        raise ValueError(
            f"epochs={epochs:g} of {steps_per_epoch} step(s) per epoch rounds to 0 optimizer steps; "
            f"pass epochs >= {1 / steps_per_epoch:.3g} (one step)"
        )
    losses: list[float] = []
    # dropout draws from the global generator: seed it for the run, give the caller's state back after
    cuda = [dev] if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda), train_mode(model):
        torch.manual_seed(seed)
        if on_step is not None:
            on_step(0, model)
        bar = tqdm(total=total_steps, desc="training", disable=not progress, leave=False)
        try:
            while len(losses) < total_steps:
                order = torch.randperm(len(labels), generator=generator)
                for start in range(0, len(labels), batch_size):
                    idx = order[start : start + batch_size]
                    batch = images[idx].to(dev)
                    if adversary is not None:
                        batch = adversary(model, batch, labels[idx].to(dev), len(losses))
                    logits = model(batch)
                    if not losses:  # the class count is known from the first logits
                        _check_labels(labels, logits.shape[1])
                    loss = F.cross_entropy(logits, labels[idx].to(dev))
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    schedule.step()
                    losses.append(loss.item())
                    bar.update(1)
                    bar.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
                    if on_step is not None:
                        on_step(len(losses), model)
                    if len(losses) == total_steps:
                        break
        finally:
            bar.close()
    return losses


def pgd_adversary(
    eps: float, steps: int = 5, step: float | None = None
) -> Callable[[nn.Module, torch.Tensor, torch.Tensor, int], torch.Tensor]:
    """An ``adversary`` for ``fit``: PGD with a random start (Madry et al. 2018), ``eps`` in pixels.

    The attack runs with the model in eval mode (no dropout; ``adversarial.pgd`` restores train
    mode); its random start is seeded by the step, so a run is reproducible.
    """
    from .adversarial import pgd

    eps = check_number(eps, "eps (pixels)", hint="e.g. 0.1 for Fashion-MNIST")
    steps = check_count(steps, "steps")

    def attack(model: nn.Module, x: torch.Tensor, y: torch.Tensor, at: int) -> torch.Tensor:
        return pgd(model, x, y, eps, step=step, steps=steps, random_start=True, seed=at)

    return attack


def _check_data(images: torch.Tensor, labels: torch.Tensor) -> None:
    """Check ``images`` are pixels ``(N,C,H,W)`` in [0,1] and ``labels`` ``(N,)`` integer classes >= 0."""
    check_pixels(images, "images")
    if not isinstance(labels, torch.Tensor) or labels.dim() != 1 or labels.dtype.is_floating_point:
        what = f"{labels.dtype} tensor of shape {tuple(labels.shape)}" if isinstance(labels, torch.Tensor) else labels
        raise ValueError(f"labels must be a 1-d tensor of integer class indices (N,), got {what}; try labels.long()")
    if len(labels) != len(images):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels; give one label per image")
    if len(labels) == 0:
        raise ValueError("no images to train or evaluate on")
    _check_labels(labels, None)


def _check_labels(labels: torch.Tensor, num_classes: int | None) -> None:
    """Raise if a label is negative or (with ``num_classes``) past the model's last class."""
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or (num_classes is not None and high >= num_classes):
        top = "" if num_classes is None else f"; the model has {num_classes} classes (0..{num_classes - 1})"
        raise ValueError(f"labels must be class indices >= 0, got values in [{low}, {high}]{top}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train FashionNet and write data/ files.")
    parser.add_argument("--name", default="fashionnet", choices=sorted(FASHIONNET_VARIANTS), help="which model")
    parser.add_argument("--epochs", type=float, default=10)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--conv1-init-scale",
        type=float,
        default=CONV1_INIT_SCALE,
        help="multiply conv1's initial weights by this (1 = plain He init)",
    )
    parser.add_argument(
        "--conv1-weight-decay",
        type=float,
        default=CONV1_WEIGHT_DECAY,
        help="decoupled weight decay (AdamW) on conv1.weight only; 0 = plain Adam",
    )
    parser.add_argument("--adversarial-eps", type=float, default=0.0, help="PGD training at this eps; 0 = standard")
    parser.add_argument("--pgd-steps", type=int, default=5, help="PGD steps per minibatch (step 2.5 eps / steps)")
    parser.add_argument("--warmup-steps", type=int, default=WARMUP_STEPS, help="linear learning-rate warmup (0 = none)")
    parser.add_argument(
        "--code-active",
        type=float,
        default=CODE_ACTIVE,
        help="share of the init batch each code unit (fc1) fires on; the conv units fire on half",
    )
    parser.add_argument("--final-only", action="store_true", help="ship only the final weights, no checkpoints")
    parser.add_argument("--subset", action="store_true", help="train on the shipped subset (offline, fast)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: the course's data/)")
    args = parser.parse_args(argv)
    out = args.out or Path(config.data_dir())
    out.mkdir(parents=True, exist_ok=True)

    config.seed(args.seed)
    train = fashion_mnist("train", full=not args.subset)
    test_subset = fashion_mnist("test")
    test_full = None if args.subset else fashion_mnist("test", full=True)
    model = FashionNet().to(config.device())
    with torch.no_grad():
        model.conv1.weight.mul_(args.conv1_init_scale)
    sample = torch.randperm(len(train), generator=torch.Generator().manual_seed(args.seed))[:512]
    model.center_biases(train.images[sample], active={"fc1": args.code_active})
    checkpoints = []
    wanted = {} if args.final_only else CHECKPOINT_STEPS

    def save(name: str, step: int) -> None:
        file = f"{args.name}_{name}.pt"
        torch.save(model.state_dict(), out / file)
        epoch = step * args.batch_size / len(train)
        acc = evaluate(model, test_subset.images, test_subset.labels)
        checkpoints.append(
            {"name": name, "file": file, "step": step, "epoch": round(epoch, 3), "test_subset_accuracy": round(acc, 4)}
        )

    def on_step(step: int, _model: nn.Module) -> None:
        for name, at in wanted.items():
            if step == at:
                save(name, step)

    start = time.perf_counter()
    decay = {"conv1.weight": args.conv1_weight_decay} if args.conv1_weight_decay else None
    adversary = pgd_adversary(args.adversarial_eps, args.pgd_steps) if args.adversarial_eps else None
    fit(
        model,
        train.images,
        train.labels,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        seed=args.seed,
        on_step=on_step,
        weight_decay=decay,
        adversary=adversary,
        warmup_steps=args.warmup_steps,
    )
    minutes = (time.perf_counter() - start) / 60
    save("final", round(args.epochs * -(-len(train) // args.batch_size)))
    record = {
        "command": " ".join(["python -m course_utils.train", *(argv if argv is not None else sys.argv[1:])]),
        "model": f"FashionNet v{FashionNet.version}",
        "train_set": train.name,
        "epochs": args.epochs,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "optimizer": "adamw" if decay else "adam",
        "weight_decay": decay or {},
        "init": "He (kaiming normal); biases set on 512 training images so each conv unit fires on half of them",
        "code_active": args.code_active,
        "warmup_steps": args.warmup_steps,
        "conv1_init_scale": args.conv1_init_scale,
        "adversarial": (
            {"attack": "pgd", "eps": args.adversarial_eps, "steps": args.pgd_steps, "random_start": True}
            if adversary
            else None
        ),
        "minutes": round(minutes, 1),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "test_subset_accuracy": checkpoints[-1]["test_subset_accuracy"],
    }
    if test_full is not None:
        record["test_full_accuracy"] = round(evaluate(model, test_full.images, test_full.labels), 4)
    manifest_path = out / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    files = dict(manifest.get("files", {}))
    for old in (manifest.get(args.name) or {}).get("checkpoints", []):  # this model's files from an earlier run
        if old["file"] not in {c["file"] for c in checkpoints}:
            files.pop(old["file"], None)
            (out / old["file"]).unlink(missing_ok=True)
    paths = {c["file"]: out / c["file"] for c in checkpoints}
    if (out / SUBSET_FILE).exists():
        paths[SUBSET_FILE] = out / SUBSET_FILE
    files.update({name: {"sha256": sha256(p), "bytes": p.stat().st_size} for name, p in paths.items()})
    manifest["files"] = dict(sorted(files.items()))
    manifest[args.name] = {"training": record, "checkpoints": checkpoints}
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
