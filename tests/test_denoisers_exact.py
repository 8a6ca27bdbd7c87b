"""ExactDenoiser against brute-force sums written independently here (itertools, the models' definitions)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.special import logsumexp

import spinglass as sg
from samplers.denoisers import ExactDenoiser
from samplers.denoisers import exact as exact_module

# exact enumeration: agreement up to floating-point rounding of sums over <= 3^6 terms
TOL = 1e-11


def spiked_wigner_log_weight(model: sg.SpikedWigner, x: np.ndarray) -> float:
    """log p0(x) + sum_{i<j} [sqrt(lam/n) Y_ij x_i x_j - lam/(2n) x_i^2 x_j^2] from docs/physics.md §1."""
    n, lam = model.n, model.lam
    prior = model.prior
    out = sum(math.log(prior.weights[np.flatnonzero(np.isclose(prior.values, v))[0]]) for v in x)
    for i in range(n):
        for j in range(i + 1, n):
            out += math.sqrt(lam / n) * model.observations[i, j] * x[i] * x[j] - lam / (2 * n) * x[i] ** 2 * x[j] ** 2
    return out


def brute_force(log_weight, alphabet, n, y, t, revealed, one_hot=False):
    """Mean, marginals and (log Z_tilted - log Z)/n of mu(x) exp(<y,x> - t|x|^2/2) 1[revealed] by listing."""
    configs = list(itertools.product(range(len(alphabet)), repeat=n))
    base, tilted = [], []
    for idx in configs:
        lw = log_weight(np.array([alphabet[a] for a in idx]))
        base.append(lw)
        if one_hot:
            tilt = sum(y[i, a] for i, a in enumerate(idx)) - t * n / 2
        else:
            x = np.array([alphabet[a] for a in idx], dtype=float)
            tilt = float(y @ x) - t * float(x @ x) / 2
        ok = all(r < 0 or r == a for r, a in zip(revealed, idx, strict=True))
        tilted.append(lw + tilt if ok else -np.inf)
    base, tilted = np.array(base), np.array(tilted)
    log_z = logsumexp(tilted)
    p = np.exp(tilted - log_z)
    marg = np.zeros((n, len(alphabet)))
    for pr, idx in zip(p, configs, strict=True):
        for i, a in enumerate(idx):
            marg[i, a] += pr
    mean = marg if one_hot else marg @ np.asarray(alphabet, dtype=float)
    return mean, marg, (log_z - logsumexp(base)) / n


def test_spiked_wigner_matches_brute_force_with_field_snr_and_reveals():
    """Sparse Rademacher (x^2 not constant, so the t-term matters), batch with different t and reveals."""
    model = sg.SpikedWigner(5, 1.7, sg.SparseRademacher(0.3), seed=3)
    den = ExactDenoiser(model)
    rng = np.random.default_rng(0)
    B = 4
    y = rng.normal(scale=1.5, size=(B, model.n))
    t = np.array([0.0, 0.4, 2.5, 7.0])
    revealed = np.full((B, model.n), -1)
    revealed[1, 2] = 0
    revealed[2, [0, 4]] = [2, 1]
    revealed[3, :] = [1, 0, 2, 2, 1]  # everything revealed
    out = den.posterior(y=y, t=t, revealed=revealed)
    assert out.mean.shape == (B, model.n) and out.marginals.shape == (B, model.n, 3)
    assert out.all_converged and np.all(out.iterations == 0) and np.all(out.residual == 0)
    for b in range(B):
        mean, marg, fe = brute_force(lambda x: spiked_wigner_log_weight(model, x), model.alphabet, model.n,
                                     y[b], t[b], revealed[b])
        assert np.allclose(out.mean[b], mean, atol=TOL, rtol=0)
        assert np.allclose(out.marginals[b], marg, atol=TOL, rtol=0)
        assert out.free_entropy[b] == pytest.approx(fe, abs=TOL)
    # the t-term has the right sign: a large SNR with y = 0 pushes sparse variables to 0
    p0 = den.posterior(t=[0.0, 20.0]).marginals[:, :, 1]
    assert np.all(p0[1] > p0[0]) and np.all(p0[1] > 0.99)


def test_no_observation_gives_the_model_marginals():
    for model in (sg.SK(5, 0.8, h=0.3, seed=1), sg.SpikedWigner(4, 2.0, sg.SparseRademacher(0.5), seed=2),
                  sg.PlantedNAESAT(6, 3, 1.0, seed=4)):
        ex = model.exact()
        out = ExactDenoiser(model).posterior()
        assert np.allclose(out.marginals[0], ex.marginals, atol=TOL, rtol=0)
        assert np.allclose(out.mean[0], ex.marginals @ model.alphabet, atol=TOL, rtol=0)
        assert out.free_entropy[0] == pytest.approx(0.0, abs=TOL)
        # an SK model is checked against an independent sum too (counting measure, mu ∝ exp(-beta E))
    model = sg.SK(4, 0.9, h=-0.2, seed=7)
    J = np.asarray(model.couplings)
    mean, _, _ = brute_force(lambda x: model.beta * (0.5 * x @ J @ x + model.h * x.sum()), [-1.0, 1.0], 4,
                             np.zeros(4), 0.0, [-1] * 4)
    assert np.allclose(ExactDenoiser(model).mean(None, 0.0)[0], mean, atol=TOL, rtol=0)


def test_ising_snr_only_shifts_the_free_entropy():
    """For ±1 spins |x|^2 = n: t leaves the means unchanged and lowers the free entropy by exactly t/2."""
    model = sg.SK(6, 0.7, seed=5)
    den = ExactDenoiser(model)
    y = np.random.default_rng(1).normal(size=model.n)
    a, b = den.posterior(y=y, t=0.0), den.posterior(y=y, t=3.0)
    assert np.allclose(a.mean, b.mean, atol=TOL, rtol=0)
    assert b.free_entropy[0] == pytest.approx(a.free_entropy[0] - 1.5, abs=TOL)


def test_revealed_sites_have_delta_marginals():
    model = sg.SpikedWigner(5, 1.2, sg.SparseRademacher(0.4), seed=8)
    den = ExactDenoiser(model)
    revealed = np.array([[0, -1, 2, -1, 1], [-1, 1, -1, -1, -1]])
    out = den.posterior(y=np.ones(model.n), t=0.5, revealed=revealed)
    for b in range(2):
        for i in np.flatnonzero(revealed[b] >= 0):
            expected = np.zeros(3)
            expected[revealed[b, i]] = 1.0
            assert np.array_equal(out.marginals[b, i], expected)
            assert out.mean[b, i] == model.alphabet[revealed[b, i]]
    # marginals() is the erasure-channel entry point
    assert np.allclose(den.marginals(revealed), den.posterior(revealed=revealed).marginals, atol=0, rtol=0)


def test_batch_equals_rows_and_chunking_is_invisible(monkeypatch):
    model = sg.SpikedWigner(6, 1.5, sg.SparseRademacher(0.3), seed=9)  # 3^6 = 729 states
    den = ExactDenoiser(model)
    rng = np.random.default_rng(2)
    B = 7
    y = rng.normal(size=(B, model.n))
    t = rng.uniform(0, 3, size=B)
    revealed = np.where(rng.random((B, model.n)) < 0.3, rng.integers(0, 3, size=(B, model.n)), -1)
    whole = den.posterior(y=y, t=t, revealed=revealed)
    rows = [den.posterior(y=y[b], t=t[b], revealed=revealed[b]) for b in range(B)]
    assert np.allclose(whole.mean, np.concatenate([r.mean for r in rows]), atol=1e-14, rtol=0)
    assert np.allclose(whole.free_entropy, np.concatenate([r.free_entropy for r in rows]), atol=1e-14, rtol=0)
    # two rows per chunk (2 * 729 elements) gives the same numbers as one chunk
    monkeypatch.setattr(exact_module, "_CHUNK_ELEMENTS", 2 * 729)
    chunked = den.posterior(y=y, t=t, revealed=revealed)
    assert np.allclose(chunked.marginals, whole.marginals, atol=1e-14, rtol=0)
    assert np.allclose(chunked.free_entropy, whole.free_entropy, atol=1e-14, rtol=0)


@pytest.mark.parametrize("beta", [1.3, math.inf])
def test_potts_one_hot(beta):
    """Colouring: <y, x> = sum_i y[i, sigma_i], |x|^2 = n; brute force on E(sigma) = #monochromatic edges."""
    model = sg.PlantedColoring(5, 3, 2.4, beta=beta, seed=1)
    edges = np.asarray(model.edges)

    def log_weight(s):
        e = sum(s[i] == s[j] for i, j in edges)
        return (-np.inf if e else 0.0) if math.isinf(beta) else -beta * e

    den = ExactDenoiser(model)
    rng = np.random.default_rng(3)
    y = rng.normal(size=(2, model.n, 3))
    t = np.array([0.0, 1.7])
    revealed = np.full((2, model.n), -1)
    revealed[1, 0] = int(model.planted[0])
    out = den.posterior(y=y, t=t, revealed=revealed)
    assert out.mean.shape == (2, model.n, 3) and out.marginals.shape == (2, model.n, 3)
    assert np.allclose(out.mean.sum(axis=2), 1.0, atol=1e-12)
    assert np.array_equal(out.mean, out.marginals)
    for b in range(2):
        mean, marg, fe = brute_force(log_weight, [0, 1, 2], model.n, y[b], t[b], revealed[b], one_hot=True)
        assert np.allclose(out.marginals[b], marg, atol=TOL, rtol=0)
        assert out.free_entropy[b] == pytest.approx(fe, abs=TOL)
    with pytest.raises(ValueError, match="y must have shape"):
        den.posterior(y=np.zeros(model.n))  # a Potts query is one-hot shaped


