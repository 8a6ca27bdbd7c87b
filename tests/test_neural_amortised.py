"""Amortised unrolled-AMP denoiser (samplers.neural.amortised_amp) and its planted-pair data and training.

Every statistical check comes with a mutant that must fail it (so the check has power):

* untrained network == L iterations of ``AMPDenoiser(init="prior")`` to float64 round-off; mutant: the
  network with the Onsager term switched off differs by far more than the tolerance.
* planted pairs follow ``spinglass.SpikedWigner``'s law: noise-entry moments and the spike (tolerances of
  5 standard errors of the M instances drawn), two-sample Kolmogorov-Smirnov tests of instance statistics
  against instances built by ``SpikedWigner`` itself (p > 1e-3 each); mutants: wrong noise scale, spike
  missing or mis-scaled, wrong lam.  The spinglass backend equals the model's constructor bit for bit.
* a briefly trained network's MSE at three t is within 5% + 4 paired standard errors of converged AMP
  on the same (instance, y) pairs; mutant: the same training with J zeroed (the network sees no instance).
* ``AmortisedDenoiser`` with warm start and random start, untrained, == ``AMPDenoiser(warm_start=True,
  init="random")`` over a sequence of path queries (same run generator); mutant: no warm start differs.

Torch runs on one CPU thread here (``torch_one_thread`` fixture).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from scipy import stats

import spinglass as sg
from samplers.denoisers import AMPDenoiser
from samplers.diffusion import StochasticLocalization
from samplers.flow import StochasticInterpolant
from samplers.neural import (
    AmortisedAMP,
    NeuralDenoiser,
    PlantedSpikedWigner,
    TrainConfig,
    load_checkpoint,
    planted_mse,
    save_checkpoint,
    train_amortised_denoiser,
)
from samplers.samples import Samples

pytestmark = pytest.mark.usefixtures("torch_one_thread")

F64 = torch.float64
PRIORS = {"rademacher": sg.Rademacher(), "sparse": sg.SparseRademacher(0.3), "gaussian": sg.Gaussian()}


def gen(seed: int) -> torch.Generator:
    return torch.Generator(device="cpu").manual_seed(seed)


def channel(model, t, seed):
    rng = np.random.default_rng(seed)
    t = np.asarray(t, dtype=float)
    return t[:, None] * model.planted + np.sqrt(t)[:, None] * rng.standard_normal((t.size, model.n))


def amp_steps(model, y, t, L):
    """Exactly L iterations of the project's AMP from the prior start (no early stop: tol ~ 0)."""
    amp = AMPDenoiser(model, init="prior", max_iter=L, tol=1e-300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return amp.posterior(y=y, t=t)


# -- the network at initialisation is AMP --------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(PRIORS))
def test_untrained_network_is_L_iterations_of_amp_and_the_no_onsager_mutant_is_not(name):
    prior = PRIORS[name]
    model = sg.SpikedWigner(40, 1.7, prior, seed=3)
    L = 6
    t = np.array([0.0, 0.05, 0.3, 1.0, 2.5, 8.0])
    y = channel(model, t, 0)
    net = AmortisedAMP(prior, n_layers=L, hidden=8, dtype=F64, seed=1)
    out = NeuralDenoiser(net.bind(model), model, device="cpu").posterior(y=y, t=t)
    ref = amp_steps(model, y, t, L)
    np.testing.assert_allclose(out.mean, ref.mean, atol=1e-10, rtol=0)
    if ref.marginals is not None:
        np.testing.assert_allclose(out.marginals, ref.marginals, atol=1e-10, rtol=0)
    # mutant: reaction coefficient omega = lam <v> (1 + a) with a = -1, i.e. no Onsager term
    with torch.no_grad():
        for layer in net.layers:
            layer.coef_out.bias[0] = -1.0
    mutant = NeuralDenoiser(net.bind(model), model, device="cpu").mean(y, t)
    assert np.max(np.abs(mutant - ref.mean)) > 1e-3


def test_warm_started_random_start_network_is_warm_started_amp_and_reset_forgets():
    """Untrained, warm start + random start (run generator) == AMPDenoiser(warm_start, init="random", max_iter=L)
    over a sequence of path queries; P passes == L P iterations; mutant: no warm start differs."""
    from samplers.neural import AmortisedDenoiser

    model = sg.SpikedWigner(40, 1.7, sg.SparseRademacher(0.3), seed=3)
    L = 3
    net = AmortisedAMP(model.prior, n_layers=L, hidden=4, dtype=F64)
    den = AmortisedDenoiser(net, model, warm_start=True, init_scale=1e-3, device="cpu", batch_size=3)
    cold = AmortisedDenoiser(net, model, init_scale=1e-3, device="cpu")
    amp = AMPDenoiser(model, init="random", init_scale=1e-3, max_iter=L, tol=1e-300, warm_start=True)
    rng = np.random.default_rng(0)
    for run in range(2):
        for d in (den, amp, cold):
            d.reset(np.random.default_rng(10 + run))
        y = np.zeros((5, 40))
        gap_cold = 0.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for t in (0.0, 0.1, 0.3, 0.6):
                a, b = den.posterior(y=y, t=t), amp.posterior(y=y, t=t)
                np.testing.assert_allclose(a.mean, b.mean, atol=1e-10, rtol=0)
                np.testing.assert_allclose(a.marginals, b.marginals, atol=1e-10, rtol=0)
                gap_cold = max(gap_cold, np.max(np.abs(cold.mean(y, t) - b.mean)))
                y = y + 0.3 * model.planted + 0.5 * rng.standard_normal((5, 40))
        assert gap_cold > 1e-3
    rng = np.random.default_rng(1)
    t = rng.uniform(0, 2, 5)
    y = channel(model, t, 2)
    multi = AmortisedDenoiser(net, model, max_passes=3, tol=1e-300, device="cpu")
    out = multi.posterior(y=y, t=t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(out.mean, amp_steps(model, y, t, 3 * L).mean, atol=1e-10, rtol=0)
    assert np.all(out.iterations == 3 * L) and not np.any(out.converged)
    loose = AmortisedDenoiser(net, model, max_passes=200, tol=1e-6, device="cpu").posterior(y=y, t=t)
    assert np.all(loose.converged) and np.all(loose.residual < 1e-6)


def test_batched_instances_equal_one_by_one_and_mean_is_odd_in_y():
    prior = sg.SparseRademacher(0.3)
    data = PlantedSpikedWigner(25, (1.0, 3.0), prior, rows_per_instance=5, dtype=F64)
    pb = data.draw(3, gen(0))
    net = AmortisedAMP(prior, n_layers=4, hidden=6, dtype=F64, seed=2)
    with torch.no_grad():  # non-zero learned parts, so that the checks are not trivially met at AMP
        for p in net.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=gen(5), dtype=F64))
        m, probs = net.posterior(pb.J, pb.y, pb.t, pb.lam)
        for i in range(3):
            mi, pi = net.posterior(pb.J[i], pb.y[i], pb.t[i], pb.lam[i])
            torch.testing.assert_close(mi, m[i], atol=1e-12, rtol=0)
            torch.testing.assert_close(pi, probs[i], atol=1e-12, rtol=0)
        torch.testing.assert_close(probs.sum(-1), torch.ones_like(m), atol=1e-12, rtol=0)
        minus = net(pb.J, -pb.y, pb.t, pb.lam)
        torch.testing.assert_close(minus, -m, atol=1e-12, rtol=0)
        net.symmetric = False  # mutant: the per-site correction is not symmetrised
        assert (net(pb.J, -pb.y, pb.t, pb.lam) + net(pb.J, pb.y, pb.t, pb.lam)).abs().max() > 1e-3


