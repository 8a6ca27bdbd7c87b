"""BPDenoiser: exactness on trees, agreement with enumeration on small loopy graphs, recovery of planted
colourings on both sides of Kesten-Stigum, beta = inf contradictions, convergence flags and validation.

Reference measure: the models use counting measure, so the tilted normaliser enumerated below is
log Z(y, t, R) = log sum_x exp(-beta E(x) + <y, x> - t |x|^2 / 2) 1[x_R = r_R]  (|x|^2 = n for one-hot
Potts colours and for x = ±1), which is what BP's ``free_entropy`` approximates (times n).
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp

from analysis.measures.metrics import overlap_with_planted
from samplers.denoisers import BPDenoiser, NonConvergenceWarning
from samplers.denoisers.exact import ExactDenoiser
from spinglass import SK, NAESATModel, PlantedColoring, PlantedNAESAT, PottsModel


# --------------------------------------------------------------------------------------------------
# brute force
# --------------------------------------------------------------------------------------------------
def brute_force(model, y, t, revealed):
    """log Z(y, t, R) and marginals (n, K) by enumeration of every configuration (independent of BP)."""
    n = model.n
    if isinstance(model, PottsModel):
        idx = np.array(list(itertools.product(range(model.q), repeat=n)))
        x = idx
        field = y[np.arange(n), idx].sum(axis=1)
        K = model.q
    else:
        idx = np.array(list(itertools.product([0, 1], repeat=n)))
        x = 2.0 * idx - 1.0
        field = x @ y
        K = 2
    e = model.energy(x)
    if math.isinf(model.beta):
        logw = np.where(e > 0, -np.inf, 0.0)
    else:
        logw = -model.beta * e
    logw = logw + field - 0.5 * t * n
    ok = np.all((revealed < 0) | (idx == revealed), axis=1)
    logw = np.where(ok, logw, -np.inf)
    log_z = logsumexp(logw)
    p = np.exp(logw - log_z)
    marg = np.stack([np.bincount(idx[:, i], weights=p, minlength=K) for i in range(n)])
    return log_z, marg


def random_tree_edges(n, rng):
    return [(i, int(rng.integers(0, i))) for i in range(1, n)]


# --------------------------------------------------------------------------------------------------
# trees: exact to 1e-10
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("beta", [0.8, math.inf])
def test_potts_tree_marginals_and_bethe_free_entropy_are_exact(beta):
    rng = np.random.default_rng(11)
    n, q = 9, 3
    model = PottsModel(n, q, random_tree_edges(n, rng), beta=beta)
    # two batch rows: different fields, SNRs and revealed sets (row 1 reveals nothing)
    y = rng.normal(scale=1.5, size=(2, n, q))
    t = np.array([0.4, 2.0])
    revealed = np.full((2, n), -1)
    revealed[0, 2], revealed[0, 5] = 1, 0
    bp = BPDenoiser(model, init="random", seed=3)
    out = bp.posterior(y=y, t=t, revealed=revealed)
    assert out.all_converged
    assert out.marginals.shape == (2, n, q) and out.mean.shape == (2, n, q)
    for b in range(2):
        log_z, marg = brute_force(model, y[b], t[b], revealed[b])
        np.testing.assert_allclose(out.marginals[b], marg, atol=1e-10, rtol=0)
        assert out.free_entropy[b] * n == pytest.approx(log_z, abs=1e-10)
    np.testing.assert_array_equal(out.mean, out.marginals)
    assert np.all(out.marginals[0, 2] == [0.0, 1.0, 0.0])  # revealed: exact delta


@pytest.mark.parametrize("beta", [1.3, math.inf])
def test_naesat_tree_marginals_and_bethe_free_entropy_are_exact(beta):
    rng = np.random.default_rng(5)
    # a tree factor graph: 5 clauses of size 3 on 11 variables, plus one clause of size 4 on new variables
    clauses3 = [[0, 1, 2], [2, 3, 4], [1, 5, 6], [4, 7, 8], [6, 9, 10]]
    signs = rng.choice([-1, 1], size=(5, 3))
    model = NAESATModel(11, clauses3, signs, beta=beta)
    y = rng.normal(size=(2, 11))
    t = np.array([0.0, 1.1])
    revealed = np.full((2, 11), -1)
    revealed[0, 3], revealed[0, 9] = 1, 0
    revealed[1, 0] = 0
    out = BPDenoiser(model, init="random", seed=1).posterior(y=y, t=t, revealed=revealed)
    assert out.all_converged and out.mean.shape == (2, 11) and out.marginals.shape == (2, 11, 2)
    for b in range(2):
        log_z, marg = brute_force(model, y[b], t[b], revealed[b])
        np.testing.assert_allclose(out.marginals[b], marg, atol=1e-10, rtol=0)
        np.testing.assert_allclose(out.mean[b], marg[:, 1] - marg[:, 0], atol=1e-10, rtol=0)
        assert out.free_entropy[b] * 11 == pytest.approx(log_z, abs=1e-10)

    model4 = NAESATModel(7, [[0, 1, 2, 3], [3, 4, 5, 6]], [[1, -1, 1, 1], [-1, -1, 1, 1]], beta=beta)
    y4 = rng.normal(size=7)
    out4 = BPDenoiser(model4).posterior(y=y4, t=0.5)
    log_z4, marg4 = brute_force(model4, y4, 0.5, np.full(7, -1))
    np.testing.assert_allclose(out4.marginals[0], marg4, atol=1e-10, rtol=0)
    assert out4.free_entropy[0] * 7 == pytest.approx(log_z4, abs=1e-10)


def test_tree_agrees_with_exact_denoiser():
    """On a tree BP is the exact denoiser: same marginals; free entropies differ by the model's log Z / n
    (ExactDenoiser reports the normaliser relative to the model's own log Z)."""
    rng = np.random.default_rng(2)
    n, q = 8, 3
    model = PottsModel(n, q, random_tree_edges(n, rng), beta=math.inf)
    y = rng.normal(size=(3, n, q))
    t = np.array([0.0, 0.7, 3.0])
    revealed = np.full((3, n), -1)
    revealed[2, 4] = 2
    bp = BPDenoiser(model).posterior(y=y, t=t, revealed=revealed)
    ex = ExactDenoiser(model).posterior(y=y, t=t, revealed=revealed)
    np.testing.assert_allclose(bp.marginals, ex.marginals, atol=1e-10, rtol=0)
    log_z_model = model.exact().log_Z
    np.testing.assert_allclose(bp.free_entropy, ex.free_entropy + log_z_model / n, atol=1e-10, rtol=0)


def test_fully_revealed_loopy_graph_is_exact():
    """All variables revealed: BP is exact on any graph, log Z = -beta E(x) + <y, x> - t n / 2."""
    model = PlantedColoring(60, 4, 5.0, beta=1.5, seed=4)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, size=60)  # an arbitrary colouring (violations allowed at finite beta)
    y = rng.normal(size=(60, 4))
    out = BPDenoiser(model).posterior(y=y, t=0.3, revealed=x)
    expected = -1.5 * model.energy(x) + y[np.arange(60), x].sum() - 0.3 * 60 / 2
    assert out.free_entropy[0] * 60 == pytest.approx(expected, abs=1e-9)
    np.testing.assert_array_equal(out.marginals[0].argmax(axis=1), x)


