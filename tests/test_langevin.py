"""Langevin / MALA (samplers.langevin): gradients, exactness against quadrature, step-size bias, large N.

Tolerances.  Moment checks compare a Monte-Carlo mean with the exact value in units of its standard error
sqrt(Var * tau_int / (n_chains T)), tau_int from Sokal's automatic window (analysis.measures.metrics), per observable;
the bound is Z_MAX = 5 standard errors.  Every exactness check also runs a mutant (the MALA correction
dropped, the model's beta doubled, the geodesic kinetic term dropped) that must violate the same bound.
"""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import spinglass as sg
from analysis.measures.metrics import integrated_autocorrelation_time
from samplers.langevin import MALA, Langevin, LangevinState, log_density_and_grad
from samplers.samples import Samples
from spinglass.scalar import all_subsets

Z_MAX = 5.0


# -- helpers -------------------------------------------------------------------------------------------


def _z_scores(values: np.ndarray, exact: np.ndarray, quiet: bool = False) -> np.ndarray:
    """(mean - exact) / standard error for each observable; ``values`` has shape (n_chains, T, n_obs).

    ``quiet`` silences the too-short-series warning (for mutants, whose chains may mix slowly).
    """
    c, t, k = values.shape
    z = np.empty(k)
    for j in range(k):
        series = values[:, :, j]
        with warnings.catch_warnings():
            if quiet:
                warnings.simplefilter("ignore", RuntimeWarning)
            tau = integrated_autocorrelation_time(series)
        se = math.sqrt(series.var() * max(tau, 1.0) / (c * t))
        z[j] = (series.mean() - exact[j]) / se
    return z


def _obs_flat(x: np.ndarray) -> np.ndarray:
    """x_1, x_2, x_1^2, x_2^2, x_1 x_2 for (B, 2) configurations."""
    return np.stack([x[:, 0], x[:, 1], x[:, 0] ** 2, x[:, 1] ** 2, x[:, 0] * x[:, 1]], axis=1)


def _grid_moments(model, obs, half_width=6.0, points=1201) -> np.ndarray:
    """Exact E[obs] of a 2-variable model by the trapezoid rule on [-half_width, half_width]^2."""
    g = np.linspace(-half_width, half_width, points)
    x1, x2 = np.meshgrid(g, g, indexing="ij")
    pts = np.stack([x1.ravel(), x2.ravel()], axis=1)
    lw = model.log_weight(pts)
    w = np.exp(lw - lw.max())
    edge = np.ones(points)
    edge[[0, -1]] = 0.5
    w = w * np.outer(edge, edge).ravel()
    return (w / w.sum()) @ obs(pts)


def _run_moments(sampler, model, obs, n_chains, per_chain, seed):
    res = sampler.sample(model, n_chains * per_chain, n_chains=n_chains, seed=seed)
    return res, obs(res.x).reshape(n_chains, per_chain, -1)


class _MALANoCorrection(MALA):
    """Mutant: the proposal treated as symmetric (log q(x|y) - log q(y|x) dropped)."""

    def _log_correction(self, x, y, g, gy, h, xi):
        return np.zeros(x.shape[0])


class _GeodesicNoKinetic(MALA):
    """Mutant: geodesic MALA accepting with mu(x')/mu(x) only (velocity terms dropped)."""

    def _kinetic(self, v):
        return np.zeros(v.shape[0])


def _beta_doubled(model):
    mutant = copy.copy(model)
    mutant.beta = 2.0 * model.beta
    return mutant


@pytest.fixture(scope="module")
def wigner2():
    """n = 2 spiked Wigner with Gaussian prior: log mu = -|x|^2/2 + J x1 x2 - x1^2 x2^2 (J ≈ 2.72, bimodal)."""
    model = sg.SpikedWigner(2, 4.0, sg.Gaussian(), seed=5)
    return model, _grid_moments(model, _obs_flat)


# -- gradients -----------------------------------------------------------------------------------------


def _sparse_symmetric(n, seed):
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.standard_normal((n, n)) * (rng.random((n, n)) < 0.6), 1)
    return sp.csr_matrix(upper + upper.T)