def test_parameter_count_is_independent_of_n_and_matches_the_formula():
    net = AmortisedAMP(sg.SparseRademacher(0.3), n_layers=3, hidden=5, n_frequencies=2)
    assert net.n_parameters == AmortisedAMP.parameter_count(3, 5, 3, 5)
    assert AmortisedAMP(sg.Gaussian(), n_layers=2, hidden=4).n_parameters == AmortisedAMP.parameter_count(2, 4, None, 7)
    for n in (12, 30):
        bound = net.bind(sg.SpikedWigner(n, 2.0, sg.SparseRademacher(0.3), seed=0))
        assert bound.n_parameters == net.n_parameters and bound.n == n


# -- planted pairs follow the model's law --------------------------------------------------------------------
def law_failures(J: np.ndarray, x: np.ndarray, lam: float) -> list[str]:
    """Checks of J_ij = (lam/n) x_i x_j + sqrt(lam/n) W_ij (i < j), W i.i.d. N(0, 1), J symmetric, zero diagonal,
    for M instances J (M, n, n), x (M, n); tolerances 5 standard errors of the N = M n (n - 1) / 2 entries."""
    M, n, _ = J.shape
    fails = []
    if not np.allclose(J, J.transpose(0, 2, 1), atol=0) or np.any(np.diagonal(J, axis1=1, axis2=2) != 0):
        fails.append("structure")
    iu = np.triu_indices(n, 1)
    xx = (x[:, :, None] * x[:, None, :])[:, iu[0], iu[1]]
    Jij = J[:, iu[0], iu[1]]
    W = (Jij - lam / n * xx) / math.sqrt(lam / n)
    N = W.size
    if abs(W.mean()) > 5 / math.sqrt(N):
        fails.append(f"noise mean {W.mean():.4f}")
    if abs(W.var() - 1) > 5 * math.sqrt(2 / N):
        fails.append(f"noise variance {W.var():.4f}")
    if abs(np.mean(W**4) - 3) > 5 * math.sqrt(96 / N):
        fails.append(f"noise fourth moment {np.mean(W**4):.3f}")
    # spike: E[J_ij x_i x_j] n / lam = E[x_i^2 x_j^2] (= 1 on average); noise part has std sqrt(n/lam) / sqrt(N)
    spike = np.mean(Jij * xx) * n / lam
    ref = np.mean(xx**2)
    if abs(spike - ref) > 5 * math.sqrt(n / lam * np.mean(xx**2) / N):
        fails.append(f"spike {spike:.4f} vs {ref:.4f}")
    return fails


