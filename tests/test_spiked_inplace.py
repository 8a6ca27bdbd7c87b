"""Dense instances built in place (spinglass.dense_build): the same seeded instance as the full-matrix
construction, bit for bit, with the couplings the only n x n array at the peak."""

from __future__ import annotations

import pickle
import tracemalloc

import numpy as np
import pytest

import spinglass as sg
from spinglass import dense_build
from spinglass.base import GlobalTerm
from spinglass.mean_field import SK_PEAK_ARRAYS
from spinglass.scalar import PairwiseModel
from spinglass.spiked import SPIKED_WIGNER_PEAK_ARRAYS


def full_matrix_spiked_wigner(n, lam, prior, seed):
    """The construction before the in-place build (commit b23e23e), kept here as the reference."""
    rng = np.random.default_rng(seed) if not isinstance(seed, np.random.Generator) else seed
    x_star = prior.sample(n, seed=rng)
    w = np.triu(rng.standard_normal((n, n)), 1)
    signal = np.sqrt(lam / n) * np.triu(np.outer(x_star, x_star), 1)
    upper = signal + w
    Y = upper + upper.T
    J = np.sqrt(lam / n) * Y
    return x_star, Y, J


def full_matrix_sk(n, seed):
    rng = np.random.default_rng(seed)
    g = np.triu(rng.standard_normal((n, n)), 1)
    return (g + g.T) / np.sqrt(n)


PRIORS = [sg.Rademacher(), sg.SparseRademacher(0.3), sg.Gaussian()]


@pytest.mark.parametrize("block", [None, 1, 3, 64])
@pytest.mark.parametrize("n", [2, 5, 33, 130])
def test_spiked_wigner_is_the_full_matrix_instance_bit_for_bit(n, block, monkeypatch):
    if block is not None:
        monkeypatch.setattr(dense_build, "block_rows", lambda n: block)
    for prior in PRIORS:
        for lam in (0.0, 1.7):
            model = sg.SpikedWigner(n, lam, prior, seed=5)
            x, Y, J = full_matrix_spiked_wigner(n, lam, prior, 5)
            assert model.couplings.tobytes() == J.tobytes()          # -0.0 entries at lam = 0 included
            assert model.planted.tobytes() == x.tobytes()
            assert model.observations.tobytes() == Y.tobytes()
    assert sg.SK(n, 0.5, seed=3).couplings.tobytes() == full_matrix_sk(n, 3).tobytes()


def test_a_build_that_draws_the_noise_in_another_order_is_caught(monkeypatch):
    # mutant: each block draws its noise column-major (the same stream, another order); the same check fails
    class ColumnMajor(np.random.Generator):
        def standard_normal(self, size=None, *args, **kwargs):
            z = super().standard_normal(size[::-1], *args, **kwargs)
            return np.ascontiguousarray(z.T)

    monkeypatch.setattr(dense_build, "block_rows", lambda n: 4)
    reference = full_matrix_sk(12, 3)
    assert sg.SK(12, 0.5, seed=np.random.default_rng(3)).couplings.tobytes() == reference.tobytes()
    mutant = sg.SK(12, 0.5, seed=ColumnMajor(np.random.PCG64(3))).couplings
    assert mutant.tobytes() != reference.tobytes()


def test_in_place_models_have_the_attributes_and_fingerprint_of_the_checked_construction():
    n, lam, prior = 40, 2.0, sg.SparseRademacher(0.3)
    model = sg.SpikedWigner(n, lam, prior, seed=8)
    x, _, J = full_matrix_spiked_wigner(n, lam, prior, 8)
    old = object.__new__(sg.SpikedWigner)
    PairwiseModel.__init__(old, J, prior=prior, fields=None, beta=1.0, global_terms=(GlobalTerm(lam / (2 * n), 2, 2),),
                           planted=x, description=model.describe())
    old.lam = lam
    assert model.fingerprint() == old.fingerprint()
    for name in ("n", "alphabet", "beta", "counting", "prior", "global_terms", "_description", "lam"):
        assert repr(getattr(model, name)) == repr(getattr(old, name)), name
    for name in ("couplings", "fields", "planted"):
        a, b = getattr(model, name), getattr(old, name)
        assert a.tobytes() == b.tobytes() and a.dtype == b.dtype and not a.flags.writeable
    sk = sg.SK(30, 0.7, h=0.2, seed=1)
    sk_old = object.__new__(sg.SK)
    PairwiseModel.__init__(sk_old, full_matrix_sk(30, 1), fields=0.2, beta=0.7, counting=True,
                           description=sk.describe())
    assert sk.fingerprint() == sk_old.fingerprint() and sk.is_sparse is False
    with pytest.raises(ValueError):
        sk.couplings[0, 1] = 1.0


def test_observations_are_rebuilt_from_the_stream_read_only_and_survive_pickling():
    gen = np.random.default_rng(77)
    model = sg.SpikedWigner(20, 1.5, sg.Rademacher(), seed=gen)
    x, Y, _ = full_matrix_spiked_wigner(20, 1.5, sg.Rademacher(), np.random.default_rng(77))
    ref = np.random.default_rng(77)
    full_matrix_spiked_wigner(20, 1.5, sg.Rademacher(), ref)
    assert gen.bit_generator.state == ref.bit_generator.state    # the caller's Generator advanced as before
    assert "observations" not in model.__dict__
    obs = model.observations
    assert obs is model.observations and obs.tobytes() == Y.tobytes() and not obs.flags.writeable
    copy = pickle.loads(pickle.dumps(model))
    assert "_derived" not in copy.__dict__ and copy.observations.tobytes() == Y.tobytes()
    model.beta = 1.0                                   # empties the derived data: Y is rebuilt, the same
    assert model.observations.tobytes() == Y.tobytes()


@pytest.mark.parametrize("family", ["SpikedWigner", "SK"])
def test_peak_memory_of_the_build_is_the_couplings_and_two_row_blocks(family):
    n = 1200
    tracemalloc.start()
    try:
        model = sg.SpikedWigner(n, 2.0, sg.Rademacher(), seed=0) if family == "SpikedWigner" else sg.SK(n, 1.0, seed=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    arrays = SPIKED_WIGNER_PEAK_ARRAYS if family == "SpikedWigner" else SK_PEAK_ARRAYS
    J = 8.0 * n * n
    assert model.couplings.nbytes == J
    # the bound check_dense_fits uses holds, and the old construction's 6 to 9 matrices are gone
    assert peak <= arrays * J, peak / J
    assert peak >= J


def test_the_peak_bound_catches_a_full_matrix_temporary(monkeypatch):
    # mutant: an n x n temporary (e.g. symmetrising with out + out.T) breaks the same bound
    real = dense_build._mirror_upper

    def with_temporary(out, block):
        real(out, block)
        out[...] = 0.5 * (out + out.T)

    monkeypatch.setattr(dense_build, "_mirror_upper", with_temporary)
    n = 1200
    tracemalloc.start()
    try:
        sg.SK(n, 1.0, seed=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak > SK_PEAK_ARRAYS * 8.0 * n * n
