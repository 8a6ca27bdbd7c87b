"""Learned BP network for the sparse planted models (samplers.neural.message_passing), its planted-pair data
(planted_sparse_data) and training (message_passing_training).

Every check comes with a mutant that must fail it (so the check has power):

* untrained network == converged ``BPDenoiser`` (colouring and NAE-SAT, hard and soft constraints, erasure and
  Gaussian queries) to 1e-8; mutants: a non-zero readout, too few layers.  On a tree, L = diameter layers are
  exact and L = diameter - 1 are not (L layers are L parallel BP iterations).
* planted pairs: reproducible from the generator, x* satisfies the hard constraints, revealed values are x*,
  revealed fractions and Gaussian noise within 5 standard errors of their laws; mutants: x* of another
  instance, y from another instance.
* a briefly trained network's held-out cross-entropy against x* is within 3 paired standard errors (+ 0.01) of
  converged BP's, on the erasure path (colouring) and on the Gaussian path (NAE-SAT); mutant: the network without
  the graph (``use_graph=False``), trained the same way, is worse by > 5 standard errors (erasure), resp. worse on
  each of the 8 held-out instances and by > max(tolerance, 3 standard errors) on average (Gaussian).
* ``Autoregressive`` (and ``StochasticLocalization``) over the network: mean violations per sample over 8
  instances no more than BP-guided + 2 paired standard errors; mutant: the network without the graph.
* equivariance under value permutations (mutant: a value-dependent readout bias); bad input raises ValueError
  naming the parameter.

Torch runs on one CPU thread here (``torch_one_thread`` fixture).
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pytest
import torch
from scipy.sparse.csgraph import shortest_path

import spinglass as sg
from samplers.autoregressive import Autoregressive
from samplers.denoisers.base import NonConvergenceWarning
from samplers.denoisers.bp import BPDenoiser
from samplers.diffusion import StochasticLocalization
from samplers.neural.message_passing import MessagePassingDenoiser, SparseGraph, SparseMessagePassing
from samplers.neural.message_passing_training import compare_with_bp, train_message_passing
from samplers.neural.planted_sparse_data import PlantedSparsePairs, planted_indices
from samplers.neural.training import TrainConfig, load_checkpoint, save_checkpoint

pytestmark = pytest.mark.usefixtures("torch_one_thread")

F64 = torch.float64
INF = math.inf


def gen(seed: int) -> torch.Generator:
    return torch.Generator(device="cpu").manual_seed(seed)


def planted_queries(model, theta: float, rows: int, seed: int) -> np.ndarray:
    x = planted_indices(model)
    rng = np.random.default_rng(seed)
    return np.where(rng.random((rows, model.n)) < theta, x, -1)


def gaussian_y(model, t: float, rows: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = planted_indices(model)
    if isinstance(model, sg.PottsModel):
        xs = np.eye(model.q)[x]
    else:
        xs = 2.0 * x - 1.0
    return t * xs[None] + math.sqrt(t) * rng.standard_normal((rows,) + xs.shape)


def marginals(net, model, revealed=None, y=None, t=0.0, **kw) -> np.ndarray:
    den = MessagePassingDenoiser(net, model, device="cpu", contradictions="ignore", **kw)
    return den.posterior(y=y, t=t, revealed=revealed).marginals


def bp_marginals(model, revealed=None, y=None, t=0.0) -> np.ndarray:
    return BPDenoiser(model, tol=1e-13, max_iter=5000).posterior(y=y, t=t, revealed=revealed).marginals


# -- the untrained network is BP ---------------------------------------------------------------------------------
CASES = {
    "colouring-hard-erasure": (lambda: sg.PlantedColoring(40, 3, 2.5, seed=1), 0.3, None),
    "colouring-soft-gaussian": (lambda: sg.PlantedColoring(40, 3, 3.0, beta=1.5, seed=2), 0.0, 1.0),
    "naesat-hard-erasure": (lambda: sg.PlantedNAESAT(40, 4, 2.0, seed=1), 0.3, None),
    "naesat-soft-gaussian": (lambda: sg.PlantedNAESAT(40, 4, 2.5, beta=2.0, seed=2), 0.1, 0.5),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_untrained_network_equals_converged_bp_and_mutants_do_not(case):
    make, theta, t = CASES[case]
    model = make()
    revealed = planted_queries(model, theta, 2, seed=0)
    y = None if t is None else gaussian_y(model, t, 2, seed=1)
    tt = 0.0 if t is None else t
    ref = bp_marginals(model, revealed, y, tt)
    net = SparseMessagePassing.for_model(model, n_layers=20, hidden=4, dtype=F64)
    den = MessagePassingDenoiser(net, model, passes=10, tol=1e-12, device="cpu", contradictions="ignore")
    out = den.posterior(y=y, t=tt, revealed=revealed)
    assert np.all(out.converged) and np.all(out.iterations == 200)
    assert np.max(np.abs(out.marginals - ref)) < 1e-8
    # mutant 1: too few layers (2 parallel BP iterations are not the fixed point)
    short = SparseMessagePassing.for_model(model, n_layers=2, hidden=4, dtype=F64)
    assert np.max(np.abs(marginals(short, model, revealed, y, tt) - ref)) > 1e-3
    # mutant 2: a non-zero readout correction
    with torch.no_grad():
        net.readout.out.fill_(0.3)
        net.readout.value_in.weight.mul_(3.0)
    assert np.max(np.abs(marginals(net, model, revealed, y, tt, passes=10) - ref)) > 1e-3


def random_tree(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    parent = np.array([rng.integers(0, i) for i in range(1, n)])
    return np.stack([parent, np.arange(1, n)], axis=1)


def test_on_a_tree_L_layers_are_L_parallel_bp_iterations():
    """Parallel BP from uniform messages is exact on a tree after diameter iterations, not before."""
    n = 18
    edges = random_tree(n, seed=3)
    model = sg.PottsModel(n, 3, edges, beta=1.2)
    adj = np.zeros((n, n))
    adj[edges[:, 0], edges[:, 1]] = adj[edges[:, 1], edges[:, 0]] = 1
    diameter = int(shortest_path(adj, unweighted=True).max())
    rng = np.random.default_rng(0)
    y = rng.normal(size=(2, n, 3))
    ref = bp_marginals(model, None, y, 0.0)
    exact = SparseMessagePassing.for_model(model, n_layers=diameter, hidden=4, dtype=F64)
    assert np.max(np.abs(marginals(exact, model, None, y) - ref)) < 1e-12
    short = SparseMessagePassing.for_model(model, n_layers=diameter - 1, hidden=4, dtype=F64)
    assert np.max(np.abs(marginals(short, model, None, y) - ref)) > 1e-6
    # two passes of diameter // 2 + 1 layers continue the messages: as good as one pass of >= diameter layers
    half = SparseMessagePassing.for_model(model, n_layers=diameter // 2 + 1, hidden=4, dtype=F64)
    assert np.max(np.abs(marginals(half, model, None, y, passes=2) - ref)) < 1e-12
    # the same two passes set on the network: its forward (what training reads) and its denoiser unroll them
    # by default, and record them; mutant: the same network with one pass is not exact
    net2 = SparseMessagePassing.for_model(model, n_layers=diameter // 2 + 1, hidden=4, dtype=F64, passes=2)
    assert np.max(np.abs(marginals(net2, model, None, y) - ref)) < 1e-12
    graph = SparseGraph.from_model(model)
    field = torch.as_tensor(y, dtype=F64)
    assert torch.equal(net2(graph, field), half.run(graph, field, passes=2).log_marginals)
    assert not torch.allclose(half(graph, field), net2(graph, field), atol=1e-6)
    assert MessagePassingDenoiser(net2, model).passes == 2 and net2.describe()["passes"] == 2
    assert "passes" not in half.describe()  # earlier networks keep their description


def test_max_passes_runs_each_row_until_its_residual_is_below_tol_and_rows_stop_independently():
    """Untrained and damped, the network with max_passes reaches converged BP on a loopy instance, each row taking
    the passes it needs; a row's answer does not depend on its batch; mutant: the fixed single pass does not."""
    model = sg.PlantedColoring(60, 3, 3.5, seed=4)
    net = SparseMessagePassing.for_model(model, n_layers=4, hidden=4, dtype=F64, damping=0.3)
    revealed = planted_queries(model, 0.1, 3, seed=5)
    revealed[2] = planted_queries(model, 0.6, 1, seed=6)[0]  # a row with many revealed: converges sooner
    ref = BPDenoiser(model, damping=0.3, tol=1e-13, max_iter=20000).posterior(revealed=revealed).marginals
    den = MessagePassingDenoiser(net, model, tol=1e-10, max_passes=400, device="cpu", contradictions="ignore")
    out = den.posterior(revealed=revealed)
    assert out.converged.all() and np.max(np.abs(out.marginals - ref)) < 1e-7
    assert out.iterations.min() < out.iterations.max() and (out.iterations % 4 == 0).all()
    assert den.n_row_passes == out.iterations.sum() // 4
    alone = den.posterior(revealed=revealed[:1])
    assert np.array_equal(alone.marginals[0], out.marginals[0]) and alone.iterations[0] == out.iterations[0]
    fixed_den = MessagePassingDenoiser(net, model, tol=1e-10, device="cpu", contradictions="ignore")
    with pytest.warns(NonConvergenceWarning):
        fixed = fixed_den.posterior(revealed=revealed)
    assert not fixed.converged.all() and np.max(np.abs(fixed.marginals - ref)) > 1e-4
    assert (fixed.iterations == 4).all()
    assert den.describe()["max_passes"] == 400 and "max_passes" not in fixed_den.describe()