GRADIENT_MODELS = {
    "wigner": lambda: sg.SpikedWigner(6, 2.0, sg.Gaussian(), seed=0),
    "tensor_p3": lambda: sg.SpikedTensor(6, 3, 0.5, sg.Gaussian(), seed=1),
    "pairwise_sparse_fields_globals": lambda: sg.PairwiseModel(
        _sparse_symmetric(6, seed=2), prior=sg.Gaussian(), fields=np.linspace(-0.5, 0.5, 6), beta=0.7,
        global_terms=(sg.GlobalTerm(-0.3, 1, 2), sg.GlobalTerm(0.05, 2, 3))),
    "pspin_p4_fields": lambda: sg.PSpinModel(
        7, all_subsets(7, 4), np.random.default_rng(3).standard_normal(35), prior=sg.Gaussian(),
        fields=0.2, beta=1.3, global_terms=(sg.GlobalTerm(0.02, 2, 4),)),
}


@pytest.mark.parametrize("name", list(GRADIENT_MODELS))
def test_gradient_matches_finite_differences(name):
    model = GRADIENT_MODELS[name]()
    x = np.random.default_rng(7).standard_normal((5, model.n))
    lp, grad = log_density_and_grad(model, x)
    np.testing.assert_allclose(lp, model.log_weight(x), rtol=1e-12, atol=1e-10)
    d = 1e-5
    fd = np.empty_like(x)
    for i in range(model.n):
        e = np.zeros(model.n)
        e[i] = d
        fd[:, i] = (model.log_weight(x + e) - model.log_weight(x - e)) / (2 * d)
    # central differences: error O(d^2 |f'''|) + O(eps |f| / d) ~ 1e-8 here
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-6)
    # the wrong global-term gradient (ignoring the x_i^2 self-exclusion) would be caught:
    assert np.abs(grad).max() > 1e-2
    lp1, g1 = log_density_and_grad(model, x[0])
    assert isinstance(lp1, float) and g1.shape == (model.n,)
    np.testing.assert_allclose(g1, grad[0])


def test_wigner_global_gradient_closed_form():
    """For spiked Wigner, grad of -lam/(2N) e_2(x^2) is -(lam/N) x_i (|x|^2 - x_i^2)."""
    model = sg.SpikedWigner(6, 2.0, sg.Gaussian(), seed=0)
    x = np.random.default_rng(1).standard_normal((3, 6))
    _, grad = log_density_and_grad(model, x)
    expected = -x + x @ model.couplings - (2.0 / 6) * x * ((x**2).sum(1, keepdims=True) - x**2)
    np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=1e-12)


# -- exactness against quadrature ---------------------------------------------------------------------


def test_mala_reproduces_exact_moments(wigner2):
    """MALA at n = 2 matches E[x_i], E[x_i^2], E[x_1 x_2] from quadrature; two mutants do not."""
    model, exact = wigner2
    assert abs(exact[4]) > 0.5  # a genuinely correlated target
    sampler_args = dict(step=0.2, n_steps=300)
    res, vals = _run_moments(MALA(**sampler_args), model, _obs_flat, 100, 5000, seed=1)
    z = _z_scores(vals, exact)
    assert np.all(np.abs(z) < Z_MAX), f"MALA z-scores {np.round(z, 2)}"
    assert 0.6 < res.acceptance["mean"] < 0.85
    _, vals = _run_moments(_MALANoCorrection(**sampler_args), model, _obs_flat, 100, 5000, seed=1)
    z_mut = _z_scores(vals, exact, quiet=True)
    assert np.max(np.abs(z_mut)) > 3 * Z_MAX, f"dropped correction not detected: {np.round(z_mut, 2)}"
    _, vals = _run_moments(MALA(**sampler_args), _beta_doubled(model), _obs_flat, 100, 5000, seed=1)
    z_mut = _z_scores(vals, exact, quiet=True)
    assert np.max(np.abs(z_mut)) > 3 * Z_MAX, f"doubled gradient/energy not detected: {np.round(z_mut, 2)}"


