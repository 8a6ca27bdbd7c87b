"""The amortised unrolled AMP of the planted p-spin (samplers.neural.amortised_tensor).

Ground truth: the untrained network is L iterations of ``AMPDenoiser`` on ``SpikedTensor`` (float64 round-off);
the dense field equals the numba hyperedge kernel; the torch generator has the model's law (moments with
tolerances from the sample size, and a mis-normalised noise that the same check rejects); the network reads
the instance (zeroing it costs many standard errors of MSE in the informative phase).
"""

import math

import numpy as np
import pytest
import torch

import spinglass as sg
from samplers.denoisers import AMPDenoiser, NonConvergenceWarning
from samplers.denoisers.amp import _tensor_fields
from samplers.diffusion import StochasticLocalization
from samplers.neural import TrainConfig
from samplers.neural.amortised_amp import AmortisedAMP, AmortisedDenoiser
from samplers.neural.amortised_tensor import AmortisedTensorAMP, PlantedSpikedTensor, dense_weights, tensor_field
from samplers.neural.amortised_training import planted_mse, train_amortised_denoiser
from samplers.neural.planted_data import PlantedSpikedWigner

PRIORS = [sg.priors.Rademacher(), sg.priors.Gaussian()]


@pytest.mark.parametrize("prior", PRIORS, ids=["ising", "spherical"])
def test_untrained_network_is_tensor_amp(prior):
    model = sg.SpikedTensor.from_temperature(12, 3, 0.7, prior, seed=3)
    net = AmortisedTensorAMP(prior, p=3, n_layers=7, dtype=torch.float64)
    rng = np.random.default_rng(0)
    t = np.array([0.0, 0.5, 2.0, 5.0])
    y = t[:, None] * model.planted[None] + np.sqrt(t)[:, None] * rng.standard_normal((4, 12))
    with pytest.warns(NonConvergenceWarning):  # AMP capped at 7 iterations reports non-convergence
        amp = AMPDenoiser(model, init="prior", max_iter=7, tol=1e-300).posterior(y, t).mean
    ours = AmortisedDenoiser(net, model, device="cpu").posterior(y, t).mean
    assert np.abs(amp - ours).max() < 1e-12
    # a network with the Wigner reaction term (p = 2 form) on the same tensor is a different iteration
    wrong = AmortisedTensorAMP(prior, p=3, n_layers=7, dtype=torch.float64)
    wrong._reaction_and_snr = lambda lam, q, vbar, f, f_prev, a, b, t: (lam * vbar, lam * q + t)
    bad = AmortisedDenoiser(wrong, model, device="cpu").posterior(y, t).mean
    assert np.abs(amp - bad).max() > 1e-3


