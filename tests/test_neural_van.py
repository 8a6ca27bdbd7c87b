"""VAN training, importance-sampling log Z and neural MCMC against exact enumeration (n = 10 SK, n = 7 posterior).

Bounds.  F_q = E_q[log q - log w] = -log Z + KL(q || mu) >= -log Z: the per-step estimates (mean of B
samples, standard error se) must satisfy F_hat >= -log Z - 4 se, and the gap F_q - (-log Z), computed
*exactly* by enumerating q, must fall below GAP_FINAL = 0.02 nats (from > 0.5 nats at the start).
log Z_hat by importance sampling must lie within 4 of its delta-method standard errors of log Z (plus the
O(1/S) Jensen bias, negligible here).  Neural MCMC: the chain law after t steps, pi_t = q P^t with the
exact independence-MH kernel P(x -> y) = q(y) min(1, [w(y) q(x)] / [w(x) q(y)]), is computed on the
1024 states; the empirical law of 4000 independent chains must be within 1.1 x its 0.999 null quantile
of pi_t, and at t = 40, within 1.1 x null + TV(pi_40, mu) of mu, where the i.i.d. proposal fails.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import spinglass as sg
from analysis.measures.metrics import empirical_tv, total_variation, tv_null_quantile
from samplers.neural import (
    MADE,
    NeuralAutoregressiveSampler,
    NeuralMCMC,
    NonFiniteLossError,
    TrainConfig,
    VANResult,
    as_index_tensor,
    importance_log_z,
    train_made_ml,
    train_van,
)

GAP_FINAL = 0.02
N_CHAINS = 4000


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def exact_q(made, model) -> np.ndarray:
    idx = as_index_tensor(model, model.exact().configurations)
    with torch.no_grad():
        return made.log_prob(idx).double().exp().numpy()


def exact_free_energy(made, model) -> float:
    """F_q = sum_x q(x) [log q(x) - log w(x)] by enumeration."""
    ex = model.exact()
    q = exact_q(made, model)
    return float(np.sum(q * (np.log(q) - ex.log_weights)))


def multinomial_tv_quantile(p, n_samples, quantile=0.999, repeats=200, seed=0) -> float:
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_samples, p / p.sum(), size=repeats)
    return float(np.quantile(0.5 * np.abs(counts / n_samples - p).sum(axis=1), quantile))


_CACHE: dict[str, tuple] = {}


def _van_sk():
    if "sk" not in _CACHE:
        model = sg.SK(10, 1.0, seed=1)
        made = MADE(10, 2, hidden=32, seed=0)
        gap0 = exact_free_energy(made, model) + model.exact().log_Z
        res = train_van(made, model, n_steps=200, batch_size=400, lr=1e-2, beta0=0.1, anneal_fraction=0.4,
                        seed=0, device="cpu")
        _CACHE["sk"] = (model, made, res, gap0)
    return _CACHE["sk"]


def test_van_free_energy_bounds_and_convergence():
    model, made, res, gap0 = _van_sk()
    ex = model.exact()
    assert isinstance(res, VANResult) and res.free_energy.shape == (200,) and res.device == "cpu"
    # variational bound: every estimate of F_q is >= -log Z up to 4 standard errors
    z = (res.free_energy + ex.log_Z) / res.free_energy_stderr
    assert z.min() > -4.0, f"F_q estimate {res.free_energy[z.argmin()]:.5f} below -log Z = {-ex.log_Z:.5f}"
    # the gap shrinks: large at the start, below GAP_FINAL at the end (exactly, by enumeration)
    gap_final = exact_free_energy(made, model) + ex.log_Z
    assert gap0 > 0.5 and 0.0 <= gap_final < GAP_FINAL, (gap0, gap_final)
    assert res.free_energy[:10].mean() + ex.log_Z > 0.5
    f, se = res.final_free_energy(20)
    assert -ex.log_Z - 4 * se < f < -ex.log_Z + GAP_FINAL
    # annealing: the energy factor rises linearly from beta0 to 1 over the first 40% of the steps
    assert res.energy_factor[0] == pytest.approx(0.1) and np.all(res.energy_factor[80:] == 1.0)
    assert np.all(np.diff(res.energy_factor) >= 0)
    assert np.allclose(res.objective[80:], res.free_energy[80:])


def test_importance_log_z_matches_exact():
    model, made, _, _ = _van_sk()
    log_z, se, ess = importance_log_z(made, model, 20000, seed=1)
    exact = model.exact().log_Z
    assert abs(log_z - exact) < 4 * se + 1e-4, (log_z, exact, se)
    assert 0 < se < 0.01 and 0.5 * 20000 < ess <= 20000
    # an untrained proposal gives a much worse (but still consistent) estimate: low ESS, larger error bar
    raw = MADE(10, 2, hidden=32, seed=0)
    log_z0, se0, ess0 = importance_log_z(raw, model, 20000, seed=1)
    assert ess0 < 0.5 * ess and se0 > 3 * se
    assert abs(log_z0 - exact) < 4 * se0 + 0.05


def test_van_with_a_prior_posterior_model():
    """Spiked Wigner with sparse Rademacher prior: the prior is kept, only the likelihood is annealed."""
    model = sg.SpikedWigner(7, 3.0, sg.SparseRademacher(0.3), seed=2)
    ex = model.exact()
    made = MADE(7, 3, hidden=32, seed=0)
    res = train_van(made, model, n_steps=400, batch_size=400, lr=1e-2, beta0=0.0, anneal_fraction=0.6, seed=0,
                    device="cpu")
    # at factor 0 the target is the prior itself: F(prior) = 0 = -log Z(prior); the first objective is >= 0
    assert res.objective[0] > -4 * res.free_energy_stderr[0]
    gap = exact_free_energy(made, model) + ex.log_Z
    assert 0.0 <= gap < GAP_FINAL, gap
    assert ((res.free_energy + ex.log_Z) / res.free_energy_stderr).min() > -4.0


def test_van_is_reproducible_and_validates():
    model = sg.CurieWeiss(8, 0.8)
    runs = []
    for seed in (5, 5, 6):
        made = MADE(8, 2, hidden=8, seed=1)
        r = train_van(made, model, n_steps=15, batch_size=64, lr=1e-2, seed=seed, device="cpu")
        runs.append((r.free_energy.copy(), [p.detach().clone() for p in made.parameters()]))
    assert np.array_equal(runs[0][0], runs[1][0])
    assert all(torch.equal(a, b) for a, b in zip(runs[0][1], runs[1][1], strict=True))
    assert not np.array_equal(runs[0][0], runs[2][0])
    made = MADE(8, 2, hidden=8)
    r = train_van(made, model, beta_schedule=[0.5, 1.0, 1.0], batch_size=16, device="cpu")
    assert r.n_steps == 3 and list(r.energy_factor) == [0.5, 1.0, 1.0]
    with pytest.raises(ValueError, match="batch_size must be an integer >= 2"):
        train_van(made, model, n_steps=2, batch_size=1, device="cpu")
    with pytest.raises(ValueError, match="beta0 must be a real number in"):
        train_van(made, model, n_steps=2, beta0=1.5, device="cpu")
    with pytest.raises(ValueError, match="n_steps must be an integer >= 1"):
        train_van(made, model, n_steps=0, device="cpu")
    with pytest.raises(ValueError, match="beta_schedule entries"):
        train_van(made, model, beta_schedule=[1.0, np.nan], device="cpu")
    with pytest.raises(ValueError, match="TrainConfig.lr"):
        train_van(made, model, n_steps=2, lr=-1.0, device="cpu")
    with pytest.raises(ValueError, match="finite model.beta"):
        train_van(MADE(6, 3), sg.PlantedColoring(6, 3, 2.0, seed=0), n_steps=2, device="cpu")
    with pytest.raises(ValueError, match="the network has n = 8"):
        train_van(made, sg.CurieWeiss(9, 0.5), n_steps=2, device="cpu")
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1"):
        importance_log_z(made, model, 0)


def test_van_diverging_raises_non_finite():
    model = sg.SK(8, 1.0, seed=0)
    with pytest.raises(NonFiniteLossError, match="step"):
        train_van(MADE(8, 2, hidden=16), model, n_steps=50, batch_size=32, lr=1e30, seed=0, device="cpu")


# -- neural MCMC ------------------------------------------------------------------------------------------------
def _weak_proposal():
    """A MADE trained by maximum likelihood for 2 epochs only: TV(q, mu) ~ 0.4."""
    if "weak" not in _CACHE:
        model = sg.SK(10, 1.0, seed=1)
        ex = model.exact()
        made = MADE(10, 2, hidden=32, seed=0)
        train_made_ml(made, model, ex.sample(4000, seed=1), TrainConfig(epochs=2, batch_size=256, lr=3e-3,
                                                                        val_fraction=0.0, device="cpu"))
        q = exact_q(made, model)
        a = ex.probabilities / q  # independence MH: P(x -> y) = q(y) min(1, a(y) / a(x)), y != x
        P = q[None, :] * np.minimum(1.0, a[None, :] / a[:, None])
        np.fill_diagonal(P, 0.0)
        P[np.diag_indices_from(P)] = 1.0 - P.sum(axis=1)
        _CACHE["weak"] = (model, ex, made, q, P)
    return _CACHE["weak"]


def _law_after(q, P, t):
    pi = q.copy()
    for _ in range(t):
        pi = pi @ P
    return pi


def test_neural_mcmc_follows_the_exact_kernel():
    """After t = 1, 2 steps the chains' law is neither q nor mu; it must match q P^t (checks the MH rule)."""
    model, ex, made, q, P = _weak_proposal()
    n_chains = 20000
    for t in (1, 2):
        pi = _law_after(q, P, t)
        res = NeuralMCMC(made, n_steps=t).sample(model, n_chains, seed=3 + t)
        bound = 1.1 * multinomial_tv_quantile(pi, n_chains)
        tv = total_variation(ex.histogram(res.x), pi)
        assert tv < bound, f"t = {t}: TV to q P^t {tv:.4f} >= {bound:.4f}"
        if t == 1:  # q P is well separated from both q and mu: a wrong acceptance rule would be caught
            assert total_variation(pi, ex.probabilities) > 2 * bound and total_variation(pi, q) > 2 * bound