def test_damping_half_lets_flooding_bp_reach_bp_on_5_colouring_at_small_snr():
    """Planted 5-colouring at c = 10 (degree 10: an antiferromagnet), Gaussian queries at small SNR t = 0.15: the
    untrained network damped 0.5 reaches converged sequential BP (max |difference| < 1e-4 after 10 passes of 10
    layers); the mutant damped 0.3, the setting that works on 3-colouring, does not settle there (mean |difference|
    > 0.05, measured 0.12 at n = 1000: the flooding messages of a colouring oscillate between colour classes)."""
    model = sg.PlantedColoring(300, 5, 10.0, seed=1)
    rng = np.random.default_rng(0)
    t = 0.15
    y = t * np.eye(5)[model.planted] + math.sqrt(t) * rng.standard_normal((model.n, 5))
    ref = BPDenoiser(model, damping=0.3, tol=1e-12, max_iter=5000).posterior(y=y[None], t=t).marginals[0]
    graph = SparseGraph.from_model(model)
    field = torch.as_tensor(y[None], dtype=F64)
    got = {}
    for damping in (0.5, 0.3):
        net = SparseMessagePassing.for_model(model, n_layers=10, hidden=4, dtype=F64, damping=damping)
        with torch.no_grad():
            got[damping] = net.run(graph, field, t=torch.full((1,), t, dtype=F64), passes=10).log_marginals.exp()[0]
    assert np.max(np.abs(got[0.5].numpy() - ref)) < 1e-4
    assert np.mean(np.abs(got[0.3].numpy() - ref)) > 0.05


