"""samplers: the sampler families over the common ``Samples`` record (``docs/architecture.md``).

Every sampler implements the protocol of :mod:`samplers.base` (``sample(model, n_samples, seed=...)``,
``settings()``, ``resumable``); denoisers implement the one of :mod:`samplers.denoisers.base`.
"""

from .autoregressive import Autoregressive
from .base import WORK_COUNTERS, ResumableSampler, Sampler
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
           "LinearInterpolant", "TrigonometricInterpolant", "Langevin", "MALA", "LangevinState", "Sampler",
           "ResumableSampler", "WORK_COUNTERS"]