# --------------------------------------------------------------------------------------------------
# small loopy instances vs enumeration
# --------------------------------------------------------------------------------------------------
def test_loopy_potts_with_side_information_close_to_exact():
    """A loopy planted 3-colouring (n = 12, 18 edges) at beta = 2 with a strong side channel (t = 3) and
    two revealed nodes.  Loops make BP approximate, but the side information makes the cavity
    correlations weak: measured errors 3.3e-7 (marginals) and 2.7e-8 (free entropy per variable) with
    these seeds; the tolerances 1e-4 and 1e-5 leave room for rounding yet fail for a wrong update."""
    model = PlantedColoring(12, 3, 3.0, beta=2.0, seed=21)
    rng = np.random.default_rng(1)
    t = 3.0
    onehot = np.eye(3)[model.planted]
    y = t * onehot + math.sqrt(t) * rng.normal(size=(12, 3))
    revealed = np.full(12, -1)
    revealed[[0, 7]] = model.planted[[0, 7]]
    out = BPDenoiser(model, damping=0.2).posterior(y=y, t=t, revealed=revealed)
    ex = ExactDenoiser(model).posterior(y=y, t=t, revealed=revealed)
    assert out.all_converged
    err = np.abs(out.marginals[0] - ex.marginals[0]).max()
    assert err < 1e-4
    log_z, marg = brute_force(model, y, t, revealed)
    np.testing.assert_allclose(ex.marginals[0], marg, atol=1e-12)
    assert abs(out.free_entropy[0] - log_z / 12) < 1e-5