@pytest.mark.parametrize("name", ["rademacher", "sparse"])
def test_torch_instances_follow_the_spiked_wigner_law_and_mutants_fail(name):
    prior = PRIORS[name]
    n, lam, M = 30, 2.0, 200
    J, lams, x = PlantedSpikedWigner(n, lam, prior, dtype=F64).instances(M, gen(1))
    J, x = J.numpy(), x.numpy()
    assert torch.all(lams == lam)
    assert law_failures(J, x, lam) == []
    noise = J - (lam / n) * x[:, :, None] * x[:, None, :] * (1 - np.eye(n))
    signal = J - noise
    assert law_failures(signal + 1.1 * noise, x, lam), "noise scale x 1.1 not detected"
    assert law_failures(noise, x, lam), "missing spike not detected"
    assert law_failures(noise + signal * math.sqrt(n / lam), x, lam), "spike sqrt(lam/n) not detected"


def test_torch_backend_matches_spinglass_spiked_wigner_in_two_sample_tests_and_wrong_lam_fails():
    prior, n, lam, M = sg.SparseRademacher(0.3), 20, 1.5, 200

    def statistics(J, x):
        return (np.einsum("mi,mij,mj->m", x, J, x) / n, np.sum(J**2, axis=(1, 2)) / n,
                np.linalg.eigvalsh(J)[:, -1], np.sum(x**2, axis=1) / n)

    ref_models = [sg.SpikedWigner(n, lam, prior, seed=1000 + k) for k in range(M)]
    ref = statistics(np.stack([m.couplings for m in ref_models]), np.stack([m.planted for m in ref_models]))
    J, _, x = PlantedSpikedWigner(n, lam, prior, dtype=F64).instances(M, gen(2))
    ours = statistics(J.numpy(), x.numpy())
    assert all(stats.ks_2samp(a, b).pvalue > 1e-3 for a, b in zip(ours, ref, strict=True))
    J, _, x = PlantedSpikedWigner(n, 1.3 * lam, prior, dtype=F64).instances(M, gen(2))  # mutant: wrong lam
    wrong = statistics(J.numpy(), x.numpy())
    assert min(stats.ks_2samp(a, b).pvalue for a, b in zip(wrong, ref, strict=True)) < 1e-3