# -- planted pairs ------------------------------------------------------------------------------------------------
def consistency_failures(batch, data) -> list[str]:
    """Checks that a batch is a set of exact planted pairs with the stated queries (module docstring)."""
    fails = []
    x = batch.x.numpy()
    inst = batch.instance.numpy()
    for i, model in enumerate(batch.models):
        xi = x[inst == i]
        if not np.array_equal(planted_indices(model), xi):
            fails.append("x is not the model's planted configuration")
        if data.beta == INF and model.energy(model.alphabet[xi]) != 0:
            fails.append("x* violates a hard constraint")
    rev = batch.revealed.numpy()
    shown = rev >= 0
    if np.any(rev[shown] != np.broadcast_to(x, rev.shape)[shown]):
        fails.append("a revealed value differs from x*")
    if data.channel == "erasure":
        lo, hi = data.theta
        frac = shown.mean()
        mid, se = 0.5 * (lo + hi), math.sqrt(((hi - lo) ** 2 / 12) / rev.shape[0] / len(batch.models) + 0.25 / rev.size)
        if abs(frac - mid) > 5 * se:
            fails.append(f"revealed fraction {frac:.3f} is not {mid:.3f} ± 5 x {se:.3f}")
    else:
        t = batch.t.numpy()
        y = batch.y.double().numpy()
        xs = np.eye(data.K)[x] if data.family == "potts" else 2.0 * x - 1.0
        tt = t[..., None] if data.family == "potts" else t
        pos = np.broadcast_to(tt, y.shape) > 0
        z = ((y - tt * xs[None]) / np.sqrt(np.where(tt > 0, tt, 1.0)))[pos]
        if abs(z.mean()) > 5 / math.sqrt(z.size) or abs(z.var() - 1) > 5 * math.sqrt(2 / z.size):
            fails.append("y - t x* is not sqrt(t) N(0, 1)")
    return fails


