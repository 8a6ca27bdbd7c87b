"""AMP denoisers against state evolution, exact enumeration and the TAP / replica-symmetric equations.

Finite-size tolerances.  The overlap m_N = <f, x*>/N of AMP at a fixed point fluctuates around its
state-evolution (SE) limit by O(1/sqrt(N)) from instance to instance.  The constants below were measured
over 30 instances per setting (seeds 0-29, N = 2000) and are quoted where used; every check allows at
least 4 standard deviations of the quantity it tests, so a correct implementation fails with probability
< 1e-4 per check, while the mutations we tried (Onsager term dropped, doubled or of the wrong sign, SNR
without the side channel) move the tested quantity by several times the tolerance.

SE is computed here independently of the package: overlaps are Gaussian expectations of the prior's
posterior mean ``prior.f`` by a trapezoid rule in z, iterated from the uninformed (m ~ 0) or informed
(m = 1) start as docs/physics.md §4 prescribes.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

import spinglass as sg
from samplers.denoisers import AMPDenoiser, ExactDenoiser, NonConvergenceWarning, SKAMPDenoiser
from samplers.denoisers.amp import _tensor_fields

N = 2000
SEEDS = (0, 1, 2, 3)

# Gaussian expectation E[h(z)] ≈ sum_k w_k h(z_k): trapezoid rule on [-10, 10], step 0.01
_Z = np.linspace(-10.0, 10.0, 2001)
_W = np.exp(-0.5 * _Z**2)
_W /= _W.sum()


def overlap_F(prior: sg.Prior, g: float) -> float:
    """F(g) = E_{x~p0, z}[x f(g x + sqrt(g) z; g)] (written here, not taken from the package)."""
    if not prior.discrete:
        return g / (1.0 + g)
    x = np.asarray(prior.values)[:, None]
    r = g * x + math.sqrt(g) * _Z[None, :]
    return float(np.asarray(prior.weights) @ ((x * prior.f(r, g)) @ _W))


def se_trajectory(prior, snr, m0: float, steps: int, theta: float = 0.0) -> np.ndarray:
    """m_{k+1} = theta + (1 - theta) F(snr(m_k)); returns m_1 .. m_steps."""
    out, m = [], m0
    for _ in range(steps):
        m = theta + (1.0 - theta) * overlap_F(prior, snr(m))
        out.append(m)
    return np.array(out)


def se_fixed_point(prior, snr, m0: float, theta: float = 0.0) -> float:
    m = m0
    for _ in range(5000):
        new = theta + (1.0 - theta) * overlap_F(prior, snr(m))
        if abs(new - m) < 1e-12:
            return new
        m = new
    return m


def conditional_se(prior, x_star: np.ndarray, lam: float, t: float) -> float:
    """SE overlap conditioned on the empirical law of the planted vector (spiked Wigner, side SNR t).

    AMP's field is r ≈ mu x* + sqrt(s2) z with mu = lam <f x*> + t and s2 = lam <f^2> + t, while the
    denoiser uses the SNR g = s2.  Averaging over the empirical law of x* instead of p0 removes the
    instance-to-instance fluctuation of the composition of x* (e.g. |x*|^2/N has standard deviation
    sqrt((1/rho - 1)/N) = 0.067 for SparseRademacher(0.1) at N = 2000).  For the Gaussian prior f is linear,
    so only <x*^2> matters and the law ±sqrt(<x*^2>) is used.  With the law p0 itself this reduces to
    m = F(lam m + t) (checked in ``test_conditional_se_reduces_to_F``).
    """
    if prior.discrete:
        vals, counts = np.unique(np.round(x_star, 12), return_counts=True)
        w = counts / counts.sum()
    else:
        s = math.sqrt(float(np.mean(x_star**2)))
        vals, w = np.array([-s, s]), np.array([0.5, 0.5])
    a = q = float(w @ vals**2)
    for _ in range(5000):
        mu, s2 = lam * a + t, lam * q + t
        r = mu * vals[:, None] + math.sqrt(s2) * _Z[None, :]
        f = prior.f(r, s2)
        new_a, new_q = float(w @ ((vals[:, None] * f) @ _W)), float(w @ ((f**2) @ _W))
        if abs(new_a - a) + abs(new_q - q) < 1e-13:
            break
        a, q = new_a, new_q
    return a


def side_channel(x_star, t, seed):
    """y = t x* + sqrt(t) z: the Gaussian channel at time t (docs/physics.md §2)."""
    return t * x_star + math.sqrt(t) * np.random.default_rng(seed).standard_normal(x_star.size)


def reveal(model, theta, seed):
    """Reveal exactly round(theta N) uniformly chosen variables at their planted values."""
    rng = np.random.default_rng(seed)
    revealed = np.full(model.n, -1)
    idx = rng.permutation(model.n)[: int(round(theta * model.n))]
    revealed[idx] = model.prior.index_of(model.planted[idx])
    return revealed


def quiet(den, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonConvergenceWarning)
        return den.posterior(**kwargs)


# --------------------------------------------------------------------------------------------------
# spiked Wigner: fixed points and trajectories vs state evolution
# --------------------------------------------------------------------------------------------------
def test_conditional_se_reduces_to_F():
    for prior, lam, t in [(sg.SparseRademacher(0.2), 2.5, 0.0), (sg.Rademacher(), 0.8, 0.5), (sg.Gaussian(), 2.0, 0.0)]:
        law = (np.repeat(prior.values, np.round(np.asarray(prior.weights) * 10**6).astype(int))
               if prior.discrete else np.array([-1.0, 1.0]))
        m = se_fixed_point(prior, lambda m, lam=lam, t=t: lam * m + t, 1.0)
        assert conditional_se(prior, law, lam, t) == pytest.approx(m, abs=1e-6)
        # and our F agrees with the package's (trapezoid vs trapezoid on different grids)
        assert overlap_F(prior, 1.3) == pytest.approx(float(prior.F(1.3)), abs=1e-9)


# (prior, lam, t, theta, expected SE fixed point from the uninformed start; measured sd of the per-instance
# deviation from the conditional SE, times sqrt(N), over 30 instances: <= 1.45 in every row)
WIGNER_CASES = [
    pytest.param(sg.Rademacher(), 2.0, 0.0, 0.0, 0.6184, id="rademacher-lam2"),
    pytest.param(sg.SparseRademacher(0.2), 2.5, 0.0, 0.0, 0.7835, id="sparse0.2-lam2.5"),
    pytest.param(sg.SparseRademacher(0.1), 2.0, 0.0, 0.0, 0.9101, id="sparse0.1-lam2"),
    pytest.param(sg.Gaussian(), 2.0, 0.0, 0.0, 0.5, id="gaussian-lam2"),
    pytest.param(sg.Rademacher(), 0.8, 0.5, 0.0, 0.5239, id="rademacher-lam0.8-side-t0.5"),
    pytest.param(sg.SparseRademacher(0.2), 1.2, 0.5, 0.0, 0.6385, id="sparse0.2-lam1.2-side-t0.5"),
    pytest.param(sg.Rademacher(), 0.8, 0.0, 0.3, 0.5112, id="rademacher-lam0.8-erasure0.3"),
]


@pytest.mark.parametrize("prior, lam, t, theta, m_se", WIGNER_CASES)
def test_wigner_fixed_point_matches_state_evolution(prior, lam, t, theta, m_se):
    """Uninformed AMP at N = 2000 reaches the SE fixed point m = theta + (1-theta) F(lam m + t).

    Per instance the deviation from the conditional SE (same law for x* as the instance) was measured over
    16 instances per row: standard deviation <= 1.51/sqrt(N) and mean between -0.7/sqrt(N) (a finite-size
    bias at t = 0) and +0.15/sqrt(N).  We require each instance within 6 · 1.5/sqrt(N) = 0.20 (catches a
    wrong branch) and the mean over the 4 seeds within (1 + 4 · 1.5/sqrt(4))/sqrt(N) = 0.089.  The fixed
    point must also solve the AMP equation written out in the test to 1e-6.
    """
    m_plain = se_fixed_point(prior, lambda m: lam * m + t, 1e-6, theta)
    assert m_plain == pytest.approx(m_se, abs=1e-3)  # the table above is the SE of docs/physics.md §4
    devs = []
    for seed in SEEDS:
        model = sg.SpikedWigner(N, lam, prior, seed=seed)
        y = side_channel(model.planted, t, 100 + seed) if t else None
        revealed = reveal(model, theta, 200 + seed) if theta else None
        out = quiet(AMPDenoiser(model, seed=seed), y=y, t=t, revealed=revealed)
        assert out.converged[0] and out.residual[0] < 1e-8
        overlap = abs(out.mean[0] @ model.planted) / N
        expected = m_plain if theta else conditional_se(prior, model.planted, lam, t)
        assert abs(overlap - expected) < 6 * 1.5 / math.sqrt(N), (seed, overlap, expected)
        devs.append(overlap - expected)
        # the trace records the residual and the overlap of each iterate
        assert out.trace["residual"].shape == (1, out.iterations[0])
        assert out.trace["overlap_planted"][0, -1] == pytest.approx(out.mean[0] @ model.planted / N, abs=1e-6)
        if seed == SEEDS[0]:  # the fixed point solves the documented AMP equation (written out here)
            f = out.mean[0]
            free = np.ones(N, dtype=bool) if revealed is None else revealed < 0
            g = lam * (f @ f) / N + t
            r0 = (0.0 if y is None else y) + np.asarray(model.couplings) @ f
            r = r0
            for _ in range(30):  # v depends on r through one scalar, <v>: a fast-contracting fixed point
                v = np.where(free, prior.df(r, g), 0.0)
                r = r0 - lam * v.mean() * f
            assert np.max(np.abs(np.where(free, prior.f(r, g), f) - f)) < 1e-6
        if theta:
            rev = revealed >= 0
            assert np.array_equal(out.mean[0, rev], model.planted[rev])
            assert np.all(out.marginals[0, rev].max(axis=1) == 1.0)
    assert abs(np.mean(devs)) < (1.0 + 4 * 1.5 / math.sqrt(len(SEEDS))) / math.sqrt(N), devs


def test_wigner_below_threshold_stays_uninformative():
    """Rademacher at lam = 0.5 < 1: m = 0 is the only SE fixed point and AMP goes to f = 0."""
    assert se_fixed_point(sg.Rademacher(), lambda m: 0.5 * m, 0.5) < 1e-9
    model = sg.SpikedWigner(N, 0.5, sg.Rademacher(), seed=0)
    out = quiet(AMPDenoiser(model, seed=0, init_scale=0.1))
    assert out.converged[0]
    assert np.max(np.abs(out.mean)) < 1e-6
    assert np.allclose(out.marginals, 0.5, atol=1e-6)


@pytest.mark.parametrize("init, lam, t, m0, sd", [("planted", 1.5, 0.2, 1.0, 0.9), ("prior", 0.8, 0.6, 0.0, 0.65)])
def test_wigner_trajectory_follows_state_evolution(init, lam, t, m0, sd):
    """The overlaps of the first 4 iterates follow m_{k+1} = F(lam m_k + t) (Rademacher, N = 2000).

    Informed start (f^0 = x*, m^0 = 1) and uninformed start (f^0 = 0, m^0 = 0, with a side channel).  The
    reaction term acts from the second step on.  Per-step deviations measured over 16 instances: standard
    deviation <= 0.88/sqrt(N) (informed) and 0.63/sqrt(N) (uninformed) over these steps, mean within
    0.32/sqrt(N).  Tolerance for the mean over 4 seeds: (0.5 + 4 sd/sqrt(4))/sqrt(N).
    """
    prior = sg.Rademacher()
    steps = 4
    se = se_trajectory(prior, lambda m: lam * m + t, m0, steps)
    traces = []
    for seed in SEEDS:
        model = sg.SpikedWigner(N, lam, prior, seed=seed)
        y = side_channel(model.planted, t, 300 + seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NonConvergenceWarning)
            out = AMPDenoiser(model, init=init, max_iter=steps).posterior(y=y, t=t)
        traces.append(out.trace["overlap_planted"][0])
    dev = np.mean(traces, axis=0) - se
    assert np.all(np.abs(dev) < (0.5 + 4 * sd / math.sqrt(len(SEEDS))) / math.sqrt(N)), (dev, se)


@pytest.mark.parametrize("prior, n, max_tol, rms_tol", [(sg.Rademacher(), 16, 0.1, 0.03),
                                                      (sg.SparseRademacher(0.5), 11, 0.15, 0.06)])
def test_wigner_amp_matches_exact_at_strong_side_channel(prior, n, max_tol, rms_tol):
    """lam = 1.5, t = 4: the posterior is close to a product measure and AMP is accurate at small n.

    At these sizes AMP/TAP is exact only up to O(1/n) corrections to the fields.  Measured over 6 instances:
    Rademacher n = 16 max error 0.055, rms 0.018; SparseRademacher(0.5) n = 11 max 0.076, rms 0.034.
    Tolerances are about twice these, and AMP must beat the scalar denoiser f(y; t), which ignores the
    couplings, by a factor 3 in rms error.
    """
    lam, t = 1.5, 4.0
    for seed in range(5):
        model = sg.SpikedWigner(n, lam, prior, seed=seed)
        y = side_channel(model.planted, t, 400 + seed)
        amp = quiet(AMPDenoiser(model, init="prior"), y=y, t=t)
        exact = ExactDenoiser(model).posterior(y=y, t=t)
        err = np.abs(amp.mean - exact.mean)
        rms = np.sqrt(np.mean(err**2))
        assert err.max() < max_tol and rms < rms_tol, (seed, err.max(), rms)
        scalar_only = model.prior.f(y, t)
        assert np.sqrt(np.mean((scalar_only - exact.mean) ** 2)) > 3 * rms
        assert np.allclose(amp.marginals, exact.marginals, atol=max_tol)


def test_batch_equals_rows_and_trace_shapes():
    model = sg.SpikedWigner(400, 2.5, sg.SparseRademacher(0.3), seed=1)
    den = AMPDenoiser(model, seed=3)
    rng = np.random.default_rng(0)
    t = np.array([0.0, 0.7, 2.0])
    y = np.stack([side_channel(model.planted, tt, 10 + b) if tt else np.zeros(model.n) for b, tt in enumerate(t)])
    revealed = np.full((3, model.n), -1)
    revealed[2, rng.permutation(model.n)[:100]] = 0
    batch = quiet(den, y=y, t=t, revealed=revealed)
    assert batch.mean.shape == (3, model.n) and batch.marginals.shape == (3, model.n, 3)
    assert batch.trace["residual"].shape[1] == batch.iterations.max()
    for b in range(3):
        row = quiet(den, y=y[b], t=t[b], revealed=revealed[b])
        assert row.iterations[0] == batch.iterations[b]
        assert np.allclose(row.mean[0], batch.mean[b], atol=1e-9)
        # after a row stops its trace is NaN
        assert np.all(np.isnan(batch.trace["residual"][b, batch.iterations[b]:]))
    assert np.allclose(batch.marginals.sum(axis=2), 1.0, atol=1e-12)
    assert np.allclose(batch.marginals @ model.alphabet, batch.mean, atol=1e-12)


def test_damping_changes_the_path_not_the_fixed_point():
    model = sg.SpikedWigner(N, 2.0, sg.Rademacher(), seed=5)
    plain = quiet(AMPDenoiser(model, seed=1))
    damped = quiet(AMPDenoiser(model, seed=1, damping=0.5, max_iter=2000))
    assert damped.iterations[0] > plain.iterations[0]
    # the fixed point is the same up to the sign symmetry x -> -x of the Rademacher posterior
    sign = np.sign(plain.mean[0] @ damped.mean[0])
    assert np.max(np.abs(plain.mean[0] - sign * damped.mean[0])) < 1e-5


# --------------------------------------------------------------------------------------------------
# spiked tensor
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [3, 4])
def test_tensor_field_kernel_matches_dense_contraction(p):
    """sum_{e ∋ i} w_e prod_{j in e, j != i} f_j equals the dense symmetric contraction / (p-1)!."""
    n = 9
    model = sg.SpikedTensor(n, p, 0.5, sg.Rademacher(), seed=2)
    T = np.zeros((n,) * p)
    for e, w in zip(model.hyperedges.tolist(), model.weights, strict=True):
        for perm in itertools.permutations(e):
            T[perm] = w
    f = np.random.default_rng(0).normal(size=(2, n))
    out = np.zeros_like(f)
    _tensor_fields(np.asarray(model.hyperedges, dtype=np.int64), np.asarray(model.weights), f, out)
    if p == 3:
        dense = np.einsum("ijk,bj,bk->bi", T, f, f) / 2
    else:
        dense = np.einsum("ijkl,bj,bk,bl->bi", T, f, f, f) / 6
    assert np.allclose(out, dense, atol=1e-12)


def tensor_linear_field(model, f):
    """sum_{e ∋ i} w_e prod_{j in e \\ i} f_j by np.add.at (independent of the package's numba kernel)."""
    edges = np.asarray(model.hyperedges)
    vals = f[edges]  # (M, p)
    out = np.zeros(model.n)
    for a in range(model.p):
        others = np.prod(np.delete(vals, a, axis=1), axis=1)
        np.add.at(out, edges[:, a], model.weights * others)
    return out


def test_tensor_p2_is_spiked_wigner_state_evolution():
    """A SpikedTensor of order 2 (generic p-body path, lam = 1/Delta = 2) reaches the Wigner SE point."""
    n = 1000
    devs = []
    for seed in (0, 1):
        model = sg.SpikedTensor(n, 2, 0.5, sg.Rademacher(), seed=seed)
        out = quiet(AMPDenoiser(model, seed=seed))
        devs.append(abs(out.mean[0] @ model.planted) / n - 0.6184)
    # per-instance sd 1.25/sqrt(n) (Wigner measurement); 4 sd of the mean of 2
    assert abs(np.mean(devs)) < 4 * 1.25 / math.sqrt(2 * n), devs


def test_tensor_p3_informed_fixed_point_matches_state_evolution():
    """Rademacher p = 3, Delta = 0.2, N = 200, informed start: SE m = F(m^2/Delta) = 0.9487 (slope 0.28).

    Three checks on 8 instances:
    * the fixed point solves the AMP equation written out here (fields by np.add.at, reaction term
      ((p-1)/Delta) <f'> q^(p-2) f, SNR q^(p-1)/Delta) to the convergence tolerance;
    * the overlap: measured per-instance sd 0.027 = 0.38/sqrt(N) and mean 0.937 over 8 instances (finite-N
      effects are larger for p = 3, where the overlap enters the SNR squared); tolerance on the mean of 8:
      4 · 0.4/sqrt(8 N) = 0.028;
    * Bayes consistency of the fields: r_i = atanh(f_i) carries the signal <r, x*>/N = c_N m^2/Delta with
      c_N = (N-1)(N-2)/N^2 (the pair count of the sum over e ∋ i); measured per-instance sd of the ratio 0.05,
      tolerance 4 · 0.05/sqrt(8) = 0.071 (a missing reaction term gives +0.08, a doubled one loses the
      informed branch).
    """
    n, delta, p = 200, 0.2, 3
    prior = sg.Rademacher()
    m_se = se_fixed_point(prior, lambda m: m**2 / delta, 1.0)
    assert m_se == pytest.approx(0.9487, abs=1e-4)
    overlaps, ratios = [], []
    for seed in range(8):
        model = sg.SpikedTensor(n, p, delta, prior, seed=seed)
        out = quiet(AMPDenoiser(model, init="planted"))
        f = out.mean[0]
        q = f @ f / n
        m = f @ model.planted / n
        overlaps.append(m)
        # the documented fixed-point equation, evaluated independently
        v = 1.0 - f**2
        r = tensor_linear_field(model, f) - (p - 1) / delta * v.mean() * q ** (p - 2) * f
        assert np.max(np.abs(np.tanh(r) - f)) < 1e-6
        assert np.allclose(0.5 * np.log(out.marginals[0, :, 1] / out.marginals[0, :, 0]), r, atol=1e-5)
        ratios.append((r @ model.planted / n) / ((n - 1) * (n - 2) / n**2 * m**2 / delta))
    assert abs(np.mean(overlaps) - m_se) < 4 * 0.4 / math.sqrt(8 * n), overlaps
    assert abs(np.mean(ratios) - 1.0) < 0.071, ratios


# --------------------------------------------------------------------------------------------------
# SK
# --------------------------------------------------------------------------------------------------
def sk_fields(seed, n, mean=0.3, sd=0.8):
    return np.random.default_rng(seed).normal(mean, sd, size=n)


def test_sk_amp_matches_exact_at_high_temperature():
    """n = 16, beta = 0.4, fields y ~ N(0.3, 0.8^2): TAP means vs exact enumeration.

    The TAP equations hold up to O(1/sqrt(n)) per site at finite n; measured rms error over 8 instances
    0.007-0.013 (naive mean field without the reaction term: 0.022-0.059).  Tolerances: rms < 0.02 per
    instance and, averaged, at most half the error of naive mean field m = tanh(y + beta J m).
    """
    n, beta = 16, 0.4
    amp_err, naive_err = [], []
    for seed in range(5):
        model = sg.SK(n, beta, seed=seed)
        y = sk_fields(seed + 7, n)
        amp = quiet(SKAMPDenoiser(model), y=y, t=1.3)
        exact = ExactDenoiser(model).posterior(y=y, t=1.3)
        J = np.asarray(model.couplings)
        naive = np.zeros(n)
        for _ in range(300):
            naive = np.tanh(y + beta * J @ naive)
        amp_err.append(np.sqrt(np.mean((amp.mean[0] - exact.mean[0]) ** 2)))
        naive_err.append(np.sqrt(np.mean((naive - exact.mean[0]) ** 2)))
        assert amp_err[-1] < 0.02
        assert np.allclose(amp.marginals[0] @ np.array([-1.0, 1.0]), amp.mean[0], atol=1e-12)
    assert np.mean(amp_err) < 0.5 * np.mean(naive_err), (amp_err, naive_err)


def test_sk_fixed_point_solves_tap_and_replica_symmetric_q():
    """N = 2000, beta = 0.4, h = 0.2: the fixed point solves m = tanh(beta h + y + beta J m - beta^2 (1-q) m)
    to the convergence tolerance, and q = |m|^2/N matches the RS equation q = mean_i E_z tanh^2(beta h + y_i +
    beta sqrt(q) z) (fields conditioned on the instance).  Measured deviation sd 0.13/sqrt(N) over 10
    instances; tolerance 6 · 0.13/sqrt(N) = 0.017 per instance (omitting the reaction term shifts q by 0.04).
    """
    beta, h = 0.4, 0.2
    for seed in (0, 1):
        model = sg.SK(N, beta, h=h, seed=seed)
        y = sk_fields(seed + 7, N)
        out = quiet(SKAMPDenoiser(model, tol=1e-10), y=y, t=0.5)
        m = out.mean[0]
        q = m @ m / N
        tap = np.tanh(beta * h + y + beta * (np.asarray(model.couplings) @ m) - beta**2 * (1 - q) * m)
        assert np.max(np.abs(tap - m)) < 1e-8
        q_rs, z, w = 0.5, *np.polynomial.hermite_e.hermegauss(60)  # Gauss-Hermite: smooth integrand
        for _ in range(200):
            new = float(np.mean(np.tanh((beta * h + y)[:, None] + beta * math.sqrt(q_rs) * z[None, :]) ** 2
                                @ (w / w.sum())))
            q_rs, done = new, abs(new - q_rs) < 1e-13
            if done:
                break
        assert abs(q - q_rs) < 6 * 0.13 / math.sqrt(N), (q, q_rs)


def test_sk_revealed_spins_are_fixed():
    model = sg.SK(300, 0.5, seed=3)
    revealed = np.full(model.n, -1)
    revealed[:50] = 1
    out = quiet(SKAMPDenoiser(model), revealed=revealed)
    assert np.all(out.mean[0, :50] == 1.0)
    assert np.array_equal(out.marginals[0, :50], np.tile([0.0, 1.0], (50, 1)))
    # the fixed spins polarise the rest through the couplings: m_i ≈ tanh(beta sum_{j<50} J_ij) to first order
    lin = np.tanh(0.5 * np.asarray(model.couplings)[50:, :50].sum(axis=1))
    assert np.corrcoef(out.mean[0, 50:], lin)[0, 1] > 0.9


# --------------------------------------------------------------------------------------------------
# non-convergence and bad input
# --------------------------------------------------------------------------------------------------
def test_non_convergence_is_reported():
    model = sg.SpikedWigner(500, 2.0, sg.Rademacher(), seed=0)
    den = AMPDenoiser(model, max_iter=2, seed=0)
    with pytest.warns(NonConvergenceWarning):
        out = den.posterior(y=np.zeros((2, model.n)))
    assert not np.any(out.converged)
    assert np.all(out.iterations == 2) and np.all(out.residual > den.tol)
    assert out.trace["residual"].shape == (2, 2)
    # SK in its spin-glass phase with a strong random field: undamped AMP does not settle
    sk = sg.SK(1000, 3.0, seed=1)
    with pytest.warns(NonConvergenceWarning):
        out = SKAMPDenoiser(sk, max_iter=100).posterior(y=sk_fields(2, sk.n, mean=0.0, sd=0.5))
    assert not out.converged[0] and out.residual[0] > 1e-3


def test_bad_inputs():
    wig = sg.SpikedWigner(50, 1.0, sg.Rademacher(), seed=0)
    with pytest.raises(TypeError, match="SpikedWigner and SpikedTensor"):
        AMPDenoiser(sg.SK(50, 0.5, seed=0))
    with pytest.raises(TypeError, match="SK"):
        SKAMPDenoiser(wig)
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="damping"):
            AMPDenoiser(wig, damping=bad)
    with pytest.raises(TypeError, match="damping"):
        AMPDenoiser(wig, damping="0.5")
    with pytest.raises(ValueError, match="tol"):
        AMPDenoiser(wig, tol=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        SKAMPDenoiser(sg.SK(50, 0.5, seed=0), max_iter=0)
    with pytest.raises(ValueError, match="init"):
        AMPDenoiser(wig, init="spectral")
    with pytest.raises(ValueError, match="init"):
        AMPDenoiser(wig, init=np.zeros(49))
    with pytest.raises(ValueError, match="init"):
        AMPDenoiser(wig, init=np.zeros((2, 50))).posterior(y=np.zeros((3, 50)))
    with pytest.raises(ValueError, match="y must have shape"):
        AMPDenoiser(wig).posterior(y=np.zeros(49))
    with pytest.raises(ValueError, match="t"):
        AMPDenoiser(wig).posterior(t=-1.0)
    gauss = AMPDenoiser(sg.SpikedWigner(300, 3.0, sg.Gaussian(), seed=0), init="planted")
    with pytest.raises(TypeError, match="continuous prior"):
        gauss.posterior(revealed=np.full(300, -1))
    with pytest.raises(TypeError, match="marginals are undefined"):
        gauss.marginals(None)
    assert gauss.posterior().marginals is None
    d = AMPDenoiser(wig, damping=0.2, seed=4).describe()
    assert d["name"] == "AMPDenoiser" and d["damping"] == 0.2 and d["p"] == 2 and d["Delta"] == 1.0


def test_float32_matvec_gives_the_float64_fixed_point():
    """dtype='float32' only rounds J f (relative error ~1e-7): fixed points agree far below AMP's own
    finite-N fluctuations (1/sqrt(N) = 0.03), here within 1e-4 entrywise."""
    model = sg.SpikedWigner(1000, 2.0, sg.Rademacher(), seed=3)
    y = 0.3 * model.planted + np.sqrt(0.3) * np.random.default_rng(0).standard_normal(1000)
    ref = AMPDenoiser(model, tol=1e-7, seed=1).posterior(y=y, t=0.3)
    single = AMPDenoiser(model, tol=1e-6, seed=1, dtype="float32").posterior(y=y, t=0.3)
    assert single.all_converged and single.mean.dtype == np.float64
    np.testing.assert_allclose(single.mean, ref.mean, atol=1e-4)
    sk = sg.SK(500, 0.5, h=0.2, seed=1)
    np.testing.assert_allclose(SKAMPDenoiser(sk, dtype="float32", tol=1e-6).mean(np.zeros(500), 0.0),
                               SKAMPDenoiser(sk, tol=1e-7).mean(np.zeros(500), 0.0), atol=1e-4)
    with pytest.raises(ValueError, match="dtype must be 'float64' or 'float32'"):
        AMPDenoiser(model, dtype="float16")
    with pytest.raises(ValueError, match="spiked tensor"):
        AMPDenoiser(sg.SpikedTensor(12, 3, 0.5, sg.Rademacher(), seed=0), dtype="float32")


def test_torch_device_matches_the_blas_path():
    """device='cpu' runs J f in torch (float64): the same iteration as numpy/BLAS up to summation order."""
    torch = pytest.importorskip("torch")
    model = sg.SpikedWigner(600, 2.0, sg.SparseRademacher(0.3), seed=2)
    y = 0.4 * model.planted + np.sqrt(0.4) * np.random.default_rng(1).standard_normal(600)
    ref = AMPDenoiser(model, tol=1e-9, seed=0).posterior(y=y, t=0.4)
    on_torch = AMPDenoiser(model, tol=1e-9, seed=0, device="cpu")
    out = on_torch.posterior(y=y, t=0.4)
    np.testing.assert_allclose(out.mean, ref.mean, atol=1e-9)
    assert out.iterations[0] == ref.iterations[0] and on_torch.describe()["device"] == "cpu"
    sk = sg.SK(300, 0.5, h=0.1, seed=0)
    np.testing.assert_allclose(SKAMPDenoiser(sk, device="cpu", tol=1e-9).mean(np.zeros(300), 0.0),
                               SKAMPDenoiser(sk, tol=1e-9).mean(np.zeros(300), 0.0), atol=1e-9)
    auto = AMPDenoiser(model, device="auto")
    assert auto.device == ("cuda" if torch.cuda.is_available() else None)
    with pytest.raises(ValueError, match="device must be None, 'auto'"):
        AMPDenoiser(model, device="tpu")
    with pytest.raises(TypeError, match="device must be"):
        AMPDenoiser(model, device=0)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="torch finds no CUDA device"):
            AMPDenoiser(model, device="cuda")
