"""spinglass: distributions with known structure and their exact ground truth.

Models share one interface (``spinglass.base.Model``): ``energy(x)`` batched over a leading axis,
``log_weight(x)``, ``planted`` and ``exact()`` for small n.  Conventions: docs/physics.md.
"""

from importlib.metadata import PackageNotFoundError, version

from .base import GlobalTerm, Model
from .exact import MAX_EXACT_STATES, ExactDistribution
from .lattice import EdwardsAnderson
from .mean_field import SK, CurieWeiss
from .priors import DiscretePrior, Gaussian, Prior, Rademacher, SparseRademacher, prior_from_name
from .scalar import PairwiseModel, PSpinModel, ScalarModel
from .sparse import NAESATModel, PlantedColoring, PlantedNAESAT, PottsModel
from .spiked import SpikedTensor, SpikedWigner

try:
    __version__ = version("spinglass-toolkit")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.1.0+unknown"

__all__ = [
    "MAX_EXACT_STATES", "GlobalTerm", "Model", "ExactDistribution", "EdwardsAnderson", "SK", "CurieWeiss",
    "DiscretePrior", "Gaussian", "Prior", "Rademacher", "SparseRademacher", "prior_from_name",
    "PairwiseModel", "PSpinModel", "ScalarModel", "NAESATModel", "PlantedColoring", "PlantedNAESAT",
    "PottsModel", "SpikedTensor", "SpikedWigner", "__version__",
]
