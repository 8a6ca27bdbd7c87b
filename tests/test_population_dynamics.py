"""Cavity population dynamics for planted colouring / Potts and planted NAE-SAT: continuous transition at
Kesten-Stigum for q = 3, the first-order thresholds of q = 5 against the literature, the finite-beta
Kesten-Stigum formula, a hard phase for 5-NAE-SAT, agreement with BP on a large planted graph, and
argument validation.

Populations here are small (3000-10000 members) to keep the file fast; the tolerances are set from the
spread over seeds measured at those sizes (see each test).  ``reference_thresholds``
(``analysis.theory.population_reference``) is the precise run.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.theory.population_naesat import (
    naesat_kesten_stigum,
    naesat_paramagnetic_free_entropy,
    naesat_population_dynamics,
    naesat_thresholds,
)
from analysis.theory.population_potts import (
    potts_kesten_stigum,
    potts_paramagnetic_free_entropy,
    potts_population_dynamics,
    potts_thresholds,
)
from samplers.denoisers import BPDenoiser
from spinglass import PlantedColoring


# --------------------------------------------------------------------------------------------------
# q = 3 colouring: continuous transition at c_KS = 4
# --------------------------------------------------------------------------------------------------
def test_q3_colouring_is_continuous_at_kesten_stigum():
    assert potts_kesten_stigum(3) == 4.0
    kw = dict(population=4000, sweeps=150, measure=50, seed=1)
    below_u = potts_population_dynamics(3, 3.0, init="uninformed", **kw)
    below_i = potts_population_dynamics(3, 3.0, init="informed", **kw)
    # below c_KS even the informed start falls back to the paramagnet: no hard phase
    for r in (below_u, below_i):
        assert abs(r.overlap) < 1e-6 and abs(r.overlap_map) < 0.02
        assert abs(r.delta_free_entropy) < 1e-9
        assert r.free_entropy == pytest.approx(potts_paramagnetic_free_entropy(3, 3.0), abs=1e-9)
    assert potts_paramagnetic_free_entropy(3, 3.0) == pytest.approx(math.log(3) + 1.5 * math.log(2 / 3))
    # above c_KS the uninformed start finds the informed branch (one branch: the same numbers).  At c = 6
    # the uninformed start needs up to ~45 sweeps with 4000 members (five seeds); at c = 5 small
    # populations can linger ~250 sweeps near the symmetric point before they fall onto the branch.
    above_u = potts_population_dynamics(3, 6.0, init="uninformed", **kw)
    above_i = potts_population_dynamics(3, 6.0, init="informed", **kw)
    assert above_u.overlap > 0.8
    assert above_u.overlap == pytest.approx(above_i.overlap, abs=0.02)
    assert above_u.delta_free_entropy > 0.1
    assert above_u.delta_free_entropy == pytest.approx(above_i.delta_free_entropy, abs=0.01)
    thr = potts_thresholds(3, population=3000, sweeps=150, measure=50, tol=0.05, seed=0)
    assert thr.continuous and thr.dynamical == thr.condensation == 4.0


# --------------------------------------------------------------------------------------------------
# q = 5 colouring: first order, c_d < c_c < c_KS = 16
# --------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_q5_colouring_thresholds_match_the_literature():
    """Zdeborová & Krzakala, PRE 76, 031131 (2007), Erdős-Rényi q = 5: c_d = 12.837, c_c = 13.23.

    With 3000 members, 150 sweeps and bisection width 0.05, five seeds gave c_d in [12.83, 12.87] and
    c_c in [13.22, 13.24] (fit errors ~0.01); with 20000 members and 300 sweeps c_d = 12.832(5) and
    c_c = 13.231(3).  The windows below (+-0.2, +-0.1) are several times that spread and exclude, e.g.,
    the Kesten-Stigum point, the continuous q = 3 behaviour, or an error in the degree law.
    """
    thr = potts_thresholds(5, population=3000, sweeps=150, measure=60, tol=0.05, c_range=(11.0, 16.5), seed=0)
    assert not thr.continuous
    assert thr.kesten_stigum == 16.0
    assert abs(thr.dynamical - 12.837) < 0.2
    assert abs(thr.condensation - 13.23) < 0.1
    assert thr.dynamical < thr.condensation < thr.kesten_stigum
    assert 0 < thr.condensation_err < 0.1
    # hard phase: between c_d and c_KS the uninformed start stays paramagnetic, the informed does not
    kw = dict(population=3000, sweeps=150, measure=50, seed=2)
    hard_u = potts_population_dynamics(5, 14.0, init="uninformed", **kw)
    hard_i = potts_population_dynamics(5, 14.0, init="informed", **kw)
    assert abs(hard_u.overlap) < 1e-3
    assert hard_i.overlap > 0.8
    assert hard_i.delta_free_entropy > 0.03  # above c_c the informed branch dominates


# --------------------------------------------------------------------------------------------------
# finite beta: the Kesten-Stigum formula governs the uninformed instability
# --------------------------------------------------------------------------------------------------
def test_finite_beta_kesten_stigum_potts_q2():
    beta = 1.0
    e = math.exp(-beta)
    ks = potts_kesten_stigum(2, beta)
    assert ks == pytest.approx(((1 + e) / (1 - e)) ** 2)
    kw = dict(population=5000, sweeps=200, measure=50, init="uninformed", seed=0)
    assert abs(potts_population_dynamics(2, 0.85 * ks, beta, **kw).overlap) < 1e-6
    above = potts_population_dynamics(2, 1.2 * ks, beta, **kw)
    assert above.overlap > 0.1  # oriented towards the planted colouring (q = 2 flip symmetry)
    assert potts_kesten_stigum(3, 0.0) == math.inf


@pytest.mark.slow
def test_finite_beta_kesten_stigum_naesat_k3():
    beta = 2.0
    e = math.exp(-beta)
    ks = naesat_kesten_stigum(3, beta)
    assert ks == pytest.approx(((3 + e) / (1 - e)) ** 2 / 6)
    kw = dict(population=4000, sweeps=150, measure=50, seed=0)
    below = naesat_population_dynamics(3, 0.85 * ks, beta, init="informed", **kw)
    assert abs(below.overlap) < 1e-6 and abs(below.delta_free_entropy) < 1e-9
    assert below.free_entropy == pytest.approx(naesat_paramagnetic_free_entropy(3, 0.85 * ks, beta), abs=1e-9)
    above = naesat_population_dynamics(3, 1.25 * ks, beta, init="uninformed", **kw)
    assert above.overlap > 0.2


# --------------------------------------------------------------------------------------------------
# NAE-SAT at beta = inf: k = 4 continuous, k = 5 first order (hard phase below alpha_KS = 11.25)
# --------------------------------------------------------------------------------------------------
def test_naesat_k4_continuous_and_k5_hard_phase():
    assert naesat_kesten_stigum(4) == pytest.approx(49 / 12)
    assert naesat_kesten_stigum(5) == pytest.approx(11.25)
    thr4 = naesat_thresholds(4, population=3000, sweeps=150, measure=50, tol=0.05, seed=0)
    assert thr4.continuous and thr4.dynamical == pytest.approx(49 / 12)
    kw = dict(population=2000, sweeps=100, measure=40, seed=0)
    hard_u = naesat_population_dynamics(5, 10.5, init="uninformed", **kw)
    hard_i = naesat_population_dynamics(5, 10.5, init="informed", **kw)
    assert abs(hard_u.overlap) < 1e-3
    assert hard_i.overlap > 0.9
    low = naesat_population_dynamics(5, 8.0, init="informed", **kw)
    assert abs(low.overlap) < 1e-6


# --------------------------------------------------------------------------------------------------
# population dynamics vs BP on one large planted graph
# --------------------------------------------------------------------------------------------------
def test_bethe_free_entropy_and_overlap_agree_with_bp_on_a_large_graph():
    """q = 3, c = 6, beta = inf: BP on a planted graph with n = 20000 from the planted start (measured
    Phi = 0.08038, mean overlap 0.8964) against population dynamics (10000 members, this seed:
    Phi = 0.0815(6), overlap 0.898; 50000 members: Phi = 0.0802(4), overlap 0.897).  The tolerance 0.004
    covers the graph's O(1/sqrt(n)) fluctuations and the population's error (whose quoted error bar,
    from sweep-to-sweep scatter, is optimistic by ~2x)."""
    n = 20000
    model = PlantedColoring(n, 3, 6.0, seed=1)
    out = BPDenoiser(model, init="planted").posterior()
    assert out.all_converged
    b = out.marginals[0]
    bp_overlap = (3 * b[np.arange(n), model.planted].mean() - 1) / 2
    pd = potts_population_dynamics(3, 6.0, population=10000, sweeps=150, measure=60, seed=4)
    assert out.free_entropy[0] == pytest.approx(pd.free_entropy, abs=0.004)
    assert bp_overlap == pytest.approx(pd.overlap, abs=0.01)


# --------------------------------------------------------------------------------------------------
# reproducibility and validation
# --------------------------------------------------------------------------------------------------
def test_same_seed_same_numbers():
    a = potts_population_dynamics(4, 9.0, population=500, sweeps=20, measure=5, seed=3)
    b = potts_population_dynamics(4, 9.0, population=500, sweeps=20, measure=5, seed=3)
    np.testing.assert_array_equal(a.population, b.population)
    assert a.free_entropy == b.free_entropy
    c = naesat_population_dynamics(4, 5.0, population=300, sweeps=10, measure=5, init="uninformed", seed=3)
    d = naesat_population_dynamics(4, 5.0, population=300, sweeps=10, measure=5, init="uninformed", seed=3)
    np.testing.assert_array_equal(c.trace["overlap"], d.trace["overlap"])


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: potts_population_dynamics(1, 3.0), r"^q must be >= 2"),
        (lambda: potts_population_dynamics(3, -1.0), r"^c must be >= 0"),
        (lambda: potts_population_dynamics(3, 3.0, beta=-1.0), r"^beta must be >= 0"),
        (lambda: potts_population_dynamics(3, 3.0, init="warm"), r"^init must be one of"),
        (lambda: potts_population_dynamics(3, 3.0, population=5), r"^population must be >= "),
        (lambda: potts_population_dynamics(3, 3.0, sweeps=10, measure=20), r"^measure must be <= 10"),
        (lambda: naesat_population_dynamics(4, -0.5), r"^alpha must be >= 0"),
        (lambda: naesat_population_dynamics(1, 2.0), r"^k must be >= 2"),
        (lambda: potts_kesten_stigum(1), r"^q must be >= 2"),
        (lambda: naesat_paramagnetic_free_entropy(4, -1.0), r"^alpha must be >= 0"),
        (lambda: potts_thresholds(5, tol=0.0), r"^tol must be > 0"),
        (lambda: potts_thresholds(5, c_range=(14.0, 12.0)), r"^c_range must be"),
        (lambda: naesat_thresholds(4, overlap_threshold=1.5), r"^overlap_threshold must be <= 1"),
    ],
)
def test_bad_arguments_name_the_parameter(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()