DATA = {
    "colouring-erasure": dict(family="potts", n=40, q=3, c=(2.0, 3.5), theta=(0.2, 0.7)),
    "naesat-gaussian": dict(family="naesat", n=40, k=4, alpha=2.0, beta=2.0, signed=True, channel="gaussian"),
    "bicolouring-erasure-n-range": dict(family="naesat", n=(30, 50), k=4, alpha=1.5, signed=False),
}


@pytest.mark.parametrize("name", sorted(DATA))
def test_planted_pairs_are_reproducible_exact_and_mutants_fail(name):
    kw = dict(DATA[name])
    data = PlantedSparsePairs(kw.pop("family"), kw.pop("n"), rows_per_instance=6, **kw)
    b1, b2, b3 = data.draw(4, gen(5)), data.draw(4, gen(5)), data.draw(4, gen(6))
    for a in ("x", "revealed", "y", "t"):
        assert torch.equal(getattr(b1, a), getattr(b2, a))
    assert torch.equal(b1.graph.out_node, b2.graph.out_node) and not torch.equal(b1.x, b3.x)
    assert all(m.fingerprint() == m2.fingerprint() for m, m2 in zip(b1.models, b2.models, strict=True))
    sizes = [m.n for m in b1.models]
    assert b1.graph.n == sum(sizes) and b1.revealed.shape == (6, sum(sizes))
    lo, hi = data.n_range
    assert all(lo <= s <= hi for s in sizes) and (lo == hi or len(set(sizes)) > 1)
    assert consistency_failures(b1, data) == []
    # mutant: the planted configuration of another instance
    mutant = data.draw(4, gen(5))
    mutant.x = torch.cat([mutant.x[40:], mutant.x[:40]])
    assert consistency_failures(mutant, data)
    if data.channel == "gaussian":  # mutant: y generated from a different configuration
        other = data.draw(4, gen(6))
        mutant = data.draw(4, gen(5))
        mutant.y = other.y
        assert any("N(0, 1)" in f for f in consistency_failures(mutant, data))


# -- training: close to BP, and the blind mutant is clearly worse ---------------------------------------------------
@pytest.fixture(scope="module")
def trained():
    data = PlantedSparsePairs("potts", 40, q=3, c=(2.0, 3.5), rows_per_instance=4)
    net = SparseMessagePassing("potts", 3, INF, n_layers=8, hidden=8, seed=0)
    hist = train_message_passing(net, data, TrainConfig(batch_size=3, epochs=3, lr=3e-3, device="cpu", patience=5),
                                 steps_per_epoch=8, val_instances=3)
    return net, data, hist


