"""PixelCNN (masked-convolution autoregressive network on a lattice): the autoregressive property, exact
normalisation, sampling from q, importance-sampled log Z against Kaufman's exact value, checkpoint resume.

Every statistical check has a mutant that the same assertion rejects."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from scipy import stats

from samplers.neural import NeuralMCMC, VariationalAutoregressive
from samplers.neural import pixelcnn as pixelcnn_module
from samplers.neural.autoregressive_training import importance_log_z, importance_summary, train_van
from samplers.neural.pixelcnn import PixelCNN, conv_mask
from spinglass.closed_forms import ising_torus
from spinglass.lattice import EdwardsAnderson

pytestmark = pytest.mark.usefixtures("torch_one_thread")

F64 = torch.float64


def _all_indices(n: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product([0, 1], repeat=n)), dtype=torch.int64)


def _future_dependence(net: PixelCNN, seed: int = 0) -> float:
    """max |d l_i / d x_j| over j >= i at a random continuous input (0 for an autoregressive network)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(net.n, generator=g, dtype=F64) * 2 - 1
    jac = torch.autograd.functional.jacobian(lambda s: net.logits(s.unsqueeze(0)).squeeze(0), x)
    future = torch.triu(torch.ones(net.n, net.n, dtype=torch.bool))  # entries (i, j) with j >= i
    return float(jac[future].abs().max())


def _past_dependence(net: PixelCNN, seed: int = 0) -> float:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(net.n, generator=g, dtype=F64) * 2 - 1
    jac = torch.autograd.functional.jacobian(lambda s: net.logits(s.unsqueeze(0)).squeeze(0), x)
    return float(jac[torch.tril(torch.ones(net.n, net.n, dtype=torch.bool), -1)].abs().max())


@pytest.mark.parametrize("shape", [(3, 4), (4, 3), (1, 5), (5, 1)])
def test_autoregressive_property(shape):
    net = PixelCNN(*shape, channels=5, n_blocks=2, half_kernel=1, first_half_kernel=2, dtype=F64, seed=3)
    assert _future_dependence(net) == 0.0
    assert _past_dependence(net) > 1e-6  # the earlier sites are seen
    # the same in the discrete form: flipping a later spin leaves the earlier conditionals unchanged
    idx = torch.randint(0, 2, (1, net.n), generator=torch.Generator().manual_seed(1))
    base = net.log_conditionals(idx)
    for j in range(net.n):
        flipped = idx.clone()
        flipped[0, j] = 1 - flipped[0, j]
        assert torch.equal(net.log_conditionals(flipped)[0, : j + 1], base[0, : j + 1])


def test_mask_type_a_mutant_breaks_the_autoregressive_property(monkeypatch):
    """A first layer that sees the current site (type B instead of A) must fail the same check."""
    real = pixelcnn_module.conv_mask
    monkeypatch.setattr(pixelcnn_module, "conv_mask", lambda half, include_centre: real(half, include_centre=True))
    net = PixelCNN(3, 4, channels=5, n_blocks=2, dtype=F64, seed=3)
    assert _future_dependence(net) > 1e-6


def test_conv_masks():
    a = conv_mask(1, include_centre=False)
    b = conv_mask(1, include_centre=True)
    assert a.tolist() == [[1, 1, 1], [1, 0, 0]]
    assert b.tolist() == [[1, 1, 1], [1, 1, 0]]


@pytest.mark.parametrize("z2", [False, True])
def test_normalised_by_enumeration(z2):
    net = PixelCNN(3, 3, channels=6, n_blocks=2, z2=z2, dtype=F64, seed=5)
    allx = _all_indices(9)
    lp = net.log_prob(allx)
    assert abs(float(torch.logsumexp(lp.detach(), 0))) < 1e-12
    if z2:
        assert torch.allclose(lp, net.log_prob(1 - allx), atol=1e-12, rtol=0)


def _chi_square_p(net: PixelCNN, n_samples: int, seed: int) -> float:
    allx = _all_indices(net.n)
    p = net.log_prob(allx).exp().detach().numpy()
    draws = net.sample(n_samples, torch.Generator().manual_seed(seed))
    codes = (draws * (2 ** torch.arange(net.n - 1, -1, -1))).sum(1).numpy()
    counts = np.bincount(codes, minlength=2**net.n)
    return float(stats.chisquare(counts, n_samples * p / p.sum()).pvalue)