def test_planted_prior_frequencies_and_gaussian_moments():
    n, M = 50, 80
    _, _, x = PlantedSpikedWigner(n, 1.0, sg.SparseRademacher(0.3), dtype=F64).instances(M, gen(3))
    counts = np.array([(x.numpy() == v).sum() for v in sg.SparseRademacher(0.3).values])
    assert stats.chisquare(counts, M * n * np.array([0.15, 0.7, 0.15])).pvalue > 1e-3
    assert stats.chisquare(counts, M * n * np.array([0.2, 0.6, 0.2])).pvalue < 1e-3  # mutant: wrong rho
    _, _, g = PlantedSpikedWigner(n, 1.0, sg.Gaussian(), dtype=F64).instances(M, gen(4))
    g = g.numpy().ravel()
    assert abs(g.mean()) < 5 / math.sqrt(g.size) and abs(g.var() - 1) < 5 * math.sqrt(2 / g.size)


def test_side_channel_and_time_law():
    data = PlantedSpikedWigner(20, 2.0, sg.Rademacher(), rows_per_instance=400, t_min=0.01, t_max=10.0, p_zero=0.1,
                               dtype=F64)
    pb = data.draw(5, gen(5))
    t = pb.t.numpy().ravel()
    zero = t == 0
    assert abs(zero.mean() - 0.1) < 5 * math.sqrt(0.1 * 0.9 / t.size)
    u = (np.log(t[~zero]) - math.log(0.01)) / (math.log(10.0) - math.log(0.01))
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    pos = pb.t > 0
    z = ((pb.y - pb.t[..., None] * pb.x[:, None, :]) / torch.sqrt(pb.t)[..., None])[pos].numpy().ravel()
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert stats.kstest(2 * z, "norm").pvalue < 1e-3  # mutant: noise sqrt(t) doubled
    assert torch.all(pb.y[~pos] == 0)
    fixed = data.draw(2, gen(6), t=0.7)
    assert torch.all(fixed.t == 0.7)


def test_draws_are_reproducible_and_the_spinglass_backend_is_the_model_constructor():
    data = PlantedSpikedWigner(15, 2.0, sg.SparseRademacher(0.3), rows_per_instance=3)
    a, b, c = data.draw(2, gen(7)), data.draw(2, gen(7)), data.draw(2, gen(8))
    for k in ("J", "lam", "x", "t", "y"):
        assert torch.equal(getattr(a, k), getattr(b, k))
    assert not torch.equal(a.J, c.J)
    ref = PlantedSpikedWigner(15, 2.0, sg.SparseRademacher(0.3), backend="spinglass", dtype=F64)
    J, _, x = ref.instances(2, gen(9))
    seeds = torch.randint(0, 2**63 - 1, (2,), generator=gen(9), dtype=torch.int64).tolist()
    for k, s in enumerate(seeds):
        model = sg.SpikedWigner(15, 2.0, sg.SparseRademacher(0.3), seed=int(s))
        np.testing.assert_array_equal(J[k].numpy(), model.couplings)
        np.testing.assert_array_equal(x[k].numpy(), model.planted)