def test_loopy_naesat_with_side_information_close_to_exact():
    """Loopy planted 4-NAE-SAT (n = 14, 17 clauses) at beta = inf, t = 2, one revealed variable: measured
    errors 7.4e-4 (marginals) and 6.3e-5 (free entropy per variable); tolerances 5e-3 and 5e-4."""
    model = PlantedNAESAT(14, 4, 1.2, beta=math.inf, seed=8)
    rng = np.random.default_rng(4)
    t = 2.0
    y = t * model.planted + math.sqrt(t) * rng.normal(size=14)
    revealed = np.full(14, -1)
    revealed[3] = int(model.planted[3] > 0)
    out = BPDenoiser(model, damping=0.3).posterior(y=y, t=t, revealed=revealed)
    log_z, marg = brute_force(model, y, t, revealed)
    assert out.all_converged
    assert np.abs(out.marginals[0] - marg).max() < 5e-3
    assert abs(out.free_entropy[0] - log_z / 14) < 5e-4


# --------------------------------------------------------------------------------------------------
# planted colourings: recovery above Kesten-Stigum, none far below
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("beta", [math.inf, 3.0])
def test_bp_recovers_planted_colouring_far_above_kesten_stigum(beta):
    model = PlantedColoring(5000, 3, 12.0, beta=beta, seed=1)
    out = BPDenoiser(model, init="random", seed=2, max_iter=300).posterior()
    assert out.all_converged
    ov = float(overlap_with_planted(model, out.marginals[0].argmax(axis=1)))
    assert ov > 0.9


def test_bp_finds_nothing_far_below_kesten_stigum():
    model = PlantedColoring(5000, 3, 1.5, beta=math.inf, seed=1)
    out = BPDenoiser(model, init="random", seed=2, max_iter=300).posterior()
    assert out.all_converged
    ov = float(overlap_with_planted(model, out.marginals[0].argmax(axis=1)))
    assert ov < 0.1
    # the paramagnetic fixed point: every marginal uniform (colour symmetry)
    assert np.abs(out.marginals[0] - 1 / 3).max() < 1e-6


def test_bp_recovers_planted_naesat_above_kesten_stigum():
    # alpha_KS(k = 5) = 225 / 20 = 11.25
    model = PlantedNAESAT(3000, 5, 14.0, seed=3)
    out = BPDenoiser(model, init="random", seed=0, max_iter=300).posterior()
    assert out.all_converged
    assert float(overlap_with_planted(model, np.where(out.mean[0] >= 0, 1.0, -1.0))) > 0.9
    low = PlantedNAESAT(3000, 5, 3.0, seed=3)
    out_low = BPDenoiser(low, init="random", seed=0, max_iter=300).posterior()
    assert float(overlap_with_planted(low, np.where(out_low.mean[0] >= 0, 1.0, -1.0))) < 0.1


