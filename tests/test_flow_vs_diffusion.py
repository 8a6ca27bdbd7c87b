"""Flow matching vs diffusion on the same footing (samplers.neural.flow_vs_diffusion): the time map, the
flow-matching minimiser, the comparison's fields; and the continuous / masked comparison's fields.

Torch runs on one CPU thread in this module (``torch_one_thread`` fixture).  The statistical tests compare paired
per-row losses with common random numbers and ask for a paired z-score beyond 4 (sample size 200 000 rows)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import samplers.neural.flow_vs_diffusion as fvd
import spinglass as sg
from samplers.neural.flow_vs_diffusion import (
    AmortisedVelocity,
    channel_observation,
    channel_time,
    compare_training,
    flow_matching_objective,
    interpolant_time,
    sample_quality,
    velocity_from_mean,
)

# a three-point prior where the channel posterior mean depends on t: P(0) = 1/2, P(+-sqrt 2) = 1/4 (unit variance)
VALUES = np.array([-math.sqrt(2.0), 0.0, math.sqrt(2.0)])
WEIGHTS = np.array([0.25, 0.5, 0.25])


def channel_mean(y, t):
    """E[x | y_t = y] of the three-point prior: weights p(a) exp(a y - t a^2 / 2)."""
    logw = np.log(WEIGHTS) + VALUES * np.asarray(y)[..., None] - 0.5 * np.asarray(t)[..., None] * VALUES**2
    w = np.exp(logw - logw.max(axis=-1, keepdims=True))
    return (w * VALUES).sum(-1) / w.sum(-1)


def interpolant_velocity(u, tau):
    """E[x - z | I_tau = u] computed directly in the interpolant's variables: P(a | u) ∝ p(a) N(u; tau a, (1-tau)^2)."""
    logw = np.log(WEIGHTS) - (u[..., None] - tau * VALUES) ** 2 / (2 * (1 - tau) ** 2)
    w = np.exp(logw - logw.max(axis=-1, keepdims=True))
    ex = (w * VALUES).sum(-1) / w.sum(-1)
    ez = (u - tau * ex) / (1 - tau)
    return ex - ez


def via_channel(u, tau, t_map=channel_time, y_map=channel_observation):
    return velocity_from_mean(channel_mean(y_map(u, tau), np.full(u.shape, t_map(tau))), u, tau)


pytestmark = pytest.mark.usefixtures("torch_one_thread")

U = np.linspace(-4, 4, 41)
TAUS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.97)


def test_time_map_is_exact_for_an_oracle_denoiser():
    for tau in TAUS:
        np.testing.assert_allclose(via_channel(U, tau), interpolant_velocity(U, tau), rtol=1e-10, atol=1e-10)
        assert interpolant_time(channel_time(tau)) == pytest.approx(tau, abs=1e-14)
    # Gaussian prior N(0, 1): E[x | y_t] = y / (1 + t), and E[x | I_tau = u] = tau u / ((1 - tau)^2 + tau^2)
    for tau in TAUS[1:]:
        m = channel_observation(U, tau) / (1 + channel_time(tau))
        np.testing.assert_allclose(m, tau * U / ((1 - tau) ** 2 + tau**2), rtol=1e-12)


def test_time_map_mutants_fail():
    wrong_t = lambda tau: tau / (1 - tau)  # noqa: E731  (sqrt t instead of t)
    wrong_y = lambda u, tau: tau * np.asarray(u) / (1 - tau)  # noqa: E731  (one factor 1 / (1 - tau) short)
    for mutant in ({"t_map": wrong_t}, {"y_map": wrong_y}):
        worst = max(np.max(np.abs(via_channel(U, tau, **mutant) - interpolant_velocity(U, tau))) for tau in TAUS[1:])
        assert worst > 0.05


