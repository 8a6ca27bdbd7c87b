r"""Learned (amortised unrolled-AMP) denoisers for the dense spiked Wigner model at N = 2000, against state evolution.

Usage: ``python benchmarks/learned_at_scale.py [--quick] [--out docs/figures] [--device cpu] [--threads 1]
[--checkpoints DIR]`` (the trained networks are saved only with ``--checkpoints``).  Part 2 alone, at another size
or on some settings: ``--sparse-only --n 4000 --sparse-x 1.2 --name STEM`` (a name of its own: a run never
replaces a record of other settings, ``learned_common.check_replaceable``),
and ``--merge STEM1 STEM2 --name STEM`` joins such runs made one setting per process into one record.
``--train-n`` trains at another size than the one sampled (the network's parameters do not depend on N).
``--warm`` trains half the rows from the network's own warm-started state at an earlier time of the path (the
queries the "learned+warm" drivers make; ``samplers.neural.WarmStarts``) and ``--sign-invariant`` scores each row
against the nearer of x* and -x* (``samplers.neural.amortised_training``); both are recorded in the settings.

What is measured (``samplers.neural``: ``AmortisedAMP`` trained by ``train_amortised_denoiser`` on fresh planted
pairs from ``PlantedSpikedWigner``; no MCMC anywhere)
------------------------------------------------------------------------------------------------------
1. **Rademacher, lam = 2, N = 2000.**  Training wall time (target <= 10 min on 2 CPU cores).  MSE(t) of the
   trained network on fresh planted instances (``planted_mse``: mean over instances, standard error over
   instances) at a 20-point geometric grid t in [0.02, 5], against the Bayes-optimal state-evolution MMSE
   (``analysis.measures.learned.state_evolution_mmse``); target: max_t |MSE/MMSE - 1| <= 5%.  The grid stops
   at t = 5 (MMSE ≈ 0.011), where N = 2000 and the sample size still resolve a 5% relative deviation
   (at t = 10 the MMSE is 8e-4: about two mis-estimated sites per sample).  Beside it, on the same kind of
   instances: the untrained network (= L iterations of AMP from the prior start, exactly, see the tests) and
   an untrained network of ``amp_layers`` layers (= converged AMP).
   Samples of ``StochasticLocalization`` (geometric, ``sl_steps`` steps to T = 30) and of
   ``StochasticInterpolant`` (linear ODE, Heun, ``si_steps`` steps to T = 100) on ``SpikedWigner(2000, 2,
   Rademacher, seed)`` over three denoisers: "learned" (``AmortisedDenoiser`` as a pure function m(J, y, t):
   one pass of the L layers from the prior start), "learned+warm" (the same trained network run the way
   ``AMPDenoiser`` runs along a path: warm start from the previous query, random start of size 1e-3, up to
   ``max_passes`` passes of the L layers until the mean moves < 1e-4) and "AMP" (``AMPDenoiser``, warm start,
   tol 1e-5, max_iter 150, as in the README): mean overlap |<x, x*>|/N and mean two-sample overlap
   |<x_a, x_b>|/N against the SE m* (fixed point of m = F(lam m) reached from m = 1; the Nishimori identity
   makes both equal m* for posterior samples); target |overlap - m*| <= 3/sqrt(N) + 0.02.
2. **SparseRademacher(0.05), N = 2000, Delta/rho^2 = 0.8 (easy) and 1.2 (hard).**  With the prior
   normalised to unit second moment (x = ±1/sqrt(rho) or 0), the PNAS parametrisation Y = x' x'^T/sqrt(N) +
   sqrt(Delta) W with x' = sqrt(rho) x in {0, ±1} is this package's model at lam = rho^2 / Delta, i.e.
   Delta/rho^2 = 1/lam (so the README's lam = 1/1.2 is Delta/rho^2 = 1.2; ``analyze_path`` says the Gaussian
   path fails for 1.2 and not for 0.8, recorded in the JSON).  One network per setting, trained like the
   Rademacher one.  Over ``sparse_seeds`` instance seeds: the overlaps of the drivers over both learned
   denoisers against the AMP-driven ones (easy: within 3/sqrt(N) + 0.02; hard: the learned driver ends
   uninformed like AMP, i.e. both overlaps with x* below m*_Bayes - tolerance and within the tolerance of
   each other, with the number of samples that found x* beside it), and
   ``analysis.measures.metrics.energy_nishimori_gap`` of the samples (≈ 0 for posterior samples), flagged over
   the seeds (``learned_common.gap_flagged``: above 0.05 and 3 standard errors) against the lens, which says
   every sampler fails at the hard point.  These statements are ``learned_common.sparse_targets`` of the rows,
   so ``learned_report.py`` derives them from any record.

Outputs: ``<out>/learned_at_scale.json`` (every number, settings, versions, machine load) and
``<out>/learned_at_scale.png`` (``<out>/<name>.json`` / ``.png`` with ``--name``); a summary on stdout, progress
on stderr.  ``--quick``: N = 500, shorter training and fewer instances (a smoke run, targets not meant to be
met).  Torch runs with ``--threads`` threads (default 1: on a 2-core machine shared with other jobs two torch
threads oversubscribe and run 10x slower); numpy/BLAS (AMPDenoiser) with one thread.  Everything is seeded.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from learned_common import check_replaceable, group_mean_se, merged_record, sparse_targets  # noqa: E402

import spinglass as sg  # noqa: E402
from analysis.measures.learned import state_evolution_mmse  # noqa: E402
from analysis.measures.metrics import energy_nishimori_gap, overlap_with_planted, replica_overlaps  # noqa: E402
from analysis.theory.state_evolution import StateEvolution  # noqa: E402
from analysis.theory.transitions import analyze_path  # noqa: E402
from samplers.denoisers import AMPDenoiser  # noqa: E402
from samplers.diffusion import StochasticLocalization  # noqa: E402
from samplers.flow import StochasticInterpolant  # noqa: E402
from samplers.neural import (  # noqa: E402
    AmortisedAMP,
    PlantedSpikedWigner,
    TrainConfig,
    WarmStarts,
    pick_device,
    planted_mse,
    save_checkpoint,
    train_amortised_denoiser,
)

SEED = 0

FULL = {
    "n": 2000, "lam": 2.0, "n_layers": 16, "hidden": 16, "amp_layers": 50,
    "rows_per_instance": 16, "t_min": 1e-3, "t_max": 100.0, "p_zero": 0.05,
    "instances_per_step": 2, "steps_per_epoch": 40, "epochs": 8, "lr": 1e-3, "patience": 3, "val_instances": 16,
    "grid": (0.02, 5.0, 20), "mse_instances": 32, "mse_rows": 32, "amp_mse_instances": 8,
    "sampler_seeds": (0, 1), "n_samples": 8, "sl_steps": 100, "si_steps": 50, "si_T": 100.0, "max_passes": 10,
    "sparse_rho": 0.05, "sparse_x": (0.8, 1.2), "sparse_seeds": (0, 1, 2, 3), "sparse_epochs": 6,
}
QUICK = {
    **FULL, "n": 500, "epochs": 2, "steps_per_epoch": 10, "sparse_epochs": 1, "val_instances": 4, "amp_layers": 40,
    "mse_instances": 8, "mse_rows": 16, "amp_mse_instances": 4, "sampler_seeds": (0,), "sparse_seeds": (0, 1),
    "n_samples": 4, "sl_steps": 40, "si_steps": 20,
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def tolerance(n: int) -> float:
    return 3.0 / math.sqrt(n) + 0.02


def se_overlap(prior, lam: float) -> dict:
    """SE overlaps at t = 0: the informed branch (from m = 1), the uninformed one (from 0+) and the Bayes one."""
    se = StateEvolution.wigner(prior, lam)
    rep = analyze_path(se, "gaussian")
    return {"m_bayes": float(rep.m_bayes[0]), "m_informed": float(rep.m_informed[0]),
            "m_uninformed": float(rep.m_uninformed[0]),
            "sampler_predicted_to_fail": bool(rep.sampler_predicted_to_fail),
            "failure_intervals": [list(map(float, iv)) for iv in rep.failure_intervals]}


# -- training ----------------------------------------------------------------------------------------------------
def train(prior, lam: float, cfg: dict, epochs: int, device: str, seed: int, tag: str, checkpoints: Path | None):
    n_train = cfg.get("train_n") or cfg["n"]  # the network's parameters do not depend on N
    data = PlantedSpikedWigner(n_train, lam, prior, rows_per_instance=cfg["rows_per_instance"], t_min=cfg["t_min"],
                               t_max=cfg["t_max"], p_zero=cfg["p_zero"])
    net = AmortisedAMP(prior, n_layers=cfg["n_layers"], hidden=cfg["hidden"], seed=seed)
    config = TrainConfig(epochs=epochs, batch_size=cfg["instances_per_step"], lr=cfg["lr"], patience=cfg["patience"],
                         seed=seed, device=device, progress=False)
    log(f"[train {tag}] N = {n_train}, lam = {lam:.4g}, {epochs} x {cfg['steps_per_epoch']} steps of "
        f"{cfg['instances_per_step']} instances x {cfg['rows_per_instance']} rows, {net.n_parameters} parameters")
    start = time.perf_counter()
    warm = WarmStarts(**cfg["warm"]) if cfg.get("warm") else None
    hist = train_amortised_denoiser(net, data, config, steps_per_epoch=cfg["steps_per_epoch"],
                                    val_instances=cfg["val_instances"], warm=warm,
                                    sign_invariant=cfg.get("sign_invariant", False))
    seconds = time.perf_counter() - start
    log(f"[train {tag}] {seconds:.1f} s, val loss {[round(v, 5) for v in hist.val_loss]}, best epoch {hist.best_epoch}")
    if checkpoints is not None:
        save_checkpoint(checkpoints / f"learned_at_scale_{tag}.pt", net, config=config, extra={"data": data.describe()})
    info = {"seconds": seconds, "epochs_run": hist.epochs_run, "steps": hist.epochs_run * cfg["steps_per_epoch"],
            "best_epoch": hist.best_epoch, "train_loss": hist.train_loss, "val_loss": hist.val_loss,
            "stopped_early": hist.stopped_early, "n_parameters": net.n_parameters, "data": data.describe(),
            "config": config.to_dict()}
    return net, data, info


# -- MSE along the path -----------------------------------------------------------------------------------------
def mse_section(net, data, prior, cfg, device) -> dict:
    lo, hi, k = cfg["grid"]
    ts = np.geomspace(lo, hi, k)
    mmse, mmse_alg = state_evolution_mmse(sg.SpikedWigner(2, data.lam_range[0], prior, seed=0), ts)
    evals = PlantedSpikedWigner(data.n, data.lam_range[0], prior, rows_per_instance=cfg["mse_rows"])
    out = {"t": ts, "se_mmse": mmse, "se_mmse_algorithmic": mmse_alg}
    nets = {"learned": (net, cfg["mse_instances"]),
            "untrained": (AmortisedAMP(prior, n_layers=cfg["n_layers"], hidden=cfg["hidden"]), cfg["mse_instances"]),
            "amp_converged": (AmortisedAMP(prior, n_layers=cfg["amp_layers"], hidden=1), cfg["amp_mse_instances"])}
    for name, (model, count) in nets.items():
        start = time.perf_counter()
        res = planted_mse(model, evals, ts, n_instances=count, seed=SEED + 7, device=device)
        rel = res.mse / mmse - 1.0
        out[name] = {"mse": res.mse, "stderr": res.stderr, "rel_dev": rel, "rel_stderr": res.stderr / mmse,
                     "max_abs_rel_dev": float(np.max(np.abs(rel))), "argmax_t": float(ts[np.argmax(np.abs(rel))]),
                     "n_instances": count, "rows_per_instance": cfg["mse_rows"],
                     "seconds": time.perf_counter() - start}
        log(f"[MSE] {name:<14} max |MSE/MMSE - 1| = {np.max(np.abs(rel)):.4f} at t = {ts[np.argmax(np.abs(rel))]:.3g} "
            f"(typical rel. stderr {np.median(res.stderr / mmse):.4f})")
        if name == "untrained":  # same instances and noise as "learned" (same seed and count): a paired difference
            d = (out["learned"]["per_instance"] - res.per_instance) / mmse[:, None]
            out["learned_minus_untrained_rel"] = {"mean": d.mean(axis=1), "stderr": d.std(axis=1, ddof=1) / math.sqrt(
                d.shape[1])}
        out[name]["per_instance"] = res.per_instance
    return out


# -- samplers ------------------------------------------------------------------------------------------------------
DENOISERS = ("learned", "learned+warm", "AMP")


def drivers(net, cfg, device):
    amp = functools.partial(AMPDenoiser, warm_start=True, tol=1e-5, max_iter=150)
    dens = {"learned": net.factory(device=device),
            "learned+warm": net.factory(device=device, warm_start=True, init_scale=1e-3, max_passes=cfg["max_passes"],
                                        tol=1e-4),
            "AMP": amp}
    out = {}
    for name, den in dens.items():
        out[("SL", name)] = StochasticLocalization(den, n_steps=cfg["sl_steps"])
        out[("SI", name)] = StochasticInterpolant(den, n_steps=cfg["si_steps"], T=cfg["si_T"])
    return out


def sample_rows(net, prior, lam, seeds, cfg, device, tag) -> list[dict]:
    rows = []
    runs = drivers(net, cfg, device)
    for seed in seeds:
        model = sg.SpikedWigner(cfg["n"], lam, prior, seed=seed)
        for (drv, den), sampler in runs.items():
            res = sampler.sample(model, cfg["n_samples"], seed=1000 + seed)
            ov = overlap_with_planted(model, res.x)
            q = replica_overlaps(res.x, symmetry="sign")
            row = {"setting": tag, "instance_seed": seed, "driver": drv, "denoiser": den,
                   "overlap_planted": float(np.mean(ov)), "overlap_planted_per_sample": ov,
                   "two_sample_overlap": float(np.mean(q)), "energy_nishimori_gap": energy_nishimori_gap(model, res.x),
                   "wall_time": res.wall_time, "denoiser_calls": res.work.get("denoiser_calls"),
                   "denoiser_unconverged": res.work.get("denoiser_unconverged")}
            rows.append(row)
            log(f"[{tag}] seed {seed} {drv}/{den:<12} overlap {row['overlap_planted']:.3f} two-sample "
                f"{row['two_sample_overlap']:.3f} energy gap {row['energy_nishimori_gap']:+.4f} "
                f"({res.wall_time:.1f} s)")
    return rows


def summarise(rows, drv, den) -> dict:
    sel = [r for r in rows if r["driver"] == drv and r["denoiser"] == den]
    ov = np.array([r["overlap_planted"] for r in sel])
    q = np.array([r["two_sample_overlap"] for r in sel])
    gap = np.array([r["energy_nishimori_gap"] for r in sel])
    return {"overlap_planted": float(ov.mean()), "two_sample_overlap": float(q.mean()),
            "energy_nishimori_gap": float(gap.mean()), "n_instances": len(sel)}


# -- figure ----------------------------------------------------------------------------------------------------------
def figure(report: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15.0, 4.4))
    ax1, ax2, ax3 = fig.subplots(1, 3)
    mse = report["rademacher"]["mse"]
    ts = np.asarray(mse["t"])
    ax1.plot(ts, mse["se_mmse"], "k--", lw=1.5, label="SE MMSE (Bayes-optimal)")
    styles = {"learned": ("C0", "o"), "untrained": ("C1", "s"), "amp_converged": ("C2", "^")}
    labels = {"learned": "learned AmortisedAMP", "untrained": "untrained (= L AMP steps)",
              "amp_converged": "AMP (converged)"}
    for name, (c, mk) in styles.items():
        d = mse[name]
        ax1.errorbar(ts, d["mse"], yerr=2 * np.asarray(d["stderr"]), color=c, marker=mk, ms=3, lw=1, capsize=2,
                     label=labels[name])
        ax2.errorbar(ts, d["rel_dev"], yerr=2 * np.asarray(d["rel_stderr"]), color=c, marker=mk, ms=3, lw=1,
                     capsize=2, label=labels[name])
    n = report["settings"]["n"]
    ax1.set(xscale="log", yscale="log", xlabel="path time t", ylabel="MSE per site",
            title=f"Rademacher spiked Wigner, lam = 2, N = {n}")
    ax1.legend(fontsize=7)
    ax2.axhspan(-0.05, 0.05, color="0.9", label="±5% target")
    ax2.axhline(0, color="k", lw=0.8)
    ax2.set(xscale="log", xlabel="path time t", ylabel="MSE / MMSE_SE - 1",
            title="relative deviation from SE (±2 s.e.)")
    ax2.legend(fontsize=7)
    groups = [("rademacher", "Rademacher\nlam=2")] + [(f"sparse_{x}", f"sparse rho=0.05\nDelta/rho^2={x}")
                                                      for x in report["settings"]["sparse_x"]]
    combos = [(d, k) for d in ("SL", "SI") for k in DENOISERS]
    width = 0.8 / len(combos)
    for j, (drv, den) in enumerate(combos):
        vals, qs = [], []
        for key, _ in groups:
            s = report[key]["summary"][f"{drv}/{den}"] if key == "rademacher" else \
                report["sparse"][key]["summary"][f"{drv}/{den}"]
            vals.append(s["overlap_planted"])
            qs.append(s["two_sample_overlap"])
        x = np.arange(len(groups)) + (j - (len(combos) - 1) / 2) * width
        ax3.bar(x, vals, width, color=f"C{j}", alpha=0.85, label=f"{drv} / {den}: overlap with x*")
        ax3.plot(x, qs, "kx", ms=5, label="two-sample overlap" if j == 0 else None)
    for g, (key, _) in enumerate(groups):
        se = report[key]["se"] if key == "rademacher" else report["sparse"][key]["se"]
        ax3.hlines(se["m_bayes"], g - 0.45, g + 0.45, colors="k", linestyles="--",
                   label="SE m* (Bayes)" if g == 0 else None)
    ax3.set_xticks(np.arange(len(groups)), [lab for _, lab in groups], fontsize=8)
    ax3.set(ylabel="overlap (unit-variance prior: 1 = exact recovery)", ylim=(0, 1.5),
            title="samples over learned vs AMP denoisers")
    ax3.legend(fontsize=6, loc="upper center", ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


# -- main --------------------------------------------------------------------------------------------------------------
def merge_sparse(reports: list[dict]) -> dict:
    """One ``--sparse-only`` record from several that differ only in their Delta/rho^2 settings: the sparse blocks
    of all, the settings' ``sparse_x`` joined, the targets recomputed.  Raises ``ValueError`` when a record is not
    sparse-only, the other settings differ, or a setting appears twice."""
    first = reports[0]
    sparse, xs = {}, []
    for r in reports:
        if r.get("rademacher") is not None:
            raise ValueError("only --sparse-only records can be merged")
        if {k: v for k, v in r["settings"].items() if k != "sparse_x"} != \
                {k: v for k, v in first["settings"].items() if k != "sparse_x"}:
            raise ValueError("the records to merge were run with different settings")
        for key, block in r["sparse"].items():
            if key in sparse:
                raise ValueError(f"setting {key} appears in more than one record")
            sparse[key] = block
            xs.append(block["Delta_over_rho2"])
    settings = {**first["settings"], "sparse_x": sorted(xs), "sparse_only": True}
    sparse = {f"sparse_{x}": sparse[f"sparse_{x}"] for x in sorted(xs)}
    return {**first, "meta": [r["meta"] for r in reports], "settings": settings,
            "targets": sparse_targets(sparse, settings["tolerance_overlap"]), "sparse": sparse}


def sparse_figure(report: dict, path: Path) -> None:
    """Part 2 alone: per setting, each driver / denoiser's overlap with x* per instance seed (dots) and mean (bar)
    beside the state-evolution m*, and its energy-form Nishimori gap (mean ± standard error over seeds)."""
    from matplotlib.figure import Figure

    blocks = list(report["sparse"].values())
    combos = [(d, k) for d in ("SL", "SI") for k in DENOISERS]
    fig = Figure(figsize=(6.0 * len(blocks), 6.4))
    axes = fig.subplots(2, len(blocks), squeeze=False)
    for j, block in enumerate(blocks):
        top, bottom = axes[0, j], axes[1, j]
        gaps = {(g["driver"], g["denoiser"]): g
                for g in group_mean_se(block["samplers"], ("driver", "denoiser"), ("energy_nishimori_gap",))}
        for i, (drv, den) in enumerate(combos):
            ov = np.array([r["overlap_planted"] for r in block["samplers"]
                           if (r["driver"], r["denoiser"]) == (drv, den)])
            top.bar(i, ov.mean(), 0.7, color=f"C{i}", alpha=0.5)
            top.plot(np.full(ov.size, i), ov, "k.", ms=5)
            g = gaps[(drv, den)]
            err = g["energy_nishimori_gap_err"]
            bottom.errorbar(i, g["energy_nishimori_gap"], yerr=err if math.isfinite(err) else 0.0, fmt="o",
                            color=f"C{i}", capsize=3)
        top.axhline(block["se"]["m_bayes"], color="k", ls="--", lw=1, label="SE m* (Bayes)")
        hard = block["se"]["sampler_predicted_to_fail"]
        top.set_title(f"Delta/rho^2 = {block['Delta_over_rho2']} ({'hard' if hard else 'easy'}), "
                      f"N = {report['settings']['n']}" + (f" (trained at N = {report['settings']['train_n']})"
                                                           if report["settings"].get("train_n") else ""), fontsize=9)
        top.set_ylabel("overlap with x* (dots: instance seeds)")
        top.legend(fontsize=7)
        bottom.axhline(0.05, color="grey", ls=":", lw=1, label="flag floor 0.05")
        bottom.axhline(0.0, color="k", lw=0.5)
        bottom.set_ylabel("energy gap E(x)/N - E(x*)/N")
        bottom.legend(fontsize=7)
        for ax in (top, bottom):
            ax.set_xticks(range(len(combos)), [f"{d}/{k}" for d, k in combos], fontsize=7, rotation=30)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def rademacher_part(cfg: dict, device: str, ckpt: Path | None, tol: float, targets: list) -> dict:
    """Part 1 (module docstring): train, MSE(t) against state evolution, samples; appends its targets."""
    prior = sg.Rademacher()
    net, data, tr = train(prior, cfg["lam"], cfg, cfg["epochs"], device, SEED, "rademacher", ckpt)
    mse = mse_section(net, data, prior, cfg, device)
    se = se_overlap(prior, cfg["lam"])
    rows = sample_rows(net, prior, cfg["lam"], cfg["sampler_seeds"], cfg, device, "rademacher")
    summary = {f"{d}/{k}": summarise(rows, d, k) for d in ("SL", "SI") for k in DENOISERS}
    rad = {"training": tr, "mse": mse, "se": se, "samplers": rows, "summary": summary}
    targets.append({"target": "Rademacher lam=2: training wall time <= 600 s", "value": tr["seconds"],
                    "met": tr["seconds"] <= 600})
    targets.append({"target": "Rademacher lam=2: max_t |MSE_learned/MMSE_SE - 1| <= 0.05 (20-point grid)",
                    "value": mse["learned"]["max_abs_rel_dev"], "met": mse["learned"]["max_abs_rel_dev"] <= 0.05})
    for d in ("SL", "SI"):
        for k in DENOISERS:
            s = summary[f"{d}/{k}"]
            for what in ("overlap_planted", "two_sample_overlap"):
                dev_ = abs(s[what] - se["m_bayes"])
                targets.append({"target": f"Rademacher {d}/{k}: |{what} - m*| <= 3/sqrt(N) + 0.02 = {tol:.4f}",
                                "value": dev_, "met": dev_ <= tol})
    return rad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="N = 500, short training, few instances (smoke run)")
    ap.add_argument("--out", default="docs/figures", help="folder for learned_at_scale.json / .png")
    ap.add_argument("--device", default="cpu", help="torch device: cpu (default), auto, cuda, cuda:k")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    ap.add_argument("--checkpoints", default=None, help="folder to save the trained networks in (default: none)")
    ap.add_argument("--sparse-only", action="store_true", help="run part 2 (sparse Rademacher) only")
    ap.add_argument("--n", type=int, default=None,
                    help="problem size N for training and sampling (default 2000, 500 with --quick)")
    ap.add_argument("--train-n", type=int, default=None,
                    help="train at this N instead of --n (the network's parameters do not depend on N)")
    ap.add_argument("--sparse-x", type=float, nargs="+", default=None, metavar="X",
                    help="the Delta/rho^2 settings of part 2 (default 0.8 1.2)")
    ap.add_argument("--name", default=None, help="stem of the output files (default learned_at_scale; required with "
                                                 "--sparse-only, --n, --sparse-x and --merge, whose records must not "
                                                 "replace the full one)")
    ap.add_argument("--warm", action="store_true",
                    help="train half the rows from the network's own warm-started state at an earlier time of the "
                         "path (samplers.neural.WarmStarts), as the warm-started drivers query it")
    ap.add_argument("--sign-invariant", action="store_true",
                    help="train with the sign-invariant loss (score against the nearer of x* and -x*)")
    ap.add_argument("--merge", nargs="+", metavar="STEM", default=None,
                    help="with --name: write one record from the --sparse-only records <out>/STEM.json of runs that "
                         "differ only in --sparse-x (e.g. one process per setting), then exit")
    args = ap.parse_args(argv)
    out = Path(args.out)
    partial = (args.sparse_only or args.n is not None or args.sparse_x is not None or args.train_n is not None
               or args.warm or args.sign_invariant)
    if (args.merge or partial) and args.name is None:
        ap.error("--name is required with --sparse-only, --n, --train-n, --sparse-x, --warm, --sign-invariant and "
                 "--merge (the record they write must not replace learned_at_scale.json)")
    name = args.name or "learned_at_scale"
    if args.merge:
        if partial or args.quick or args.checkpoints:  # run options
            ap.error("--merge only joins records: it takes --out and --name, no run options")
        try:
            report = merged_record(out, args.merge, name, merge_sparse, "sparse-only records of this script")
        except ValueError as err:
            ap.error(f"--merge: {err}")
        (out / f"{name}.json").write_text(json.dumps(report, indent=1))
        sparse_figure(report, out / f"{name}.png")
        print(f"Wrote {out / f'{name}.json'}")
        return 0
    for flag, value in (("--n", args.n), ("--train-n", args.train_n)):
        if value is not None and value < 10:
            ap.error(f"{flag} must be >= 10 (got {value})")
    if args.sparse_x is not None:
        if any(not (0 < x < 10) for x in args.sparse_x):
            ap.error(f"--sparse-x values must lie in (0, 10) (got {args.sparse_x})")
        if len(set(args.sparse_x)) != len(args.sparse_x):
            ap.error(f"--sparse-x values must be distinct (got {args.sparse_x})")
    cfg = dict(QUICK if args.quick else FULL)
    if args.n is not None:
        cfg["n"] = args.n
    if args.sparse_x is not None:
        cfg["sparse_x"] = tuple(args.sparse_x)
    if args.train_n is not None:
        cfg["train_n"] = args.train_n
    cfg["sparse_only"] = args.sparse_only
    cfg["warm"] = WarmStarts().to_dict() if args.warm else None
    cfg["sign_invariant"] = args.sign_invariant
    try:
        check_replaceable(out / f"{name}.json", {**cfg, "tolerance_overlap": tolerance(cfg["n"])},
                          legacy={"sparse_only": False, "warm": None, "sign_invariant": False})
    except ValueError as err:
        ap.error(str(err))
    out.mkdir(parents=True, exist_ok=True)
    dev = pick_device(args.device)
    device = str(dev)
    torch.set_num_threads(max(1, args.threads))
    t_start = time.perf_counter()
    n = cfg["n"]
    tol = tolerance(n)
    targets = []

    ckpt = None
    if args.checkpoints is not None:
        ckpt = Path(args.checkpoints)
        ckpt.mkdir(parents=True, exist_ok=True)
    rad = None if args.sparse_only else rademacher_part(cfg, device, ckpt, tol, targets)

    # 2. sparse Rademacher, easy and hard
    sparse = {}
    sp_prior = sg.SparseRademacher(cfg["sparse_rho"])
    for x in cfg["sparse_x"]:
        key = f"sparse_{x}"
        lam = 1.0 / x
        se_s = se_overlap(sp_prior, lam)
        snet, sdata, str_ = train(sp_prior, lam, cfg, cfg["sparse_epochs"], device, SEED + 1, key, ckpt)
        srows = sample_rows(snet, sp_prior, lam, cfg["sparse_seeds"], cfg, device, key)
        ssum = {f"{d}/{k}": summarise(srows, d, k) for d in ("SL", "SI") for k in DENOISERS}
        sparse[key] = {"Delta_over_rho2": x, "lam": lam, "se": se_s, "training": str_, "samplers": srows,
                       "summary": ssum}
    targets += sparse_targets(sparse, tol)

    total = time.perf_counter() - t_start
    report = {
        "meta": {"script": "benchmarks/learned_at_scale.py", "quick": args.quick, "seed": SEED, "device": device,
                 "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "numpy": np.__version__,
                 "package_version": sg.__version__, "python": platform.python_version(),
                 "machine": platform.machine(), "cpu_count": os.cpu_count(),
                 "load_average_at_end": list(os.getloadavg()), "total_seconds": total,
                 "dtype": "float32 (network, planted data); AMPDenoiser float64",
                 "lam_vs_delta": "SparseRademacher is normalised to E x^2 = 1: Delta/rho^2 = 1/lam"},
        "settings": {**cfg, "tolerance_overlap": tol},
        "targets": targets,
        "rademacher": rad,
        "sparse": sparse,
    }
    path = out / f"{name}.json"
    path.write_text(json.dumps(report, indent=1, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))
    (figure if rad is not None else sparse_figure)(report, path.with_suffix(".png"))
    print(f"## Learned amortised AMP denoisers at N = {n} ({'quick' if args.quick else 'full'} run, device {device}, "
          f"{torch.get_num_threads()} torch thread(s), {total:.0f} s)\n")
    for tgt in targets:
        val = tgt["value"]
        val = (", ".join(f"{v:.4f}" for v in val) if isinstance(val, list)
               else val if isinstance(val, str) else f"{val:.4f}")
        verdict = {True: "met", False: "NOT met", None: "recorded"}[tgt["met"]]
        print(f"- [{verdict}] {tgt['target']}: {val}")
    print("\n| setting | driver/denoiser | overlap with x* | two-sample overlap | energy Nishimori gap "
          "| SE m* (Bayes) |")
    print("|---|---|---|---|---|---|")
    for key, block in [("rademacher", rad)] * (rad is not None) + list(sparse.items()):
        for combo, s in block["summary"].items():
            print(f"| {key} | {combo} | {s['overlap_planted']:.3f} | {s['two_sample_overlap']:.3f} | "
                  f"{s['energy_nishimori_gap']:+.4f} | {block['se']['m_bayes']:.3f} |")
    print(f"\nWrote {path} and {path.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
