"""The erasure (autoregressive) path of the amortised dense networks (issue 17, item 2).

Every statistical check comes with a mutant that must fail it:

* erasure planted pairs reveal x* on uniform subsets of exactly round(theta n) sites; the per-site inclusion
  counts pass a chi-square test of uniformity (mutant: the first k sites always, rejected); the Gaussian
  channel's draws are unchanged for existing seeds (checksums recorded before the option existed); MSE(theta) of
  ``planted_mse`` is exact at theta = 0 and 1.
* untrained ``erasure=True`` network == L iterations of ``AMPDenoiser(init="prior")`` on queries with revealed
  variables, for p = 2 and p = 3, Rademacher and sparse Rademacher priors (float64 round-off); mutant: the
  Onsager term switched off.
* ``Autoregressive`` over the untrained network (warm start, random start) draws the very same samples as over
  ``AMPDenoiser(warm_start=True, init="random", max_iter=L)`` with the same seed, p = 2 and 3; mutant: the
  network without warm start draws other samples.
* training on erasure pairs from a start off AMP (Onsager term off, J term halved) lowers the held-out erasure
  MSE against x* by more than 4 paired standard errors and reaches the AMP network's MSE within 5% + 4 paired
  standard errors; mutant: the same training with every instance's J replaced by another instance's (the
  network never sees its own instance) fails the second part.
* ``Autoregressive`` over a briefly trained network vs over ``AMPDenoiser`` (the study's driver settings) at an
  easy point, SpikedWigner (lam = 2) and SpikedTensor (p = 3, T = 0.9): the paired per-instance differences of
  the overlap with x* and of the energy gap are within 3 standard errors (over instances) + a small floor;
  mutant: the learned denoiser fed another instance's couplings fails (overlap for p = 2, energy gap for p = 3,
  where at n = 30 every sampler's overlap is at the random level).

Torch runs on one CPU thread (``torch_one_thread``).
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pytest
import torch
from scipy import stats

import spinglass as sg
from analysis.measures.metrics import energy_nishimori_gap, overlap_with_planted
from samplers import Autoregressive
from samplers.denoisers import AMPDenoiser
from samplers.neural import AmortisedAMP, AmortisedDenoiser, PlantedSpikedWigner, TrainConfig, planted_mse
from samplers.neural.amortised_tensor import AmortisedTensorAMP, PlantedSpikedTensor
from samplers.neural.amortised_training import train_amortised_denoiser

pytestmark = pytest.mark.usefixtures("torch_one_thread")

F64 = torch.float64


def gen(seed: int) -> torch.Generator:
    return torch.Generator(device="cpu").manual_seed(seed)


def make_model(p: int, n: int, prior, seed: int, lam: float = 1.7, T: float = 0.7):
    if p == 2:
        return sg.SpikedWigner(n, lam, prior, seed=seed)
    return sg.SpikedTensor.from_temperature(n, p, T, prior, seed=seed)


def make_net(p: int, prior, L: int, **kw):
    if p == 2:
        return AmortisedAMP(prior, n_layers=L, hidden=kw.pop("hidden", 8), erasure=True, **kw)
    return AmortisedTensorAMP(prior, p=p, n_layers=L, hidden=kw.pop("hidden", 8), erasure=True, **kw)


def revealed_rows(model, fractions, seed: int) -> np.ndarray:
    """Rows revealing x* on uniform subsets of the given sizes (value indices, -1 free)."""
    rng = np.random.default_rng(seed)
    idx = np.searchsorted(np.asarray(model.alphabet), model.planted)
    rev = np.full((len(fractions), model.n), -1)
    for b, th in enumerate(fractions):
        S = rng.permutation(model.n)[:round(th * model.n)]
        rev[b, S] = idx[S]
    return rev


def quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **k)


# -- planted pairs on the erasure channel ---------------------------------------------------------------------
def test_erasure_pairs_reveal_x_star_on_uniform_subsets_and_the_first_k_mutant_is_rejected():
    n, R, I = 30, 50, 40
    data = PlantedSpikedWigner(n, 2.0, sg.SparseRademacher(0.3), rows_per_instance=R, channel="erasure",
                               theta=(0.2, 0.7))
    b = data.draw(I, gen(0))
    assert b.revealed.shape == (I, R, n) and b.revealed.dtype == torch.int64
    assert torch.all(b.y == 0) and torch.all(b.t == 0)
    values = torch.as_tensor(np.array(sg.SparseRademacher(0.3).values), dtype=b.x.dtype)
    shown = b.revealed >= 0
    got = values[b.revealed.clamp_min(0)]
    assert torch.all(torch.where(shown, got == b.x[:, None, :].expand_as(got), torch.ones_like(shown)))
    theta = b.theta
    assert torch.all((theta >= 0.2 - 0.5 / n) & (theta <= 0.7 + 0.5 / n))
    # fixed theta: exactly round(theta n) revealed per row, each site with probability k / n
    fixed = data.draw(I, gen(1), theta=0.4)
    kk = round(0.4 * n)
    assert torch.all((fixed.revealed >= 0).sum(dim=-1) == kk)
    counts = (fixed.revealed >= 0).sum(dim=(0, 1)).double().numpy()
    expected = I * R * kk / n
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    # rows are uniform k-subsets: site counts are multivariate hypergeometric sums, variance below the multinomial's
    assert stats.chi2.sf(chi2, n - 1) > 1e-3
    first_k = np.zeros(n)
    first_k[:kk] = I * R  # mutant: always the first k sites
    assert stats.chi2.sf(float(np.sum((first_k - expected) ** 2 / expected)), n - 1) < 1e-3


def test_gaussian_channel_draws_are_unchanged_for_existing_seeds():
    """Checksums of two Gaussian-channel batches recorded before the erasure option existed."""
    b = PlantedSpikedWigner(30, 1.5, sg.Rademacher(), rows_per_instance=3).draw(2, gen(5))
    assert b.revealed is None and b.theta is None
    np.testing.assert_allclose([float(b.J.sum()), float(b.y.sum()), float(b.t.sum()), float(b.x.sum())],
                               [6.452651023864746, 175.14495849609375, 22.027042388916016, 2.0], rtol=1e-6)
    b = PlantedSpikedTensor(12, 3, 0.8, sg.Rademacher(), rows_per_instance=3).draw(2, gen(5))
    np.testing.assert_allclose([float(b.J.sum()), float(b.y.sum()), float(b.t.sum()), float(b.x.sum())],
                               [-20.8990535736084, -165.2274627685547, 47.8251953125, 2.0], rtol=1e-6)
    e = PlantedSpikedTensor(12, 3, 0.8, sg.Rademacher(), rows_per_instance=3, channel="erasure").draw(2, gen(5))
    assert e.revealed.shape == (2, 3, 12) and float(e.J.sum()) == pytest.approx(-20.8990535736084, rel=1e-6)


def test_erasure_options_reject_bad_input_with_clear_messages():
    with pytest.raises(ValueError, match="channel must be one of"):
        PlantedSpikedWigner(10, 1.0, sg.Rademacher(), channel="masked")
    with pytest.raises(ValueError, match="DiscretePrior"):
        PlantedSpikedWigner(10, 1.0, sg.Gaussian(), channel="erasure")
    with pytest.raises(ValueError, match="theta must be a range"):
        PlantedSpikedWigner(10, 1.0, sg.Rademacher(), channel="erasure", theta=(0.5, 1.5))
    with pytest.raises(ValueError, match="theta"):
        PlantedSpikedWigner(10, 1.0, sg.Rademacher()).draw(1, gen(0), theta=0.3)
    with pytest.raises(ValueError, match="no path time"):
        PlantedSpikedWigner(10, 1.0, sg.Rademacher(), channel="erasure").draw(1, gen(0), t=0.3)
    with pytest.raises(ValueError, match="theta must be a real number in"):
        PlantedSpikedWigner(10, 1.0, sg.Rademacher(), channel="erasure").draw(1, gen(0), theta=1.2)
    with pytest.raises(ValueError, match="erasure=True: revealed variables need a finite alphabet"):
        AmortisedAMP(sg.Gaussian(), n_layers=1, erasure=True)
    model = sg.SpikedWigner(12, 1.5, sg.Rademacher(), seed=0)
    rev = revealed_rows(model, [0.5], 0)
    gaussian_only = AmortisedAMP(sg.Rademacher(), n_layers=2, hidden=4)
    for kw in ({}, {"warm_start": True, "init_scale": 1e-3}):
        with pytest.raises(ValueError, match="Gaussian channel only.*erasure=True"):
            AmortisedDenoiser(gaussian_only, model, device="cpu", **kw).posterior(y=np.zeros((1, 12)), t=0.0,
                                                                                    revealed=rev)
    with pytest.raises(ValueError, match="erasure=False"):
        train_amortised_denoiser(gaussian_only, PlantedSpikedWigner(12, 1.5, sg.Rademacher(), channel="erasure"))
    net = make_net(2, sg.Rademacher(), 2)
    with pytest.raises(ValueError, match="revealed must have y's shape"):
        net(torch.tensor(np.array(model.couplings), dtype=torch.float32), torch.zeros(2, 12), 0.0, 1.5,
            torch.full((3, 12), -1))
    with pytest.raises(ValueError, match="value indices in"):
        net(torch.tensor(np.array(model.couplings), dtype=torch.float32), torch.zeros(1, 12), 0.0, 1.5,
            torch.full((1, 12), 2))
    with pytest.raises(ValueError, match="revealed fractions theta in"):
        planted_mse(net, PlantedSpikedWigner(12, 1.5, sg.Rademacher(), channel="erasure"), [0.5, 2.0], device="cpu")


def test_planted_mse_on_the_erasure_channel_is_exact_at_the_ends():
    """MSE(theta) over all sites: 0 with everything revealed, 1 with nothing revealed for a sign-symmetric prior
    (the prior start is the symmetric fixed point: E[x | J] = 0), and in between for a partial reveal."""
    net = make_net(2, sg.Rademacher(), 3)
    data = PlantedSpikedWigner(30, 2.0, sg.Rademacher(), rows_per_instance=2, channel="erasure")
    r = planted_mse(net, data, [0.0, 0.5, 1.0], n_instances=3, seed=0, device="cpu")
    assert r.channel == "erasure" and r.per_instance.shape == (3, 3)
    np.testing.assert_allclose(r.mse[[0, 2]], [1.0, 0.0], atol=1e-6)
    assert 0.0 < r.mse[1] < 0.5


# -- the untrained erasure network is AMP -----------------------------------------------------------------------
@pytest.mark.parametrize(("p", "name"), [(2, "rademacher"), (2, "sparse"), (3, "rademacher"), (3, "sparse")])
def test_untrained_erasure_network_is_L_iterations_of_amp_and_the_no_onsager_mutant_is_not(p, name):
    prior = {"rademacher": sg.Rademacher(), "sparse": sg.SparseRademacher(0.3)}[name]
    n, L = (40, 6) if p == 2 else (20, 5)
    model = make_model(p, n, prior, seed=3)
    fractions = [0.0, 0.05, 0.2, 0.5, 0.8, 0.3]
    rev = revealed_rows(model, fractions, seed=1)
    rng = np.random.default_rng(2)
    t = np.array([0.0, 0.0, 0.0, 0.0, 0.4, 1.5])  # the last two rows mix both channels
    y = t[:, None] * model.planted + np.sqrt(t)[:, None] * rng.standard_normal((len(t), n))
    net = make_net(p, prior, L, dtype=F64, seed=1)
    assert net.n_parameters == AmortisedAMP.parameter_count(L, 8, len(prior.values), net.time.dim, erasure=True)
    assert net.n_parameters - AmortisedAMP(prior, n_layers=L, hidden=8).n_parameters == L * 2 * 8
    out = AmortisedDenoiser(net, model, device="cpu").posterior(y=y, t=t, revealed=rev)
    ref = quiet(AMPDenoiser(model, init="prior", max_iter=L, tol=1e-300).posterior, y=y, t=t, revealed=rev)
    np.testing.assert_allclose(out.mean, ref.mean, atol=1e-10, rtol=0)
    np.testing.assert_allclose(out.marginals, ref.marginals, atol=1e-10, rtol=0)
    shown = rev >= 0
    np.testing.assert_array_equal(out.mean[shown], np.broadcast_to(model.planted, rev.shape)[shown])
    assert np.all(out.marginals[shown].max(axis=-1) == 1.0)
    with torch.no_grad():
        for layer in net.layers:
            layer.coef_out.bias[0] = -1.0  # mutant: no Onsager term
    mutant = AmortisedDenoiser(net, model, device="cpu").posterior(y=y, t=t, revealed=rev).mean
    assert np.max(np.abs(mutant - ref.mean)) > 1e-3


@pytest.mark.parametrize("p", [2, 3])
def test_autoregressive_over_untrained_network_draws_amps_samples_and_the_cold_mutant_does_not(p):
    prior = sg.Rademacher()
    n, L = (30, 3) if p == 2 else (15, 3)
    model = make_model(p, n, prior, seed=4, lam=2.0, T=0.8)
    net = make_net(p, prior, L, dtype=F64)
    amp = functools.partial(AMPDenoiser, warm_start=True, init="random", init_scale=1e-3, max_iter=L, tol=1e-300)
    ref = quiet(Autoregressive(amp, reveal_per_step=3).sample, model, 6, seed=11).x
    got = quiet(Autoregressive(net.factory(warm_start=True, init_scale=1e-3, device="cpu"), reveal_per_step=3).sample,
                model, 6, seed=11).x
    np.testing.assert_array_equal(got, ref)
    cold = quiet(Autoregressive(net.factory(init_scale=1e-3, device="cpu"), reveal_per_step=3).sample,
                 model, 6, seed=11).x
    assert np.any(cold != ref)


# -- training on erasure pairs ------------------------------------------------------------------------------------
class _OtherInstance(PlantedSpikedWigner):
    """Mutant data: every instance comes with the next instance's couplings (the network never sees its own)."""

    def draw(self, count, generator, **kw):
        b = super().draw(count, generator, **kw)
        b.J = b.J.roll(1, 0)
        return b


