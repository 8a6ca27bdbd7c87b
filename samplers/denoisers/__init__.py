"""Bayes-optimal denoisers along the Gaussian and erasure channels (docs/architecture.md, docs/physics.md §3)."""

from .amp import AMPDenoiser, SKAMPDenoiser
from .base import ContradictionError, Denoiser, DenoiserOutput, NonConvergenceWarning
from .bp import BPDenoiser
from .exact import ExactDenoiser

__all__ = ["ContradictionError", "Denoiser", "DenoiserOutput", "NonConvergenceWarning", "ExactDenoiser",
           "AMPDenoiser", "SKAMPDenoiser", "BPDenoiser"]
