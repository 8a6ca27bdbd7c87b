"""Bayes-optimal denoisers along the Gaussian and erasure channels (DESIGN.md, PHYSICS.md §3)."""

from .base import Denoiser, DenoiserOutput, NonConvergenceWarning

__all__ = ["Denoiser", "DenoiserOutput", "NonConvergenceWarning"]
