"""The theory that predicts: what a Bayes-optimal sampler can and cannot do, computed without sampling.

State evolution of AMP on dense spiked models (:mod:`.state_evolution`, with the scalar channels' free
entropies in :mod:`.free_entropy`), the first-order transitions along the diffusion (Gaussian) and
autoregressive (erasure) paths and the failure verdict (:mod:`.transitions`), phase diagrams and
(Delta, s) planes (:mod:`.phase_diagram`), and the cavity method by population dynamics for planted
colouring (:mod:`.population_potts`) and NAE-SAT (:mod:`.population_naesat`, along the generative paths
:mod:`.population_paths`), on shared machinery (:mod:`.population_core`), with the reference threshold run
of both (:mod:`.population_reference`).
Conventions: ``docs/physics.md``.  This room imports ``spinglass`` and ``samplers`` only (population
dynamics shares BP's clause arithmetic); never the measures, experiments or reproduction.
"""

from .state_evolution import ERASURE, GAUSSIAN, StateEvolution
from .transitions import ModelThresholds, PathReport, analyze_path, model_thresholds, tricritical_point

__all__ = ["StateEvolution", "GAUSSIAN", "ERASURE", "analyze_path", "PathReport", "model_thresholds",
           "ModelThresholds", "tricritical_point"]
