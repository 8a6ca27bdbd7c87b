"""Scalar priors and their Gaussian channel (docs/physics.md §3) against ground truth.

Ground truth is computed here from the definitions: the posterior of the scalar channel
p(x | r) ∝ p0(x) exp(r x - g x^2 / 2), written out with high-precision arithmetic (mpmath) for the
discrete priors and by numerical integration for the Gaussian prior; F and psi are checked against
Monte Carlo averages over x ~ p0, z ~ N(0, 1) with a tolerance of 5 standard errors, and against
adaptive quadrature over z at a tight tolerance.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from scipy import integrate, stats

from spinglass import Gaussian, Rademacher, SparseRademacher, prior_from_name

mpmath.mp.dps = 40

RHOS = (0.05, 0.3, 1.0)
R_GRID = (-7.3, -2.0, -0.4, 0.0, 0.25, 1.1, 3.0, 9.5)
G_GRID = (0.0, 0.2, 1.0, 2.5, 7.0)
MC_SAMPLES = 200_000
N_SE = 5.0


def definition(prior_name: str, rho: float | None = None) -> tuple[list[float], list[float]]:
    """(values, probabilities) of a discrete prior, written from docs/physics.md §1."""
    if prior_name == "rademacher" or rho == 1.0:
        return [-1.0, 1.0], [0.5, 0.5]
    a = 1.0 / math.sqrt(rho)
    return [-a, 0.0, a], [rho / 2, 1.0 - rho, rho / 2]


DISCRETE = [("rademacher", None, Rademacher())] + [
    ("sparse", rho, SparseRademacher(rho)) for rho in RHOS
]
DISCRETE_IDS = ["rademacher"] + [f"sparse-{rho}" for rho in RHOS]


def mp_posterior_moments(values, probs, r, g):
    """(log Z, E[x|r], Var[x|r]) from the definition in 40-digit arithmetic."""
    terms = [mpmath.mpf(p) * mpmath.exp(mpmath.mpf(r) * v - mpmath.mpf(g) * v * v / 2)
             for v, p in zip(values, probs, strict=True)]
    z = mpmath.fsum(terms)
    m1 = mpmath.fsum(t * v for t, v in zip(terms, values, strict=True)) / z
    m2 = mpmath.fsum(t * v * v for t, v in zip(terms, values, strict=True)) / z
    return float(mpmath.log(z)), float(m1), float(m2 - m1 * m1)


def np_posterior(values, probs, r, g):
    """Vectorised reference (log Z, posterior mean) with an explicit max shift, for Monte Carlo."""
    v = np.asarray(values)
    expo = np.log(np.asarray(probs)) + np.multiply.outer(r, v) - 0.5 * g * v**2
    shift = expo.max(axis=-1, keepdims=True)
    w = np.exp(expo - shift)
    z = w.sum(axis=-1)
    return np.log(z) + shift[..., 0], (w @ v) / z


# --------------------------------------------------------------------------------------------------
# f, df, log_partition against the definition
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "rho", "prior"), DISCRETE, ids=DISCRETE_IDS)
def test_discrete_posterior_moments_match_definition(name, rho, prior):
    values, probs = definition(name, rho)
    for g in G_GRID:
        for r in R_GRID:
            log_z, mean, var = mp_posterior_moments(values, probs, r, g)
            assert float(prior.log_partition(r, g)) == pytest.approx(log_z, rel=1e-12, abs=1e-12)
            assert float(prior.f(r, g)) == pytest.approx(mean, rel=1e-10, abs=1e-12)
            assert float(prior.df(r, g)) == pytest.approx(var, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(("name", "rho", "prior"), DISCRETE, ids=DISCRETE_IDS)
def test_discrete_vectorised_matches_scalar_calls(name, rho, prior):
    r = np.array(R_GRID)[:, None]
    g = np.array(G_GRID)[None, :]
    f = prior.f(r, g)
    assert f.shape == (len(R_GRID), len(G_GRID))
    for a, rr in enumerate(R_GRID):
        for b, gg in enumerate(G_GRID):
            assert f[a, b] == pytest.approx(float(prior.f(rr, gg)), abs=1e-14)
            assert prior.df(r, g)[a, b] == pytest.approx(float(prior.df(rr, gg)), abs=1e-14)
            assert prior.log_partition(r, g)[a, b] == pytest.approx(float(prior.log_partition(rr, gg)))


def test_gaussian_posterior_moments_match_integration():
    prior = Gaussian()
    for g in (0.0, 0.5, 3.0):
        for r in (-2.5, 0.0, 0.7, 4.0):
            def density(x, r=r, g=g):
                return math.exp(stats.norm.logpdf(x) + r * x - 0.5 * g * x * x)

            z = integrate.quad(density, -np.inf, np.inf, epsabs=0, epsrel=1e-12)[0]
            m1 = integrate.quad(lambda x, d=density: x * d(x), -np.inf, np.inf, epsabs=1e-13)[0] / z
            m2 = integrate.quad(lambda x, d=density: x * x * d(x), -np.inf, np.inf, epsabs=1e-13)[0] / z
            assert float(prior.log_partition(r, g)) == pytest.approx(math.log(z), rel=1e-9, abs=1e-10)
            assert float(prior.f(r, g)) == pytest.approx(m1, rel=1e-8, abs=1e-10)
            assert float(prior.df(r, g)) == pytest.approx(m2 - m1 * m1, rel=1e-8)


def test_gaussian_closed_forms():
    prior = Gaussian()
    g = np.array([0.0, 0.1, 1.0, 4.0, 50.0])
    r = np.array([0.3, -1.0, 2.0, 0.0, 10.0])
    assert np.allclose(prior.f(r, g), r / (1 + g), rtol=1e-14)
    assert np.allclose(prior.df(r, g), 1 / (1 + g), rtol=1e-14)
    assert prior.df(r, g).shape == r.shape
    assert np.allclose(prior.F(g), g / (1 + g), rtol=1e-14)
    assert np.allclose(prior.psi(g), g / 2 - np.log(1 + g) / 2, rtol=1e-14)
    assert np.allclose(prior.log_partition(r, g), r**2 / (2 * (1 + g)) - np.log(1 + g) / 2, rtol=1e-14)
    assert np.allclose(prior.mmse(g), 1 / (1 + g), rtol=1e-12)


ALL_PRIORS = [p for _, _, p in DISCRETE] + [Gaussian()]
ALL_IDS = DISCRETE_IDS + ["gaussian"]


@pytest.mark.parametrize("prior", ALL_PRIORS, ids=ALL_IDS)
def test_df_is_derivative_of_f(prior):
    h = 1e-5
    for g in (0.0, 0.7, 4.0):
        r = np.linspace(-6.0, 6.0, 25)
        fd = (prior.f(r + h, g) - prior.f(r - h, g)) / (2 * h)
        # central difference: truncation error ~ h^2 |f'''| and rounding ~ eps / h
        assert np.allclose(prior.df(r, g), fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("prior", ALL_PRIORS, ids=ALL_IDS)
def test_f_is_derivative_of_log_partition(prior):
    h = 1e-5
    r = np.linspace(-5.0, 5.0, 21)
    for g in (0.0, 1.3, 6.0):
        fd = (prior.log_partition(r + h, g) - prior.log_partition(r - h, g)) / (2 * h)
        assert np.allclose(prior.f(r, g), fd, rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------------------------------
# F(g) and psi(g): Monte Carlo (5 standard errors), quadrature, Nishimori, I-MMSE
# --------------------------------------------------------------------------------------------------
def _channel_draws(name, rho, g, seed):
    rng = np.random.default_rng(seed)
    if name == "gaussian":
        x = rng.standard_normal(MC_SAMPLES)
    else:
        values, probs = definition(name, rho)
        x = rng.choice(values, size=MC_SAMPLES, p=probs)
    z = rng.standard_normal(MC_SAMPLES)
    return x, g * x + math.sqrt(g) * z


def _reference_channel(name, rho, r, g):
    if name == "gaussian":
        return r**2 / (2 * (1 + g)) - 0.5 * math.log1p(g), r / (1 + g)
    values, probs = definition(name, rho)
    return np_posterior(values, probs, r, g)


MC_CASES = [(n, rho) for n, rho, _ in DISCRETE] + [("gaussian", None)]


@pytest.mark.parametrize(("name", "rho"), MC_CASES, ids=ALL_IDS)
def test_F_psi_nishimori_monte_carlo(name, rho):
    prior = ALL_PRIORS[MC_CASES.index((name, rho))]
    for k, g in enumerate((0.3, 1.0, 3.0, 10.0)):
        x, r = _channel_draws(name, rho, g, seed=100 + k)
        log_z, f = _reference_channel(name, rho, r, g)
        se = lambda a: a.std(ddof=1) / math.sqrt(a.size)  # noqa: E731

        overlap = x * f
        assert abs(float(prior.F(g)) - overlap.mean()) < N_SE * se(overlap), (g, prior)
        assert abs(float(prior.psi(g)) - log_z.mean()) < N_SE * se(log_z), (g, prior)
        # Nishimori: E[x f] = E[f^2], checked as a zero-mean difference with its own standard error
        diff = overlap - f**2
        assert abs(diff.mean()) < N_SE * se(diff), (g, prior)
        assert abs(float(prior.F(g)) - (f**2).mean()) < N_SE * se(f**2) + N_SE * se(diff)


def _quad_over_z(func):
    return integrate.quad(lambda z: func(z) * stats.norm.pdf(z), -40, 40, epsabs=1e-12, epsrel=1e-11,
                          limit=400, points=[0.0])[0]


@pytest.mark.parametrize(("name", "rho", "prior"), DISCRETE, ids=DISCRETE_IDS)
def test_F_psi_match_quadrature(name, rho, prior):
    values, probs = definition(name, rho)
    for g in (0.1, 0.8, 2.0, 6.0, 15.0):
        s = math.sqrt(g)
        F = psi = f2 = 0.0
        for v, p in zip(values, probs, strict=True):
            def post(z, v=v, g=g, s=s):
                return np_posterior(values, probs, np.array([g * v + s * z]), g)

            F += p * _quad_over_z(lambda z, v=v, post=post: v * post(z)[1][0])
            f2 += p * _quad_over_z(lambda z, post=post: post(z)[1][0] ** 2)
            psi += p * _quad_over_z(lambda z, post=post: post(z)[0][0])
        # the library's trapezoid rule in z agrees with adaptive quadrature to ~1e-13 (161-node
        # Gauss-Hermite, used before, was off by up to 2e-7 on F at the steep integrands of sparse priors)
        assert float(prior.F(g)) == pytest.approx(F, abs=1e-10)
        assert float(prior.psi(g)) == pytest.approx(psi, abs=1e-10)
        assert f2 == pytest.approx(F, abs=1e-7)  # Nishimori on the exact integrals
        assert float(prior.mmse(g)) == pytest.approx(1 - F, abs=1e-10)


@pytest.mark.parametrize("prior", ALL_PRIORS, ids=ALL_IDS)
def test_dF_is_derivative_of_F(prior):
    """dF/dg = E[Var(x|r)^2] equals the centred finite difference of F (error O(h^2) ~ 1e-9)."""
    h = 1e-4
    for g in (0.05, 0.7, 2.0, 5.0, 12.0):
        fd = (prior.F(g + h) - prior.F(g - h)) / (2 * h)
        assert float(prior.dF(g)) == pytest.approx(float(fd), abs=2e-8, rel=1e-6)
    assert float(prior.dF(0.0)) == pytest.approx(1.0, abs=1e-12)  # F(g) = g + O(g^2) for a centred prior


@pytest.mark.parametrize("prior", ALL_PRIORS, ids=ALL_IDS)
def test_psi_derivative_is_half_overlap(prior):
    """I-MMSE relation: d psi / d g = F(g) / 2 for a unit-second-moment prior."""
    h = 1e-4
    for g in (0.2, 1.0, 3.5, 9.0):
        dpsi = (prior.psi(g + h) - prior.psi(g - h)) / (2 * h)
        assert float(dpsi) == pytest.approx(0.5 * float(prior.F(g)), abs=1e-8)


@pytest.mark.parametrize("prior", ALL_PRIORS, ids=ALL_IDS)
def test_F_and_psi_vectorised_and_monotone(prior):
    g = np.linspace(0.0, 20.0, 41)
    F = prior.F(g)
    assert F.shape == g.shape
    assert np.all(np.diff(F) > -1e-12)  # non-decreasing (saturates at 1 to machine precision)
    assert np.all(np.diff(F[:4]) > 1e-3)  # strictly increasing at small g
    assert np.all((F >= -1e-15) & (F <= 1 + 1e-15))
    assert F[7] == pytest.approx(float(prior.F(g[7])), abs=1e-14)
    assert prior.psi(g)[11] == pytest.approx(float(prior.psi(g[11])), abs=1e-12)


@pytest.mark.parametrize("prior", ALL_PRIORS, ids=ALL_IDS)
def test_symmetric_priors_at_zero_snr(prior):
    assert float(prior.F(0.0)) == pytest.approx(0.0, abs=1e-15)
    assert float(prior.psi(0.0)) == pytest.approx(0.0, abs=1e-14)  # log ∫ p0 = 0
    assert float(prior.f(0.0, 0.0)) == pytest.approx(0.0, abs=1e-15)
    assert float(prior.df(0.0, 0.0)) == pytest.approx(1.0, rel=1e-12)  # prior variance
    assert float(prior.f(0.8, 1.0)) == pytest.approx(-float(prior.f(-0.8, 1.0)), abs=1e-15)


# --------------------------------------------------------------------------------------------------
# large g
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "rho", "prior"), DISCRETE, ids=DISCRETE_IDS)
def test_discrete_stability_at_large_snr(name, rho, prior):
    g = 1e6
    values, probs = definition(name, rho)
    entropy = -sum(p * math.log(p) for p in probs)
    r = np.array([-3e6, -1e6, -1e3, 0.0, 1e3, 1e6, 3e6])
    for out in (prior.f(r, g), prior.df(r, g), prior.log_partition(r, g)):
        assert np.all(np.isfinite(out))
    # r = g v (noise-free observation of v) must be decoded as v
    for v in values:
        assert float(prior.f(g * v, g)) == pytest.approx(v, abs=1e-9)
        assert float(prior.df(g * v, g)) == pytest.approx(0.0, abs=1e-9)
    assert math.isfinite(float(prior.F(g))) and math.isfinite(float(prior.psi(g)))
    assert float(prior.F(g)) == pytest.approx(1.0, abs=1e-9)
    # psi(g) = E_x[g x^2 / 2 + log p0(x)] + o(1) = g/2 - H(p0)
    assert float(prior.psi(g)) - g / 2 == pytest.approx(-entropy, abs=1e-6)


def test_gaussian_stability_at_large_snr():
    prior = Gaussian()
    g = 1e6
    assert float(prior.F(g)) == pytest.approx(1.0, abs=2e-6)
    psi = float(prior.psi(g))
    assert math.isfinite(psi)
    assert psi - g / 2 == pytest.approx(-0.5 * math.log1p(g), abs=1e-9)
    assert np.all(np.isfinite(prior.log_partition(np.array([-1e6, 1e6]), g)))


# --------------------------------------------------------------------------------------------------
# normalisation, sampling, construction
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "rho", "prior"), DISCRETE, ids=DISCRETE_IDS)
def test_discrete_alphabet_and_unit_second_moment(name, rho, prior):
    values, probs = definition(name, rho)
    assert np.allclose(prior.values, values, rtol=1e-15)
    assert np.allclose(prior.weights, probs, rtol=1e-14)
    assert float(prior.weights @ prior.values**2) == pytest.approx(1.0, rel=1e-14)
    assert float(prior.weights @ prior.values) == pytest.approx(0.0, abs=1e-15)
    assert np.allclose(prior.log_density(prior.values), np.log(probs), rtol=1e-14)
    assert np.isneginf(prior.log_density(0.5))


@pytest.mark.parametrize(("name", "rho", "prior"), DISCRETE, ids=DISCRETE_IDS)
def test_discrete_sampling_frequencies(name, rho, prior):
    n = 100_000
    x = prior.sample(n, seed=7)
    _, probs = definition(name, rho)
    counts = np.bincount(prior.index_of(x), minlength=len(probs))
    chi2 = float(np.sum((counts - n * np.asarray(probs)) ** 2 / (n * np.asarray(probs))))
    assert stats.chi2.sf(chi2, df=len(probs) - 1) > 1e-6
    assert np.array_equal(prior.sample(50, seed=3), prior.sample(50, seed=3))
    assert not np.array_equal(prior.sample(50, seed=3), prior.sample(50, seed=4))


def test_gaussian_sampling_moments():
    n = 200_000
    x = Gaussian().sample(n, seed=11)
    assert abs(x.mean()) < N_SE / math.sqrt(n)
    assert abs((x**2).mean() - 1.0) < N_SE * math.sqrt(2.0 / n)  # Var[x^2] = 2
    assert Gaussian().log_density(0.0) == pytest.approx(-0.5 * math.log(2 * math.pi))


def test_priors_compare_by_parameters_and_from_name():
    assert SparseRademacher(0.3) == SparseRademacher(0.3)
    assert SparseRademacher(0.3) != SparseRademacher(0.2)
    assert Rademacher() != Gaussian()
    assert prior_from_name("Rademacher") == Rademacher()
    assert prior_from_name("sparse-rademacher", rho=0.3) == SparseRademacher(0.3)
    assert prior_from_name("gaussian") == Gaussian()
    assert np.allclose(SparseRademacher(1.0).values, [-1.0, 1.0])