def _off_amp(net):
    with torch.no_grad():
        for layer in net.layers:
            layer.coef_out.bias[0] = -1.0  # Onsager term off
            layer.coef_out.bias[2] = -0.5  # J f halved
    return net


def _heldout_mse(net, batch) -> np.ndarray:
    with torch.no_grad():
        m = net(batch.J, batch.y, batch.t, batch.lam, batch.revealed)
        return ((m - batch.x[:, None, :]) ** 2).mean(dim=(1, 2)).double().numpy()


def test_training_on_erasure_pairs_reaches_amp_and_the_other_instance_mutant_does_not():
    prior, L, I = sg.Rademacher(), 2, 16
    kw = {"rows_per_instance": 8, "channel": "erasure", "theta": (0.0, 0.8)}
    config = TrainConfig(batch_size=4, epochs=4, lr=2e-2, seed=0, device="cpu", progress=False)
    amp = _heldout_mse(AmortisedAMP(prior, n_layers=L, hidden=8, erasure=True),
                       PlantedSpikedWigner(40, 2.0, prior, **kw).draw(I, gen(99)))
    verdicts = {}
    for label, cls in (("net", PlantedSpikedWigner), ("mutant", _OtherInstance)):
        data = cls(40, 2.0, prior, **kw)
        held = data.draw(I, gen(99))
        net = _off_amp(AmortisedAMP(prior, n_layers=L, hidden=8, erasure=True))
        before = _heldout_mse(net, held)
        hist = train_amortised_denoiser(net, data, config, steps_per_epoch=40, val_instances=4)
        assert len(hist.val_loss) == 4 and np.all(np.isfinite(hist.train_loss))
        after = _heldout_mse(net, held)
        d, e = after - before, after - amp
        lowered = d.mean() < -4 * d.std(ddof=1) / math.sqrt(I)
        reaches = e.mean() <= 0.05 * amp.mean() + 4 * e.std(ddof=1) / math.sqrt(I)
        verdicts[label] = (bool(lowered and reaches), before.mean(), after.mean(), amp.mean())
    assert verdicts["net"][0], verdicts
    assert not verdicts["mutant"][0], verdicts


