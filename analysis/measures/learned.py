"""Learned denoisers judged against the Bayes-optimal one: MSE(t) along the Gaussian path beside the MMSE.

For a denoiser network m_theta(y, t) (``samplers.neural``) and samples x ~ mu, the learned MSE at path time
t is E||m_theta(t x + sqrt(t) z, t) - x||^2 / n, estimated on fresh pairs with its standard error.  The
reference is the Bayes-optimal MMSE: exact (``ExactDenoiser`` on the same pairs, giving also the excess
E||m_theta - m_exact||^2 / n) for small models, or state evolution for spiked models at any size (the
Bayes-optimal branch, the one of larger free entropy, and the algorithmic branch from an uninformed start;
MMSE = 1 - m for unit-variance priors).  Conventions: ``docs/physics.md`` (Gaussian channel).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analysis.theory.state_evolution import GAUSSIAN, StateEvolution
from samplers.denoisers.exact import ExactDenoiser
from samplers.neural.denoiser import (
    DenoiserNetwork,
    NeuralDenoiser,
    check_network,
    check_network_fits,
    check_training_data,
)
from samplers.neural.training import check_positive_int
from spinglass._validate import SeedLike, make_rng
from spinglass.base import Model


@dataclass
class MSECurve:
    """The learned denoiser's MSE along the path next to the Bayes-optimal MMSE (``denoiser_mse_curve``).

    t : (T,) path times.  mse, mse_stderr : the network's E||m_theta - x||^2 / n and its standard error.
    mmse : the Bayes-optimal reference (exact: estimated on the same pairs; SE: the Bayes-optimal branch).
    reference : "exact" or "state_evolution".
    excess, excess_stderr : E||m_theta - m_exact||^2 / n (exact reference only, else None).
    mmse_algorithmic : SE MMSE on the uninformed (algorithmic) branch (SE reference only, else None).
    n_samples : pairs (x, y) per t.
    """

    t: np.ndarray
    mse: np.ndarray
    mse_stderr: np.ndarray
    mmse: np.ndarray
    reference: str
    excess: np.ndarray | None = None
    excess_stderr: np.ndarray | None = None
    mmse_algorithmic: np.ndarray | None = None
    n_samples: int = 0


def state_evolution_mmse(model, ts) -> tuple[np.ndarray, np.ndarray]:
    """(Bayes-optimal, algorithmic) MMSE(t) = 1 - m(t) from state evolution on the Gaussian path."""
    se = StateEvolution.from_model(model)
    ts = np.asarray(ts, dtype=float)
    low = se.iterate(GAUSSIAN, ts, 1e-6).m
    high = se.iterate(GAUSSIAN, ts, 1.0).m
    phi_low = GAUSSIAN.potential(se, low, ts)
    phi_high = GAUSSIAN.potential(se, high, ts)
    bayes = np.where(phi_high > phi_low + 1e-12, high, low)
    return 1.0 - bayes, 1.0 - low


def denoiser_mse_curve(network: DenoiserNetwork, model: Model, ts, n_samples: int = 2000, seed: SeedLike = 0, *,
                       x=None, reference: str = "auto", device="auto") -> MSECurve:
    """MSE of the learned denoiser vs t on fresh samples, with the Bayes-optimal MMSE (module docstring).

    ts : path times (>= 0, finite).  n_samples : pairs per t (>= 1).  seed : for the samples and the noise.
    x : samples of mu to use (rows); default: ``model.exact().sample(n_samples)`` (small n only).
    reference : "exact" (``ExactDenoiser`` on the same pairs), "state_evolution" (spiked Wigner / tensor)
        or "auto" (exact when n_values^n <= 2^20, else state evolution).
    """
    check_network(network)
    check_network_fits(network, model)
    ts = np.asarray(ts, dtype=float).ravel()
    if ts.size == 0 or not np.all(np.isfinite(ts)) or np.any(ts < 0):
        raise ValueError("ts must be a non-empty array of finite path times t >= 0")
    n_samples = check_positive_int("n_samples", n_samples, 1)
    if reference not in ("auto", "exact", "state_evolution"):
        raise ValueError(f"reference must be 'auto', 'exact' or 'state_evolution', got {reference!r}")
    if reference == "auto":
        small = model.alphabet is not None and model.n_values ** model.n <= 2**20
        reference = "exact" if small else "state_evolution"
    rng = make_rng(seed)
    if x is None:
        x = model.exact().sample(n_samples, seed=rng)
    else:
        x = check_training_data(network, x, "x").double().numpy()
        n_samples = x.shape[0]
    den = NeuralDenoiser(network, model, device=device)
    exact = ExactDenoiser(model) if reference == "exact" else None
    mse, mse_se, ref, exc, exc_se = [], [], [], [], []
    for t in ts:
        y = t * x + math.sqrt(t) * rng.standard_normal(x.shape)
        m = den.mean(y, t)
        per = np.mean((m - x) ** 2, axis=1)
        mse.append(per.mean())
        mse_se.append(per.std(ddof=1) / math.sqrt(len(per)) if len(per) > 1 else math.nan)
        if exact is not None:
            me = exact.mean(y, t)
            ref.append(np.mean((me - x) ** 2))
            d = np.mean((m - me) ** 2, axis=1)
            exc.append(d.mean())
            exc_se.append(d.std(ddof=1) / math.sqrt(len(d)) if len(d) > 1 else math.nan)
    if exact is not None:
        return MSECurve(ts, np.array(mse), np.array(mse_se), np.array(ref), "exact", np.array(exc), np.array(exc_se),
                        None, n_samples)
    bayes, alg = state_evolution_mmse(model, ts)
    return MSECurve(ts, np.array(mse), np.array(mse_se), bayes, "state_evolution", None, None, alg, n_samples)


def plot_mse_curves(curves: MSECurve | dict[str, MSECurve], path=None, *, title: str | None = None, ax=None):
    """Plot MSE(t) of one or several learned denoisers (labels = dict keys) against their MMSE reference.

    The t axis is symmetric-log (t = 0 shown); error bars are 2 standard errors.  ``path``: save the
    figure there (PNG / PDF by suffix).  Returns the matplotlib figure.
    """
    from matplotlib.figure import Figure

    if isinstance(curves, MSECurve):
        curves = {"network": curves}
    if not isinstance(curves, dict) or not curves or not all(isinstance(c, MSECurve) for c in curves.values()):
        raise TypeError("curves must be an MSECurve or a non-empty dict of label -> MSECurve")
    if ax is None:
        fig = Figure(figsize=(6.0, 4.0))
        ax = fig.subplots()
    else:
        fig = ax.figure
    ref_done = False
    for label, c in curves.items():
        ax.errorbar(c.t, c.mse, yerr=2 * c.mse_stderr, marker="o", ms=3, capsize=2, label=f"{label}: MSE")
        if not ref_done:
            name = "exact MMSE" if c.reference == "exact" else "SE MMSE (Bayes-optimal branch)"
            ax.plot(c.t, c.mmse, "k--", lw=1.5, label=name)
            if c.mmse_algorithmic is not None and not np.allclose(c.mmse_algorithmic, c.mmse):
                ax.plot(c.t, c.mmse_algorithmic, "k:", lw=1.2, label="SE MMSE (algorithmic branch)")
            ref_done = True
    pos = c.t[c.t > 0]
    ax.set_xscale("symlog", linthresh=float(pos.min()) if pos.size else 1.0)
    ax.set_xlabel("path time t (SNR of y = t x + B_t)")
    ax.set_ylabel("MSE per site")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


__all__ = ["MSECurve", "state_evolution_mmse", "denoiser_mse_curve", "plot_mse_curves"]