def test_neural_mcmc_corrects_the_proposal():
    model, ex, made, q, P = _weak_proposal()
    tv40 = total_variation(_law_after(q, P, 40), ex.probabilities)
    assert tv40 < 0.01
    bound = 1.1 * tv_null_quantile(ex, N_CHAINS, quantile=0.999, repeats=100, seed=0) + tv40
    res = NeuralMCMC(made, n_steps=40).sample(model, N_CHAINS, seed=4)
    tv = empirical_tv(ex, res.x)
    assert tv < bound, f"neural MCMC TV {tv:.4f} >= {bound:.4f}"
    tv_iid = empirical_tv(ex, NeuralAutoregressiveSampler(made).sample(model, N_CHAINS, seed=4).x)
    assert tv_iid > bound, f"the proposal alone should fail: TV {tv_iid:.4f} <= {bound:.4f}"
    acc = res.acceptance
    assert 0.0 < acc["mean"] <= 1.0 and acc["per_chain"].shape == (N_CHAINS,)
    assert np.all((acc["per_chain"] >= 0) & (acc["per_chain"] <= 1))
    assert np.array_equal(res.chain, np.arange(N_CHAINS)) and res.sampler["name"] == "NeuralMCMC"
    assert res.trace["energy"].shape == (N_CHAINS, 40)
    assert np.allclose(res.trace["energy"][:, -1], model.energy(res.x))
    assert res.work["mh_steps"] == 40 and res.work["network_evaluations"] > 0
    again = NeuralMCMC(made, n_steps=40).sample(model, N_CHAINS, seed=4)
    assert np.array_equal(again.x, res.x)