# -- Autoregressive over the learned denoiser at an easy point ----------------------------------------------
def _other_couplings(factory, other_J):
    """Mutant factory: the learned denoiser bound to the model but fed another instance's couplings."""

    def make(model):
        den = factory(model)
        den.network.couplings.copy_(other_J.to(den.network.couplings.dtype))
        return den

    return make


@pytest.mark.parametrize("p", [2, 3])
def test_autoregressive_over_learned_denoiser_matches_amp_at_an_easy_point_and_other_instance_mutant_does_not(p):
    prior = sg.Rademacher()
    if p == 2:
        n, L, I, S = 40, 3, 8, 12
        data = PlantedSpikedWigner(n, 2.0, prior, rows_per_instance=8, channel="erasure")
        net = make_net(2, prior, L, seed=0)
        amp_kw = {"warm_start": True, "tol": 1e-4, "max_iter": 150}
        models = [sg.SpikedWigner(n, 2.0, prior, seed=200 + i) for i in range(I)]
        other = net.instance_of(sg.SpikedWigner(n, 2.0, prior, seed=999))[0]
    else:
        n, L, I, S = 30, 3, 8, 8
        data = PlantedSpikedTensor(n, 3, (0.6, 1.0), prior, rows_per_instance=8, channel="erasure")
        net = make_net(3, prior, L, seed=0)
        amp_kw = {"warm_start": True, "tol": 1e-4, "max_iter": 100, "damping": 0.5}
        models = [sg.SpikedTensor.from_temperature(n, 3, 0.9, prior, seed=200 + i) for i in range(I)]
        other = net.instance_of(sg.SpikedTensor.from_temperature(n, 3, 0.9, prior, seed=999))[0]
    config = TrainConfig(batch_size=2, epochs=2, lr=5e-3, seed=0, device="cpu", progress=False)
    train_amortised_denoiser(net, data, config, steps_per_epoch=10, val_instances=2)
    learned = net.factory(warm_start=True, init_scale=1e-3, max_passes=8, device="cpu")
    samplers = {"amp": lambda s: functools.partial(AMPDenoiser, seed=s, **amp_kw), "learned": lambda s: learned,
                "mutant": lambda s: _other_couplings(learned, other)}
    ov = {k: np.zeros(I) for k in samplers}
    gap = {k: np.zeros(I) for k in samplers}
    for i, model in enumerate(models):
        for k, make in samplers.items():
            x = quiet(Autoregressive(make(i), reveal_per_step=max(1, n // 10)).sample, model, S, seed=50 + i).x
            ov[k][i] = np.mean(np.abs(overlap_with_planted(model, x)))
            gap[k][i] = energy_nishimori_gap(model, x)

    def close(q, k, floor):
        d = q[k] - q["amp"]
        return abs(d.mean()) <= 3 * d.std(ddof=1) / math.sqrt(I) + floor

    # floors: 3 / sqrt(n S) on the overlap (the sample-level spread of one instance's mean overlap), 0.02 on the
    # energy gap per variable
    floor = 3 / math.sqrt(n * S)
    assert close(ov, "learned", floor) and close(gap, "learned", 0.02), (ov, gap)
    key, q, fl = ("overlap", ov, floor) if p == 2 else ("energy gap", gap, 0.02)
    assert not close(q, "mutant", fl), (key, q["mutant"].mean(), q["amp"].mean())