def test_zero_probability_reveal_raises():
    model = sg.PlantedColoring(6, 3, 3.0, beta=math.inf, seed=2)
    i, j = model.edges[0]
    revealed = np.full(model.n, -1)
    revealed[[i, j]] = 1  # equal colours on an edge: no proper colouring left
    with pytest.raises(ValueError, match="revealed.*zero probability"):
        ExactDenoiser(model).posterior(revealed=revealed)


def test_bad_inputs():
    model = sg.SK(4, 0.5, seed=0)
    den = ExactDenoiser(model)
    with pytest.raises(ValueError, match="y must have shape"):
        den.posterior(y=np.zeros(5))
    with pytest.raises(ValueError, match="y must be finite"):
        den.posterior(y=np.full(4, np.nan))
    with pytest.raises(ValueError, match="t"):
        den.posterior(t=-0.1)
    with pytest.raises(ValueError, match="revealed entries"):
        den.posterior(revealed=[0, 2, -1, -1])
    with pytest.raises(ValueError, match="revealed must have shape"):
        den.posterior(revealed=[0, 1])
    with pytest.raises(TypeError, match="revealed"):
        den.posterior(revealed=[0.0, 1.0, -1.0, -1.0])
    with pytest.raises(ValueError, match="max_states"):
        ExactDenoiser(sg.SK(12, 0.5, seed=0), max_states=2**10)
    with pytest.raises(TypeError, match="finite alphabet"):
        ExactDenoiser(sg.SpikedWigner(4, 1.0, sg.Gaussian(), seed=0))
    with pytest.raises(TypeError, match="model"):
        ExactDenoiser("not a model")
    assert den.describe() == {"name": "ExactDenoiser", "max_states": sg.MAX_EXACT_STATES, "n_states": 16}