# -- training ----------------------------------------------------------------------------------------------
class _NoInstance(PlantedSpikedWigner):
    """Mutant data: J replaced by 0, so that a network trained on it never sees the instance."""

    def instances(self, count, generator):
        J, lam, x = super().instances(count, generator)
        return torch.zeros_like(J), lam, x


def _fit(data, seed=0):
    net = AmortisedAMP(data.prior, n_layers=8, hidden=8, seed=seed)
    cfg = TrainConfig(epochs=3, batch_size=4, lr=3e-3, patience=5, seed=seed, device="cpu")
    hist = train_amortised_denoiser(net, data, cfg, steps_per_epoch=8, val_instances=8)
    return net, hist


@pytest.fixture(scope="module")
def trained(torch_one_thread):
    prior = sg.Rademacher()
    data = PlantedSpikedWigner(40, 2.0, prior, rows_per_instance=16, t_min=0.01, t_max=50.0)
    net, hist = _fit(data)
    blind, _ = _fit(_NoInstance(40, 2.0, prior, rows_per_instance=16, t_min=0.01, t_max=50.0))
    return data, net, hist, blind


def test_briefly_trained_mse_is_near_amp_mmse_and_the_blind_mutant_is_not(trained):
    data, net, hist, blind = trained
    assert hist.epochs_run == 3 and len(hist.val_loss) == 3 and np.isfinite(hist.best_val_loss)
    M, R, ts = 40, 16, (0.3, 1.0, 3.0)
    rng = np.random.default_rng(11)
    diff = {"net": np.zeros((len(ts), M)), "blind": np.zeros((len(ts), M))}
    amp_mse = np.zeros((len(ts), M))
    for i in range(M):
        model = sg.SpikedWigner(40, 2.0, sg.Rademacher(), seed=500 + i)
        amp = AMPDenoiser(model, init="prior", tol=1e-9, max_iter=1000)
        den = NeuralDenoiser(net.bind(model), model, device="cpu")
        blind_den = NeuralDenoiser(blind.bind(model), model, device="cpu")
        blind_den.network.couplings.zero_()  # the blind mutant sees J = 0, as in its training
        for k, t in enumerate(ts):
            y = t * model.planted + math.sqrt(t) * rng.standard_normal((R, 40))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                a = np.mean((amp.mean(y, t) - model.planted) ** 2)
            amp_mse[k, i] = a
            diff["net"][k, i] = np.mean((den.mean(y, t) - model.planted) ** 2) - a
            diff["blind"][k, i] = np.mean((blind_den.mean(y, t) - model.planted) ** 2) - a

    def within(d):
        bound = 0.05 * amp_mse.mean(axis=1) + 4 * d.std(axis=1, ddof=1) / math.sqrt(M)
        return d.mean(axis=1) <= bound

    assert np.all(within(diff["net"])), (diff["net"].mean(axis=1), amp_mse.mean(axis=1))
    assert not np.any(within(diff["blind"])), (diff["blind"].mean(axis=1), amp_mse.mean(axis=1))


