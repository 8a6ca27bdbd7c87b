"""Bad input to the generative drivers and schedules raises clear errors naming the parameter."""

from __future__ import annotations

import numpy as np
import pytest

import spinglass as sg
from samplers import (
    AdaptiveSchedule,
    Autoregressive,
    GeometricSchedule,
    StochasticInterpolant,
    StochasticLocalization,
    UniformSchedule,
)
from samplers.denoisers import Denoiser, DenoiserOutput, ExactDenoiser


@pytest.fixture(scope="module")
def model():
    return sg.SK(6, 0.8, seed=1)


@pytest.fixture(scope="module")
def den(model):
    return ExactDenoiser(model)


@pytest.mark.parametrize("make, pattern", [
    (lambda: UniformSchedule(T=0.0), "T must be > 0"),
    (lambda: UniformSchedule(T=-1.0), "T must be > 0"),
    (lambda: UniformSchedule(T=float("inf")), "T must be finite"),
    (lambda: UniformSchedule(n_steps=0), "n_steps must be >= 1"),
    (lambda: GeometricSchedule(n_steps=1), "n_steps must be >= 2"),
    (lambda: GeometricSchedule(T=1.0, t_min=2.0), "t_min must be < T"),
    (lambda: AdaptiveSchedule(tol=0.0), "tol must be > 0"),
    (lambda: AdaptiveSchedule(dt_min=1.0, dt_max=0.5), "dt_max must be >= dt_min"),
    (lambda: AdaptiveSchedule(dt_init=5.0), "dt_init must be in"),
])
def test_bad_schedules(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make()


def test_bad_driver_settings(den):
    with pytest.raises(ValueError, match="schedule must be"):
        StochasticLocalization(den, "cosine")
    with pytest.raises(ValueError, match="T must be > 0"):
        StochasticLocalization(den, T=0.0)
    with pytest.raises(ValueError, match="n_steps must be >= 1"):
        StochasticLocalization(den, "uniform", n_steps=0)
    with pytest.raises(ValueError, match="rounding must be one of"):
        StochasticLocalization(den, rounding="floor")
    with pytest.raises(TypeError, match="denoiser must be a Denoiser"):
        StochasticLocalization(3)
    with pytest.raises(ValueError, match="exactly one of denoiser and velocity"):
        StochasticInterpolant()
    with pytest.raises(ValueError, match="method must be one of"):
        StochasticInterpolant(den, method="pde")
    with pytest.raises(ValueError, match="rk4"):
        StochasticInterpolant(den, method="sde", integrator="rk4")
    with pytest.raises(ValueError, match="T must be > 0"):
        StochasticInterpolant(den, T=-2.0)
    with pytest.raises(ValueError, match="diffusion must be > 0"):
        StochasticInterpolant(den, method="sde", integrator="euler", diffusion=0.0)
    with pytest.raises(ValueError, match="needs method='sde'"):
        StochasticInterpolant(den, diffusion=2.0)
    with pytest.raises(ValueError, match="needs a denoiser, not a velocity"):
        StochasticInterpolant(velocity=lambda u, tau: u, trajectory=True)
    with pytest.raises(ValueError, match="carries its own"):
        StochasticLocalization(den, GeometricSchedule(T=30), T=5.0)
    with pytest.raises(ValueError, match="n_steps does not apply"):
        StochasticLocalization(den, "adaptive", n_steps=3)
    with pytest.raises(ValueError, match="either as order=array"):
        Autoregressive(den, order=np.arange(6), permutation=np.arange(6))
    with pytest.raises(ValueError, match="order must be"):
        Autoregressive(den, order="sorted")
    with pytest.raises(ValueError, match="permutation"):
        Autoregressive(den, order=[0, 0, 1, 2, 3, 4])
    with pytest.raises(ValueError, match="reveal_per_step must be >= 1"):
        Autoregressive(den, reveal_per_step=0)


def test_n_samples_and_batch_size(den, model):
    with pytest.raises(ValueError, match="n_samples must be >= 1"):
        StochasticLocalization(den).sample(model, 0)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        StochasticLocalization(den, batch_size=0)


def test_denoiser_of_the_wrong_model(den):
    other_size = sg.SK(7, 0.8, seed=1)
    with pytest.raises(ValueError, match="n = 6, but the model has n = 7"):
        StochasticLocalization(den).sample(other_size, 2, seed=0)
    other_instance = sg.SK(6, 0.8, seed=2)
    with pytest.raises(ValueError, match="fingerprints differ"):
        Autoregressive(den).sample(other_instance, 2, seed=0)
    # a factory builds the right denoiser for any instance
    res = Autoregressive(ExactDenoiser).sample(other_instance, 3, seed=0)
    assert res.x.shape == (3, 6)


class _NaNDenoiser(Denoiser):
    def __init__(self, model, at_t=0.5):
        self.model = model
        self.at_t = at_t

    def _posterior(self, y, t, revealed):
        B, n = y.shape
        mean = np.where(t[:, None] >= self.at_t, np.nan, 0.0) * np.ones((B, n))
        marg = np.full((B, n, 2), 0.5)
        return DenoiserOutput(mean=mean, marginals=marg, converged=np.ones(B, bool),
                              iterations=np.zeros(B, int), residual=np.zeros(B))


def test_non_finite_denoiser_output_is_caught(model):
    bad = _NaNDenoiser(model)
    with pytest.raises(FloatingPointError, match="non-finite values at t = "):
        StochasticLocalization(bad, "uniform", T=2.0, n_steps=10).sample(model, 2, seed=0)
    with pytest.raises(FloatingPointError, match="non-finite values at tau = "):
        StochasticInterpolant(bad, n_steps=10).sample(model, 2, seed=0)
    with pytest.raises(FloatingPointError, match="velocity returned non-finite"):
        StochasticInterpolant(velocity=lambda u, tau: u * np.nan, n_steps=3).sample(model, 2, seed=0)
    with pytest.raises(ValueError, match="velocity returned shape"):
        StochasticInterpolant(velocity=lambda u, tau: u[:, :2], n_steps=3).sample(model, 2, seed=0)


@pytest.mark.filterwarnings("ignore::samplers.denoisers.NonConvergenceWarning")
def test_continuous_prior_cannot_be_decimated():
    from samplers.denoisers import AMPDenoiser

    model = sg.SpikedWigner(20, 2.0, sg.Gaussian(), seed=0)
    with pytest.raises(TypeError, match="continuous prior"):
        Autoregressive(AMPDenoiser).sample(model, 2, seed=0)
    # the Gaussian channel works and returns the continuous posterior mean at T
    res = StochasticLocalization(AMPDenoiser, "geometric", n_steps=10).sample(model, 2, seed=0)
    assert res.x.shape == (2, 20) and np.all(np.isfinite(res.x))


def test_non_convergence_is_reported_once(model):
    from samplers.denoisers import NonConvergenceWarning, SKAMPDenoiser

    hot = sg.SK(40, 0.5, seed=0)
    amp = SKAMPDenoiser(hot, max_iter=1)
    with pytest.warns(NonConvergenceWarning, match="denoiser queries did not converge") as rec:
        res = StochasticLocalization(amp, "uniform", T=5.0, n_steps=5).sample(hot, 2, seed=0)
    assert len([w for w in rec if issubclass(w.category, NonConvergenceWarning)]) == 1
    assert res.work["denoiser_unconverged"] > 0
