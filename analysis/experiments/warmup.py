r"""``spinglass warmup``: compile every numba kernel family once, so that later runs start at full speed.

The kernels are compiled with ``cache=True``: the first call of each family on a machine compiles it
(seconds each) and writes the machine code next to the sources; every later process loads it.  A sweep's
first tasks, the first ``sample`` call of a session and a fresh CI run otherwise pay that compile inside
their own timing.  :func:`warm_up` calls each family once on a tiny instance (every MCMC sweep order and
coupling path, tempering, BP on colouring and NAE-SAT, AMP, Langevin, and the population-dynamics kernels)
and reports the seconds each took: large the first time on a machine, near zero afterwards.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import numpy as np

import spinglass as sg
from samplers import MALA, HeatBath, Metropolis, ParallelTempering, StochasticLocalization
from samplers.denoisers import AMPDenoiser, BPDenoiser


def _mcmc() -> None:
    for model in (sg.SK(8, 1.0, seed=0), sg.CurieWeiss(8, 1.0), sg.SpikedTensor(8, 3, 1.0, sg.Rademacher(), seed=0)):
        Metropolis(sweeps=2, order="sequential").sample(model, 2, seed=0)
        HeatBath(sweeps=2, order="sequential").sample(model, 2, seed=0)
    ParallelTempering(n_temps=2, sweeps=2, order="sequential").sample(sg.SK(8, 1.0, seed=0), 2, seed=0)
    for sampler in (Metropolis, HeatBath):  # the dense blocked kernel's float32-coupling specialisation
        sampler(sweeps=2, coupling_dtype="float32").sample(sg.SK(8, 1.0, seed=0), 2, seed=0)


def _lattices() -> None:
    for couplings in ("pm1", "gaussian"):
        even = sg.EdwardsAnderson((4, 4), couplings, beta=0.5, seed=0)
        odd = sg.EdwardsAnderson((5, 5), couplings, beta=0.5, seed=0)
        for sampler in (Metropolis, HeatBath):
            sampler(sweeps=2, order="sequential").sample(even, 2, seed=0)
            sampler(sweeps=2, order="checkerboard").sample(even, 2, seed=0)
            sampler(sweeps=2, order="chromatic").sample(odd, 2, seed=0)
        ParallelTempering(n_temps=2, sweeps=2, order="checkerboard").sample(even, 2, seed=0)
        ParallelTempering(n_temps=2, sweeps=2, order="chromatic").sample(odd, 2, seed=0)


def _sparse() -> None:
    coloring = sg.PlantedColoring(30, 3, 3.0, beta=2.0, seed=0)
    naesat = sg.PlantedNAESAT(30, 4, 2.0, beta=2.0, seed=0)
    for model in (coloring, naesat):
        Metropolis(sweeps=2).sample(model, 2, seed=0)
        HeatBath(sweeps=2).sample(model, 2, seed=0)
        StochasticLocalization(BPDenoiser, n_steps=3).sample(model, 2, seed=0)


def _dense_denoisers() -> None:
    StochasticLocalization(AMPDenoiser, n_steps=3).sample(sg.SpikedWigner(20, 2.0, sg.Rademacher(), seed=0), 2, seed=0)
    gaussian = sg.SpikedWigner(20, 2.0, sg.Gaussian(), seed=0)
    MALA(n_steps=3).sample(gaussian, 2, seed=0)


def _population() -> None:
    from analysis.theory.population_naesat import naesat_population_dynamics
    from analysis.theory.population_potts import potts_population_dynamics

    potts_population_dynamics(3, 3.0, population=200, sweeps=2, measure=1, seed=0)
    naesat_population_dynamics(4, 3.0, population=200, sweeps=2, measure=1, seed=0)
    naesat_population_dynamics(4, 3.0, population=200, sweeps=2, measure=1, seed=0, side_snr=0.5)


#: The kernel families, in the order they are compiled.
FAMILIES: dict[str, Callable[[], None]] = {
    "MCMC, sequential (dense, mean-field, p-spin)": _mcmc,
    "MCMC, lattices (sequential, checkerboard, chromatic; integer and float)": _lattices,
    "MCMC and BP, sparse models (colouring, NAE-SAT)": _sparse,
    "AMP and Langevin (dense spiked models)": _dense_denoisers,
    "population dynamics (Potts, NAE-SAT)": _population,
}


def warm_up(progress: Callable[[str, float], None] | None = None) -> dict[str, float]:
    """Compile (or load from the cache) every kernel family; returns family -> seconds of wall time."""
    seconds = {}
    for name, run in FAMILIES.items():
        t0 = time.perf_counter()
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            run()
        seconds[name] = time.perf_counter() - t0
        if progress is not None:
            progress(name, seconds[name])
    return seconds


__all__ = ["FAMILIES", "warm_up"]