def _biased_net(z2: bool) -> PixelCNN:
    net = PixelCNN(2, 3, channels=6, n_blocks=2, z2=z2, dtype=F64, seed=7)
    with torch.no_grad():
        net.b_out.fill_(1.0)  # strongly favour +1 spins, so that q(x) and q(-x) differ
    return net


@pytest.mark.parametrize("z2", [False, True])
def test_sample_draws_from_q(z2):
    # 64 cells, 10000 draws: expected counts >= ~4; a correct sampler passes at level 1e-3 (fixed seed)
    assert _chi_square_p(_biased_net(z2), 10000, seed=11) > 1e-3


def test_sampler_mutant_without_the_global_flip_is_rejected(monkeypatch):
    net = _biased_net(True)
    real = PixelCNN.sample

    def no_flip(self, n_samples, generator=None):
        self.z2 = False
        try:
            return real(self, n_samples, generator)
        finally:
            self.z2 = True

    monkeypatch.setattr(PixelCNN, "sample", no_flip)
    assert _chi_square_p(net, 10000, seed=11) < 1e-3


def test_windowed_sampling_uses_the_full_network_conditionals():
    """The sampler evaluates each row on an (R + 1)-row window; on a lattice taller than the window its draws
    must be exactly x_i = +1 iff u_i < sigmoid(l_i(x_<i)) with the logits of the full network."""
    net = PixelCNN(7, 4, channels=5, n_blocks=1, half_kernel=1, first_half_kernel=1, dtype=F64, seed=2)
    assert net.rows_above + 1 < net.L
    x = net.sample(500, torch.Generator().manual_seed(9))
    u = torch.rand((net.n, 500), generator=torch.Generator().manual_seed(9), dtype=F64).T
    p_up = torch.sigmoid(net.logits(2.0 * x.to(F64) - 1.0))
    assert torch.equal(x, (u < p_up).to(torch.int64))


@pytest.fixture(scope="module")
def trained_3x3(torch_one_thread):
    """A Z2 PixelCNN trained by VAN on the 3 x 3 ferromagnetic torus at beta = 0.44."""
    model = EdwardsAnderson((3, 3), "ferro", beta=0.44)
    net = PixelCNN(3, 3, channels=8, n_blocks=1, z2=True, seed=0, dtype=F64)
    train_van(net, model, n_steps=150, batch_size=256, lr=5e-3, beta0=0.5, anneal_fraction=0.3, seed=1, device="cpu")
    return model, net


@pytest.mark.slow
def test_importance_log_z_matches_kaufman_on_3x3_torus_and_dropping_log_q_fails(trained_3x3, monkeypatch):
    model, net = trained_3x3
    exact = ising_torus(3, 3, 0.44).log_Z
    s = importance_summary(net, model, 10000, seed=2)
    assert abs(s.log_z - exact) <= 3 * s.log_z_stderr
    assert s.log_z_stderr < 0.05
    assert 0.0 < s.ess_fraction <= 1.0 and math.isclose(s.ess, s.ess_fraction * 10000)
    assert -s.free_energy <= exact + 3 * s.free_energy_stderr  # variational bound F_q >= -log Z
    e_exact = ising_torus(3, 3, 0.44).energy_per_spin * 9
    assert abs(s.energy_is - e_exact) < 0.2
    est = importance_log_z(net, model, 10000, seed=2)
    assert (est.log_z, est.stderr, est.ess) == (s.log_z, s.log_z_stderr, s.ess)
    # mutant: an importance weight that drops log q (w = exp(-beta E) instead of exp(-beta E) / q)
    monkeypatch.setattr(net, "log_prob", lambda idx: torch.zeros(idx.shape[0], dtype=F64))
    bad = importance_log_z(net, model, 10000, seed=2)
    assert not abs(bad.log_z - exact) <= 3 * bad.stderr


