"""The generative drivers over the exact denoiser against exact enumeration.

With ``ExactDenoiser`` the only errors of stochastic localisation and of the interpolant flows are the
time discretisation and the rounding at the final SNR, and autoregressive sampling is exact.  Each test
compares the empirical law of N_SAMPLES independent samples with the exact law: the bound is 1.1 times
the 0.999 quantile of the TV distance of N_SAMPLES *exact i.i.d.* samples (simulated).  Sizes n = 6-8
keep the number of states (256-729) small enough that this bound (0.05-0.14) has power against
discretisation errors and sign errors; the coarse-grid runs show the error the bound detects.
"""

from __future__ import annotations

import numpy as np
import pytest

import spinglass as sg
from analysis.measures.metrics import empirical_tv, tv_null_quantile
from samplers.autoregressive import Autoregressive
from samplers.denoisers import Denoiser, DenoiserOutput, ExactDenoiser
from samplers.diffusion import StochasticLocalization
from samplers.flow import StochasticInterpolant
from samplers.schedules import GeometricSchedule

N_SAMPLES = 4000

MODELS = {
    "sk_field": lambda: sg.SK(8, 1.0, h=0.3, seed=3),
    "wigner_sparse": lambda: sg.SpikedWigner(6, 3.0, sg.SparseRademacher(0.3), seed=2),
    "tensor_ising": lambda: sg.SpikedTensor(8, 3, 0.5, sg.Rademacher(), seed=4),
    "potts": lambda: sg.PlantedColoring(6, 3, 3.0, beta=1.5, seed=6),
}

DRIVERS = {
    "diffusion": lambda d: StochasticLocalization(d, GeometricSchedule(T=30, n_steps=96, t_min=0.02)),
    "flow_ode_heun": lambda d: StochasticInterpolant(d, n_steps=24, integrator="heun", T=900),
    "flow_sde_trig": lambda d: StochasticInterpolant(d, interpolant="trig", method="sde", integrator="heun",
                                                     n_steps=48, T=900),
    "autoregressive": lambda d: Autoregressive(d),
}

COARSE = {
    "diffusion": lambda d: StochasticLocalization(d, GeometricSchedule(T=30, n_steps=6, t_min=0.05)),
    "flow_ode_euler": lambda d: StochasticInterpolant(d, n_steps=4, integrator="euler", T=900),
    "flow_sde_euler": lambda d: StochasticInterpolant(d, method="sde", integrator="euler", n_steps=6, T=900),
}
FINE = {
    "diffusion": DRIVERS["diffusion"],
    "flow_ode_euler": lambda d: StochasticInterpolant(d, n_steps=48, integrator="euler", T=900),
    "flow_sde_euler": lambda d: StochasticInterpolant(d, method="sde", integrator="euler", n_steps=96, T=900),
}

_CACHE: dict[str, tuple] = {}


def _setup(name):
    if name not in _CACHE:
        model = MODELS[name]()
        exact = model.exact()
        bound = 1.1 * tv_null_quantile(exact, N_SAMPLES, quantile=0.999, repeats=100, seed=0)
        _CACHE[name] = (model, ExactDenoiser(model), exact, bound)
    return _CACHE[name]


@pytest.mark.parametrize("driver", list(DRIVERS))
@pytest.mark.parametrize("model_name", list(MODELS))
def test_driver_law_matches_exact(model_name, driver):
    model, den, exact, bound = _setup(model_name)
    res = DRIVERS[driver](den).sample(model, N_SAMPLES, seed=7)
    assert res.x.shape == (N_SAMPLES, model.n)
    assert np.all(np.isin(res.x, model.alphabet))
    tv = empirical_tv(exact, res.x)
    assert tv < bound, f"{driver} on {model_name}: TV {tv:.4f} >= bound {bound:.4f}"
    assert res.work["denoiser_calls"] >= 1 and res.work["denoiser_unconverged"] == 0


@pytest.mark.parametrize("driver", list(COARSE))
def test_tv_shrinks_as_the_grid_is_refined(driver):
    """6 steps (4 for the Euler ODE) violate the bound (discretisation error); the refined grid meets it."""
    model, den, exact, bound = _setup("wigner_sparse")
    tv_coarse = empirical_tv(exact, COARSE[driver](den).sample(model, N_SAMPLES, seed=8).x)
    tv_fine = empirical_tv(exact, FINE[driver](den).sample(model, N_SAMPLES, seed=8).x)
    assert tv_coarse > bound > tv_fine, f"{driver}: coarse {tv_coarse:.4f}, fine {tv_fine:.4f}, bound {bound:.4f}"


class _FlippedDrift(Denoiser):
    """A mutant: the Gaussian-channel mean with its sign flipped (marginals untouched)."""

    def __init__(self, inner: Denoiser):
        self.inner = inner
        self.model = inner.model

    def _posterior(self, y, t, revealed):
        out = self.inner._posterior(y, t, revealed)
        return DenoiserOutput(mean=-out.mean, marginals=out.marginals, converged=out.converged,
                              iterations=out.iterations, residual=out.residual)


@pytest.mark.parametrize("driver", ["diffusion", "flow_ode_heun", "flow_sde_trig"])
def test_a_sign_error_in_the_drift_fails(driver):
    model, den, exact, bound = _setup("sk_field")
    res = DRIVERS[driver](_FlippedDrift(den)).sample(model, N_SAMPLES, seed=7)
    tv = empirical_tv(exact, res.x)
    assert tv > bound, f"mutant {driver} not detected: TV {tv:.4f} <= {bound:.4f}"