# --------------------------------------------------------------------------------------------------
# beta = inf: contradictions, no NaN
# --------------------------------------------------------------------------------------------------
def test_contradictory_revealed_values_raise():
    model = PottsModel(4, 3, [(0, 1), (1, 2), (2, 3)], beta=math.inf)
    with pytest.raises(ValueError, match="contradiction in batch row 1"):
        BPDenoiser(model).posterior(revealed=[[0, 1, -1, -1], [2, 2, -1, -1]])
    # a free node whose neighbours use up every colour
    star = PottsModel(4, 3, [(0, 1), (0, 2), (0, 3)], beta=math.inf)
    with pytest.raises(ValueError, match="contradiction"):
        BPDenoiser(star).posterior(revealed=[-1, 0, 1, 2])
    nae = NAESATModel(3, [[0, 1, 2]], [[1, 1, -1]], beta=math.inf)
    with pytest.raises(ValueError, match="contradiction"):
        BPDenoiser(nae).posterior(revealed=[1, 1, 0])  # literals +1, +1, +1: all equal
    # a free variable forced to -1 by one clause and to +1 by the other
    forced = NAESATModel(5, [[0, 1, 2], [0, 3, 4]], beta=math.inf)
    with pytest.raises(ValueError, match="contradiction in batch row 0"):
        BPDenoiser(forced).posterior(revealed=[-1, 1, 1, 0, 0])
    ok = BPDenoiser(forced).posterior(revealed=[-1, 1, 1, -1, 0])  # forced to x_0 = -1, then x_3 = +1
    np.testing.assert_array_equal(ok.marginals[0, [0, 3]], [[1.0, 0.0], [0.0, 1.0]])
    assert ok.free_entropy[0] == pytest.approx(0.0, abs=1e-12)  # exactly one solution
    # the same revealed values are fine at finite beta
    out = BPDenoiser(PottsModel(4, 3, [(0, 1), (1, 2), (2, 3)], beta=2.0)).posterior(revealed=[2, 2, -1, -1])
    assert np.all(np.isfinite(out.marginals)) and np.all(np.isfinite(out.free_entropy))


def test_huge_fields_at_beta_inf_stay_finite():
    """Field differences beyond the float range (|y| ~ 1e4) must not create spurious contradictions."""
    model = PlantedColoring(400, 3, 4.0, beta=math.inf, seed=5)
    y = 1e4 * np.eye(3)[model.planted]
    out = BPDenoiser(model).posterior(y=y, t=1e4)
    assert out.all_converged and np.all(np.isfinite(out.free_entropy))
    np.testing.assert_array_equal(out.marginals[0].argmax(axis=1), model.planted)


# --------------------------------------------------------------------------------------------------
# convergence, damping, warm start
# --------------------------------------------------------------------------------------------------
def test_iteration_cap_reports_non_convergence():
    model = PlantedColoring(300, 3, 6.0, beta=2.0, seed=2)
    bp = BPDenoiser(model, max_iter=2, init="random", seed=0)
    with pytest.warns(NonConvergenceWarning):
        out = bp.posterior()
    assert not out.converged[0] and out.iterations[0] == 2 and out.residual[0] > bp.tol
    assert out.trace["residual"].shape == (1, 2)
    assert np.all(np.isfinite(out.marginals))


def test_damping_reaches_the_same_fixed_point():
    model = PlantedColoring(300, 3, 3.0, beta=1.0, seed=2)
    rng = np.random.default_rng(3)
    y = rng.normal(size=(300, 3))
    a = BPDenoiser(model).posterior(y=y, t=1.0)
    b = BPDenoiser(model, damping=0.6).posterior(y=y, t=1.0)
    assert a.all_converged and b.all_converged
    assert b.iterations[0] > a.iterations[0]
    np.testing.assert_allclose(a.marginals, b.marginals, atol=1e-8)
    assert a.free_entropy[0] == pytest.approx(b.free_entropy[0], abs=1e-9)


def test_warm_start_converges_faster_to_the_same_answer():
    model = PlantedColoring(2000, 3, 5.0, beta=2.0, seed=6)
    rng = np.random.default_rng(0)
    y = 0.5 * np.eye(3)[model.planted] + rng.normal(size=(2000, 3))
    cold = BPDenoiser(model).posterior(y=y, t=0.5)
    warm_bp = BPDenoiser(model, warm_start=True)
    warm_bp.posterior(y=y, t=0.5)
    warm = warm_bp.posterior(y=1.01 * y, t=0.5)
    ref = BPDenoiser(model).posterior(y=1.01 * y, t=0.5)
    assert warm.iterations[0] < ref.iterations[0]
    np.testing.assert_allclose(warm.marginals, ref.marginals, atol=1e-7)
    assert cold.all_converged and warm.all_converged


