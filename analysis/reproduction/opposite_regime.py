r"""The "opposite regime": the Bayes-optimal denoiser is reachable, but is MCMC from a random start slow?

In the easy phase of the sparse Rademacher spiked Wigner model (x = Delta/rho^2 = 1/lam < x_alg, with the
prior normalised to E x^2 = 1, so that lam = 1/x; ``spinglass.SparseRademacher``) AMP reaches the
Bayes-optimal state, so diffusion over AMP is predicted to work.  Local dynamics may still be trapped
there: Antenucci, Franz, Urbani, Zdeborová (PRX 2019) find glassy states that slow Langevin / MCMC from a
random start down in part of the easy phase.  This module measures that, without presupposing it:

* **MCMC time.** Metropolis chains from a random start (i.i.d. from the prior) on planted instances; the
  time of a chain is the first traced sweep at which its overlap with the planted configuration (up to the
  global sign, divided by the instance's |x*|^2 / N, as for the SE comparison in
  ``analysis.measures.trajectories``) reaches ``THRESHOLD_FRACTION * m*``, m* the state-evolution overlap at
  s = 0 (informed branch, equal to the algorithmic one below x_alg).  Half of m*: the uninformed state has overlap
  O(N^{-1/2}) (below 0.1 at N >= 500 for the instances here) and the informed one m* (0.93-0.98 at rho =
  0.05, x <= 0.85), so the threshold separates them by many standard deviations of either.  A chain that
  does not reach it within ``max_sweeps`` is censored (time recorded as None, counted as > max_sweeps);
  the median over chains and instances is then a lower bound when censored times are the majority
  (``median`` None, ``censored`` the fraction).
* **Diffusion.** ``StochasticLocalization`` over ``AMPDenoiser`` on the same instances: a sample succeeds
  when its overlap with x* (up to sign) reaches the same threshold; the success rate is over samples and
  instances.

``run_opposite_regime`` returns one record per (x, N) and instance; ``summarize`` the medians and rates;
``plot_opposite_regime`` draws the median MCMC time against N per x, beside the diffusion success rate.
Instance seeds are ``10000 * k + 100 * j + i`` for the k-th x, the j-th N and instance i; the samplers' seeds
are drawn from ``SeedSequence([seed, instance_seed, stream])``, never the instance seed itself (with it,
a chain's random start is the planted configuration: the instance and the chain draw the same stream).
"""

from __future__ import annotations

import functools
import math
import time
import warnings

import numpy as np

import spinglass as sg
from analysis.theory import StateEvolution, model_thresholds
from samplers import Metropolis, StochasticLocalization
from samplers.denoisers import AMPDenoiser
from samplers.schedules import GeometricSchedule

#: the overlap threshold, as a fraction of the SE overlap m* (module docstring)
THRESHOLD_FRACTION = 0.5
#: sizes per mode.  ``ns``: MCMC sizes; ``diffusion_ns``: the sizes at which diffusion also runs;
#: ``chunk``: sweeps per Metropolis call (the chains stop once all have reached the threshold); ``skip``:
#: (x, N) points left out (the full record leaves out x = 0.75 at N = 8000, to fit the time it had: one N = 8000
#: instance with censored chains takes 1-2.5 min on one core).
SETTINGS = {
    "full": {"rho": 0.05, "xs": (0.6, 0.75, 0.85), "ns": (500, 1000, 2000, 4000, 8000), "instances": 4,
             "chains": 4, "max_sweeps": 20000, "chunk": 500, "trace_every": 5,
             "diffusion_ns": (500, 1000, 2000, 4000), "diffusion_samples": 2, "sl_steps": 30,
             "skip": ((0.75, 8000),)},
    "quick": {"rho": 0.05, "xs": (0.75,), "ns": (200, 400), "instances": 2, "chains": 2, "max_sweeps": 1000,
              "chunk": 500, "trace_every": 5, "diffusion_ns": (200,), "diffusion_samples": 2, "sl_steps": 15,
              "skip": ()},
}
AMP = {"warm_start": True, "tol": 1e-4, "max_iter": 150}
SL = {"T": 30.0, "t_min": 1e-3}


def se_overlap(rho: float, x: float) -> float:
    """m* = the SE overlap at s = 0 from the informed start (m0 = 1) for SparseRademacher(rho), lam = 1/x."""
    se = StateEvolution.wigner(sg.SparseRademacher(rho), 1.0 / x)
    return float(se.iterate("gaussian", 0.0, m0=1.0).m)