def test_blas_and_reshape_paths_agree(monkeypatch):
    """The indicator-table (BLAS) path and the reshape path give the same posterior, reveals included."""
    import samplers.denoisers.exact as exact_mod

    rng = np.random.default_rng(4)
    for model in (sg.SK(7, 0.9, h=0.2, seed=1), sg.PlantedColoring(6, 3, 3.0, seed=2),
                  sg.SpikedWigner(6, 2.0, sg.SparseRademacher(0.4), seed=3)):
        k = 3 if hasattr(model, "q") else model.n_values
        shape = (5, model.n, k) if hasattr(model, "q") else (5, model.n)
        y = rng.standard_normal(shape)
        revealed = np.full((5, model.n), -1)
        revealed[1, 2] = np.argmax(ExactDenoiser(model).posterior().marginals[0, 2])
        fast = ExactDenoiser(model)
        assert fast._indicator is not None
        a = fast.posterior(y=y, t=0.7, revealed=revealed)
        monkeypatch.setattr(exact_mod, "_INDICATOR_ELEMENTS", 0)
        slow = ExactDenoiser(model)
        assert slow._indicator is None
        b = slow.posterior(y=y, t=0.7, revealed=revealed)
        monkeypatch.undo()
        np.testing.assert_allclose(a.marginals, b.marginals, atol=1e-12)
        np.testing.assert_allclose(a.free_entropy, b.free_entropy, atol=1e-12)
