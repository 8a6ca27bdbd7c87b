r"""Beyond the study: the SK model through the lens, and algorithmic stochastic localisation on it.

The PNAS study treats planted models.  The Sherrington-Kirkpatrick model at h = 0 is not planted, but for
beta < 1 its Gibbs measure is contiguous to the planted Rademacher spiked Wigner model at lam = beta^2
(quiet planting: the couplings Y_ij = sqrt(lam / N) x*_i x*_j + W_ij and the posterior exp(sum_{i<j}
sqrt(lam / N) Y_ij x_i x_j) are those of SK at beta = sqrt(lam) with slightly tilted couplings, and the
two coupling laws are mutually contiguous for lam < 1; Zdeborová & Krzakala, Adv. Phys. 65 (2016)
§II.E).  The lens on the planted twin then describes the denoising problems that diffusion meets on SK:

    Gaussian path:   m = F(beta^2 m + s),                  F(g) = E tanh(g + sqrt(g) Z),
    erasure path:    m = theta + (1 - theta) F(beta^2 m),

both with the Rademacher prior, whose transition is continuous: no first-order point on either path for
beta < 1, so Bayes-optimal diffusion, flows and autoregressive sampling are predicted to work in the whole
replica-symmetric phase.  This is the regime where El Alaoui, Montanari & Sellke (FOCS 2022; sampling
via algorithmic stochastic localisation with AMP as the denoiser) and Celentano (2024, AMP convergence
up to beta = 1) prove that the algorithm samples in normalised Wasserstein distance.  For beta > 1 the
contiguity fails (SK is in its full-RSB phase) and the planted twin says nothing; their hardness results
rule out stable samplers there.

``sk_lens`` tabulates the verdicts; ``run_sk_experiment`` checks the prediction at finite N: stochastic
localisation over ``SKAMPDenoiser`` and Metropolis on SK instances, with the energy per spin against the
annealed value -beta/2 (exact in the paramagnet as N -> inf), the mean two-sample overlap (0 at h = 0,
beta < 1; O(1/sqrt(N)) at finite N), and on a small instance (n = ``exact_n``) the TV distance to the
exact law beside its null quantile for exact i.i.d. samples.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence

import numpy as np

import spinglass as sg
from analysis.measures.compare import compare, count_or_none
from analysis.theory.state_evolution import StateEvolution
from analysis.theory.transitions import analyze_path
from samplers import Metropolis, StochasticLocalization
from samplers.denoisers import SKAMPDenoiser
from samplers.schedules import GeometricSchedule
from spinglass.closed_forms import sk_annealed_energy
from spinglass.priors import Rademacher


def sk_lens(betas: Sequence[float]) -> list[dict]:
    """Per beta: the planted twin (lam = beta^2) along both paths — whether each generative sampler is
    predicted to fail (only meaningful for beta < 1, flagged by ``contiguous``)."""
    out = []
    for b in betas:
        b = float(b)
        if not (math.isfinite(b) and b > 0):
            raise ValueError(f"betas must be finite and > 0, got {b}")
        se = StateEvolution(Rademacher(), 2, 1.0 / b**2)
        g = analyze_path(se, "gaussian")
        e = analyze_path(se, "erasure")
        out.append({"beta": b, "lam": b**2, "contiguous": b < 1.0,
                    "diffusion_predicted_to_fail": bool(g.sampler_predicted_to_fail),
                    "autoregressive_predicted_to_fail": bool(e.sampler_predicted_to_fail),
                    "first_order_points": len(g.first_order) + len(e.first_order)})
    return out


def _annealed(beta: float) -> float | None:
    """-beta/2 in the paramagnet; None beyond beta = 1, where it is not the energy."""
    return sk_annealed_energy(float(beta)) if beta <= 1.0 else None


def run_sk_experiment(betas: Sequence[float] = (0.3, 0.6, 0.9), *, n: int = 400, instances: int = 2,
                      n_samples: int = 4, exact_n: int = 12, exact_samples: int = 2000, sl_steps: int = 30,
                      sweeps: int = 300, seed: int = 0) -> list[dict]:
    """SL over AMP and Metropolis on SK(n, beta) instances, plus an exact-law check at n = ``exact_n``."""
    rows = []
    den = functools.partial(SKAMPDenoiser, tol=1e-6, max_iter=300, warm_start=True)
    sl = StochasticLocalization(den, GeometricSchedule(T=30.0, n_steps=sl_steps, t_min=1e-3))
    for b in betas:
        for i in range(instances):
            model = sg.SK(n, float(b), seed=100 * i + 7)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tab = compare(model, {"diffusion": sl, "mcmc": Metropolis(sweeps=sweeps)}, n_samples, seed=seed).table
            for rec in tab.to_dict("records"):
                rows.append({"beta": float(b), "n": n, "instance": i, "sampler": rec["sampler"],
                             "energy": rec["energy"], "energy_sem": rec["energy_sem"],
                             "energy_annealed": _annealed(b), "two_sample_overlap": rec["two_sample_overlap"],
                             "wall_time": rec["wall_time"],
                             "denoiser_unconverged": count_or_none(rec, "denoiser_unconverged")})
        small = sg.SK(exact_n, float(b), seed=11)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tab = compare(small, {"diffusion": sl}, exact_samples, seed=seed).table
        rec = tab.iloc[0].to_dict()
        rows.append({"beta": float(b), "n": exact_n, "instance": 0, "sampler": "diffusion (exact check)",
                     "energy": rec["energy"], "energy_sem": rec["energy_sem"], "energy_annealed": _annealed(b),
                     "two_sample_overlap": rec["two_sample_overlap"], "tv_exact": rec.get("tv_exact"),
                     "tv_bound": rec.get("tv_bound"), "wall_time": rec["wall_time"]})
    return rows


def plot_sk(rows: list[dict], ax=None):
    """Energy per spin of SL and Metropolis against beta, beside the annealed -beta/2."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.8))
    big = [r for r in rows if "exact" not in r["sampler"]]
    for s, mk in (("diffusion", "o"), ("mcmc", "s")):
        rs = [r for r in big if r["sampler"] == s]
        betas = sorted({r["beta"] for r in rs})
        mean = [np.mean([r["energy"] for r in rs if r["beta"] == b]) for b in betas]
        ax.plot(betas, mean, mk, label=f"{s} (N = {rs[0]['n']})" if rs else s)
    grid = np.linspace(0.0, 1.0, 50)
    ax.plot(grid, -grid / 2, "k-", lw=0.8, label=r"annealed $-\beta/2$")
    ax.set_xlabel(r"$\beta$")
    ax.set_ylabel("energy per spin")
    ax.set_title("SK: algorithmic stochastic localisation", fontsize=9)
    ax.legend(fontsize=7)
    return ax


__all__ = ["plot_sk", "run_sk_experiment", "sk_lens"]
