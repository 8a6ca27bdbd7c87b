"""Every MCMC kernel on every model family against exact enumeration (n ~ 7-12).

The bound on the total-variation distance is the 0.999 quantile of the TV distance between the exact law
and the empirical law of the same number of *exact i.i.d.* samples (simulated), times 1.1 for residual
chain correlations (each sample comes from its own independent chain).  Each test also runs a mutant
kernel whose energy changes are doubled (the model's beta doubled, i.e. a missing factor 1/2 in dE) and
checks that it violates the bound, so the test can fail.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import spinglass as sg
from analysis.measures.metrics import empirical_tv, tv_null_quantile
from samplers import HeatBath, Metropolis, ParallelTempering

N_SAMPLES = 20000

MODELS = {
    "sk_field": lambda: sg.SK(10, 0.8, h=0.3, seed=3),
    "curie_weiss": lambda: sg.CurieWeiss(10, 1.3, h=0.05),
    "ea_pm1_csr": lambda: sg.EdwardsAnderson((3, 4), "pm1", beta=0.7, seed=1),
    "wigner_sparse": lambda: sg.SpikedWigner(7, 3.0, sg.SparseRademacher(0.3), seed=2),
    "tensor_ising": lambda: sg.SpikedTensor(9, 3, 0.5, sg.Rademacher(), seed=4),
    "tensor_sparse": lambda: sg.SpikedTensor(7, 3, 0.7, sg.SparseRademacher(0.4), seed=5),
    "potts": lambda: sg.PlantedColoring(8, 3, 3.0, beta=1.5, seed=6),
    "naesat": lambda: sg.PlantedNAESAT(10, 3, 1.5, beta=1.2, seed=7),
}

SAMPLERS = {
    "metropolis": lambda: Metropolis(sweeps=40),
    "heat_bath": lambda: HeatBath(sweeps=40),
    "tempering": lambda: ParallelTempering(n_temps=3, beta_min_ratio=0.4, sweeps=30),
}

_BOUNDS: dict[str, float] = {}


def _bound(name: str, exact) -> float:
    if name not in _BOUNDS:
        _BOUNDS[name] = 1.1 * tv_null_quantile(exact, N_SAMPLES, quantile=0.999, repeats=100, seed=0)
    return _BOUNDS[name]


@pytest.mark.parametrize("sampler_name", list(SAMPLERS))
@pytest.mark.parametrize("model_name", list(MODELS))
def test_kernel_matches_exact_law(model_name, sampler_name):
    model = MODELS[model_name]()
    exact = model.exact()
    bound = _bound(model_name, exact)
    result = SAMPLERS[sampler_name]().sample(model, N_SAMPLES, seed=11)
    assert result.x.shape == (N_SAMPLES, model.n)
    tv = empirical_tv(exact, result.x)
    assert tv < bound, f"{sampler_name} on {model_name}: TV {tv:.4f} >= bound {bound:.4f}"
    if sampler_name == "metropolis" or model_name in ("potts", "naesat"):
        mutant = copy.copy(model)
        mutant.beta = 2.0 * model.beta
        wrong = SAMPLERS[sampler_name]().sample(mutant, N_SAMPLES, seed=11)
        tv_wrong = empirical_tv(exact, wrong.x)
        assert tv_wrong > bound, f"mutant not detected on {model_name}: TV {tv_wrong:.4f} <= {bound:.4f}"


@pytest.mark.parametrize("model_name", ["sk_field", "potts", "naesat", "tensor_sparse"])
def test_traced_energy_matches_recomputed(model_name):
    """The incrementally tracked energy equals the energy recomputed from the final states."""
    model = MODELS[model_name]()
    result = Metropolis(sweeps=25).sample(model, 50, seed=3)
    np.testing.assert_allclose(result.trace["energy"][:, -1], model.energy(result.x), atol=1e-9)
    assert result.trace["energy"].shape == (50, 25)
    np.testing.assert_array_equal(result.trace["sweep"], np.arange(1, 26))