def test_torch_and_numpy_maps_agree():
    tau = torch.tensor([[0.0, 0.25], [0.5, 0.9]], dtype=torch.float64)
    u = torch.randn((2, 2, 3), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    np.testing.assert_allclose(channel_observation(u, tau).numpy(), channel_observation(u.numpy(), tau.numpy()))
    np.testing.assert_allclose(channel_time(tau).numpy(), channel_time(tau.numpy()))
    with pytest.raises(ValueError, match="tau"):
        channel_time(1.0)
    with pytest.raises(ValueError, match="t must"):
        interpolant_time(-1.0)


def _scalar_fm_losses(cs, y_map=channel_observation, n=200_000, seed=0):
    """Per-row flow-matching losses of the denoisers m_c(y, t) = tanh(c y) on the Rademacher scalar channel
    (the Bayes denoiser is c = 1 for every t), with common random numbers across c."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0).double()[:, None]
    tau = (torch.rand((n, 1), generator=gen, dtype=torch.float64) * 0.9)
    z = torch.randn((n, 1, 1), generator=gen, dtype=torch.float64)
    out = []
    for c in cs:
        def den(y, t, c=c):
            return torch.tanh(c * y)

        per_row = []
        orig = fvd.channel_observation
        fvd.channel_observation = y_map
        try:
            # row losses: reduce by hand (the objective returns the mean) via a recording denoiser
            u = (1 - tau)[..., None] * z + tau[..., None] * x[..., None, :]
            b = fvd.velocity_from_mean(den(fvd.channel_observation(u, tau), fvd.channel_time(tau)), u, tau)
            per_row = ((b - (x[..., None, :] - z)) ** 2).reshape(-1)
            mean = flow_matching_objective(den, x, tau, z)
        finally:
            fvd.channel_observation = orig
        assert float(mean) == pytest.approx(float(per_row.mean()), rel=1e-12)
        out.append(per_row.numpy())
    return out


def _paired_z(base, other):
    d = other - base
    return d.mean() / (d.std(ddof=1) / math.sqrt(d.size))


CS = (0.7, 0.85, 1.15, 1.4)


def test_flow_matching_minimiser_is_the_bayes_velocity():
    base, *others = _scalar_fm_losses((1.0,) + CS)
    # every perturbed denoiser has a larger loss than the Bayes one, significantly (paired z > 4)
    zs = [_paired_z(base, o) for o in others]
    assert min(zs) > 4.0, zs


def test_flow_matching_minimiser_mutant_fails():
    wrong_y = lambda u, tau: (tau / (1 - tau))[..., None] * u  # noqa: E731
    base, *others = _scalar_fm_losses((1.0,) + CS, y_map=wrong_y)
    zs = [_paired_z(base, o) for o in others]
    assert min(zs) < -4.0, zs  # with the wrong map, some c != 1 beats the Bayes denoiser


def test_compare_training_fields_are_consistent():
    ts = np.geomspace(0.05, 3.0, 4)
    mmse = np.linspace(0.8, 0.1, 4)
    res = compare_training(n=40, steps=6, instances_per_step=1, rows_per_instance=4, n_layers=2, hidden=4,
                           t_grid=ts, mmse=mmse, eval_every=4, eval_instances=2, eval_rows=2, seed=3)
    assert set(res.runs) == {"diffusion", "flow"}
    np.testing.assert_array_equal(res.t_grid, ts)
    for run in res.runs.values():
        assert run.loss.shape == run.grad_norm.shape == run.cpu_seconds.shape == run.wall_seconds.shape == (6,)
        assert np.all(np.diff(run.cpu_seconds) >= 0) and np.all(np.diff(run.wall_seconds) >= 0)
        np.testing.assert_array_equal(run.eval_steps, [0, 4, 6])
        assert run.eval_mse.shape == (3, 4)
        np.testing.assert_allclose(run.eval_excess, (run.eval_mse / mmse - 1).mean(axis=1))
        hit = run.time_to(float(run.eval_excess.max()))
        assert hit is not None and hit["step"] == 0 and hit["cpu_seconds"] == 0.0
        assert run.time_to(float(run.eval_excess.min()) - 1.0) is None
        k = int(np.argmin(run.eval_excess))
        hit = run.time_to(float(run.eval_excess[k]))
        assert hit["step"] <= run.eval_steps[k]
        s = run.summary([0.1])
        assert s["steps"] == 6 and s["cpu_seconds"] == run.cpu_seconds[-1]
    # same initial weights and the same held-out rows: identical step-0 evaluation
    np.testing.assert_array_equal(res.runs["diffusion"].eval_mse[0], res.runs["flow"].eval_mse[0])
    # reproducible
    again = compare_training(n=40, steps=6, instances_per_step=1, rows_per_instance=4, n_layers=2, hidden=4,
                             t_grid=ts, mmse=mmse, eval_every=4, eval_instances=2, eval_rows=2, seed=3)
    for m in ("diffusion", "flow"):
        np.testing.assert_array_equal(res.runs[m].loss, again.runs[m].loss)


def test_compare_training_bad_input():
    with pytest.raises(ValueError, match="methods"):
        compare_training(n=20, steps=1, methods=("flow", "score"))
    with pytest.raises(ValueError, match="mmse"):
        compare_training(n=20, steps=1, t_grid=(0.1, 1.0, 3), mmse=[0.5, 0.4])
    with pytest.raises(ValueError, match="steps"):
        compare_training(n=20, steps=0)


def test_velocity_and_sample_quality_fields():
    net = fvd.AmortisedAMP(sg.Rademacher(), n_layers=3, hidden=4, seed=0)
    model = sg.SpikedWigner(40, 2.0, sg.Rademacher(), seed=0)
    vel = AmortisedVelocity(net, model)
    u = np.random.default_rng(0).standard_normal((3, 40))
    tau = 0.4
    with torch.no_grad():
        m, _ = net.bind(model).posterior(torch.as_tensor(channel_observation(u, tau), dtype=torch.float32),
                                         float(channel_time(tau)))
    np.testing.assert_allclose(vel(u, tau), (m.double().numpy() - u) / (1 - tau), rtol=1e-6, atol=1e-6)
    assert vel.n_evaluations == 1
    rows = sample_quality({"a": net}, 2.0, 40, nfe=(6,), instance_seeds=(0,), n_samples=3)
    assert {(r["driver"], r["nfe_used"]) for r in rows} == {("SL", 6), ("SI", 6)}
    for r in rows:
        assert 0 <= r["overlap"] <= 1 and 0 <= r["two_sample_overlap"] <= 1


# -- continuous vs masked (samplers.neural.continuous_vs_masked) -----------------------------------------------------
def test_train_channels_fields_and_shared_start():
    from samplers.neural.continuous_vs_masked import CHANNEL_RUNS, train_channels

    tr = train_channels("naesat", 30, steps=3, instances_per_step=1, rows_per_instance=2, n_layers=2, hidden=3,
                        k=3, alpha=2.0, seed=1)
    assert set(tr.networks) == set(CHANNEL_RUNS)
    for c in CHANNEL_RUNS:
        assert tr.loss[c].shape == tr.cpu_seconds[c].shape == (3,)
        assert np.all(np.isfinite(tr.loss[c])) and np.all(np.diff(tr.cpu_seconds[c]) >= 0)
    assert tr.data["gaussian"].channel == "gaussian" and tr.data["erasure"].channel == "erasure"
    # the same planted instances every step: same graph sizes and densities on both channels
    assert tr.data["gaussian"].describe()["alpha"] == tr.data["erasure"].describe()["alpha"]


def test_summarise_violations_paired_difference_and_mutant():
    from samplers.neural.continuous_vs_masked import summarise_violations

    rng = np.random.default_rng(0)
    ref = rng.poisson(3.0, 8).astype(float)
    raw = {"ref": {"violations": list(ref), "failed": [False] * 8, "seconds": [1.0] * 8},
           "same": {"violations": list(ref + rng.normal(0, 0.1, 8)), "failed": [False] * 8, "seconds": [1.0] * 8},
           "worse": {"violations": list(ref + 2.0 + rng.normal(0, 0.1, 8)), "failed": [False] * 8,
                     "seconds": [1.0] * 8}}
    raw["same"]["violations"][3] = math.nan
    raw["same"]["failed"][3] = True
    s = summarise_violations(raw, {"same": "ref", "worse": "ref"})
    assert s["same"]["failed"] == 1 and s["same"]["violations"]["count"] == 7
    assert s["same"]["minus_ref"]["count"] == 7 and s["same"]["minus_ref"]["within_2se"]
    assert not s["worse"]["minus_ref"]["within_2se"] and not s["worse"]["minus_ref"]["not_worse_2se"]
    assert s["ref"]["violations"]["mean"] == pytest.approx(ref.mean())


def test_generic_initialisation():
    model = sg.SpikedWigner(30, 2.0, sg.Rademacher(), seed=0)
    y = torch.as_tensor(np.random.default_rng(1).standard_normal((2, 30)), dtype=torch.float32)
    amp = fvd.AmortisedAMP(sg.Rademacher(), n_layers=3, hidden=4, seed=0)
    same = fvd.generic_initialisation(fvd.AmortisedAMP(sg.Rademacher(), n_layers=3, hidden=4, seed=0), 0.0)
    moved = fvd.generic_initialisation(fvd.AmortisedAMP(sg.Rademacher(), n_layers=3, hidden=4, seed=0), 1.0)
    with torch.no_grad():
        a, b, c = (net.bind(model).posterior(y, 0.5)[0] for net in (amp, same, moved))
    torch.testing.assert_close(a, b)
    assert float((a - c).abs().max()) > 1e-2
    with pytest.raises(ValueError, match="scale"):
        fvd.generic_initialisation(amp, -1.0)
