"""TorchMetropolis (chromatic batched Metropolis in torch) on the CPU against exact enumeration.

As in ``test_mcmc_exact.py``: the bound on the TV distance between the empirical law of the chains' final
states and the exact law is 1.1 x the 0.999 quantile of the TV distance of the same number of exact
i.i.d. samples (one sample per independent chain), and a mutant (the model's beta doubled, i.e. a wrong
factor in dE) must violate it, so the test can fail.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import scipy.sparse as sp

import spinglass as sg
from analysis.measures.metrics import empirical_tv, tv_null_quantile
from samplers import Metropolis, TorchMetropolis
from samplers.mcmc.torch_chains import chromatic_classes

torch = pytest.importorskip("torch")

N_SAMPLES = 12000
SWEEPS = 30


def _prior_model() -> sg.PairwiseModel:
    """Sparse random couplings, random fields and a non-uniform ±1 prior p0(+1) = 0.7."""
    rng = np.random.default_rng(5)
    n = 8
    mask = np.triu(rng.random((n, n)) < 0.5, 1)
    J = np.where(mask, rng.standard_normal((n, n)), 0.0)
    return sg.PairwiseModel(sp.csr_matrix(J + J.T), prior=sg.DiscretePrior([-1, 1], [0.3, 0.7]),
                            fields=0.5 * rng.standard_normal(n), beta=0.8)


MODELS = {
    "ea_pm1": lambda: sg.EdwardsAnderson((3, 3), "pm1", beta=0.7, seed=1),
    "ea_field": lambda: sg.EdwardsAnderson((3, 4), "gaussian", beta=0.6, h=0.3, seed=2),
    "sk_dense": lambda: sg.SK(8, 1.0, seed=0),
    "sk_field": lambda: sg.SK(8, 0.8, h=0.3, seed=3),
    "prior_sparse": _prior_model,
    "wigner_rademacher": lambda: sg.SpikedWigner(7, 2.0, sg.Rademacher(), seed=2),
}


def _bound(exact, n_samples: int = N_SAMPLES) -> float:
    return 1.1 * tv_null_quantile(exact, n_samples, quantile=0.999, repeats=100, seed=0)


@pytest.mark.parametrize("model_name", list(MODELS))
def test_matches_exact_law(torch_one_thread, model_name):
    model = MODELS[model_name]()
    exact = model.exact()
    bound = _bound(exact)
    result = TorchMetropolis(sweeps=SWEEPS, device="cpu").sample(model, N_SAMPLES, seed=11)
    assert result.x.shape == (N_SAMPLES, model.n)
    assert set(np.unique(result.x)) <= {-1.0, 1.0}
    tv = empirical_tv(exact, result.x)
    assert tv < bound, f"{model_name}: TV {tv:.4f} >= bound {bound:.4f}"
    mutant = copy.copy(model)
    mutant.beta = 2.0 * model.beta
    wrong = TorchMetropolis(sweeps=SWEEPS, device="cpu").sample(mutant, N_SAMPLES, seed=11)
    tv_wrong = empirical_tv(exact, wrong.x)
    assert tv_wrong > bound, f"mutant not detected on {model_name}: TV {tv_wrong:.4f} <= {bound:.4f}"


def test_float64_and_thinned_chains(torch_one_thread):
    """Several thinned samples per chain, float64: still the exact law (bound for correlated rows widened)."""
    model = MODELS["ea_field"]()
    exact = model.exact()
    result = TorchMetropolis(sweeps=20, thin=5, dtype="float64").sample(model, 8000, n_chains=2000, seed=4)
    np.testing.assert_array_equal(result.chain, np.repeat(np.arange(2000), 4))
    assert result.work["sweeps"] == 20 + 3 * 5
    assert empirical_tv(exact, result.x) < 1.5 * _bound(exact, 8000)


def test_beta_zero_lazy_rule_and_prior(torch_one_thread):
    """At beta = 0 a uniform-prior flip is accepted with probability 1/2; a non-uniform prior is exact."""
    ea = sg.EdwardsAnderson((4, 4), "pm1", beta=0.0, seed=1)
    r = TorchMetropolis(sweeps=20).sample(ea, 500, seed=0)
    assert abs(r.acceptance["mean"] - 0.5) < 0.01
    model = _prior_model()
    model.beta = 0.0
    exact = model.exact()
    r = TorchMetropolis(sweeps=SWEEPS).sample(model, N_SAMPLES, seed=1, init=-np.ones(model.n))
    assert empirical_tv(exact, r.x) < _bound(exact)
    np.testing.assert_allclose(r.x.mean(axis=0), 0.4, atol=0.05)  # E x_i = 0.7 - 0.3


def test_reproducible_and_seed_dependent(torch_one_thread):
    model = sg.EdwardsAnderson((6, 6), "pm1", beta=0.7, seed=1)
    sampler = TorchMetropolis(sweeps=15)
    a = sampler.sample(model, 64, seed=7)
    b = sampler.sample(model, 64, seed=7)
    c = sampler.sample(model, 64, seed=8)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.trace["energy"], b.trace["energy"])
    assert not np.array_equal(a.x, c.x)


def test_record_and_traced_energy(torch_one_thread):
    model = MODELS["sk_field"]()
    r = TorchMetropolis(sweeps=25, trace_every=5, dtype="float64").sample(model, 50, seed=3)
    np.testing.assert_array_equal(r.trace["sweep"], [5, 10, 15, 20, 25])
    assert r.trace["energy"].shape == (50, 5)
    np.testing.assert_allclose(r.trace["energy"][:, -1], model.energy(r.x), atol=1e-9)
    np.testing.assert_allclose(r.trace["energy_final"], model.energy(r.x), atol=1e-12)
    np.testing.assert_allclose(r.trace["magnetization"][:, -1], r.x.mean(axis=1), atol=1e-12)
    assert r.work == {"sweeps": 25, "attempted_updates": 25 * 8 * 50, "chains": 50, "colours": 8}
    assert 0 < r.acceptance["mean"] < 1 and r.acceptance["per_chain"].shape == (50,)
    assert r.wall_time > 0 and r.seed == 3 and r.model == model.describe() and r.state is None
    assert r.sampler["name"] == "TorchMetropolis" and r.sampler["device"] == "cpu"
    assert r.version


@pytest.mark.parametrize("model", [sg.EdwardsAnderson((4, 4), "pm1", seed=0), sg.EdwardsAnderson((5, 3, 3), seed=1),
                                   sg.SK(9, 1.0, seed=0), _prior_model()], ids=["ea2d", "ea3d", "sk", "random"])
def test_colouring_is_proper(model):
    classes = chromatic_classes(model)
    np.testing.assert_array_equal(np.sort(np.concatenate(classes)), np.arange(model.n))
    J = sp.csr_matrix(model.couplings)
    for cls in classes:
        assert J[cls][:, cls].nnz == 0 or not J[cls][:, cls].toarray().any()
    if model.family == "SK":
        assert len(classes) == model.n
    if model.family == "EdwardsAnderson" and model.shape == (4, 4):
        assert len(classes) == 2  # the checkerboard


def test_planted_init_and_quench(torch_one_thread):
    wigner = sg.SpikedWigner(30, 4.0, sg.Rademacher(), seed=0)
    r = TorchMetropolis(sweeps=0).sample(wigner, 3, seed=0, init="planted")
    np.testing.assert_array_equal(r.x, np.broadcast_to(wigner.planted, (3, 30)))
    r = TorchMetropolis(sweeps=20).sample(wigner, 20, seed=0, init="planted")
    assert np.all(r.trace["overlap_planted"][:, -1] > 0.5)
    # the all-up ground state of the ferromagnet is kept at beta = inf (every flip costs dE = 8)
    ferro = sg.EdwardsAnderson((4, 4), "ferro", beta=1.0)
    ferro.beta = np.inf
    r = TorchMetropolis(sweeps=5).sample(ferro, 4, seed=0, init=np.ones(ferro.n))
    np.testing.assert_array_equal(r.x, np.ones((4, ferro.n)))
    assert r.acceptance["mean"] == 0


def test_bad_input():
    ea = sg.EdwardsAnderson((3, 3), seed=0)
    sampler = TorchMetropolis(sweeps=1)
    with pytest.raises(TypeError, match="PairwiseModel"):
        sampler.sample(sg.SpikedTensor(6, 3, 0.5, sg.Rademacher(), seed=0), 4)
    with pytest.raises(TypeError, match="PairwiseModel"):
        sampler.sample(sg.PlantedColoring(8, 3, 3.0, beta=1.5, seed=6), 4)
    with pytest.raises(TypeError, match="Model"):
        sampler.sample(np.zeros((3, 3)), 4)
    with pytest.raises(ValueError, match="alphabet"):
        sampler.sample(sg.SpikedWigner(6, 2.0, sg.SparseRademacher(0.3), seed=0), 4)
    with pytest.raises(ValueError, match="global term"):
        sampler.sample(sg.CurieWeiss(6, 1.0), 4)
    with pytest.raises(ValueError, match="multiple of n_chains"):
        sampler.sample(ea, 10, n_chains=3)
    with pytest.raises(ValueError, match="n_samples"):
        sampler.sample(ea, 0)
    with pytest.raises(TypeError, match="n_chains"):
        sampler.sample(ea, 4, n_chains=2.0)
    with pytest.raises(ValueError, match="no planted"):
        sampler.sample(ea, 4, init="planted")
    with pytest.raises(ValueError, match="init"):
        sampler.sample(ea, 4, init="zeros")
    with pytest.raises(ValueError, match="shape"):
        sampler.sample(ea, 4, init=np.ones(5))
    with pytest.raises(ValueError, match="alphabet"):
        sampler.sample(ea, 4, init=np.zeros(9))
    with pytest.raises(ValueError, match="seed"):
        sampler.sample(ea, 4, seed=-1)
    with pytest.raises(ValueError, match="sweeps"):
        TorchMetropolis(sweeps=-1)
    with pytest.raises(TypeError, match="thin"):
        TorchMetropolis(thin=1.5)
    with pytest.raises(ValueError, match="dtype"):
        TorchMetropolis(dtype="float16")
    with pytest.raises(TypeError, match="dtype"):
        TorchMetropolis(dtype=32)
    with pytest.raises(ValueError, match="device"):
        TorchMetropolis(device="tpu")
    with pytest.raises(TypeError, match="device"):
        TorchMetropolis(device=0)
    with pytest.raises(ValueError, match="layout"):
        TorchMetropolis(layout="coo")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            TorchMetropolis(device="cuda")
    assert TorchMetropolis(device="auto").device.type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_agrees_with_cpu_metropolis_mean_energy(torch_one_thread):
    """Same law as the numba Metropolis on a lattice too large to enumerate (mean energy, 5 sigma)."""
    model = sg.EdwardsAnderson((8, 8), "pm1", beta=0.5, seed=3)
    e_t = TorchMetropolis(sweeps=60).sample(model, 2000, seed=1).trace["energy_final"]
    e_c = model.energy(Metropolis(sweeps=60).sample(model, 2000, seed=2).x)
    se = np.sqrt(e_t.var() / e_t.size + e_c.var() / e_c.size)
    assert abs(e_t.mean() - e_c.mean()) < 5 * se
