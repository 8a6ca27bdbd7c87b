"""The reference threshold run of the cavity population dynamics: both planted families at beta = inf.

``reference_thresholds`` computes, for the record, the dynamical, condensation and Kesten–Stigum
thresholds of q = 3 and q = 5 colouring (``analysis.theory.population_potts``) and of k = 4, 5 NAE-SAT
(``analysis.theory.population_naesat``), with the definitions of ``analysis.theory.population_core``
("Thresholds").  It is the one piece that uses both families, so it stands above both in a module of its
own: neither family module imports the other, and ``population_core`` imports neither.
"""

from __future__ import annotations

from .population_core import ThresholdResult
from .population_naesat import naesat_thresholds
from .population_potts import potts_thresholds


def reference_thresholds(seed: int = 2024, *, potts_population: int = 50_000, potts_sweeps: int = 500,
                         naesat_population: int = 20_000, naesat_sweeps: int = 400,
                         tol: float = 0.005) -> dict[str, ThresholdResult]:
    """The precise computation for the record, all at beta = inf: q = 3 and q = 5 colouring (c_d, c_c,
    c_KS) and k = 4, 5 NAE-SAT (alpha_d, alpha_c, alpha_KS).

    About 5 minutes (Potts) plus 10 minutes (NAE-SAT) on one core at the defaults; ``measure`` is 40 % of
    the sweeps.  The CI tests use far smaller populations.
    """
    out = {}
    for q in (3, 5):
        out[f"potts_q{q}"] = potts_thresholds(q, population=potts_population, sweeps=potts_sweeps,
                                              measure=max(1, (2 * potts_sweeps) // 5), tol=tol, seed=seed + q)
    for k in (4, 5):
        out[f"naesat_k{k}"] = naesat_thresholds(k, population=naesat_population, sweeps=naesat_sweeps,
                                                measure=max(1, (2 * naesat_sweeps) // 5), tol=2 * tol,
                                                seed=seed + 10 + k)
    return out



__all__ = ["reference_thresholds"]
