"""Live demos for the notebooks: one small "explorer" per demo, built from ipywidgets controls.

Each factory (``predictions_explorer``, ``occlusion_explorer``, ...) returns an ``Explorer``: an
ipywidgets ``VBox`` to display in a notebook, with a row of controls above a picture. Changing a
control (or pressing **Run**, for the slow ones) calls a pure compute function of ``course_utils``,
stores what it returned in ``explorer.result`` and draws it with ``course_utils.plotting`` into an
``Image`` widget (PNG bytes). Because computing and showing are separate, a test can drive an
explorer without a browser::

    explorer = occlusion_explorer(model, x, target)
    explorer.controls["window"].value = 16
    explorer.button.click()
    explorer.result            # the (H,W) map now shown

Outside a live kernel (a notebook rendered on GitHub) the explorer shows its last picture as a
still image. Every model takes pixels in [0,1], and so does every explorer. The modules follow the
course: ``explorer`` (the core), ``features`` (notebooks 00–04), ``attribution`` (05–06),
``optimization`` (07–10), ``robustness`` (11–13), ``quiz`` and ``correspondence`` (14: the learner against
the network; matching two views), and ``inspector``, the live view of a whole network (notebooks 00 and 02).
"""

from .attribution import Saliency, occlusion_explorer, saliency_explorer
from .correspondence import correspondence_explorer
from .explorer import Draw, Explorer, figure_png, pixels_png, probabilities
from .features import (
    activation_explorer,
    checkpoint_filters_explorer,
    neighbours_explorer,
    patches_explorer,
    predictions_explorer,
    tsne_explorer,
)
from .inspector import NetworkInspector, network_inspector
from .optimization import class_visualization_explorer, deepdream_explorer, inversion_explorer, style_explorer
from .quiz import CROWD_ACCURACY, GarmentQuiz, QuizResults, confusion_matrix, garment_quiz, quiz_figure, quiz_results
from .robustness import fgsm_explorer, loss_slice_explorer, targeted_attack_explorer

__all__ = [
    "CROWD_ACCURACY",
    "Draw",
    "Explorer",
    "GarmentQuiz",
    "NetworkInspector",
    "QuizResults",
    "Saliency",
    "activation_explorer",
    "checkpoint_filters_explorer",
    "correspondence_explorer",
    "class_visualization_explorer",
    "confusion_matrix",
    "deepdream_explorer",
    "fgsm_explorer",
    "figure_png",
    "garment_quiz",
    "inversion_explorer",
    "loss_slice_explorer",
    "neighbours_explorer",
    "network_inspector",
    "occlusion_explorer",
    "patches_explorer",
    "pixels_png",
    "predictions_explorer",
    "probabilities",
    "quiz_figure",
    "quiz_results",
    "saliency_explorer",
    "style_explorer",
    "targeted_attack_explorer",
    "tsne_explorer",
]