def test_training_is_reproducible_and_checkpoints_round_trip(trained, tmp_path):
    data, net, _, _ = trained
    again, _ = _fit(data)
    for p, q in zip(net.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(p, q)
    path = tmp_path / "amortised.pt"
    save_checkpoint(path, net, extra={"data": data.describe()})
    fresh = AmortisedAMP(sg.Rademacher(), n_layers=8, hidden=8, seed=99)
    info = load_checkpoint(path, fresh)
    assert info["extra"]["data"]["n"] == 40
    res = [planted_mse(m, data, [0.5], n_instances=3, seed=4, device="cpu").mse for m in (net, fresh)]
    np.testing.assert_array_equal(res[0], res[1])


# -- behind the drivers --------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:.*did not converge")  # the capped passes of the warm-started variant
@pytest.mark.parametrize("name", ["rademacher", "gaussian"])
def test_network_runs_inside_stochastic_localization_and_interpolant(name):
    prior = PRIORS[name]
    model = sg.SpikedWigner(30, 2.0, prior, seed=0)
    net = AmortisedAMP(prior, n_layers=5, hidden=4)
    factory = net.factory(device="cpu")
    warm = net.factory(device="cpu", warm_start=True, init_scale=1e-3, max_passes=3)
    for driver in (StochasticLocalization(factory, n_steps=12, trajectory=True),
                   StochasticInterpolant(factory, n_steps=6, T=50.0), StochasticLocalization(warm, n_steps=12)):
        res = driver.sample(model, 4, seed=1)
        assert isinstance(res, Samples) and res.x.shape == (4, 30) and np.all(np.isfinite(res.x))
        assert res.work["denoiser_calls"] > 0
        if prior.discrete:
            assert set(np.unique(res.x)) <= {-1.0, 1.0}
    with pytest.raises(ValueError, match="prior"):  # mutant: a network of another prior
        factory(sg.SpikedWigner(30, 2.0, sg.Rademacher() if name == "gaussian" else sg.Gaussian(), seed=0))
    other = sg.SpikedWigner(30, 2.0, prior, seed=1)
    with pytest.raises(ValueError, match="instance"):
        NeuralDenoiser(net.bind(model), other, device="cpu")


# -- bad input -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,match", [
    (dict(n=1), "n"), (dict(lam=-1.0), "lam"), (dict(lam=(2.0, 1.0)), "lam"), (dict(lam=(0.0, 1.0)), "lam"),
    (dict(rows_per_instance=0), "rows_per_instance"), (dict(t_min=1.0, t_max=0.5), "t_max"),
    (dict(t_min=-1.0), "t_min"), (dict(p_zero=1.0), "p_zero"), (dict(backend="numpy"), "backend"),
    (dict(dtype=torch.float16), "dtype"),
])
def test_generator_bad_input_names_the_parameter(kwargs, match):
    args = {"n": 10, "lam": 1.0, "prior": sg.Rademacher(), **kwargs}
    with pytest.raises(ValueError, match=match):
        PlantedSpikedWigner(args.pop("n"), args.pop("lam"), args.pop("prior"), **args)


def test_network_and_training_bad_input_names_the_parameter():
    net = AmortisedAMP(sg.Rademacher(), n_layers=2, hidden=3)
    J, y = torch.zeros(5, 5), torch.zeros(2, 5)
    with pytest.raises(ValueError, match="n_layers"):
        AmortisedAMP(sg.Rademacher(), n_layers=0)
    with pytest.raises(ValueError, match="J"):
        net.posterior(torch.zeros(5, 4), y, 0.0, 1.0)
    with pytest.raises(ValueError, match="y"):
        net.posterior(J, torch.zeros(2, 4), 0.0, 1.0)
    with pytest.raises(ValueError, match="t"):
        net.posterior(J, y, torch.ones(3), 1.0)
    with pytest.raises(ValueError, match="t"):
        net.posterior(J, y, -1.0, 1.0)
    with pytest.raises(ValueError, match="lam"):
        net.posterior(J, y, 0.0, 0.0)
    data = PlantedSpikedWigner(10, 1.0, sg.Gaussian())
    with pytest.raises(ValueError, match="prior"):
        train_amortised_denoiser(net, data)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        train_amortised_denoiser(net, PlantedSpikedWigner(10, 1.0, sg.Rademacher()), steps_per_epoch=0)
    with pytest.raises(ValueError, match="ts"):
        planted_mse(net, PlantedSpikedWigner(10, 1.0, sg.Rademacher()), [-1.0])
    with pytest.raises(ValueError, match="count"):
        PlantedSpikedWigner(10, 1.0, sg.Rademacher()).draw(0, gen(0))
    with pytest.raises(ValueError, match="t"):
        PlantedSpikedWigner(10, 1.0, sg.Rademacher()).draw(1, gen(0), t=-0.5)