def test_trained_network_is_close_to_bp_and_the_no_graph_mutant_is_clearly_worse(trained):
    net, _, hist = trained
    assert hist.epochs_run >= 1 and all(math.isfinite(v) for v in hist.val_loss)
    held_out = PlantedSparsePairs("potts", 50, q=3, c=3.0, rows_per_instance=4)
    cmp = compare_with_bp(net, held_out, n_instances=8, seed=123, theta=0.3, device="cpu").summary()
    tol = 3 * cmp["ce_difference_stderr"] + 0.01
    assert cmp["ce_difference"] < tol
    assert cmp["mad"] < 0.05
    blind = SparseMessagePassing("potts", 3, INF, n_layers=8, hidden=8, use_graph=False)
    train_message_passing(blind, PlantedSparsePairs("potts", 40, q=3, c=(2.0, 3.5), rows_per_instance=4),
                          TrainConfig(batch_size=3, epochs=1, lr=3e-3, device="cpu"), steps_per_epoch=4,
                          val_instances=0)
    bad = compare_with_bp(blind, held_out, n_instances=8, seed=123, theta=0.3, device="cpu").summary()
    assert bad["ce_difference"] > 5 * bad["ce_difference_stderr"] and bad["ce_difference"] > tol


def test_gaussian_path_training_is_close_to_bp_and_the_no_graph_mutant_is_clearly_worse():
    beta = 2.0
    data = PlantedSparsePairs("naesat", 30, k=4, alpha=(2.0, 3.5), beta=beta, channel="gaussian", rows_per_instance=3,
                              t_max=10.0)
    net = SparseMessagePassing("naesat", 2, beta, n_layers=6, hidden=6, seed=1)
    blind = SparseMessagePassing("naesat", 2, beta, n_layers=1, hidden=6, use_graph=False, seed=1)
    cfg = TrainConfig(batch_size=2, epochs=2, lr=3e-3, device="cpu")
    for network in (net, blind):
        hist = train_message_passing(network, data, cfg, steps_per_epoch=4, val_instances=2)
        assert all(math.isfinite(v) for v in hist.train_loss + hist.val_loss)
    held_out = PlantedSparsePairs("naesat", 40, k=4, alpha=3.0, beta=beta, channel="gaussian", rows_per_instance=4)
    good = compare_with_bp(net, held_out, n_instances=8, seed=9, t=1.0, device="cpu").summary()
    tol = 3 * good["ce_difference_stderr"] + 0.01
    assert good["ce_difference"] < tol
    # the blind mutant is worse than BP on each of the 8 held-out instances (a sign test, p = 2^-8 under "no worse")
    # and on average by more than the tolerance the network meets
    bad = compare_with_bp(blind, held_out, n_instances=8, seed=9, t=1.0, device="cpu")
    excess = bad.summary()
    assert np.all(bad.ce_network > bad.ce_bp)
    assert excess["ce_difference"] > max(tol, 3 * excess["ce_difference_stderr"])


def test_training_checkpoints_round_trip_and_the_count_is_independent_of_n(trained, tmp_path):
    net, data, _ = trained
    path = tmp_path / "mp.pt"
    save_checkpoint(path, net, extra={"data": data.describe()})
    other = SparseMessagePassing(**{**net.hparams, "seed": 7})
    info = load_checkpoint(path, other)
    assert info["extra"]["data"]["family"] == "potts"
    for n in (30, 70):
        model = sg.PlantedColoring(n, 3, 3.0, seed=n)
        rev = planted_queries(model, 0.4, 2, seed=n)
        np.testing.assert_allclose(marginals(net, model, rev), marginals(other, model, rev), atol=1e-6)
    assert net.n_parameters == SparseMessagePassing.parameter_count(8, 8, net.time.dim)


# -- the drivers run unchanged over the network -----------------------------------------------------------------------
def mean_violations(model, spec, driver, seed: int, n_samples: int = 4) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = driver(spec).sample(model, n_samples, seed=seed)
    assert s.x.shape == (n_samples, model.n)
    return float(np.mean(model.energy(s.x)))


