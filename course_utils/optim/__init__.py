"""Image optimization: one loop for class visualization, feature inversion, DeepDream, style and fooling.

The package follows the loop's three questions, one module each, plus the loop and the recipes:

- ``objectives``: *what* to maximize (``Objective``, composable with ``+``, ``-``, scalar ``*``);
- ``parameterizations``: *how the image is parameterized* (``PixelImage``, ``FourierImage``, ``SigmoidImage``);
- ``transforms``: *what is done to the image before the model sees it* (``jitter`` ...);
- ``steps``: what is done to the pixels after each step (blur, ε-ball projection);
- ``loop``: ``optimize_image`` and its optimizers; ``recipes``: the techniques, one call each;
- ``schedules``: a step that falls to 0 (``cosine_adam``); ``measures``: numbers for what an image shows.

    obj = optim.class_logit(281) - 1e-3 * optim.l2() - 0.1 * optim.total_variation()
    img, history = optim.optimize_image(model, obj, optim.PixelImage((1, 3, 128, 128)), steps=80)

Every model takes pixels in [0,1], so images are pixels everywhere. Objectives are *maximized*;
``history`` holds the objective's value at each step. The loop only computes: showing the result
is the notebook's (or ``plotting``'s) job. Taught in notebooks 07, 08, 09, 10 and 11.

Ctrl-C, the course's one rule: a function whose result is an *image being made* (``optimize_image``
and every recipe here, ``adversarial.fooling_image``) stops at once, warns how far it got and
returns the image reached; a recipe of several stages (``deep_dream``'s octaves) stops them all.
A function whose result is a *measurement* (attack accuracy, training losses, loss surfaces)
re-raises ``KeyboardInterrupt`` after its cleanup: a half-finished number would be a wrong one.

Bad arguments (``steps=-3``, ``lr=-0.1``, NaN pixels, ``jitter(-3)``, ``scale=0``) raise at once
with the valid range; class targets may be indices or class names (``"flamingo"``).
"""

from .diagnostics import (
    SoftmaxGradient,
    UnitActivity,
    augmented_probability,
    gram_similarity,
    log_softmax_gradient,
    mean_frequency,
    pixel_correlation,
    pooled_similarity,
    unit_activity,
    unseen_augmentations,
)
from .loop import NormalizedGradient, OptimizerFactory, Result, make_optimizer, optimize_image
from .measures import FeatureErrorTrace, channel_means, clipped_fraction, layout_correlation, peak_patch
from .objectives import (
    Acts,
    Objective,
    channel,
    channels,
    class_log_prob,
    class_logit,
    diversity,
    feature_match,
    gram_match,
    gram_matrix,
    has_class_names,
    l2,
    layer_norm,
    resolve_class_names,
    total_variation,
)
from .parameterizations import FourierImage, Param, PixelImage, SigmoidImage
from .recipes import (
    channel_visualization,
    class_probability,
    class_visualization,
    deep_dream,
    default_size,
    feature_error,
    gram_error,
    high_frequency_fraction,
    input_channels,
    invert_features,
    layer_features,
    style_transfer,
)
from .schedules import CosineAdam, cosine_adam
from .steps import StepOp, blur_every, clip_pixels, project_linf
from .transforms import (
    Transform,
    compose,
    jitter,
    pad,
    random_rotate,
    random_scale,
    random_zoom,
    standard_transforms,
    zoom_out_transforms,
)

__all__ = [
    "Acts",
    "FourierImage",
    "NormalizedGradient",
    "Objective",
    "OptimizerFactory",
    "Param",
    "PixelImage",
    "Result",
    "StepOp",
    "Transform",
    "blur_every",
    "channel",
    "channel_visualization",
    "class_log_prob",
    "class_logit",
    "class_probability",
    "class_visualization",
    "clip_pixels",
    "compose",
    "deep_dream",
    "default_size",
    "feature_error",
    "feature_match",
    "gram_error",
    "gram_match",
    "gram_matrix",
    "has_class_names",
    "high_frequency_fraction",
    "input_channels",
    "invert_features",
    "jitter",
    "l2",
    "layer_features",
    "layer_norm",
    "make_optimizer",
    "optimize_image",
    "pad",
    "project_linf",
    "random_rotate",
    "random_scale",
    "resolve_class_names",
    "standard_transforms",
    "style_transfer",
    "total_variation",
    # notebook 07: one channel per image, diversity, zoomed-out transforms, and its measures
    "SoftmaxGradient",
    "UnitActivity",
    "augmented_probability",
    "channels",
    "diversity",
    "gram_similarity",
    "log_softmax_gradient",
    "mean_frequency",
    "pixel_correlation",
    "pooled_similarity",
    "random_zoom",
    "unit_activity",
    "unseen_augmentations",
    "zoom_out_transforms",
    # notebooks 08-09: a step that settles, an image that is never clipped, and their measures
    "CosineAdam",
    "FeatureErrorTrace",
    "SigmoidImage",
    "channel_means",
    "clipped_fraction",
    "cosine_adam",
    "layout_correlation",
    "peak_patch",
]
