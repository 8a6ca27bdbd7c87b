"""MCMC baselines: Metropolis, heat bath and parallel tempering over numba kernels (docs/physics.md §5)."""

from .samplers import HeatBath, MCMCState, Metropolis, ParallelTempering
from .torch_chains import TorchMetropolis as TorchMetropolis

__all__ = ["HeatBath", "MCMCState", "Metropolis", "ParallelTempering"]