def paired_excess(a: list[float], b: list[float]) -> tuple[float, float]:
    d = np.asarray(a) - np.asarray(b)
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size))


AR = functools.partial(Autoregressive, on_contradiction="restart")


def test_autoregressive_over_the_trained_network_violates_no_more_than_bp(trained):
    net, _, _ = trained
    blind = SparseMessagePassing("potts", 3, INF, n_layers=2, hidden=4, use_graph=False)
    ours, ref, mutant = [], [], []
    for i in range(8):
        model = sg.PlantedColoring(30, 3, 3.0, seed=200 + i)
        ours.append(mean_violations(model, net.factory(device="cpu"), AR, seed=i))
        ref.append(mean_violations(model, BPDenoiser, AR, seed=i))
        mutant.append(mean_violations(model, blind.factory(device="cpu"), AR, seed=i))
    excess, se = paired_excess(ours, ref)
    assert excess <= 2 * se + 1e-12
    excess, se = paired_excess(mutant, ref)
    assert excess > 2 * se + 1e-12


def test_autoregressive_naesat_at_finite_beta_violates_no_more_than_bp():
    beta = 2.0
    net = SparseMessagePassing("naesat", 2, beta, n_layers=8, hidden=4)
    blind = SparseMessagePassing("naesat", 2, beta, n_layers=1, hidden=4, use_graph=False)
    ours, ref, mutant = [], [], []
    for i in range(8):
        model = sg.PlantedNAESAT(24, 4, 2.0, beta=beta, seed=300 + i)
        ours.append(mean_violations(model, net.factory(device="cpu"), AR, seed=i))
        ref.append(mean_violations(model, BPDenoiser, AR, seed=i))
        mutant.append(mean_violations(model, blind.factory(device="cpu"), AR, seed=i))
    excess, se = paired_excess(ours, ref)
    assert excess <= 2 * se
    excess, se = paired_excess(mutant, ref)
    assert excess > 2 * se


def test_stochastic_localization_over_the_network_violates_no_more_than_bp():
    beta = 2.0
    net = SparseMessagePassing("potts", 3, beta, n_layers=8, hidden=4)
    blind = SparseMessagePassing("potts", 3, beta, n_layers=1, hidden=4, use_graph=False)
    sl = functools.partial(StochasticLocalization, schedule="geometric", T=20.0, n_steps=25)
    ours, ref, mutant = [], [], []
    for i in range(8):
        model = sg.PlantedColoring(30, 3, 3.0, beta=beta, seed=400 + i)
        ours.append(mean_violations(model, net.factory(device="cpu"), sl, seed=i))
        ref.append(mean_violations(model, functools.partial(BPDenoiser, damping=0.3), sl, seed=i))
        mutant.append(mean_violations(model, blind.factory(device="cpu"), sl, seed=i))
    excess, se = paired_excess(ours, ref)
    assert excess <= 2 * se
    excess, se = paired_excess(mutant, ref)
    assert excess > 2 * se