@pytest.mark.filterwarnings("ignore::samplers.denoisers.base.NonConvergenceWarning")
def test_same_seed_same_numbers():
    model = PlantedColoring(500, 4, 8.0, beta=math.inf, seed=3)
    a = BPDenoiser(model, init="random", seed=9, max_iter=30).posterior()
    b = BPDenoiser(model, init="random", seed=9, max_iter=30).posterior()
    np.testing.assert_array_equal(a.marginals, b.marginals)


def _reference_potts_sweeps(indptr, rev, psi, msg, ew, damping, n_iter):
    """The Potts sweeps as first written (h recomputed at every read, always the careful cavity routine)."""
    from samplers.denoisers import bp as bpmod

    n, q = psi.shape
    maxdeg = max(1, int(np.diff(indptr).max()))
    H, pre, out = np.empty((maxdeg, q)), np.empty((maxdeg, q)), np.empty((maxdeg, q))
    suf, left, zc = np.empty(q), np.empty(q), np.empty(q, dtype=np.int64)
    trace = []
    for _ in range(n_iter):
        residual = 0.0
        for i in range(n):
            start, d = indptr[i], indptr[i + 1] - indptr[i]
            if d == 0:
                continue
            for l in range(d):
                bpmod._potts_h(msg, rev[start + l], ew, q, left, H, l)
            assert bpmod._cavity_products(psi, i, H, d, q, pre, suf, zc, out)
            new = out[:d]
            old = msg[start:start + d]
            residual = max(residual, float(np.abs(new - old).max()))
            msg[start:start + d] = (1.0 - damping) * new + damping * old
        trace.append(residual)
    return trace


@pytest.mark.parametrize("beta, damping", [(math.inf, 0.0), (math.inf, 0.3), (1.5, 0.0), (1.5, 0.3)])
def test_potts_kernel_fast_path_and_h_table_are_bit_identical_to_the_reference(beta, damping):
    """The incoming h table and the fast cavity path change no bit (exact zeros from revealed variables,
    tiny products from huge fields and plain nodes all occur)."""
    from samplers.denoisers import bp as bpmod

    model = PlantedColoring(80, 3, 4.0, beta=beta, seed=4)
    rng = np.random.default_rng(5)
    y = rng.normal(size=(80, 3))
    y[:40] *= 400.0  # node-factor entries down to e^-600 (clipped): tiny products
    revealed = np.where(rng.random(80) < 0.15, np.asarray(model.planted), -1)
    bp = BPDenoiser(model, damping=damping, init="random", seed=1)
    psi, _ = bp._node_factors(y, revealed)
    msg0 = bp._initial_messages(0, 1)
    ew = 0.0 if math.isinf(beta) else math.exp(-beta)
    ref = msg0.copy()
    ref_trace = _reference_potts_sweeps(bp._indptr, bp._rev, psi, ref, ew, damping, 6)
    msg = msg0.copy()
    hin = np.empty_like(msg)
    bpmod._potts_fill_h_table(msg, bp._rev, hin, ew, (0.0,) * 3)
    trace = np.full(6, np.nan)
    it, res, bad = bpmod._potts_bp_iterate(bp._indptr, bp._rev, psi, msg, hin, ew, damping, 1e-300, 6, trace,
                                           (0.0,) * 3)
    assert (it, bad) == (6, -1) and res == ref_trace[-1]
    np.testing.assert_array_equal(trace, ref_trace)
    np.testing.assert_array_equal(msg, ref)
    if damping == 0.0:  # exact zeros (revealed deltas) and underflowing products did occur
        assert np.any(msg == 0.0) and np.any((msg > 0.0) & (msg < 1e-250))
    # the h table matches the messages it is kept beside
    expect = np.empty_like(msg)
    left = np.empty(3)
    for k in range(len(msg)):
        bpmod._potts_h(msg, bp._rev[k], ew, 3, left, expect, k)
    np.testing.assert_array_equal(hin, expect)