def x_alg(rho: float) -> float:
    """The algorithmic threshold x_alg = 1/lam_alg of SparseRademacher(rho) (``model_thresholds``)."""
    return 1.0 / model_thresholds(sg.SparseRademacher(rho)).lam_alg


def mcmc_times(model, threshold: float, *, chains: int, max_sweeps: int, chunk: int, trace_every: int,
               seed: int) -> list[int | None]:
    """First traced sweep at which each Metropolis chain (random start) has |overlap with x*| >= threshold.

    Runs in chunks of ``chunk`` sweeps (resumed through ``Samples.state``, so the chains are those of one
    long run) and stops once every chain has reached the threshold or ``max_sweeps`` are done; None marks
    a chain that never reached it (censored)."""
    times: list[int | None] = [None] * chains
    norm = planted_norm(model)
    state = None
    done = 0
    while done < max_sweeps and any(t is None for t in times):
        k = min(chunk, max_sweeps - done)
        sampler = Metropolis(sweeps=k, trace_every=trace_every)
        res = (sampler.sample(model, chains, seed=seed, init="random") if state is None
               else sampler.sample(model, chains, state=state))
        state = res.state
        sweeps = np.asarray(res.trace["sweep"], dtype=int)  # counted from the chains' start
        ov = np.abs(np.asarray(res.trace["overlap_planted"], dtype=float)) / norm  # (chains, n_trace)
        for c in range(chains):
            if times[c] is None:
                hit = np.flatnonzero(ov[c] >= threshold)
                if hit.size:
                    times[c] = int(sweeps[hit[0]])
        done += k
    return times