# -- symmetry ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("family", ["potts", "naesat"])
def test_network_is_equivariant_under_value_permutations_and_a_biased_mutant_is_not(family):
    if family == "potts":
        model, K = sg.PlantedColoring(30, 4, 3.0, seed=5), 4
    else:
        model, K = sg.PlantedNAESAT(30, 4, 2.0, seed=5), 2
    net = SparseMessagePassing.for_model(model, n_layers=3, hidden=6, dtype=F64, seed=1)
    with torch.no_grad():  # a generic (trained-like) network: non-zero corrections everywhere
        for p in net.parameters():
            p.add_(0.5 * torch.randn(p.shape, generator=gen(2), dtype=F64))
    graph = SparseGraph.from_model(model)
    rev = torch.as_tensor(planted_queries(model, 0.3, 2, seed=3))
    field = torch.randn((2, model.n, K), generator=gen(4), dtype=F64)
    perm = torch.as_tensor(np.random.default_rng(6).permutation(K)) if K > 2 else torch.tensor([1, 0])
    inv = torch.argsort(perm)

    def check(network) -> float:
        with torch.no_grad():
            a = network(graph, field, rev)
            b = network(graph, field[..., inv], torch.where(rev >= 0, perm[rev.clamp_min(0)], rev))
        return float((a[..., inv] - b).abs().max())

    assert check(net) < 1e-10
    with torch.no_grad():
        uniform = torch.exp(net(graph, None, torch.full((1, model.n), -1)))
    assert float((uniform - 1.0 / K).abs().max()) < 1e-12
    orig = net.readout.forward
    net.readout.forward = lambda f, s: orig(f, s) + 0.2 * torch.arange(K, dtype=F64)
    assert check(net) > 1e-3


# -- bad input ---------------------------------------------------------------------------------------------------
def test_bad_input_raises_value_error_naming_the_parameter():
    model = sg.PlantedColoring(20, 3, 2.0, seed=0)
    net = SparseMessagePassing.for_model(model, n_layers=2, hidden=4)
    graph = SparseGraph.from_model(model)
    bad = [
        (lambda: SparseMessagePassing("ising", 2, 1.0), "family"),
        (lambda: SparseMessagePassing("potts", 3, 1.0, n_layers=0), "n_layers"),
        (lambda: SparseMessagePassing("potts", 3, 1.0, damping=1.0), "damping"),
        (lambda: SparseMessagePassing("potts", 3, 1.0, passes=0), "passes"),
        (lambda: SparseMessagePassing("potts", 3, -1.0), "beta"),
        (lambda: SparseMessagePassing("naesat", 3, 1.0), "n_values"),
        (lambda: PlantedSparsePairs("potts", 20, q=3), "c"),
        (lambda: PlantedSparsePairs("potts", 20, q=3, c=2.0, theta=(0.6, 0.2)), "theta"),
        (lambda: PlantedSparsePairs("potts", 20, q=3, c=2.0, channel="bsc"), "channel"),
        (lambda: PlantedSparsePairs("naesat", 20, k=4, alpha=(3.0, 1.0)), "alpha"),
        (lambda: PlantedSparsePairs("naesat", 20, k=4, alpha=1.0).draw(1, gen(0), t=1.0), "t"),
        (lambda: net(graph, None, torch.full((1, 20), 3)), "revealed"),
        (lambda: net(graph, torch.zeros(1, 20, 2), None), "field"),
        (lambda: net(SparseGraph.from_model(sg.PlantedColoring(20, 3, 2.0, beta=1.0, seed=0)), None,
                     torch.full((1, 20), -1)), "beta"),
        (lambda: MessagePassingDenoiser(net, sg.PlantedColoring(20, 4, 2.0, seed=0)), "model"),
        (lambda: MessagePassingDenoiser(net, model, passes=0), "passes"),
        (lambda: MessagePassingDenoiser(net, model, passes=3, max_passes=2, tol=1e-6), "max_passes"),
        (lambda: MessagePassingDenoiser(net, model, max_passes=5), "max_passes"),
        (lambda: MessagePassingDenoiser(net, model, device="cpu").marginals(np.full(20, 5)), "revealed"),
        (lambda: train_message_passing(net, PlantedSparsePairs("potts", 20, q=4, c=2.0)), "data"),
    ]
    for call, name in bad:
        with pytest.raises(ValueError, match=name):
            call()
    # mutant: valid input of the same kinds passes
    PlantedSparsePairs("potts", 20, q=3, c=2.0, theta=(0.2, 0.6)).draw(1, gen(0))
    assert net(graph, None, torch.full((1, 20), 2)).shape == (1, 20, 3)
    with pytest.raises(TypeError, match="model"):
        MessagePassingDenoiser(net, sg.SpikedWigner(20, 1.0, sg.Rademacher(), seed=0))
