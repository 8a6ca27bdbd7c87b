"""Training an amortised AMP from its own warm-started states (``samplers.neural.amortised_training.WarmStarts``).

Checks, each statistical one with a mutant that must fail it:

* ``earlier_observation`` draws the same planted path at t' = u t: given x*, y_t' = t' x* + sqrt(t') z
  (per-site mean t' x*_i and variance t', tolerances of 5 standard errors of the sites drawn); mutant: the
  bridge spread sqrt(t') instead of sqrt(t'(t - t')/t) over-disperses by far more than that.
* a warm row's loss is the loss of one pass from the network's own state after ``passes`` passes at
  (y_t', t') (recomputed by hand with the same generator); fraction 0 is the plain loss bit for bit.
* the sign-invariant loss scores each row against the nearer of x* and -x* (a mirror row costs what its
  image costs; the plain loss charges it 9 times more) and is refused where the law is not sign-symmetric.
* training with warm starts is reproducible and ends at a finite held-out loss; bad settings name the
  parameter; the erasure channel refuses warm starts.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import spinglass as sg
from samplers.neural import (
    AmortisedAMP,
    PlantedSpikedWigner,
    TrainConfig,
    WarmStarts,
    planted_denoising_loss,
    train_amortised_denoiser,
)
from samplers.neural.amortised_training import earlier_observation

pytestmark = pytest.mark.usefixtures("torch_one_thread")

F64 = torch.float64


def gen(seed: int) -> torch.Generator:
    return torch.Generator(device="cpu").manual_seed(seed)


def test_earlier_observation_is_the_same_planted_path_and_the_wide_bridge_mutant_is_not():
    n, rows = 20000, 6
    g = gen(0)
    x = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0).to(F64)
    t = torch.tensor([0.05, 0.3, 1.0, 2.0, 5.0, 9.0], dtype=F64)
    u = torch.tensor([0.7, 0.9, 0.5, 1.0, 0.8, 0.75], dtype=F64)
    y = t[:, None] * x + torch.sqrt(t)[:, None] * torch.randn((rows, n), generator=g, dtype=F64)
    xi = torch.randn((rows, n), generator=g, dtype=F64)
    yw, tw = earlier_observation(y, t, u, xi)
    torch.testing.assert_close(tw, u * t)

    def deviations(obs, tt):
        resid = obs - tt[:, None] * x  # should be sqrt(t') z
        mean_err = resid.mean(dim=1).abs() / torch.sqrt(tt / n)
        var = resid.var(dim=1)
        var_err = (var - tt).abs() / (tt * math.sqrt(2.0 / n))
        return mean_err, var_err

    mean_err, var_err = deviations(yw, tw)
    assert torch.all(mean_err < 5) and torch.all(var_err < 5), (mean_err, var_err)
    # the bridge itself: y_t' - (t'/t) y_t has variance t'(t - t')/t and is uncorrelated with y_t
    def bridge_errors(obs):
        resid = obs - (tw / t)[:, None] * y
        want = tw * (t - tw) / t
        var_err = (resid.var(dim=1) - want).abs() / (want.clamp_min(1e-12) * math.sqrt(2.0 / n))
        y_c = y - y.mean(dim=1, keepdim=True)
        corr = (resid - resid.mean(dim=1, keepdim=True)) * y_c
        corr = corr.mean(dim=1) / (resid.std(dim=1).clamp_min(1e-12) * y_c.std(dim=1))
        return var_err, corr.abs() * math.sqrt(n)

    var_b, corr_b = bridge_errors(yw)
    inner = u < 1
    assert torch.all(var_b[inner] < 5) and torch.all(corr_b[inner] < 5), (var_b, corr_b)
    fresh = tw[:, None] * x + torch.sqrt(tw)[:, None] * xi  # mutant: right marginal, but not the same path as y_t
    var_f, corr_f = bridge_errors(fresh)
    assert torch.all((var_f[inner] > 5) | (corr_f[inner] > 5)), (var_f, corr_f)
    wide = (tw / t)[:, None] * y + torch.sqrt(tw)[:, None] * xi  # mutant: an independent increment, not a bridge
    _, var_mutant = deviations(wide, tw)
    assert torch.all(var_mutant[u < 1] > 5), var_mutant
    zero, tz = earlier_observation(y[:1], torch.zeros(1, dtype=F64), u[:1], xi[:1])
    assert float(tz[0]) == 0.0 and torch.count_nonzero(zero) == 0


def test_warm_rows_start_from_the_networks_own_state_and_fraction_zero_is_the_plain_loss():
    prior = sg.SparseRademacher(0.3)
    data = PlantedSpikedWigner(30, 1.5, prior, rows_per_instance=4, t_min=0.05, t_max=5.0, p_zero=0.0, dtype=F64)
    net = AmortisedAMP(prior, n_layers=3, hidden=4, dtype=F64, seed=2)
    with torch.no_grad():  # a non-trivial network: the corrections are not zero
        for p in net.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen(5), dtype=F64))
    batch = data.draw(2, gen(1))
    plain = planted_denoising_loss(net, batch)
    assert torch.equal(planted_denoising_loss(net, batch, WarmStarts(fraction=0.0), gen(3)), plain)
    warm = WarmStarts(fraction=0.5, passes=2, ratio_min=0.6, init_scale=0.01)
    loss = planted_denoising_loss(net, batch, warm, gen(3))
    # by hand, with the same draws in the same order: u, xi, z for the first two rows of each instance
    g = gen(3)
    u = 0.6 + 0.4 * torch.rand((2, 2), generator=g, dtype=F64)
    xi = torch.randn((2, 2, 30), generator=g, dtype=F64)
    z = torch.randn((2, 2, 30), generator=g, dtype=F64)
    yw, tw = earlier_observation(batch.y[:, :2], batch.t[:, :2], u, xi)
    state = (net.prior_mean + 0.01 * z, torch.full_like(z, net.prior_var), torch.zeros_like(z))
    for _ in range(2):
        _, _, state = net.iterate(batch.J, yw, tw, batch.lam, state)
    warm_mean = net.iterate(batch.J, batch.y[:, :2], batch.t[:, :2], batch.lam, state)[0]
    cold_mean = net(batch.J, batch.y[:, 2:], batch.t[:, 2:], batch.lam)
    mean = torch.cat([warm_mean, cold_mean], dim=1)
    expected = ((mean - batch.x[:, None, :]) ** 2).mean()
    torch.testing.assert_close(loss, expected, rtol=1e-12, atol=1e-12)
    assert abs(float((loss - plain).detach())) > 1e-4  # the warm rows do change the loss
    # the gradient flows through the last pass only: equal to the hand-built loss's from a detached state, and
    # different from it when the earlier passes are differentiated too (the mutant)
    grads = torch.autograd.grad(loss, list(net.parameters()), allow_unused=True)
    detached = tuple(a.detach() for a in state)
    warm_d = net.iterate(batch.J, batch.y[:, :2], batch.t[:, :2], batch.lam, detached)[0]
    loss_d = ((torch.cat([warm_d, cold_mean], dim=1) - batch.x[:, None, :]) ** 2).mean()
    grads_d = torch.autograd.grad(loss_d, list(net.parameters()), allow_unused=True, retain_graph=True)
    grads_m = torch.autograd.grad(expected, list(net.parameters()), allow_unused=True)
    for g, h in zip(grads, grads_d, strict=True):
        torch.testing.assert_close(g, h, rtol=1e-10, atol=1e-12)
    assert any((g - h).abs().max() > 1e-8 for g, h in zip(grads, grads_m, strict=True) if g is not None)


def test_warm_training_is_reproducible_and_finite():
    prior = sg.Rademacher()
    data = PlantedSpikedWigner(30, 2.0, prior, rows_per_instance=4, t_min=0.01, t_max=10.0)
    cfg = TrainConfig(batch_size=2, epochs=2, seed=4, progress=False, device="cpu")
    nets, hists = [], []
    for _ in range(2):
        net = AmortisedAMP(prior, n_layers=3, hidden=4, seed=1)
        hists.append(train_amortised_denoiser(net, data, cfg, steps_per_epoch=3, val_instances=2,
                                              warm=WarmStarts(passes=2)))
        nets.append(net)
    assert hists[0].val_loss == hists[1].val_loss and all(np.isfinite(hists[0].val_loss))
    for p, q in zip(nets[0].state_dict().values(), nets[1].state_dict().values(), strict=True):
        assert torch.equal(p, q)
    plain = AmortisedAMP(prior, n_layers=3, hidden=4, seed=1)
    h = train_amortised_denoiser(plain, data, cfg, steps_per_epoch=3, val_instances=2)
    assert h.val_loss != hists[0].val_loss


@pytest.mark.parametrize("kwargs,match", [
    (dict(fraction=1.5), "fraction"), (dict(fraction=-0.1), "fraction"), (dict(passes=0), "passes"),
    (dict(ratio_min=0.0), "ratio_min"), (dict(ratio_min=1.2), "ratio_min"), (dict(init_scale=-1.0), "init_scale"),
    (dict(init_scale=float("nan")), "init_scale"), (dict(fraction=True), "fraction"),
])
def test_bad_warm_settings_name_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        WarmStarts(**kwargs)


def test_warm_starts_refuse_the_erasure_channel_and_a_wrong_type():
    prior = sg.Rademacher()
    net = AmortisedAMP(prior, n_layers=2, hidden=3, erasure=True)
    erasure = PlantedSpikedWigner(10, 1.0, prior, channel="erasure")
    with pytest.raises(ValueError, match="warm"):
        train_amortised_denoiser(net, erasure, warm=WarmStarts())
    with pytest.raises(TypeError, match="warm"):
        train_amortised_denoiser(net, PlantedSpikedWigner(10, 1.0, prior), warm={"fraction": 0.5})
    with pytest.raises(TypeError, match="generator"):
        planted_denoising_loss(net, PlantedSpikedWigner(10, 1.0, prior).draw(1, gen(0)), WarmStarts())
    with pytest.raises(TypeError, match="warm"):
        planted_denoising_loss(net, PlantedSpikedWigner(10, 1.0, prior).draw(1, gen(0)), {"fraction": 0.5}, gen(0))
    with pytest.raises(ValueError, match="sign_invariant"):
        train_amortised_denoiser(net, erasure, sign_invariant=True)


def test_a_positive_fraction_starts_at_least_one_row_warm():
    prior = sg.Rademacher()
    data = PlantedSpikedWigner(20, 2.0, prior, rows_per_instance=1, t_min=0.1, t_max=1.0, p_zero=0.0)
    net = AmortisedAMP(prior, n_layers=2, hidden=3, seed=1)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1)
    batch = data.draw(2, gen(0))
    plain = planted_denoising_loss(net, batch)
    assert torch.equal(planted_denoising_loss(net, batch, WarmStarts(fraction=0.0), gen(1)), plain)
    assert not torch.equal(planted_denoising_loss(net, batch, WarmStarts(fraction=0.3), gen(1)), plain)


def test_sign_invariant_loss_scores_the_nearer_lobe_and_needs_a_symmetric_law():
    prior = sg.Rademacher()
    data = PlantedSpikedWigner(40, 2.0, prior, rows_per_instance=4, t_min=0.01, t_max=1.0, dtype=F64)
    batch = data.draw(2, gen(0))

    class Fixed(AmortisedAMP):  # rows +x*/2, -x*/2, 0 and x*/2 with half its sites flipped, for every instance
        def forward(self, J, y, t, lam, revealed=None):
            x = batch.x[:, None, :]
            half = torch.cat([0.5 * x[..., :20], -0.5 * x[..., 20:]], dim=-1)
            return torch.cat([0.5 * x, -0.5 * x, 0.0 * x, half], dim=1)

    net = Fixed(prior, n_layers=1, hidden=2, dtype=F64)
    plain = planted_denoising_loss(net, batch)
    folded = planted_denoising_loss(net, batch, sign_invariant=True)
    assert abs(float(plain) - (0.25 + 2.25 + 1.0 + 1.25) / 4) < 1e-12  # rows: (1/2)^2, (3/2)^2, 1, (1/4 + 9/4)/2
    # the mirror row scores against -x*; the half-flipped row is 5/4 against either sign (a per-site minimum,
    # the mutant, would give 1/4)
    assert abs(float(folded) - (0.25 + 0.25 + 1.0 + 1.25) / 4) < 1e-12
    from samplers.neural.amortised_tensor import AmortisedTensorAMP, PlantedSpikedTensor

    with pytest.raises(ValueError, match="sign_invariant"):
        train_amortised_denoiser(AmortisedTensorAMP(prior, p=3, n_layers=1, hidden=2),
                                 PlantedSpikedTensor(6, 3, 0.8, prior), sign_invariant=True)
    skewed = sg.priors.DiscretePrior([-1.0, 1.0], [0.3, 0.7])  # unit second moment, not sign-symmetric
    with pytest.raises(ValueError, match="sign_invariant"):
        train_amortised_denoiser(AmortisedAMP(skewed, n_layers=1, hidden=2), PlantedSpikedWigner(6, 1.0, skewed),
                                 sign_invariant=True)
    with pytest.raises(TypeError, match="sign_invariant"):
        train_amortised_denoiser(AmortisedAMP(prior, n_layers=1, hidden=2), PlantedSpikedWigner(6, 1.0, prior),
                                 sign_invariant="yes")