def _reference_potts_summary(indptr, indices, psi, offset, msg, hin):
    """The Potts summary as first written (every log and exp called), with libm's log / exp as numba's."""
    n, q = psi.shape
    marg = np.empty((n, q))
    log_z = 0.0
    for i in range(n):
        start, d = indptr[i], indptr[i + 1] - indptr[i]
        lh = [[math.log(h) if h > 0.0 else -math.inf for h in hin[start + l]] for l in range(d)]
        v = []
        for c in range(q):
            s = math.log(psi[i, c]) if psi[i, c] > 0.0 else -math.inf
            for l in range(d):
                s += lh[l][c]
            v.append(s)
        mx = max(v)
        b = [math.exp(x - mx) if x > -math.inf else 0.0 for x in v]
        z = 0.0
        for x in b:
            z += x
        marg[i] = [x / z for x in b]
        log_z += mx + math.log(z) + offset[i]
        for l in range(d):
            k = start + l
            if indices[k] < i:
                continue
            e = [math.log(m) + lh[l][c] if (m > 0.0 and lh[l][c] > -math.inf) else -math.inf
                 for c, m in enumerate(msg[k])]
            mx = max(e)
            z = 0.0
            for x in e:
                if x > -math.inf:
                    z += math.exp(x - mx)
            log_z -= mx + math.log(z)
    return log_z, marg


@pytest.mark.parametrize("beta", [math.inf, 1.5])
def test_potts_summary_shortcuts_are_bit_identical_to_the_reference(beta):
    """log psi = 0 for psi = 1 and e^0 = 1 for the largest term change no bit (fields, no fields, revealed
    deltas, exact zeros at beta = inf)."""
    from samplers.denoisers import bp as bpmod

    model = PlantedColoring(80, 3, 4.0, beta=beta, seed=4)
    rng = np.random.default_rng(6)
    y = rng.normal(size=(80, 3))
    y[:30] = 0.0  # psi = 1 everywhere on these
    revealed = np.where(rng.random(80) < 0.15, np.asarray(model.planted), -1)
    bp = BPDenoiser(model, init="random", seed=2)
    psi, offset = bp._node_factors(y, revealed)
    assert np.any(psi == 1.0) and np.any((psi > 0.0) & (psi < 1.0)) and np.any(psi == 0.0)
    ew = 0.0 if math.isinf(beta) else math.exp(-beta)
    msg = bp._initial_messages(0, 1)
    hin = np.empty_like(msg)
    bpmod._potts_fill_h_table(msg, bp._rev, hin, ew, (0.0,) * 3)
    bpmod._potts_bp_iterate(bp._indptr, bp._rev, psi, msg, hin, ew, 0.0, 1e-300, 5, np.empty(5), (0.0,) * 3)
    marg = np.empty((80, 3))
    log_z, bad = bpmod._potts_bp_summary(bp._indptr, bp._indices, psi, offset, msg, hin, marg)
    ref_log_z, ref_marg = _reference_potts_summary(bp._indptr, bp._indices, psi, offset, msg, hin)
    assert bad == -1 and log_z == ref_log_z
    np.testing.assert_array_equal(marg, ref_marg)


@pytest.mark.parametrize("q, beta", [(3, math.inf), (5, 1.5)])
def test_potts_uniform_start_is_the_general_fill_of_uniform_messages(q, beta):
    from samplers.denoisers import bp as bpmod

    model = PlantedColoring(300, q, 5.0, beta=beta, seed=1)
    bp = BPDenoiser(model)
    ew = 0.0 if math.isinf(beta) else math.exp(-beta)
    msg = np.full((bp._n_messages, q), 1.0 / q)
    hin = np.empty_like(msg)
    bpmod._potts_fill_h_table(msg, bp._rev, hin, ew, (0.0,) * q)
    msg_u, hin_u = np.empty_like(msg), np.empty_like(msg)
    bpmod._potts_uniform_start(msg_u, hin_u, ew, (0.0,) * q)
    np.testing.assert_array_equal(msg_u, msg)
    np.testing.assert_array_equal(hin_u, hin)


