"""course_utils: the small helper package behind the notebooks of
"Visualizing and Understanding ConvNets".

Modules by topic: ``config`` (fast mode, seed, device), ``models``, ``images``, ``data``,
``hooks``, ``plotting``, ``train``. Import what a notebook needs, e.g.
``from course_utils.models import load_model``.
"""

from .config import FAST, device, pick, seed

__version__ = "0.1.0"
__all__ = ["FAST", "device", "pick", "seed", "__version__"]