def test_ula_bias_is_first_order_in_the_step():
    """Unadjusted Langevin: the bias of E|x|^2/n is visible at h = 0.2 and halves with h (weak order 1)."""
    model = sg.SpikedWigner(2, 0.5, sg.Gaussian(), seed=5)
    exact = _grid_moments(model, lambda x: (x**2).mean(axis=1, keepdims=True), half_width=7.0, points=1401)[0]
    bias, se = [], []
    steps = (0.2, 0.1, 0.05)
    for h in steps:
        burn = int(5 / h)
        res = Langevin(h, int(40 / h), burn_in=burn, trace_every=2).sample(model, 3000, seed=2)
        q = res.trace["norm2"][:, res.trace["step"] > burn]
        tau = integrated_autocorrelation_time(q)
        bias.append(q.mean() - exact)
        se.append(math.sqrt(q.var() * tau / q.size))
    bias, se = np.array(bias), np.array(se)
    assert bias[0] > 10 * se[0], f"ULA bias at h = 0.2 not resolved: {bias[0]:.4f} +- {se[0]:.4f}"
    for k in range(2):
        comb = math.hypot(se[k], se[k + 1])
        assert bias[k] - bias[k + 1] > 3 * comb, f"bias did not shrink: {bias}"
        # first order: b(h/2) = b(h)/2 up to O(h^2)
        assert abs(bias[k + 1] - bias[k] / 2) < 4 * math.hypot(se[k + 1], se[k] / 2), f"not O(h): {bias}"
    np.testing.assert_allclose(bias / np.array(steps), bias[0] / steps[0], rtol=0.35)


def test_mala_adaptation_hits_target_then_freezes(wigner2):
    model, exact = wigner2
    burn = 600
    res = MALA(0.01, 2000, burn_in=burn, adapt=True, trace_every=1).sample(model, 200, seed=4)
    h = res.acceptance["step"]
    assert h > 0.05  # moved far from the (too small) initial step
    frozen = res.trace["step_size"][res.trace["step"] > burn]
    assert np.all(frozen == h) and res.sampler["step_final"] == h
    assert not np.all(res.trace["step_size"][:burn] == h)
    # acceptance of the frozen chain: 200 chains x 2000 steps, Bernoulli-ish; 0.03 is > 10 standard errors
    assert abs(res.acceptance["mean"] - 0.574) < 0.03, res.acceptance
    assert res.acceptance["per_chain"].shape == (200,) and res.acceptance["target"] == 0.574


# -- large N ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_mala_large_n_reaches_state_evolution_overlap():
    """SpikedWigner(1000, lam=3, Gaussian) from random starts: |x.x*|/N -> m = 1 - 1/lam (Nishimori).

    m solves m = F(lam m) with F(g) = g/(1+g).  Instance-to-instance fluctuations of the overlap are
    O(1/sqrt(N)) (about 1.5/sqrt(N) here), so the tolerance is 3/sqrt(N); the two-replica overlap between
    independent chains must agree with it too (Nishimori identity).
    """
    n, lam = 1000, 3.0
    model = sg.SpikedWigner(n, lam, sg.Gaussian(), seed=2)
    m_se = 1.0 - 1.0 / lam
    tol = 3.0 / math.sqrt(n)
    C, k = 4, 10
    x0 = model.random_configuration(C, seed=1)  # i.i.d. from the prior: uninformed
    assert np.abs(x0 @ model.planted).max() / n < 0.1
    res = MALA(0.02, 600, burn_in=200, adapt=True, thin=30, trace_every=50).sample(model, C * k, n_chains=C,
                                                                                   init=x0, seed=1)
    ov = np.abs(res.x @ model.planted) / n
    assert abs(ov.mean() - m_se) < tol, f"overlap {ov.mean():.3f} vs state evolution {m_se:.3f}"
    xs = res.x.reshape(C, k, n)
    pairs = [np.abs(np.einsum("ti,ti->t", xs[a], xs[b])).mean() / n for a in range(C) for b in range(a)]
    assert abs(np.mean(pairs) - m_se) < tol, f"replica overlap {np.mean(pairs):.3f}"
    assert abs((res.x**2).mean() - 1.0) < tol
    assert 0.3 < res.acceptance["mean"] < 0.8
    assert res.work["gradient_evaluations"] == C * (res.work["steps"] + 1)