def test_node_factors_are_the_clipped_exponential_of_the_field():
    """psi = exp(max(y - max_c y, -FIELD_CLIP)) (numpy's exp), deltas at revealed variables, ones without a field."""
    from samplers.denoisers.bp import FIELD_CLIP

    model = PlantedColoring(200, 4, 4.0, seed=3)
    rng = np.random.default_rng(7)
    y = rng.normal(size=(200, 4))
    y[:20] *= 1000.0  # clipped gaps
    y[20:40] = 0.0
    revealed = np.where(rng.random(200) < 0.2, np.asarray(model.planted), -1)
    psi, offset = BPDenoiser(model)._node_factors(y, revealed)
    top = y.max(axis=1)
    expect = np.exp(np.maximum(y - top[:, None], -FIELD_CLIP))
    expect_offset = top.copy()
    shown = revealed >= 0
    expect[shown] = 0.0
    expect[shown, revealed[shown]] = 1.0
    expect_offset[shown] = y[shown, revealed[shown]]
    np.testing.assert_array_equal(psi, expect)
    np.testing.assert_array_equal(offset, expect_offset)
    ones, zero_offset = BPDenoiser(model)._node_factors(np.zeros((200, 4)), np.full(200, -1))
    assert np.all(ones == 1.0) and np.all(zero_offset == 0.0)
    m = PlantedNAESAT(100, 3, 1.5, seed=0)
    x = rng.normal(size=100)
    psi, offset = BPDenoiser(m)._node_factors(x, np.full(100, -1))
    logits = np.stack([-x, x], axis=1)
    np.testing.assert_array_equal(psi, np.exp(np.maximum(logits - np.abs(x)[:, None], -FIELD_CLIP)))
    np.testing.assert_array_equal(offset, np.abs(x))


@pytest.mark.parametrize("model", [PlantedColoring(400, 3, 5.0, beta=2.0, seed=8),
                                   PlantedNAESAT(300, 3, 1.5, beta=2.0, seed=8)], ids=["potts", "naesat"])
def test_reused_work_arrays_change_nothing(model):
    """The message / h arrays kept from query to query give what fresh ones give (random starts, fields, a
    batch, warm starts): the same queries on two denoisers, one of which drops its arrays before each."""
    rng = np.random.default_rng(3)
    shape = (model.n, model.q) if isinstance(model, PottsModel) else (model.n,)
    queries = [{}, {"y": rng.normal(size=shape), "t": 0.3}, {"y": rng.normal(size=(2,) + shape), "t": 1.0}, {}]
    one = BPDenoiser(model, init="random", seed=4, max_iter=50, warm_start=True)
    two = BPDenoiser(model, init="random", seed=4, max_iter=50, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonConvergenceWarning)
        for kw in queries:
            two._spare_work_arrays.clear()
            a, b = one.posterior(**kw), two.posterior(**kw)
            np.testing.assert_array_equal(a.marginals, b.marginals)
            np.testing.assert_array_equal(a.free_entropy, b.free_entropy)
            np.testing.assert_array_equal(a.iterations, b.iterations)
            np.testing.assert_array_equal(one._last_messages, two._last_messages)


# --------------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------------
def test_bad_arguments():
    model = PlantedColoring(20, 3, 2.0, seed=0)
    with pytest.raises(TypeError, match="PottsModel or NAESATModel"):
        BPDenoiser(SK(10, 1.0, seed=0))
    for d in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="damping"):
            BPDenoiser(model, damping=d)
    with pytest.raises(ValueError, match="tol"):
        BPDenoiser(model, tol=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        BPDenoiser(model, max_iter=0)
    with pytest.raises(ValueError, match="init"):
        BPDenoiser(model, init="zeros")
    with pytest.raises(ValueError, match="planted"):
        BPDenoiser(PottsModel(3, 3, [(0, 1)]), init="planted")
    with pytest.raises(ValueError, match="q < 2|q must be >= 2"):
        PottsModel(3, 1, [(0, 1)])
    with pytest.raises(ValueError, match="y must have shape"):
        BPDenoiser(model).posterior(y=np.zeros(20))


def test_planted_init_and_describe():
    model = PlantedColoring(3000, 5, 18.0, beta=math.inf, seed=2)
    bp = BPDenoiser(model, init="planted", damping=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonConvergenceWarning)
        out = bp.posterior()
    assert float(overlap_with_planted(model, out.marginals[0].argmax(axis=1))) > 0.9
    d = bp.describe()
    assert d["name"] == "BPDenoiser" and d["damping"] == 0.1 and d["init"] == "planted"