def test_autoregressive_with_wrong_marginals_fails():
    """Decimation with the marginals of a hotter model (beta halved) is detected."""
    model, _, exact, bound = _setup("sk_field")
    hot = sg.SK(8, 0.5, h=0.3, seed=3)
    res = Autoregressive(ExactDenoiser(hot)).sample(hot, N_SAMPLES, seed=7)
    assert empirical_tv(exact, res.x) > bound


def test_given_order_and_blocks_are_exact_and_approximate():
    """A given order is still exact; revealing all variables at once samples the product of marginals."""
    model, den, exact, bound = _setup("tensor_ising")
    perm = np.arange(model.n)[::-1]
    res = Autoregressive(den, "given", permutation=perm).sample(model, N_SAMPLES, seed=3)
    assert empirical_tv(exact, res.x) < bound
    product = Autoregressive(den, reveal_per_step=model.n).sample(model, N_SAMPLES, seed=3)
    assert empirical_tv(exact, product.x) > bound
    assert product.work["denoiser_calls"] == 1 and res.work["denoiser_calls"] == model.n


def test_trajectory_records_the_path():
    model, den, _, _ = _setup("wigner_sparse")
    res = StochasticLocalization(den, GeometricSchedule(T=30, n_steps=40), trajectory=True,
                                 batch_size=64).sample(model, 200, seed=1)
    tr = res.trace
    assert tr["t"].shape == (41,) and tr["t"][0] == 0 and tr["t"][-1] == 30
    assert tr["self_overlap"].shape == (200, 41) and tr["overlap_planted"].shape == (200, 41)
    # at t = 0 the mean is the model's own mean; at T the tilted posterior is nearly a point mass
    m0 = den.posterior().mean[0]
    np.testing.assert_allclose(tr["self_overlap"][:, 0], m0 @ m0 / model.n, rtol=1e-9, atol=1e-12)
    final = np.mean(res.x**2, axis=1)
    np.testing.assert_allclose(tr["self_overlap"][:, -1], final, atol=0.05)
    flow = StochasticInterpolant(den, n_steps=10, trajectory=True).sample(model, 20, seed=1)
    assert flow.trace["tau"].shape == (11,) and np.all(np.diff(flow.trace["tau"]) > 0)
    assert flow.trace["t"][0] == 0 and np.isclose(flow.trace["t"][-1], 400.0)
    ar = Autoregressive(den, trajectory=True).sample(model, 20, seed=1)
    np.testing.assert_allclose(ar.trace["theta"], np.arange(model.n + 1) / model.n)


def test_same_seed_same_samples_on_potts_colours():
    model, den, _, _ = _setup("potts")
    a = StochasticLocalization(den, n_steps=20).sample(model, 50, seed=5)
    b = StochasticLocalization(den, n_steps=20).sample(model, 50, seed=5)
    np.testing.assert_array_equal(a.x, b.x)
    assert a.x.dtype.kind in "iu" and a.x.max() < model.q
    c = StochasticLocalization(den, n_steps=20).sample(model, 50, seed=6)
    assert not np.array_equal(a.x, c.x)


@pytest.mark.parametrize("make", [
    lambda d: StochasticInterpolant(d, n_steps=10, integrator="rk4", T=900),
    lambda d: StochasticLocalization(d, GeometricSchedule(T=30, n_steps=96, t_min=0.02), rounding="argmax"),
])
def test_rk4_and_argmax_rounding_meet_the_bound(make):
    model, den, exact, bound = _setup("wigner_sparse")
    res = make(den).sample(model, N_SAMPLES, seed=9)
    tv = empirical_tv(exact, res.x)
    assert tv < bound, f"TV {tv:.4f} >= bound {bound:.4f}"


def test_a_denoiser_without_marginals_is_rounded_to_the_nearest_value():
    """Means only (the shape of a learned denoiser): samples still lie on the alphabet and, at large T,
    nearest-value rounding of the mean gives the exact law; decimation refuses clearly."""
    model, den, exact, bound = _setup("sk_field")

    class MeansOnly(Denoiser):
        def __init__(self, inner):
            self.inner, self.model = inner, inner.model

        def _posterior(self, y, t, revealed):
            out = self.inner._posterior(y, t, revealed)
            return DenoiserOutput(mean=out.mean, marginals=None, converged=out.converged,
                                  iterations=out.iterations, residual=out.residual)

    res = DRIVERS["diffusion"](MeansOnly(den)).sample(model, N_SAMPLES, seed=7)
    assert np.all(np.isin(res.x, model.alphabet))
    assert empirical_tv(exact, res.x) < bound
    with pytest.raises(TypeError, match="needs conditional marginals"):
        Autoregressive(MeansOnly(den)).sample(model, 2, seed=0)


@pytest.mark.slow
def test_factory_and_adaptive_schedule():
    """A denoiser class works as a factory; the adaptive grid ends exactly at T and meets the TV bound."""
    model, _, exact, bound = _setup("sk_field")
    res = StochasticLocalization(ExactDenoiser, "adaptive", T=30).sample(model, N_SAMPLES, seed=2)
    assert empirical_tv(exact, res.x) < bound
    assert res.sampler["denoiser"] == {"name": "ExactDenoiser"}
    assert 20 < res.work["steps"] < 2000
