"""samplers: the sampler families over the common ``Samples`` record (DESIGN.md)."""

from .mcmc import HeatBath, MCMCState, Metropolis, ParallelTempering
from .samples import Samples

__all__ = ["HeatBath", "MCMCState", "Metropolis", "ParallelTempering", "Samples"]
