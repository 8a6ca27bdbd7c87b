"""Denoisers along the Gaussian and erasure channels (docs/architecture.md, docs/physics.md §3).

``ExactDenoiser`` enumerates the tilted law, so its means are the exact posterior means: Bayes-optimal at
every size.  ``AMPDenoiser`` (spiked Wigner / tensor), ``SKAMPDenoiser`` (SK) and ``BPDenoiser`` (colouring,
NAE-SAT) are message-passing fixed points.  Started from an uninformed point (their default starts) they
reach the uninformed (algorithmic) branch of state evolution / population dynamics, and their means are
Bayes-optimal, for large N, only where that branch is the Bayes-optimal one: outside the hard phase at the
start of a path, and outside the failure intervals along it (``PathReport.failure_intervals`` of
``analysis.theory.transitions``, docs/physics.md §4).  Inside them they return the means of the wrong
branch; that is where the lens predicts the generative samplers that query them to fail.  Started from the
planted configuration (``init="planted"``) AMP and BP follow the informed branch instead.
"""

from .amp import AMPDenoiser, SKAMPDenoiser
from .base import ContradictionError, Denoiser, DenoiserOutput, NonConvergenceWarning
from .bp import BPDenoiser
from .exact import ExactDenoiser

__all__ = ["ContradictionError", "Denoiser", "DenoiserOutput", "NonConvergenceWarning", "ExactDenoiser",
           "AMPDenoiser", "SKAMPDenoiser", "BPDenoiser"]
