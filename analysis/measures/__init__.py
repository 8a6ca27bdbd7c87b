"""The measures that judge samples: numbers computed from a sampler's output, against ground truth.

:mod:`.metrics` (energies, magnetisation, overlaps, TV / KL to exact laws with their null bounds,
Wasserstein distances, autocorrelation times, ESS, R-hat, Nishimori gaps), :mod:`.compare` (several
samplers on one instance: quality beside cost) and :mod:`.trajectories` (generative samplers' paths beside
the state-evolution branches).  This room imports ``spinglass``, ``samplers`` and :mod:`analysis.theory`;
never the experiments or the reproduction.
"""

from . import metrics
from .compare import Comparison, compare

__all__ = ["metrics", "compare", "Comparison"]
