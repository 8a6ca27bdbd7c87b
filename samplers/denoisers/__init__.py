"""Bayes-optimal denoisers along the Gaussian and erasure channels (DESIGN.md, PHYSICS.md §3)."""

from .amp import AMPDenoiser, SKAMPDenoiser
from .base import Denoiser, DenoiserOutput, NonConvergenceWarning
from .bp import BPDenoiser
from .exact import ExactDenoiser

__all__ = ["Denoiser", "DenoiserOutput", "NonConvergenceWarning", "ExactDenoiser", "AMPDenoiser", "SKAMPDenoiser",
           "BPDenoiser"]