def test_neural_mcmc_layout_and_validation():
    model, ex, made, q, P = _weak_proposal()
    res = NeuralMCMC(made, n_steps=3, n_chains=4, thin=2).sample(model, 12, seed=0)
    assert res.x.shape == (12, 10) and np.array_equal(res.chain, np.repeat(np.arange(4), 3))
    assert res.work["mh_steps"] == 3 + 2 * 2 and res.trace["step"].tolist() == list(range(1, 8))
    with pytest.raises(ValueError, match="multiple of n_chains"):
        NeuralMCMC(made, n_steps=3, n_chains=5).sample(model, 12)
    with pytest.raises(ValueError, match="n_steps must be an integer >= 0"):
        NeuralMCMC(made, n_steps=-1)
    with pytest.raises(TypeError, match="thin"):
        NeuralMCMC(made, thin=1.0)
    # hard constraints: states of weight zero are always left, kept states are proper colourings
    col = sg.PlantedColoring(6, 3, 2.0, seed=1)
    res = NeuralMCMC(MADE(6, 3, hidden=16), n_steps=60).sample(col, 200, seed=0)
    moved = res.acceptance["per_chain"] > 0
    assert moved.mean() > 0.9 and np.all(col.energy(res.x[moved]) == 0) and 0 < res.acceptance["mean"] <= 1