@pytest.mark.slow
def test_neural_mcmc_and_variational_sampler_over_pixelcnn(trained_3x3):
    model, net = trained_3x3
    out = NeuralMCMC(net, n_steps=50, n_chains=100).sample(model, 100, seed=3)
    assert 0.3 < out.acceptance["mean"] <= 1.0
    assert out.sampler["network"]["name"] == "PixelCNN"
    van = VariationalAutoregressive([4], n_steps=3, batch_size=16, architecture="pixelcnn", z2=True, device="cpu")
    s = van.sample(model, 10, seed=0)
    assert s.x.shape == (10, 9) and set(np.unique(s.x)) <= {-1.0, 1.0}
    assert s.sampler["architecture"] == "pixelcnn"


def test_checkpoint_resume_equals_uninterrupted_run(tmp_path, monkeypatch):
    kw = dict(n_steps=10, batch_size=32, lr=1e-2, beta0=0.3, anneal_fraction=0.5, seed=4, device="cpu")
    model = EdwardsAnderson((3, 3), "ferro", beta=0.4)
    ref_net = PixelCNN(3, 3, channels=4, n_blocks=1, z2=True, seed=1, dtype=F64)
    ref = train_van(ref_net, model, **kw)

    net = PixelCNN(3, 3, channels=4, n_blocks=1, z2=True, seed=1, dtype=F64)
    path = tmp_path / "van.pt"
    real_energy = model.energy
    calls = {"n": 0}

    def failing_energy(x):
        calls["n"] += 1
        if calls["n"] == 8:
            raise KeyboardInterrupt("interrupted")
        return real_energy(x)

    monkeypatch.setattr(model, "energy", failing_energy)
    with pytest.raises(KeyboardInterrupt):
        train_van(net, model, checkpoint=path, checkpoint_every=3, **kw)
    monkeypatch.setattr(model, "energy", real_energy)
    assert torch.load(path, weights_only=True)["step"] == 6
    net2 = PixelCNN(3, 3, channels=4, n_blocks=1, z2=True, seed=1, dtype=F64)
    res = train_van(net2, model, checkpoint=path, checkpoint_every=3, **kw)
    for a, b in zip(ref_net.parameters(), net2.parameters(), strict=True):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(res.free_energy, ref.free_energy)
    with pytest.raises(ValueError, match="other settings"):
        train_van(PixelCNN(3, 3, channels=4, n_blocks=1, seed=1), model, checkpoint=path,
                  **{**kw, "lr": 2e-2})


def test_parameter_count_and_bad_input():
    net = PixelCNN(6, 5, channels=7, n_blocks=3, half_kernel=2, first_half_kernel=3)
    assert net.n_parameters == PixelCNN.parameter_count(7, 3, 2, 3)
    assert PixelCNN(16).n_parameters == PixelCNN(32).n_parameters  # independent of L
    with pytest.raises(ValueError, match="channels must be an integer >= 1"):
        PixelCNN(4, channels=0)
    with pytest.raises(TypeError, match="z2 must be a bool"):
        PixelCNN(4, z2=1)
    with pytest.raises(ValueError, match="activation"):
        PixelCNN(4, activation="sigmoid")
    with pytest.raises(ValueError, match=r"entries must lie in \[0, 1\]"):
        PixelCNN(3).log_prob(torch.full((1, 9), 2))
    with pytest.raises(ValueError, match="shape"):
        importance_log_z(PixelCNN(3, 4), EdwardsAnderson((4, 3), "ferro", beta=0.3), 10)
    with pytest.raises(ValueError, match="checkpoint_every must be an integer >= 1"):
        train_van(PixelCNN(3), EdwardsAnderson((3, 3), "ferro", beta=0.3), n_steps=1, checkpoint_every=0)
    with pytest.raises(ValueError, match="architecture"):
        VariationalAutoregressive(architecture="rnn")


def test_made_settings_keep_their_identity():
    """The architecture keys are recorded only for a PixelCNN, so a MADE run's settings (its task id in a
    sweep) are those of the runs made before the PixelCNN existed."""
    made = VariationalAutoregressive([4], n_steps=3, batch_size=16, device="cpu").settings()
    assert "architecture" not in made and "z2" not in made
    pix = VariationalAutoregressive([4], n_steps=3, batch_size=16, architecture="pixelcnn", device="cpu").settings()
    assert pix["architecture"] == "pixelcnn" and pix["z2"] is False