def diffusion_overlaps(model, *, n_samples: int, sl_steps: int, seed: int) -> list[float]:
    """|overlap with x*| of each diffusion sample (StochasticLocalization over AMPDenoiser)."""
    sl = StochasticLocalization(functools.partial(AMPDenoiser, **AMP),
                                GeometricSchedule(T=SL["T"], n_steps=sl_steps, t_min=SL["t_min"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sl.sample(model, n_samples, seed=seed)
    x = np.asarray(res.x, dtype=float)
    return [float(v) for v in np.abs(x @ np.asarray(model.planted, dtype=float)) / (model.n * planted_norm(model))]


def planted_norm(model) -> float:
    """|x*|^2 / N of the instance (1 + O((rho N)^{-1/2}) for the sparse prior); overlaps are divided by it."""
    return float(np.mean(np.asarray(model.planted, dtype=float) ** 2))


def run_opposite_regime(mode: str = "full", *, settings: dict | None = None, seed: int = 0,
                        only_x=None, progress=None) -> list[dict]:
    """One record per (x, N, instance): the MCMC chains' times and, at ``diffusion_ns``, the diffusion
    samples' overlaps (module docstring).  ``settings`` replaces ``SETTINGS[mode]``; ``only_x`` runs only
    these values of its ``xs`` (with the seeds they have in the whole run: to split it between processes);
    ``progress`` is called with each record as it is made."""
    cfg = dict(SETTINGS[mode] if settings is None else settings)
    rho = float(cfg["rho"])
    rows = []
    for k, x in enumerate(cfg["xs"]):
        if only_x is not None and x not in only_x:
            continue
        m_star = se_overlap(rho, x)
        thr = THRESHOLD_FRACTION * m_star
        for j, n in enumerate(cfg["ns"]):
            if (x, n) in {(float(a), int(b)) for a, b in cfg.get("skip", ())}:
                continue
            for i in range(cfg["instances"]):
                inst = 10000 * k + 100 * j + i
                model = sg.SpikedWigner(n, lam=1.0 / x, prior=sg.SparseRademacher(rho), seed=inst)
                t0 = time.perf_counter()
                times = mcmc_times(model, thr, chains=cfg["chains"], max_sweeps=cfg["max_sweeps"],
                                   chunk=cfg["chunk"], trace_every=cfg["trace_every"], seed=_seed(seed, inst, 1))
                row = {"rho": rho, "x": float(x), "n": int(n), "instance": i, "instance_seed": inst,
                       "m_star": m_star, "threshold": thr, "max_sweeps": cfg["max_sweeps"],
                       "mcmc_times": times, "mcmc_seconds": time.perf_counter() - t0,
                       "planted_norm": planted_norm(model)}
                if n in cfg["diffusion_ns"]:
                    t0 = time.perf_counter()
                    row["diffusion_overlaps"] = diffusion_overlaps(model, n_samples=cfg["diffusion_samples"],
                                                                   sl_steps=cfg["sl_steps"], seed=_seed(seed, inst, 2))
                    row["diffusion_seconds"] = time.perf_counter() - t0
                rows.append(row)
                if progress is not None:
                    progress(row)
    return rows


def _seed(seed: int, inst: int, stream: int) -> int:
    """A sampler seed apart from the instance's: a chain seeded with the instance seed would start from the
    planted configuration itself (the same random stream draws both)."""
    return int(np.random.SeedSequence([seed, inst, stream]).generate_state(1)[0])


def median_time(times: list[int | None]) -> float | None:
    """Median of chain times with censored (None) ones counted as +inf; None when that median is censored."""
    a = np.array([math.inf if t is None else float(t) for t in times])
    if a.size == 0:
        return None
    med = float(np.median(a))
    return med if math.isfinite(med) else None


def summarize(rows: list[dict]) -> list[dict]:
    """Per (x, N): median MCMC time over all chains of all instances, the censored fraction, the fraction of
    chains that reached the threshold, and the diffusion success rate (samples at or above it)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["x"], r["n"]), []).append(r)
    out = []
    for (x, n), rs in sorted(groups.items()):
        times = [t for r in rs for t in r["mcmc_times"]]
        rec = {"rho": rs[0]["rho"], "x": x, "n": n, "instances": len(rs), "chains": len(times),
               "m_star": rs[0]["m_star"], "threshold": rs[0]["threshold"], "max_sweeps": rs[0]["max_sweeps"],
               "mcmc_median_sweeps": median_time(times),
               "mcmc_censored": sum(t is None for t in times) / len(times),
               "mcmc_instances_reached": sum(any(t is not None for t in r["mcmc_times"]) for r in rs)}
        ovs = [v for r in rs for v in r.get("diffusion_overlaps", [])]
        rec["diffusion_samples"] = len(ovs)
        rec["diffusion_success"] = (sum(v >= rs[0]["threshold"] for v in ovs) / len(ovs)) if ovs else None
        rec["diffusion_mean_overlap"] = float(np.mean(ovs)) if ovs else None
        out.append(rec)
    return out


def plot_opposite_regime(summary: list[dict], axes=None):
    """Left: median MCMC time to the informed state against N (censored medians drawn at max_sweeps with an
    upward marker); right: diffusion's success rate at the same points."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    xs = sorted({r["x"] for r in summary})
    for x in xs:
        rs = sorted((r for r in summary if r["x"] == x), key=lambda r: r["n"])
        ns = [r["n"] for r in rs]
        med = [r["mcmc_median_sweeps"] if r["mcmc_median_sweeps"] is not None else r["max_sweeps"] for r in rs]
        line, = axes[0].plot(ns, med, marker="o", ms=4, label=f"x = {x:g}")
        cens = [(n, m) for n, m, r in zip(ns, med, rs, strict=True) if r["mcmc_median_sweeps"] is None]
        if cens:
            axes[0].plot(*zip(*cens, strict=True), ls="none", marker="^", ms=9, color=line.get_color())
        ds = [r for r in rs if r["diffusion_success"] is not None]
        if ds:
            axes[1].plot([r["n"] for r in ds], [r["diffusion_success"] for r in ds], marker="o", ms=4,
                         color=line.get_color(), label=f"x = {x:g}")
    rho = summary[0]["rho"] if summary else math.nan
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("N")
        ax.legend(fontsize=7)
    axes[0].set_yscale("log")
    axes[0].set_ylabel(f"median Metropolis sweeps to |overlap| >= {THRESHOLD_FRACTION:g} m*\n(^: censored at the cap)",
                       fontsize=8)
    axes[0].set_title(f"sparse Rademacher, rho = {rho:g}, easy phase (x < x_alg = {x_alg(rho):.3f})", fontsize=9)
    axes[1].set_ylim(-0.05, 1.05)
    axes[1].set_ylabel(f"diffusion (SL over AMP) success rate\n(|overlap| >= {THRESHOLD_FRACTION:g} m*)", fontsize=8)
    return axes


__all__ = ["SETTINGS", "THRESHOLD_FRACTION", "diffusion_overlaps", "mcmc_times", "median_time",
           "planted_norm", "plot_opposite_regime", "run_opposite_regime", "se_overlap", "summarize", "x_alg"]
