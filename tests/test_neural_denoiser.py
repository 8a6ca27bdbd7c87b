"""Learned denoisers (samplers.neural.denoiser) plugged into the generative drivers, against exact laws.

Instance: SK(10, beta=0.8, seed=1), 1024 states, whose law is at TV 0.51 from uniform.

Bounds.  Stochastic localisation (60 geometric steps to T = 30) over the trained ``MLPDenoiser`` draws
S = 10000 samples; their empirical TV to the exact law is compared with
    TV_BOUND = 1.1 · q_0.999(S) + MODEL_TV,
where q_0.999(S) ≈ 0.10 is the simulated 0.999 quantile of the TV of S exact i.i.d. samples and MODEL_TV =
0.08 is the error allowed to the network + discretisation (the trained network measures TV 0.13-0.17,
the untrained one 0.52).  Denoiser quality: at t in {0.5, 2, 8} the excess risk E||m_net - m_exact||^2 / n
(estimated on 4000 fresh pairs, MSE - MMSE up to noise) must be below MSE_TOL = 5% of the exact MMSE for
the trained network (measured 0.6-2.8%), and the untrained one must fail the same tolerance (measured
11-20%).

Torch runs on one CPU thread in this module (``torch_one_thread`` fixture).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch

import spinglass as sg
from analysis.measures.learned import denoiser_mse_curve, plot_mse_curves
from analysis.measures.metrics import empirical_tv, tv_null_quantile
from samplers.autoregressive import Autoregressive
from samplers.diffusion import StochasticLocalization
from samplers.flow import StochasticInterpolant
from samplers.neural import (
    CouplingDenoiser,
    MLPDenoiser,
    NeuralDenoiser,
    NonFiniteLossError,
    TrainConfig,
    load_checkpoint,
    save_checkpoint,
    train_denoiser,
)

pytestmark = pytest.mark.usefixtures("torch_one_thread")

N_TRAIN = 32000
N_SAMPLES = 10000
MODEL_TV = 0.08
MSE_TOL = 0.05
TS = (0.5, 2.0, 8.0)
CPU = dict(device="cpu")


def two_stage(net, x, seed=0):
    """Adam at lr 3e-3 (batch 256, 4 epochs), then lr 1e-3 (batch 1024, 3 epochs); no held-out set."""
    h1 = train_denoiser(net, x, TrainConfig(epochs=4, batch_size=256, lr=3e-3, val_fraction=0.0, seed=seed, **CPU),
                        t_max=50.0)
    h2 = train_denoiser(net, x, TrainConfig(epochs=3, batch_size=1024, lr=1e-3, val_fraction=0.0, seed=seed + 1,
                                            **CPU), t_max=50.0)
    return h1, h2


@pytest.fixture(scope="module")
def sk():
    model = sg.SK(10, beta=0.8, seed=1)
    exact = model.exact()
    return model, exact, exact.sample(N_TRAIN, seed=0)


@pytest.fixture(scope="module")
def trained(sk, torch_one_thread):
    model, _, x = sk
    net = MLPDenoiser.for_model(model, hidden=64, depth=2, seed=0)
    hists = two_stage(net, x)
    return net, hists


def sl_sampler(net, n_steps=60):
    return StochasticLocalization(NeuralDenoiser.factory(net, **CPU), n_steps=n_steps)


# -- architecture ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alphabet,depth,emb", [((-1.0, 1.0), 2, "fourier"), ((-1.8, 0.0, 1.8), 1, "log"),
                                                (None, 3, "fourier")])
def test_mlp_parameter_count_formula(alphabet, depth, emb):
    net = MLPDenoiser(7, alphabet, hidden=12, depth=depth, time_embedding=emb, n_frequencies=3)
    K = None if alphabet is None else len(alphabet)
    E = 7 if emb == "fourier" else 1
    assert net.n_parameters == MLPDenoiser.parameter_count(7, K, 12, depth, E)
    O = 7 * (K or 1)
    assert net.n_parameters == (7 + E) * 12 + 12 + (depth - 1) * (144 + 12) + 12 * O + O


def test_coupling_parameter_count_is_independent_of_n():
    small = CouplingDenoiser(sg.SK(6, 1.0, seed=0), n_layers=3, hidden=8, n_frequencies=2)
    big = CouplingDenoiser(sg.SpikedWigner(40, 2.0, sg.Rademacher(), seed=0), n_layers=3, hidden=8, n_frequencies=2)
    assert small.n_parameters == big.n_parameters == CouplingDenoiser.parameter_count(3, 8, 2, 5)
    assert small.n_parameters == 3 * ((5 + 1) * 8 + 8 + 8 * 5 + 5)


def test_means_stay_in_the_convex_hull_and_marginals_are_normalised():
    model = sg.SpikedWigner(6, 1.5, sg.SparseRademacher(0.3), seed=0)
    a = np.asarray(model.alphabet)
    net = MLPDenoiser.for_model(model, hidden=16, depth=2, seed=3)
    y = torch.tensor(np.random.default_rng(0).normal(scale=50.0, size=(64, 6)), dtype=torch.float32)
    t = torch.tensor(np.random.default_rng(1).uniform(0, 200, size=64), dtype=torch.float32)
    mean, probs = net.posterior(y, t)
    assert mean.min() >= a.min() - 1e-5 and mean.max() <= a.max() + 1e-5
    assert torch.allclose(probs.sum(-1), torch.ones(64, 6), atol=1e-5)
    assert torch.allclose(mean, probs @ torch.tensor(a, dtype=torch.float32), atol=1e-5)


def test_untrained_coupling_network_is_naive_mean_field():
    """Zero-initialised scalar heads: L parallel iterations m <- tanh(y + beta h + beta J m) (Ising, no terms)."""
    model = sg.SK(8, beta=0.7, h=0.2, seed=4)
    net = CouplingDenoiser(model, n_layers=3, hidden=4, dtype=torch.float64)
    rng = np.random.default_rng(0)
    y, t = rng.normal(size=(5, 8)), rng.uniform(0, 3, size=5)
    m = np.tanh(y + 0.7 * 0.2)
    for _ in range(3):
        m = np.tanh(y + 0.7 * 0.2 + 0.7 * m @ model.couplings)
    out = NeuralDenoiser(net, model, **CPU).mean(y, t)
    np.testing.assert_allclose(out, m, atol=1e-12)
    # the same network on CSR couplings gives the same numbers
    sparse_model = sg.PairwiseModel(sp.csr_matrix(model.couplings), prior=sg.Rademacher(), fields=0.2, beta=0.7,
                                    counting=True)
    sparse_net = CouplingDenoiser(sparse_model, n_layers=3, hidden=4, dtype=torch.float64)
    np.testing.assert_allclose(NeuralDenoiser(sparse_net, sparse_model, **CPU).mean(y, t), m, atol=1e-12)


# -- the trained MLP against the exact law ----------------------------------------------------------------------
def test_stochastic_localisation_over_trained_denoiser_meets_tv_bound(sk, trained):
    model, exact, _ = sk
    net, _ = trained
    bound = 1.1 * tv_null_quantile(exact, N_SAMPLES, repeats=100, seed=0) + MODEL_TV
    tv = empirical_tv(exact, sl_sampler(net).sample(model, N_SAMPLES, seed=1).x)
    untrained = MLPDenoiser.for_model(model, hidden=64, depth=2, seed=0)
    tv_untrained = empirical_tv(exact, sl_sampler(untrained).sample(model, N_SAMPLES, seed=1).x)
    assert tv < bound < tv_untrained, f"trained TV {tv:.3f}, untrained {tv_untrained:.3f}, bound {bound:.3f}"


def test_trained_mse_is_close_to_exact_mmse_and_untrained_is_not(sk, trained):
    model, _, _ = sk
    net, _ = trained
    curve = denoiser_mse_curve(net, model, TS, n_samples=4000, seed=3, device="cpu")
    assert curve.reference == "exact"
    assert np.all(curve.excess < MSE_TOL * curve.mmse), (curve.excess, curve.mmse)
    # the network's own MSE sits at the MMSE plus the excess, up to a few standard errors
    assert np.all(np.abs(curve.mse - curve.mmse - curve.excess) < 4 * curve.mse_stderr + 1e-4)
    untrained = MLPDenoiser.for_model(model, hidden=64, depth=2, seed=0)
    bad = denoiser_mse_curve(untrained, model, TS, n_samples=4000, seed=3, device="cpu")
    assert np.all(bad.excess > MSE_TOL * bad.mmse), (bad.excess, bad.mmse)
    np.testing.assert_allclose(bad.mmse, curve.mmse)  # same seed, same pairs


def test_training_reduces_the_loss(trained):
    _, (h1, h2) = trained
    assert h1.train_loss[-1] < h1.train_loss[0]
    assert h2.epochs_run == 3 and h2.device == "cpu"


def test_coupling_denoiser_training_improves_on_mean_field(sk):
    model, _, x = sk
    net = CouplingDenoiser(model, n_layers=3, hidden=8, seed=0)
    before = denoiser_mse_curve(net, model, (0.5,), n_samples=2000, seed=5, device="cpu").excess[0]
    train_denoiser(net, x[:8000], TrainConfig(epochs=2, batch_size=256, lr=3e-3, val_fraction=0.0, **CPU),
                   t_max=50.0)
    after = denoiser_mse_curve(net, model, (0.5,), n_samples=2000, seed=5, device="cpu").excess[0]
    assert after < 0.5 * before, (before, after)


# -- the adapter ---------------------------------------------------------------------------------------------------
def test_adapter_reports_convergence_counts_evaluations_and_runs_the_flow(sk, trained):
    model, exact, _ = sk
    net, _ = trained
    den = NeuralDenoiser(net, model, batch_size=7, **CPU)
    out = den.posterior(y=np.zeros((20, 10)), t=np.linspace(0, 5, 20))
    assert out.all_converged and out.mean.dtype == np.float64 and out.marginals.shape == (20, 10, 2)
    assert den.n_evaluations == 3 and den.n_rows == 20  # ceil(20 / 7) forward passes
    assert np.all(out.iterations == 1)
    res = sl_sampler(net, n_steps=20).sample(model, 50, seed=0)
    assert res.work["denoiser_calls"] == 21 and res.work["denoiser_iterations"] == 21 * 50
    assert res.work["denoiser_unconverged"] == 0
    flow = StochasticInterpolant(NeuralDenoiser.factory(net, **CPU), n_steps=40, T=50.0)
    tv_flow = empirical_tv(exact, flow.sample(model, 4000, seed=2).x)
    assert tv_flow < 1.1 * tv_null_quantile(exact, 4000, repeats=100, seed=0) + MODEL_TV


def test_erasure_channel_is_refused(sk, trained):
    model, _, _ = sk
    net, _ = trained
    with pytest.raises(ValueError, match="revealed"):
        NeuralDenoiser(net, model, **CPU).posterior(revealed=np.array([0] + [-1] * 9))
    with pytest.raises(ValueError, match="revealed"):
        Autoregressive(NeuralDenoiser.factory(net, **CPU)).sample(model, 2, seed=0)


# -- reproducibility and checkpoints -----------------------------------------------------------------------------
def test_training_and_sampling_are_reproducible_and_checkpoints_round_trip(sk, tmp_path):
    model, _, x = sk
    cfg = TrainConfig(epochs=2, batch_size=128, lr=3e-3, val_fraction=0.1, seed=11, **CPU)
    nets = [MLPDenoiser.for_model(model, hidden=16, depth=1, seed=2) for _ in range(2)]
    hists = [train_denoiser(net, x[:2000], cfg) for net in nets]
    assert hists[0].train_loss == hists[1].train_loss and hists[0].val_loss == hists[1].val_loss
    for p, q in zip(nets[0].state_dict().values(), nets[1].state_dict().values(), strict=True):
        assert torch.equal(p, q)
    s1 = sl_sampler(nets[0], 20).sample(model, 300, seed=4).x
    assert np.array_equal(s1, sl_sampler(nets[1], 20).sample(model, 300, seed=4).x)
    path = tmp_path / "den.pt"
    save_checkpoint(path, nets[0], config=cfg, extra={"kind": "mlp"})
    fresh = MLPDenoiser.for_model(model, hidden=16, depth=1, seed=9)
    info = load_checkpoint(path, fresh)
    assert info["extra"] == {"kind": "mlp"} and info["config"] == cfg
    y, t = np.random.default_rng(0).normal(size=(30, 10)), np.linspace(0, 10, 30)
    a, b = NeuralDenoiser(fresh, model, **CPU).mean(y, t), NeuralDenoiser(nets[0], model, **CPU).mean(y, t)
    assert np.array_equal(a, b)
    assert np.array_equal(sl_sampler(fresh, 20).sample(model, 300, seed=4).x, s1)


def test_coupling_checkpoint_round_trips(tmp_path):
    model = sg.SpikedWigner(8, 2.0, sg.SparseRademacher(0.3), seed=1)
    net = CouplingDenoiser(model, n_layers=2, hidden=4, seed=0)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1)
    save_checkpoint(tmp_path / "c.pt", net)
    other = CouplingDenoiser(model, n_layers=2, hidden=4, seed=5)
    load_checkpoint(tmp_path / "c.pt", other)
    y, t = np.random.default_rng(2).normal(size=(6, 8)), 1.5
    assert np.array_equal(NeuralDenoiser(net, model, **CPU).mean(y, t), NeuralDenoiser(other, model, **CPU).mean(y, t))


# -- evaluation helpers -------------------------------------------------------------------------------------------
def test_state_evolution_reference_and_plot(tmp_path):
    from analysis.theory.state_evolution import GAUSSIAN, StateEvolution

    model = sg.SpikedWigner(60, 2.0, sg.Rademacher(), seed=0)
    net = MLPDenoiser.for_model(model, hidden=8, depth=1)
    x = np.tile(model.planted, (50, 1))
    curve = denoiser_mse_curve(net, model, [0.0, 1.0, 4.0], x=x, seed=0, device="cpu")
    assert curve.reference == "state_evolution" and curve.n_samples == 50
    m = StateEvolution.wigner(sg.Rademacher(), 2.0).iterate(GAUSSIAN, np.array([0.0, 1.0, 4.0]), 1e-6).m
    np.testing.assert_allclose(curve.mmse, 1.0 - m, atol=1e-9)  # continuous transition: one branch
    assert np.all(np.diff(curve.mmse) < 0)
    fig = plot_mse_curves({"mlp": curve}, tmp_path / "mse.png", title="SE")
    assert (tmp_path / "mse.png").stat().st_size > 1000 and len(fig.axes) == 1


# -- bad inputs ------------------------------------------------------------------------------------------------------
def test_bad_inputs_raise_named_errors(sk, trained):
    model, _, x = sk
    net, _ = trained
    den = NeuralDenoiser(net, model, **CPU)
    with pytest.raises(ValueError, match="y must have shape"):
        den.mean(np.zeros((3, 9)), 1.0)
    with pytest.raises(ValueError, match="t"):
        den.mean(np.zeros((3, 10)), -0.5)
    with pytest.raises(ValueError, match="y must be finite"):
        den.mean(np.full((2, 10), np.nan), 1.0)
    with pytest.raises(ValueError, match="y must have shape"):
        net.posterior(torch.zeros(3, 9), 1.0)
    with pytest.raises(ValueError, match="t must be"):
        net.posterior(torch.zeros(3, 10), torch.zeros(4))
    with pytest.raises(ValueError, match="n = 12"):
        NeuralDenoiser(net, sg.SK(12, 0.8, seed=0))
    with pytest.raises(ValueError, match="alphabet"):
        NeuralDenoiser(net, sg.SpikedWigner(10, 1.0, sg.SparseRademacher(0.3), seed=0))
    with pytest.raises(ValueError, match="another SK instance"):
        NeuralDenoiser(CouplingDenoiser(model), sg.SK(10, 0.8, seed=2))
    with pytest.raises(TypeError, match="network"):
        NeuralDenoiser(torch.nn.Linear(2, 2), model)
    with pytest.raises(TypeError, match="scalar models"):
        MLPDenoiser.for_model(sg.PlantedColoring(6, 3, 2.0, seed=0))
    with pytest.raises(TypeError, match="PairwiseModel"):
        CouplingDenoiser(sg.SpikedTensor(6, 3, 1.0, sg.Rademacher(), seed=0))
    with pytest.raises(ValueError, match="hidden"):
        MLPDenoiser(4, (-1.0, 1.0), hidden=0)
    with pytest.raises(TypeError, match="depth"):
        MLPDenoiser(4, (-1.0, 1.0), depth=1.5)
    with pytest.raises(ValueError, match="alphabet"):
        MLPDenoiser(4, (1.0, -1.0))
    with pytest.raises(ValueError, match="time_embedding"):
        MLPDenoiser(4, None, time_embedding="sinus")
    with pytest.raises(ValueError, match="x has entries off"):
        train_denoiser(net, np.full((5, 10), 0.5))
    with pytest.raises(ValueError, match="x contains nan"):
        train_denoiser(net, np.full((5, 10), np.nan))
    with pytest.raises(ValueError, match=r"x must have shape \(N, n\)"):
        train_denoiser(net, x[:, :9])
    with pytest.raises(ValueError, match="t_max"):
        train_denoiser(net, x[:10], t_min=1.0, t_max=0.5)
    with pytest.raises(ValueError, match="t_min"):
        train_denoiser(net, x[:10], t_min=0.0)
    with pytest.raises(ValueError, match="p_zero"):
        train_denoiser(net, x[:10], p_zero=1.0)
    with pytest.raises(TypeError, match="config"):
        train_denoiser(net, x[:10], config={"epochs": 1})
    with pytest.raises(ValueError, match="ts"):
        denoiser_mse_curve(net, model, [-1.0, 2.0])
    with pytest.raises(ValueError, match="reference"):
        denoiser_mse_curve(net, model, [1.0], reference="amp")


def test_non_finite_loss_stops_training(sk):
    model, _, x = sk
    net = MLPDenoiser.for_model(model, hidden=8, depth=1)
    with torch.no_grad():
        net.out.bias[0] = math.nan
    with pytest.raises(NonFiniteLossError, match="epoch 0, batch 0"):
        train_denoiser(net, x[:100], TrainConfig(epochs=1, batch_size=50, val_fraction=0.0, **CPU))