# -- the sphere ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [Langevin, MALA])
def test_sphere_keeps_the_norm(cls):
    model = sg.SpikedTensor(20, 3, 0.5, sg.Gaussian(), seed=0)
    res = cls(0.05, 200, constraint="sphere", trace_every=10, thin=5).sample(model, 40, n_chains=8, seed=3)
    np.testing.assert_allclose((res.x**2).sum(axis=1), model.n, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.trace["norm2"], 1.0, rtol=0, atol=1e-12)
    assert np.ptp(res.x[:, 0]) > 0.1  # it moved
    res = cls(0.05, 5, constraint="sphere").sample(model, 2, init=np.full(model.n, 3.0), seed=0)
    np.testing.assert_allclose((res.x**2).sum(axis=1), model.n, rtol=0, atol=1e-10)


def test_geodesic_mala_exact_on_the_sphere():
    """n = 3 on |x|^2 = 3: geodesic MALA matches E[x_i x_j] from quadrature over the sphere; mutants fail."""
    model = sg.SpikedWigner(3, 4.0, sg.Gaussian(), seed=5)
    radius = math.sqrt(3)
    th = (np.arange(600) + 0.5) * np.pi / 600
    ph = (np.arange(1200) + 0.5) * 2 * np.pi / 1200
    t, p = np.meshgrid(th, ph, indexing="ij")
    pts = radius * np.stack([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)], -1).reshape(-1, 3)
    iu = np.triu_indices(3)

    def obs(x):
        return (x[:, :, None] * x[:, None, :])[:, iu[0], iu[1]]

    lw = model.log_weight(pts) + np.log(np.sin(t)).ravel()  # surface element sin(theta)
    w = np.exp(lw - lw.max())
    exact = (w / w.sum()) @ obs(pts)
    args = dict(step=0.5, n_steps=300, constraint="sphere")
    res, vals = _run_moments(MALA(**args), model, obs, 100, 4000, seed=1)
    z = _z_scores(vals, exact)
    assert np.all(np.abs(z) < Z_MAX), f"geodesic MALA z-scores {np.round(z, 2)}"
    assert 0.3 < res.acceptance["mean"] < 0.6
    _, vals = _run_moments(_GeodesicNoKinetic(**args), model, obs, 100, 4000, seed=1)
    z_mut = _z_scores(vals, exact, quiet=True)
    assert np.max(np.abs(z_mut)) > 3 * Z_MAX, f"dropped kinetic term not detected: {np.round(z_mut, 2)}"
    # projected (unadjusted) Langevin at the same scale is visibly biased
    _, vals = _run_moments(Langevin(0.2, 300, constraint="sphere"), model, obs, 100, 4000, seed=1)
    assert np.max(np.abs(_z_scores(vals, exact, quiet=True))) > 3 * Z_MAX


# -- the Samples record, reproducibility, continuation ------------------------------------------------