def test_dense_field_equals_hyperedge_kernel():
    model = sg.SpikedTensor(9, 3, 0.5, sg.priors.Rademacher(), seed=1)
    T = dense_weights(model)
    assert torch.allclose(T, T.permute(1, 0, 2)) and torch.allclose(T, T.permute(2, 1, 0))
    idx = torch.arange(9)
    assert float(T[idx, idx, :].abs().max()) == 0.0 and float(T[:, idx, idx].abs().max()) == 0.0
    f = torch.randn(2, 3, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    want = np.zeros((6, 9))
    _tensor_fields(np.ascontiguousarray(model.hyperedges, dtype=np.int64), np.ascontiguousarray(model.weights),
                   np.ascontiguousarray(f.reshape(6, 9).numpy()), want)
    got = tensor_field(torch.stack([T, T]), f, 3).reshape(6, 9).numpy()
    assert np.abs(got - want).max() < 1e-12


def _law(batch, p=3):
    """(noise variance / model's, signal coefficient / model's) pooled over distinct index triples."""
    J, x, lam = batch.J.double(), batch.x.double(), batch.lam.double()
    n = x.shape[1]
    scale2 = math.factorial(p - 1) / n ** (p - 1)
    spike = x[:, :, None, None] * x[:, None, :, None] * x[:, None, None, :]
    i, j, k = torch.meshgrid(torch.arange(n), torch.arange(n), torch.arange(n), indexing="ij")
    distinct = (i < j) & (j < k)
    signal = (spike * J)[:, distinct].mean(dim=1) / (scale2 * lam)  # E[J x x x] = scale^2 / Delta (Rademacher)
    noise = (J - scale2 * lam[:, None, None, None] * spike)[:, distinct]
    var = (noise**2).mean(dim=1) / (scale2 * lam)  # Var w_e = scale^2 / Delta
    return var, signal, int(distinct.sum())


def test_torch_generator_has_the_model_law_and_a_mutant_fails():
    data = PlantedSpikedTensor(14, 3, (0.6, 1.0), sg.priors.Rademacher(), rows_per_instance=1)
    batch = data.draw(24, torch.Generator().manual_seed(5))
    var, signal, m = _law(batch)
    M = 24 * m
    # pooled variance ratio: sd sqrt(2/M); the signal coefficient: sd ~ sqrt(Var w / (scale^2 lam)^2 / m)
    assert abs(float(var.mean()) - 1.0) < 5 * math.sqrt(2.0 / M)
    sd_signal = float(torch.sqrt(1.0 / (batch.lam.double() * (2.0 / 14**2)) / m).mean()) / math.sqrt(24)
    assert abs(float(signal.mean()) - 1.0) < 5 * sd_signal
    # symmetric, zero on coinciding indices
    assert torch.equal(batch.J, batch.J.permute(0, 2, 1, 3)) and torch.equal(batch.J, batch.J.permute(0, 3, 2, 1))
    # mutant: a noise tensor symmetrised by summing the p! permutations without 1/sqrt(p!) has 6x the variance
    mutant = type(batch)(J=batch.J * math.sqrt(6.0), lam=batch.lam, x=batch.x, t=batch.t, y=batch.y)
    assert abs(float(_law(mutant)[0].mean()) - 1.0) > 5 * math.sqrt(2.0 / M)
    # the reference backend (SpikedTensor itself) passes the same check
    ref = PlantedSpikedTensor(14, 3, (0.6, 1.0), sg.priors.Rademacher(), backend="spinglass").draw(
        24, torch.Generator().manual_seed(6))
    assert abs(float(_law(ref)[0].mean()) - 1.0) < 5 * math.sqrt(2.0 / M)


def test_network_reads_the_instance():
    """At T = 0.5 (informative) and t = 1 the instance carries most of the information: the network beats the
    best estimator that sees y alone by many standard errors; with the dense weights zeroed it cannot."""
    prior = sg.priors.Rademacher()
    net = AmortisedTensorAMP(prior, p=3, n_layers=12, dtype=torch.float64)
    data = PlantedSpikedTensor(40, 3, 0.5, prior, rows_per_instance=4, dtype=torch.float64)
    full = planted_mse(net, data, [1.0], n_instances=6, seed=0, device="cpu")
    blind = planted_mse(net, data, [1.0], n_instances=6, seed=0, device="cpu", zero_couplings=True)
    # the best estimator from y alone: the scalar channel's MMSE, 1 - E tanh(t + sqrt(t) z) at t = 1
    z, w = np.polynomial.hermite_e.hermegauss(80)
    mmse_y_only = 1.0 - float(w @ np.tanh(1.0 + z)) / math.sqrt(2 * math.pi)
    assert full.mse[0] + 8 * full.stderr[0] < mmse_y_only
    assert blind.mse[0] + 3 * blind.stderr[0] > mmse_y_only  # the mutant (no instance) cannot beat it


def test_training_runs_and_checks_its_inputs():
    prior = sg.priors.Rademacher()
    net = AmortisedTensorAMP(prior, p=3, n_layers=3, hidden=4, seed=1)
    data = PlantedSpikedTensor(8, 3, (0.6, 0.9), prior, rows_per_instance=4)
    before = [p.detach().clone() for p in net.parameters()]
    hist = train_amortised_denoiser(net, data, TrainConfig(batch_size=2, epochs=2, lr=1e-2, seed=0),
                                    steps_per_epoch=3, val_instances=2)
    assert hist.epochs_run == 2 and all(np.isfinite(hist.train_loss))
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))
    assert net.describe()["name"] == "AmortisedTensorAMP" and net.describe()["p"] == 3
    with pytest.raises(ValueError, match="p = 2"):
        train_amortised_denoiser(AmortisedAMP(prior, n_layers=2), data, TrainConfig(batch_size=2, epochs=1))
    with pytest.raises(ValueError, match="p = 3"):
        train_amortised_denoiser(net, PlantedSpikedWigner(8, 2.0, prior), TrainConfig(batch_size=2, epochs=1))
    with pytest.raises(ValueError, match="p"):
        PlantedSpikedTensor(8, 2, 0.7, prior)
    with pytest.raises(ValueError, match="dense entries"):
        PlantedSpikedTensor(600, 3, 0.7, prior)
    with pytest.raises(ValueError, match="T"):
        PlantedSpikedTensor(8, 3, -0.7, prior)
    with pytest.raises(TypeError, match="SpikedTensor"):
        net.bind(sg.SpikedWigner(8, 2.0, prior, seed=0))
    with pytest.raises(ValueError, match="order p = 4"):
        AmortisedTensorAMP(prior, p=3, n_layers=2).bind(sg.SpikedTensor(8, 4, 0.5, prior, seed=0))


def test_stochastic_localisation_runs_over_the_tensor_network():
    prior = sg.priors.Rademacher()
    model = sg.SpikedTensor.from_temperature(16, 3, 0.8, prior, seed=2)
    net = AmortisedTensorAMP(prior, p=3, n_layers=4, hidden=4)
    sampler = StochasticLocalization(net.factory(warm_start=True, init_scale=1e-3), n_steps=10)
    res = sampler.sample(model, n_samples=3, seed=0)
    assert res.x.shape == (3, 16) and set(np.unique(res.x)) <= {-1.0, 1.0}
