"""Flow matching with two-layer ReLU velocities (samplers.neural.flow_matching) through StochasticInterpolant.

Target: a ring of 6 isotropic Gaussians (radius 2, std 0.25) in 2-D.  Distance: sliced W1 (64 fixed random
directions, exact 1-D W1 per direction) between 2000 generated points and 20000 reference points.  Its
sampling noise is measured in the test as the spread of the same distance for exact target samples
(std over 4 draws, about 0.01; floor about 0.03).  Every training runs 800 Adam steps at lr 5e-3 then half as
many at lr 5e-4 (batch min(256, N)); each configuration is averaged over 2 seeds.  Measured means:
width 2 / 16 / 128 at N = 4096: 0.42 / 0.11 / 0.05;  N = 16 / 256 / 4096 at width 128: 0.42 / 0.09 / 0.05.
The test asserts each step of the trend with a margin of 3 sampling-noise standard deviations (>= 0.02).

Torch runs on one CPU thread in this module (``torch_one_thread`` fixture).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from samplers.flow import StochasticInterpolant
from samplers.neural import (
    GaussianMixture,
    NonFiniteLossError,
    TrainConfig,
    TwoLayerReLUVelocity,
    VelocityField,
    compare_flow_diffusion,
    continuous_carrier,
    empirical_wasserstein,
    load_checkpoint,
    save_checkpoint,
    sliced_wasserstein,
    train_velocity,
)

pytestmark = pytest.mark.usefixtures("torch_one_thread")

TARGET = GaussianMixture.ring(6, 2.0, 0.25)
CARRIER = continuous_carrier(2)
N_GEN = 2000
CPU = dict(device="cpu")


@pytest.fixture(scope="module")
def reference():
    return TARGET.sample(20000, seed=123)


def train(width: int, n_train: int, seed: int, steps: int = 800) -> TwoLayerReLUVelocity:
    x = TARGET.sample(n_train, seed=1000 + seed)
    bs = min(256, n_train)
    epochs = math.ceil(steps / math.ceil(n_train / bs))
    net = TwoLayerReLUVelocity(2, width, skip=False, seed=seed)
    train_velocity(net, x, TrainConfig(epochs=epochs, batch_size=bs, lr=5e-3, val_fraction=0.0, seed=seed, **CPU))
    train_velocity(net, x, TrainConfig(epochs=max(1, epochs // 2), batch_size=bs, lr=5e-4, val_fraction=0.0,
                                       seed=seed + 7, **CPU))
    return net


def generate(net, n=N_GEN, seed=0) -> np.ndarray:
    return StochasticInterpolant(velocity=VelocityField(net, **CPU), n_steps=50, T=1e4).sample(CARRIER, n, seed=seed).x


_RESULTS: dict = {}


def distance(width, n_train, reference) -> float:
    key = (width, n_train)
    if key not in _RESULTS:
        _RESULTS[key] = float(np.mean([sliced_wasserstein(generate(train(width, n_train, s), seed=s), reference, 64, 0)
                                       for s in range(2)]))
    return _RESULTS[key]


@pytest.fixture(scope="module")
def noise(reference):
    d = [sliced_wasserstein(TARGET.sample(N_GEN, seed=s), reference, 64, 0) for s in range(4)]
    return float(np.mean(d)), float(np.std(d, ddof=1))


# -- the trends -----------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_wasserstein_decreases_with_width(reference, noise):
    floor, sd = noise
    margin = max(0.02, 3 * sd)
    w = [distance(width, 4096, reference) for width in (2, 16, 128)]
    assert w[0] > w[1] + margin and w[1] > w[2] + margin, (w, margin)
    assert w[2] > floor - margin  # no method beats exact samples beyond the noise


@pytest.mark.slow
def test_wasserstein_decreases_with_training_set_size(reference, noise):
    _, sd = noise
    margin = max(0.02, 3 * sd)
    w = [distance(128, n, reference) for n in (16, 256, 4096)]
    assert w[0] > w[1] + margin and w[1] > w[2] + margin, (w, margin)


def test_compare_flow_diffusion_beats_the_gaussian_start():
    cfg = TrainConfig(epochs=40, batch_size=256, lr=5e-3, val_fraction=0.0, seed=0, **CPU)
    res = compare_flow_diffusion(TARGET, n_train=2048, width=64, config=cfg, n_eval=300, seed=0)
    start = np.random.default_rng(0).standard_normal((300, 2))
    ref = TARGET.sample(300, seed=77)
    w_start = empirical_wasserstein(start, ref, 1)
    for method in ("flow", "diffusion"):
        rec = getattr(res, method)
        assert rec["w1"] < 0.6 * w_start, (method, rec["w1"], w_start)
        assert rec["train_seconds"] > 0 and rec["sample_seconds"] > 0 and len(rec["train_loss"]) == 40
        assert res.samples[method].shape == (300, 2)
    assert res.flow["n_parameters"] == TwoLayerReLUVelocity.parameter_count(2, 64, skip=False)
    assert res.diffusion["n_parameters"] == res.flow["n_parameters"] + 2
    assert set(res.floor) == {"w1", "w2", "sliced_w1"}


# -- pieces ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("d,width,skip", [(2, 5, True), (3, 7, False), (12, 64, True)])
def test_parameter_count_formula(d, width, skip):
    net = TwoLayerReLUVelocity(d, width, skip=skip)
    assert net.n_parameters == TwoLayerReLUVelocity.parameter_count(d, width, skip)
    assert net.n_parameters == width * (d + 1) + width + width * d + ((d * (d + 1) + d) if skip else 0)


def test_velocity_is_the_two_layer_relu_formula():
    net = TwoLayerReLUVelocity(3, 6, skip=True, seed=1, dtype=torch.float64)
    u, tau = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)), 0.3
    inp = torch.cat([u, torch.full((4, 1), tau, dtype=torch.float64)], dim=1)
    W, c, A = net.hidden.weight, net.hidden.bias, net.out.weight
    manual = torch.relu(inp @ W.T + c) @ A.T + inp @ net.skip.weight.T + net.skip.bias
    assert torch.allclose(net(u, tau), manual)


def test_wasserstein_of_a_translation_is_the_shift():
    a = np.random.default_rng(0).normal(size=(150, 2))
    v = np.array([0.7, -0.2])
    assert empirical_wasserstein(a, a + v, 2) == pytest.approx(np.linalg.norm(v), rel=1e-9)
    assert empirical_wasserstein(a, a + v, 1) == pytest.approx(np.linalg.norm(v), rel=1e-9)
    assert empirical_wasserstein(a, a[::-1], 1) == pytest.approx(0.0, abs=1e-12)
    # sliced W1 of a translation: mean |v . theta| over the directions
    assert 0 < sliced_wasserstein(a, a + v, 200, 0) < np.linalg.norm(v)


def test_mixture_sampler_moments():
    g = GaussianMixture([[0.0, 0.0], [4.0, 0.0]], stds=[0.5, 1.0], weights=[1, 3])
    x = g.sample(40000, seed=0)
    assert x.mean(axis=0) == pytest.approx([3.0, 0.0], abs=0.03)
    var = 0.25 * 0.25 + 0.75 * 1.0 + 0.25 * 0.75 * 16  # within + between, first coordinate
    assert x[:, 0].var() == pytest.approx(var, rel=0.03)


def test_reproducible_under_seed_and_checkpoint_round_trip(tmp_path):
    nets = [train(8, 512, seed=3, steps=60) for _ in range(2)]
    for p, q in zip(nets[0].state_dict().values(), nets[1].state_dict().values(), strict=True):
        assert torch.equal(p, q)
    x0 = generate(nets[0], 200, seed=5)
    assert np.array_equal(x0, generate(nets[1], 200, seed=5))
    save_checkpoint(tmp_path / "v.pt", nets[0], extra={"width": 8})
    fresh = TwoLayerReLUVelocity(2, 8, skip=False, seed=99)
    assert load_checkpoint(tmp_path / "v.pt", fresh)["extra"] == {"width": 8}
    assert np.array_equal(generate(fresh, 200, seed=5), x0)
    field = VelocityField(fresh, **CPU)
    field(np.zeros((3, 2)), 0.5)
    assert field.n_evaluations == 1 and field.n_rows == 3


def test_bad_inputs_raise_named_errors():
    net = TwoLayerReLUVelocity(2, 4)
    field = VelocityField(net, **CPU)
    with pytest.raises(ValueError, match="u must have shape"):
        field(np.zeros((3, 3)), 0.5)
    with pytest.raises(ValueError, match="tau"):
        field(np.zeros((3, 2)), 1.5)
    with pytest.raises(ValueError, match="u must be finite"):
        field(np.full((3, 2), np.inf), 0.5)
    with pytest.raises(ValueError, match="u must have shape"):
        StochasticInterpolant(velocity=field, n_steps=2).sample(continuous_carrier(3), 2, seed=0)
    with pytest.raises(ValueError, match="u must have shape"):
        net(torch.zeros(2, 5), 0.1)
    with pytest.raises(ValueError, match="tau must be"):
        net(torch.zeros(2, 2), torch.zeros(3))
    with pytest.raises(TypeError, match="network"):
        VelocityField(torch.nn.Linear(3, 2))
    with pytest.raises(ValueError, match="width"):
        TwoLayerReLUVelocity(2, 0)
    with pytest.raises(TypeError, match="d must be"):
        TwoLayerReLUVelocity(2.0, 3)
    with pytest.raises(ValueError, match=r"x must have shape \(N, d\)"):
        train_velocity(net, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="x contains nan"):
        train_velocity(net, np.full((5, 2), np.nan))
    with pytest.raises(ValueError, match="tau_max"):
        train_velocity(net, np.zeros((5, 2)), tau_max=0.0)
    with pytest.raises(ValueError, match="stds"):
        GaussianMixture([[0.0, 0.0]], stds=-1.0)
    with pytest.raises(ValueError, match="weights"):
        GaussianMixture([[0.0, 0.0], [1.0, 1.0]], weights=[1.0, -1.0])
    with pytest.raises(ValueError, match="means"):
        GaussianMixture([0.0, 1.0])
    with pytest.raises(ValueError, match="same shape"):
        empirical_wasserstein(np.zeros((4, 2)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="p must be"):
        empirical_wasserstein(np.zeros((4, 2)), np.zeros((4, 2)), p=3)
    with pytest.raises(ValueError, match="methods"):
        compare_flow_diffusion(TARGET, methods=("gan",))
    with pytest.raises(TypeError, match="target"):
        compare_flow_diffusion(np.zeros((3, 2)))


def test_non_finite_loss_stops_training():
    net = TwoLayerReLUVelocity(2, 4)
    with torch.no_grad():
        net.hidden.weight[0, 0] = math.inf
    with pytest.raises(NonFiniteLossError, match="epoch 0, batch 0"):
        train_velocity(net, TARGET.sample(64, seed=0), TrainConfig(epochs=1, batch_size=32, val_fraction=0.0, **CPU))
