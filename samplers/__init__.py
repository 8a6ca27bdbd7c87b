"""samplers: the sampler families over the common ``Samples`` record (DESIGN.md)."""

from .autoregressive import Autoregressive
from .diffusion import StochasticLocalization
from .flow import StochasticInterpolant
from .langevin import MALA, Langevin, LangevinState
from .mcmc import HeatBath, MCMCState, Metropolis, ParallelTempering
from .mcmc import TorchMetropolis as TorchMetropolis
from .samples import Samples
from .schedules import (
    AdaptiveSchedule,
    GeometricSchedule,
    LinearInterpolant,
    TrigonometricInterpolant,
    UniformSchedule,
)

__all__ = ["HeatBath", "MCMCState", "Metropolis", "ParallelTempering", "Samples", "StochasticLocalization",
           "StochasticInterpolant", "Autoregressive", "UniformSchedule", "GeometricSchedule", "AdaptiveSchedule",
           "LinearInterpolant", "TrigonometricInterpolant", "Langevin", "MALA", "LangevinState"]
