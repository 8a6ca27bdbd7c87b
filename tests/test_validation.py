"""Argument validation: bad input raises ValueError / TypeError naming the offending parameter."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from spinglass import (
    SK,
    CurieWeiss,
    DiscretePrior,
    EdwardsAnderson,
    Gaussian,
    NAESATModel,
    PairwiseModel,
    PlantedColoring,
    PlantedNAESAT,
    PottsModel,
    PSpinModel,
    Rademacher,
    SparseRademacher,
    SpikedTensor,
    SpikedWigner,
    prior_from_name,
)

NAN = float("nan")
SYM_NAN = np.array([[0.0, NAN], [NAN, 0.0]])
NON_SYM = np.array([[0.0, 1.0], [2.0, 0.0]])

# (id, call, exception type, regex the message must match: the parameter's name)
CASES = [
    # sizes
    ("SK n=0", lambda: SK(0, 1.0), ValueError, r"^n must be >= "),
    ("SK n=-4", lambda: SK(-4, 1.0), ValueError, r"^n must be >= "),
    ("CW n=0", lambda: CurieWeiss(0, 1.0), ValueError, r"^n must be >= 1"),
    ("SW n=0", lambda: SpikedWigner(0, 1.0, Rademacher()), ValueError, r"^n must be >= "),
    ("ST n=0", lambda: SpikedTensor(0, 3, 1.0, Rademacher()), ValueError, r"^n must be >= "),
    ("col n=0", lambda: PlantedColoring(0, 3, 2.0), ValueError, r"^n must be >= "),
    ("nae n=0", lambda: PlantedNAESAT(0, 3, 1.0), ValueError, r"^n must be >= "),
    ("SK n=True", lambda: SK(True, 1.0), TypeError, r"^n must be an integer"),
    ("SK n=5.0", lambda: SK(5.0, 1.0), TypeError, r"^n must be an integer"),
    ("CW n=6.0", lambda: CurieWeiss(6.0, 1.0), TypeError, r"^n must be an integer"),
    ("SW n=True", lambda: SpikedWigner(True, 1.0, Rademacher()), TypeError, r"^n must be an integer"),
    ("col n=10.0", lambda: PlantedColoring(10.0, 3, 2.0), TypeError, r"^n must be an integer"),
    ("nae n='10'", lambda: PlantedNAESAT("10", 3, 1.0), TypeError, r"^n must be an integer"),
    # prior parameters
    ("rho=0", lambda: SparseRademacher(0.0), ValueError, r"^rho must be > 0"),
    ("rho<0", lambda: SparseRademacher(-0.2), ValueError, r"^rho must be > 0"),
    ("rho>1", lambda: SparseRademacher(1.01), ValueError, r"^rho must be <= 1"),
    ("rho=nan", lambda: SparseRademacher(NAN), ValueError, r"^rho must not be NaN"),
    ("rho=bool", lambda: SparseRademacher(True), TypeError, r"^rho must be a real"),
    ("rho missing", lambda: prior_from_name("sparse_rademacher"), ValueError, r"\brho\b"),
    ("prior name", lambda: prior_from_name("laplace"), ValueError, r"^prior must be one of"),
    ("F g<0", lambda: Rademacher().F(-0.5), ValueError, r"^g \(signal-to-noise"),
    ("psi g=nan", lambda: SparseRademacher(0.3).psi(NAN), ValueError, r"^g \(signal-to-noise"),
    ("Gaussian F g<0", lambda: Gaussian().F(-1.0), ValueError, r"^g \(signal-to-noise"),
    ("Gaussian psi g<0", lambda: Gaussian().psi(np.array([1.0, -1.0])), ValueError, r"^g \(signal"),
    ("weights<=0", lambda: DiscretePrior([1.0, 2.0], [1.0, 0.0]), ValueError, r"weights"),
    ("values repeated", lambda: DiscretePrior([1.0, 1.0], [1.0, 1.0]), ValueError, r"^values must be"),
    # q, k, c, alpha, beta
    ("q=1", lambda: PlantedColoring(10, 1, 2.0), ValueError, r"^q must be >= 2"),
    ("q=2.0", lambda: PlantedColoring(10, 2.0, 2.0), TypeError, r"^q must be an integer"),
    ("q=200", lambda: PlantedColoring(10, 200, 2.0), ValueError, r"^q must be <= "),
    ("Potts q=1", lambda: PottsModel(4, 1, [[0, 1]]), ValueError, r"^q must be >= 2"),
    ("k=1", lambda: PlantedNAESAT(10, 1, 1.0), ValueError, r"^k must be >= 2"),
    ("k>n", lambda: PlantedNAESAT(5, 6, 1.0), ValueError, r"^k must be <= n"),
    ("clauses k=1", lambda: NAESATModel(4, [[0], [1]]), ValueError, r"^clauses must have shape"),
    ("c<0", lambda: PlantedColoring(10, 3, -1.0), ValueError, r"^c must be >= 0"),
    ("c=inf", lambda: PlantedColoring(10, 3, math.inf), ValueError, r"^c must be finite"),
    ("c too dense", lambda: PlantedColoring(10, 3, 20.0, seed=0), ValueError, r"^c = 20"),
    ("alpha<0", lambda: PlantedNAESAT(10, 3, -0.5), ValueError, r"^alpha must be >= 0"),
    ("alpha=nan", lambda: PlantedNAESAT(10, 3, NAN), ValueError, r"^alpha must not be NaN"),
    ("signed=1", lambda: PlantedNAESAT(10, 3, 1.0, signed=1), TypeError, r"^signed must be a bool"),
    ("SK beta<0", lambda: SK(5, -1.0), ValueError, r"^beta must be >= 0"),
    ("SK beta=inf", lambda: SK(5, math.inf), ValueError, r"^beta must be finite"),
    ("SK beta=nan", lambda: SK(5, NAN), ValueError, r"^beta must not be NaN"),
    ("SK beta=str", lambda: SK(5, "1"), TypeError, r"^beta must be a real"),
    ("CW beta<0", lambda: CurieWeiss(5, -0.1), ValueError, r"^beta must be >= 0"),
    ("col beta<0", lambda: PlantedColoring(10, 3, 2.0, beta=-1.0), ValueError, r"^beta must be >= 0"),
    ("nae beta<0", lambda: PlantedNAESAT(10, 3, 1.0, beta=-1.0), ValueError, r"^beta must be >= 0"),
    ("nae beta=-inf", lambda: PlantedNAESAT(10, 3, 1.0, beta=-math.inf), ValueError, r"^beta must be"),
    ("EA beta<0", lambda: EdwardsAnderson((3, 3), beta=-2.0), ValueError, r"^beta must be >= 0"),
    ("SK h=nan", lambda: SK(5, 1.0, h=NAN), ValueError, r"^h must not be NaN"),
    ("CW h=inf", lambda: CurieWeiss(5, 1.0, h=math.inf), ValueError, r"^h must be finite"),
    # spiked models
    ("lam<0", lambda: SpikedWigner(5, -1.0, Rademacher()), ValueError, r"^lam must be >= 0"),
    ("lam=nan", lambda: SpikedWigner(5, NAN, Rademacher()), ValueError, r"^lam must not be NaN"),
    ("SW prior str", lambda: SpikedWigner(5, 1.0, "rademacher"), TypeError, r"^prior must be"),
    ("Delta=0", lambda: SpikedTensor(5, 3, 0.0, Rademacher()), ValueError, r"^Delta must be > 0"),
    ("Delta<0", lambda: SpikedTensor(5, 3, -1.0, Rademacher()), ValueError, r"^Delta must be > 0"),
    ("p=1", lambda: SpikedTensor(5, 1, 1.0, Rademacher()), ValueError, r"^p must be >= 2"),
    ("p>n", lambda: SpikedTensor(4, 5, 1.0, Rademacher()), ValueError, r"^p must be <= n"),
    ("T=0", lambda: SpikedTensor.from_temperature(5, 3, 0.0, Rademacher()), ValueError, r"^T must be > 0"),
    ("tensor too big", lambda: SpikedTensor(2000, 3, 1.0, Rademacher()), ValueError, r"^n = 2000 .*C\(n, p\)"),
    # couplings
    ("couplings NaN", lambda: PairwiseModel(SYM_NAN), ValueError, r"^couplings contains NaN"),
    ("couplings inf", lambda: PairwiseModel(np.array([[0.0, math.inf], [math.inf, 0.0]])), ValueError,
     r"^couplings contains NaN"),
    ("couplings sparse NaN", lambda: PairwiseModel(sp.csr_matrix(SYM_NAN)), ValueError,
     r"^couplings contains NaN"),
    ("couplings non-square", lambda: PairwiseModel(np.zeros((2, 3))), ValueError,
     r"^couplings must be a square matrix"),
    ("couplings 1-d", lambda: PairwiseModel(np.zeros(3)), ValueError, r"^couplings must be a square matrix"),
    ("couplings 0-d", lambda: PairwiseModel(np.array(1.0)), ValueError, r"^couplings must be a square matrix"),
    ("couplings sparse non-square", lambda: PairwiseModel(sp.csr_matrix((2, 3))), ValueError,
     r"^couplings must be a square matrix"),
    ("couplings non-symmetric", lambda: PairwiseModel(NON_SYM), ValueError, r"^couplings must be symmetric"),
    ("couplings sparse non-symmetric", lambda: PairwiseModel(sp.csr_matrix(NON_SYM)), ValueError,
     r"^couplings must be symmetric"),
    ("couplings diagonal", lambda: PairwiseModel(np.eye(2)), ValueError, r"^couplings must have a zero diagonal"),
    ("couplings None", lambda: PairwiseModel(None), ValueError, r"^couplings must be given"),
    ("couplings strings", lambda: PairwiseModel([["a", "b"], ["c", "d"]]), TypeError, r"^couplings must be"),
    ("fields NaN", lambda: PairwiseModel(np.zeros((2, 2)), fields=[0.0, NAN]), ValueError, r"^fields"),
    ("fields shape", lambda: PairwiseModel(np.zeros((2, 2)), fields=[0.0, 1.0, 2.0]), ValueError, r"^fields"),
    ("planted shape", lambda: PairwiseModel(np.zeros((2, 2)), planted=[1.0, 1.0, 1.0]), ValueError,
     r"^planted must have shape"),
    ("pspin weights NaN", lambda: PSpinModel(3, [[0, 1, 2]], [NAN]), ValueError, r"^weights contains NaN"),
    ("pspin index", lambda: PSpinModel(3, [[0, 1, 5]], [1.0]), ValueError, r"^hyperedges must index"),
    ("pspin repeated", lambda: PSpinModel(3, [[0, 1, 1]], [1.0]), ValueError, r"hyperedge must hold distinct"),
    ("potts self-loop", lambda: PottsModel(3, 3, [[1, 1]]), ValueError, r"^edges must not contain self-loops"),
    ("potts duplicate", lambda: PottsModel(3, 3, [[0, 1], [1, 0]]), ValueError, r"^edges must not contain dup"),
    ("potts index", lambda: PottsModel(3, 3, [[0, 3]]), ValueError, r"^edges must index"),
    ("nae repeated", lambda: NAESATModel(3, [[0, 0, 1]]), ValueError, r"clause must hold k distinct"),
    ("nae signs", lambda: NAESATModel(3, [[0, 1, 2]], signs=[[1, 0, 1]]), ValueError, r"^signs must"),
    # lattice
    ("EA side 2", lambda: EdwardsAnderson((2, 4)), ValueError, r"^shape must be >= 3"),
    ("EA side 1 (3D)", lambda: EdwardsAnderson((4, 4, 1)), ValueError, r"^shape must be >= 3"),
    ("EA 1 dim", lambda: EdwardsAnderson((5,)), ValueError, r"^shape must have 2 or 3 side lengths"),
    ("EA 4 dims", lambda: EdwardsAnderson((3, 3, 3, 3)), ValueError, r"^shape must have 2 or 3 side lengths"),
    ("EA int shape", lambda: EdwardsAnderson(4), TypeError, r"^shape must be a tuple"),
    ("EA None shape", lambda: EdwardsAnderson(None), TypeError, r"^shape must be a tuple"),
    ("EA float side", lambda: EdwardsAnderson((4.0, 4)), TypeError, r"^shape must be an integer"),
    ("EA kind", lambda: EdwardsAnderson((4, 4), couplings="cauchy"), ValueError, r"^couplings must be one of"),
    # seeds
    ("seed<0", lambda: SK(5, 1.0, seed=-1), ValueError, r"^seed must be >= 0"),
    ("seed float", lambda: SK(5, 1.0, seed=1.5), TypeError, r"^seed must be an int"),
    ("prior seed", lambda: Rademacher().sample(3, seed="x"), TypeError, r"^seed must be an int"),
    # exact enumeration and model calls
    ("exact > limit", lambda: SK(21, 1.0, seed=0).exact(), ValueError, r"max_states.*n = 21"),
    ("exact max_states", lambda: SK(6, 1.0, seed=0).exact(max_states=63), ValueError, r"max_states = 63"),
    ("exact max_states=0", lambda: SK(3, 1.0, seed=0).exact(max_states=0), ValueError, r"^max_states must be"),
    ("exact continuous", lambda: SpikedWigner(3, 1.0, Gaussian(), seed=0).exact(), TypeError,
     r"continuous prior"),
    ("sample n_samples=0", lambda: SK(3, 1.0, seed=0).exact().sample(0), ValueError, r"^n_samples must be"),
    ("sample n_samples=1.0", lambda: SK(3, 1.0, seed=0).exact().sample(1.0), TypeError, r"^n_samples must be"),
    ("index off alphabet", lambda: SK(3, 1.0, seed=0).exact().index(np.zeros(3)), ValueError, r"alphabet"),
    ("index shape", lambda: SK(3, 1.0, seed=0).exact().index(np.ones(4)), ValueError, r"^x must have last axis"),
    ("energy shape", lambda: SK(3, 1.0, seed=0).energy(np.ones(4)), ValueError, r"^x must have last axis"),
    ("energy scalar", lambda: SK(3, 1.0, seed=0).energy(1.0), ValueError, r"^x must have last axis"),
    ("random size=0", lambda: SK(3, 1.0, seed=0).random_configuration(0), ValueError, r"^size must be >= 1"),
]


@pytest.mark.parametrize(("call", "exc", "pattern"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_argument_raises_named_error(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_valid_boundary_values_are_accepted():
    # the edges of every range are legal
    assert SparseRademacher(1.0).rho == 1.0
    assert SK(2, 0.0, seed=0).n == 2
    assert CurieWeiss(1, 0.0).n == 1
    assert SpikedWigner(2, 0.0, Rademacher(), seed=0).lam == 0.0
    assert PlantedColoring(5, 2, 0.0, seed=0).edges.shape == (0, 2)
    assert PlantedNAESAT(5, 2, 0.0, seed=0).clauses.shape == (0, 2)
    assert EdwardsAnderson((3, 3, 3), seed=0).n == 27
    assert EdwardsAnderson([3, 4], seed=0).shape == (3, 4)  # any sequence of side lengths
    assert SK(np.int64(4), np.float32(0.5), seed=np.int64(3)).n == 4  # numpy scalars are fine
    assert PairwiseModel([[0.0, 1.0], [1.0, 0.0]]).n == 2  # nested lists are arrays
    assert math.isinf(PlantedColoring(10, 3, 1.0, beta=math.inf, seed=0).beta)


# -- review follow-ups ---------------------------------------------------------------------------------


def test_float_edges_and_clauses_are_refused():
    from spinglass import NAESATModel, PottsModel

    with pytest.raises(TypeError, match="edges"):
        PottsModel(3, 3, [[0.7, 1.9]])
    with pytest.raises(TypeError, match="clauses"):
        NAESATModel(4, [[0.0, 1.0, 2.0]])


def test_generators_refuse_instead_of_looping_forever():
    with pytest.raises(ValueError, match="alpha"):
        PlantedNAESAT(4, 3, 1.0, signed=False, seed=4)  # constant planted x*: no clause can be kept
    with pytest.raises(ValueError, match="c = 9.0"):
        PlantedColoring(10, 2, 9.0, beta=40.0, seed=0)


def test_counting_measure_is_zero_on_the_support():
    import scipy.sparse as sp

    from spinglass import PairwiseModel

    model = PairwiseModel(sp.csr_matrix((3, 3)), prior=SparseRademacher(0.3), counting=True)
    assert model.log_prior(np.zeros(3)) == 0.0
    assert model.log_prior(np.full(3, 0.5)) == -np.inf
    assert model.exact().log_Z == pytest.approx(3 * np.log(3))


def test_describe_follows_beta():
    model = SK(5, 0.5, seed=0)
    fp = model.fingerprint()
    model.beta = 1.0
    assert model.describe()["beta"] == 1.0 and model.fingerprint() != fp