def test_samples_record_and_traces():
    model = sg.SpikedWigner(5, 2.0, sg.Gaussian(), seed=1)
    res = MALA(0.1, 30, burn_in=10, adapt=True, thin=3, trace_every=4).sample(model, 12, n_chains=4, seed=9)
    assert isinstance(res, Samples) and res.x.shape == (12, 5)
    np.testing.assert_array_equal(res.chain, np.repeat(np.arange(4), 3))
    total = 10 + 30 + 2 * 3
    np.testing.assert_array_equal(res.trace["step"], np.arange(4, total + 1, 4))
    for key in ("energy", "log_density", "norm2", "overlap_planted"):
        assert res.trace[key].shape == (4, total // 4), key
    assert res.trace["step_size"].shape == (total // 4,)
    assert res.work["steps"] == total and res.work["burn_in_steps"] == 10 and res.work["chains"] == 4
    assert res.sampler["name"] == "MALA" and res.sampler["n_chains"] == 4 and res.seed == 9
    assert res.model == model.describe() and np.array_equal(res.planted, model.planted)
    assert 0 <= res.acceptance["mean"] <= 1 and res.wall_time > 0
    assert isinstance(res.state, LangevinState) and res.state.steps_done == total
    # the last kept state of each chain is the final state; the traced energy at a kept step matches it
    res1 = Langevin(0.05, 20).sample(model, 3, seed=2)
    np.testing.assert_allclose(res1.trace["energy"][:, -1], model.energy(res1.x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res1.trace["overlap_planted"][:, -1], res1.x @ model.planted / 5, atol=1e-12)
    assert res1.acceptance["mean"] == 1.0


def test_seed_reproducibility_and_bit_for_bit_continuation():
    model = sg.SpikedTensor(8, 3, 0.7, sg.Gaussian(), seed=2)
    a = MALA(0.05, 50, burn_in=20, adapt=True).sample(model, 6, seed=5)
    b = MALA(0.05, 50, burn_in=20, adapt=True).sample(model, 6, seed=5)
    np.testing.assert_array_equal(a.x, b.x)
    c = MALA(0.05, 50, burn_in=20, adapt=True).sample(model, 6, seed=6)
    assert not np.array_equal(a.x, c.x)
    cont = MALA(0.05, 30).sample(model, 6, state=a.state)
    whole = MALA(0.05, 80, burn_in=20, adapt=True).sample(model, 6, seed=5)
    np.testing.assert_array_equal(cont.x, whole.x)
    assert cont.state.steps_done == 100 and cont.seed == "state"
    # the state is not consumed: continuing twice from it gives the same numbers
    again = MALA(0.05, 30).sample(model, 6, state=a.state)
    np.testing.assert_array_equal(again.x, cont.x)
    ula = Langevin(0.02, 40).sample(model, 3, seed=1)
    ula2 = Langevin(0.02, 25).sample(model, 3, state=Langevin(0.02, 15).sample(model, 3, seed=1).state)
    np.testing.assert_array_equal(ula.x, ula2.x)


def test_init_planted_and_array():
    model = sg.SpikedWigner(4, 2.0, sg.Gaussian(), seed=3)
    res = Langevin(1e-8, 1).sample(model, 2, init="planted", seed=0)
    np.testing.assert_allclose(res.x, np.broadcast_to(model.planted, (2, 4)), atol=1e-3)
    x0 = np.arange(8.0).reshape(2, 4) / 4
    res = Langevin(1e-8, 1).sample(model, 2, init=x0, seed=0)
    np.testing.assert_allclose(res.x, x0, atol=1e-3)
    assert res.sampler["init"] == "given"


def test_ula_divergence_is_reported():
    model = sg.SpikedWigner(2, 4.0, sg.Gaussian(), seed=5)
    with pytest.raises(RuntimeError, match="smaller step"):
        Langevin(3.0, 200).sample(model, 10, seed=0)


# -- bad inputs ------------------------------------------------------------------------------------------


NAN, INF = float("nan"), float("inf")

BAD_SETTINGS = [
    (lambda: MALA(step=0.0), ValueError, r"^step must be > 0"),
    (lambda: MALA(step=-1.0), ValueError, r"^step must be > 0"),
    (lambda: Langevin(step=NAN), ValueError, r"^step must not be NaN"),
    (lambda: Langevin(step=INF), ValueError, r"^step must be finite"),
    (lambda: Langevin(step="0.1"), TypeError, r"^step must be a real"),
    (lambda: MALA(0.1, n_steps=0), ValueError, r"^n_steps must be >= 1"),
    (lambda: MALA(0.1, n_steps=2.5), TypeError, r"^n_steps must be an integer"),
    (lambda: Langevin(0.1, thin=0), ValueError, r"^thin must be >= 1"),
    (lambda: Langevin(0.1, burn_in=-1), ValueError, r"^burn_in must be >= 0"),
    (lambda: Langevin(0.1, trace_every=0), ValueError, r"^trace_every must be >= 1"),
    (lambda: Langevin(0.1, constraint="cube"), ValueError, r"^constraint must be"),
    (lambda: MALA(0.1, target_accept=0.0), ValueError, r"^target_accept must be > 0"),
    (lambda: MALA(0.1, target_accept=1.0), ValueError, r"^target_accept must be < 1"),
    (lambda: MALA(0.1, target_accept=NAN), ValueError, r"^target_accept must not be NaN"),
    (lambda: MALA(0.1, adapt_rate=0.0), ValueError, r"^adapt_rate must be > 0"),
    (lambda: MALA(0.1, adapt="yes"), TypeError, r"^adapt must be a bool"),
    (lambda: MALA(0.1, adapt=True), ValueError, r"^burn_in must be >= 1 when adapt"),
]


@pytest.mark.parametrize("case", range(len(BAD_SETTINGS)))
def test_bad_settings(case):
    call, exc, pattern = BAD_SETTINGS[case]
    with pytest.raises(exc, match=pattern):
        call()


def test_bad_models_and_calls():
    gauss = sg.SpikedWigner(4, 2.0, sg.Gaussian(), seed=0)
    for discrete in (sg.SpikedWigner(4, 2.0, sg.Rademacher(), seed=0), sg.SK(5, 0.5, seed=0),
                     sg.SpikedTensor(5, 3, 1.0, sg.SparseRademacher(0.5), seed=0)):
        with pytest.raises(TypeError, match="Metropolis"):
            MALA(0.1, 5).sample(discrete, 2, seed=0)
    with pytest.raises(TypeError, match="Metropolis"):
        Langevin(0.1, 5).sample(sg.PlantedColoring(8, 3, 3.0, seed=0), 2, seed=0)
    with pytest.raises(TypeError, match="model must be a spinglass Model"):
        MALA(0.1, 5).sample("model", 2)
    with pytest.raises(TypeError, match="discrete prior"):
        log_density_and_grad(sg.SpikedWigner(4, 2.0, sg.Rademacher(), seed=0), np.zeros(4))
    with pytest.raises(ValueError, match="^n_samples must be >= 1"):
        MALA(0.1, 5).sample(gauss, 0)
    with pytest.raises(ValueError, match="must be a multiple of n_chains"):
        MALA(0.1, 5).sample(gauss, 5, n_chains=2)
    with pytest.raises(ValueError, match="^n_chains must be >= 1"):
        MALA(0.1, 5).sample(gauss, 5, n_chains=0)
    with pytest.raises(ValueError, match="^init must be"):
        MALA(0.1, 5).sample(gauss, 2, init="zeros")
    with pytest.raises(ValueError, match="^init array must have shape"):
        MALA(0.1, 5).sample(gauss, 2, init=np.zeros(3))
    with pytest.raises(ValueError, match="^init contains NaN"):
        MALA(0.1, 5).sample(gauss, 2, init=np.full(4, NAN))
    with pytest.raises(ValueError, match="^init has a zero row"):
        MALA(0.1, 5, constraint="sphere").sample(gauss, 2, init=np.zeros(4))
    unplanted = sg.PairwiseModel(np.zeros((3, 3)), prior=sg.Gaussian())
    with pytest.raises(ValueError, match="init='planted'"):
        MALA(0.1, 5).sample(unplanted, 2, init="planted")
    state = MALA(0.1, 5).sample(gauss, 2, seed=0).state
    with pytest.raises(ValueError, match="different model"):
        MALA(0.1, 5).sample(sg.SpikedWigner(4, 2.0, sg.Gaussian(), seed=1), 2, state=state)
    with pytest.raises(ValueError, match="n_chains = 3 differs"):
        MALA(0.1, 5).sample(gauss, 3, n_chains=3, state=state)
    with pytest.raises(ValueError, match="constraint"):
        MALA(0.1, 5, constraint="sphere").sample(gauss, 2, state=state)
    with pytest.raises(TypeError, match="state must be a LangevinState"):
        MALA(0.1, 5).sample(gauss, 2, state={"x": 0})
    with pytest.raises(TypeError, match="seed must be"):
        MALA(0.1, 5).sample(gauss, 2, seed=1.5)
