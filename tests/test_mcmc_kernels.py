"""The specialised binary kernel and the threaded chain blocks against the general scalar kernel.

Both are pure speed-ups: the binary kernel must reproduce ``kernels_scalar.scalar_sweeps`` bit for bit
(same states, local fields, energies, traces, random streams), and a run on several threads must equal
the run on one thread.
"""

import numpy as np
import pytest

import spinglass as sg
from samplers import HeatBath, Metropolis, ParallelTempering
from samplers.mcmc import adapters
from samplers.mcmc import kernels_scalar as ks
from samplers.mcmc.rng import new_streams

BETAS = [0.0, 0.45, 1.3, np.inf]


def _general_and_specialised(model, heat_bath, n_sweeps=15):
    ad = adapters.adapter_for(model)
    rng = np.random.default_rng(3)
    C = len(BETAS)
    s = np.ascontiguousarray(((model.random_configuration(C, seed=rng) + 1) // 2).astype(np.int64))
    fast = ad.init_state(s.copy())
    slow = {k: v.copy() for k, v in fast.items()}
    betas = np.array(BETAS)
    r_fast = new_streams(rng, C)
    r_slow = r_fast.copy()
    tr_fast, tr_slow = np.empty((C, 3, n_sweeps)), np.empty((C, 3, n_sweeps))
    acc_fast, acc_slow = np.zeros(C, np.int64), np.zeros(C, np.int64)
    ad.run(fast, betas, r_fast, n_sweeps, heat_bath, tr_fast, acc_fast)
    ks.scalar_sweeps(ad.kind, slow["s"], slow["lf"], slow["gsym"], slow["energy"], slow["sums"], ad.J, ad.indptr,
                     ad.indices, ad.data, ad.edges, ad.weights, ad.h, ad.vals, ad.logp, ad.vpow, ad.gcoef,
                     ad.gorder, ad.ref, betas, r_slow, n_sweeps, heat_bath, tr_slow, acc_slow)
    return ad, (fast, r_fast, tr_fast, acc_fast), (slow, r_slow, tr_slow, acc_slow)


MODELS = {
    "EA 2D ±J (integer: acceptance table)": lambda: sg.EdwardsAnderson((8, 8), "pm1", beta=0.7, seed=0),
    "EA 2D ±J, field h = 1 (table)": lambda: sg.EdwardsAnderson((6, 6), "pm1", beta=0.7, h=1.0, seed=0),
    "EA 2D Gaussian (no table)": lambda: sg.EdwardsAnderson((8, 8), "gaussian", beta=0.7, seed=0),
    "EA 3D ferro (table)": lambda: sg.EdwardsAnderson((4, 4, 4), "ferro", beta=0.3, seed=0),
    "SK dense": lambda: sg.SK(60, 1.2, seed=0),
}


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("heat_bath", [False, True])
def test_binary_kernel_reproduces_general_kernel(name, heat_bath):
    ad, fast, slow = _general_and_specialised(MODELS[name](), heat_bath)
    assert ad.binary
    if "table" in name and "no table" not in name:
        assert ad.max_field >= 0
    else:
        assert ad.max_field == -1
    for k in fast[0]:
        assert np.array_equal(fast[0][k], slow[0][k]), k
    for a, b in zip(fast[1:], slow[1:], strict=True):
        assert np.array_equal(a, b)
    assert fast[3].sum() > 0  # some moves were accepted: the comparison is not vacuous


def test_binary_kernel_is_not_used_for_other_models():
    assert not adapters.adapter_for(sg.CurieWeiss(20, 0.5)).binary  # a global (mean-field) term
    assert not adapters.adapter_for(sg.SpikedWigner(20, 1.0, sg.SparseRademacher(0.3), seed=0)).binary


def test_integer_field_bound():
    ad = adapters.adapter_for(sg.EdwardsAnderson((5, 5), "pm1", beta=1.0, h=2.0, seed=0))
    assert ad.max_field == 4 + 2
    big = sg.EdwardsAnderson((5, 5), "pm1", beta=1.0, h=100.0, seed=0)  # beyond TABLE_MAX_FIELD
    assert adapters.adapter_for(big).max_field == -1


@pytest.mark.parametrize("cls, kwargs, model", [
    (Metropolis, {}, lambda: sg.EdwardsAnderson((6, 6), "pm1", beta=0.8, seed=1)),
    (HeatBath, {}, lambda: sg.SK(30, 1.0, seed=1)),
    (Metropolis, {}, lambda: sg.PlantedColoring(60, 3, 3.0, beta=2.0, seed=1)),
    (Metropolis, {}, lambda: sg.PlantedNAESAT(40, 4, 2.0, beta=2.0, seed=1)),
    (Metropolis, {}, lambda: sg.CurieWeiss(30, 0.8)),
    (ParallelTempering, {"n_temps": 4}, lambda: sg.EdwardsAnderson((5, 5), "pm1", beta=1.0, seed=2)),
])
def test_threads_do_not_change_samples(cls, kwargs, model):
    m = model()
    one = cls(sweeps=25, threads=1, **kwargs).sample(m, 10, seed=5, n_chains=5)
    three = cls(sweeps=25, threads=3, **kwargs).sample(m, 10, seed=5, n_chains=5)
    assert np.array_equal(one.x, three.x)
    assert np.array_equal(one.trace["energy"], three.trace["energy"])
    assert one.acceptance["mean"] == three.acceptance["mean"]
    assert three.sampler["threads"] == 3


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2"])
def test_threads_validation(bad):
    with pytest.raises((ValueError, TypeError), match="threads"):
        Metropolis(threads=bad)
