r"""Learned autoregressive sampling at the study's scale (issue 17): does a trained erasure denoiser fail where the
lens says the exact autoregressive sampler must?

An erasure-path amortised network (``AmortisedTensorAMP`` / ``AmortisedAMP`` with ``erasure=True``: the unrolled
AMP with revealed sites clamped, learned corrections, initialised at AMP) is trained on fresh planted pairs on the
erasure channel (``channel="erasure"``: x* revealed on a uniform random subset of round(theta n) sites, theta ~
U[0, 1]), then drives ``Autoregressive`` beside the Bayes-optimal form, ``Autoregressive`` over ``AMPDenoiser``
(the driver settings of ``analysis.reproduction.finite_size``: warm start, tol 1e-4; damped for the tensor).

Models:

* ``ising_3spin`` (planted 3-spin, Rademacher prior), the sizes of ``benchmarks/learned_tensor.py`` (N = 100,
  trained over T in [0.5, 1.0]), sampled at its "hard" T = 0.60 (below T_autoregressive and T_K) and "easy"
  T = 0.90 (above T_autoregressive); the thresholds are read from docs/reproduction/thresholds.json.  The
  spherical model has a continuous prior: no autoregressive sampler.
* ``wigner_lam2`` (Rademacher spiked Wigner, lam = 2, N = 2000): no hard phase on the erasure path, so the lens
  says the autoregressive sampler works.

For each: (1) MSE(theta) over all n sites on fresh planted instances (learned, untrained = L AMP iterations from
the prior start) beside the erasure-path state evolution 1 - m(theta) (Bayes-optimal and algorithmic branches,
``analysis.theory.state_evolution``); (2) ``Autoregressive`` over the learned network (warm start, random start
1e-3, up to ``max_passes`` passes of the L layers per query, as ``learned_tensor.py`` runs it along SL), the
untrained one and AMP, with ``reveal_per_step`` = N // 50 variables per query (``finite_size``'s Wigner setting,
used here for the tensor too: N = 100 makes the 50 queries affordable), on ``instances`` instance seeds x
``n_samples`` samples: overlap with x*, two-sample overlap and energy gap E(x)/N - E(x*)/N (mean ± standard
error over instances).  Verdict per (model, T): learned vs AMP overlaps within 3/sqrt(N) + 0.02; the learned
sampler's overlaps vs the SE Bayes-optimal overlap m* = 1 - MMSE(theta = 0) within the same tolerance (what an
exact sampler gives; for the Rademacher Wigner model E[x | J] = 0 by symmetry, so m* is read from SE, not from
the network); each energy gap flagged when > max(0.05, 3 standard errors); whether the learned sampler's flag
agrees with the lens (flagged iff T < T_autoregressive).

Outputs ``<out>/learned_autoregressive.json`` and ``.png``.  Usage:
``python benchmarks/learned_autoregressive.py [--quick] [--models ...] [--out docs/figures]``.  Torch and BLAS run
on one thread.
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
import warnings
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from learned_common import group_mean_se, print_sample_table, recorded_thresholds  # noqa: E402

import spinglass as sg  # noqa: E402
from analysis.measures.metrics import energy_nishimori_gap, overlap_with_planted, replica_overlaps  # noqa: E402
from analysis.reproduction.finite_size import AMP, AMP_TENSOR, DRIVER  # noqa: E402
from analysis.theory.state_evolution import ERASURE, StateEvolution  # noqa: E402
from samplers import Autoregressive  # noqa: E402
from samplers.denoisers import AMPDenoiser  # noqa: E402
from samplers.neural import AmortisedAMP, PlantedSpikedWigner, TrainConfig  # noqa: E402
from samplers.neural.amortised_tensor import AmortisedTensorAMP, PlantedSpikedTensor  # noqa: E402
from samplers.neural.amortised_training import planted_mse, train_amortised_denoiser  # noqa: E402

MODELS = {
    "ising_3spin": {"kind": "tensor", "prior": sg.priors.Rademacher(), "temperatures": (0.60, 0.90)},
    "wigner_lam2": {"kind": "wigner", "prior": sg.priors.Rademacher(), "lam": 2.0},
}
COMMON = {"layers": 12, "hidden": 16, "instances_per_step": 2, "rows": 16, "lr": 2e-3, "val_instances": 8,
          "mse_thetas": (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9), "mse_instances": 6, "n_samples": 4,
          "max_passes": 8, "reveal_fraction": 50, "instances": 8}
FULL = {"tensor": {**COMMON, "n": 100, "T_range": (0.5, 1.0), "steps_per_epoch": 50, "epochs": 8},
        "wigner": {**COMMON, "n": 2000, "steps_per_epoch": 25, "epochs": 4, "val_instances": 4, "mse_instances": 3}}
QUICK = {"tensor": {**FULL["tensor"], "n": 30, "epochs": 1, "steps_per_epoch": 5, "val_instances": 2,
                    "mse_thetas": (0.2, 0.6), "mse_instances": 2, "instances": 2, "n_samples": 2, "max_passes": 4},
         "wigner": {**FULL["wigner"], "n": 200, "epochs": 1, "steps_per_epoch": 5, "val_instances": 2,
                    "mse_thetas": (0.2, 0.6), "mse_instances": 2, "instances": 2, "n_samples": 2, "max_passes": 4}}
QUANTITIES = ("overlap_planted", "two_sample_overlap", "energy_gap")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def se_mse(model, thetas) -> tuple[np.ndarray, np.ndarray]:
    """(Bayes-optimal, algorithmic) MSE(theta) = 1 - m(theta) over all sites from the erasure-path state evolution."""
    se = StateEvolution.from_model(model)
    th = np.asarray(thetas, dtype=float)
    low = se.iterate(ERASURE, th, np.maximum(th, 1e-6)).m
    high = se.iterate(ERASURE, th, 1.0).m
    bayes = np.where(ERASURE.potential(se, high, th) > ERASURE.potential(se, low, th) + 1e-12, high, low)
    return 1.0 - bayes, 1.0 - low


def sample_block(name: str, spec: dict, cfg: dict, nets: dict, point: float) -> list[dict]:
    """Autoregressive over AMP, the learned and the untrained network at one temperature (tensor) or lam (Wigner)."""
    n = cfg["n"]
    tensor = spec["kind"] == "tensor"
    amp_kw = AMP_TENSOR if tensor else AMP
    reveal = max(1, n // cfg["reveal_fraction"])
    denoisers = {"AMP": lambda s: functools.partial(AMPDenoiser, seed=s, **amp_kw)}
    for label, net in nets.items():
        fac = net.factory(warm_start=True, init_scale=1e-3, max_passes=cfg["max_passes"], device="cpu")
        denoisers[label] = (lambda f: lambda s: f)(fac)
    rows = []
    for i in range(cfg["instances"]):
        model = (sg.SpikedTensor.from_temperature(n, 3, point, spec["prior"], seed=1000 * i + 7) if tensor
                 else sg.SpikedWigner(n, point, spec["prior"], seed=1000 * i + 7))
        for label, make in denoisers.items():
            t0 = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = Autoregressive(make(i), reveal_per_step=reveal).sample(model, cfg["n_samples"], seed=500 + i)
            x = res.x
            q = replica_overlaps(x, symmetry="sign") if x.shape[0] > 1 else np.array([np.nan])
            row = {"model": name, "T" if tensor else "lam": point, "instance": i, "denoiser": label,
                   "overlap_planted": float(np.mean(overlap_with_planted(model, x))),
                   "two_sample_overlap": float(np.mean(q)), "energy_gap": energy_nishimori_gap(model, x),
                   "cpu_seconds": time.process_time() - t0}
            rows.append(row)
            log(f"[{name} {point}] instance {i} {label:<9} overlap {row['overlap_planted']:.3f} two-sample "
                f"{row['two_sample_overlap']:.3f} energy gap {row['energy_gap']:+.4f} ({row['cpu_seconds']:.1f} s)")
    return rows


def verdicts(summary: list[dict], report: dict) -> list[dict]:
    out = []
    for s_amp in (s for s in summary if s["denoiser"] == "AMP"):
        name = s_amp["model"]
        key = "T" if "T" in s_amp else "lam"
        point = s_amp[key]
        by = {s["denoiser"]: s for s in summary if s["model"] == name and s.get(key) == point}
        learned = by["learned"]
        n = report["models"][name]["n"]
        tol = 3.0 / math.sqrt(n) + 0.02

        def flagged(s):
            err = s["energy_gap_err"] if math.isfinite(s["energy_gap_err"]) else 0.0
            return bool(s["energy_gap"] > max(0.05, 3 * err))

        th = report["models"][name].get("thresholds", {})
        lens_fails = bool(point < th["T_autoregressive"]) if key == "T" else False
        m_star = 1.0 - report["models"][name]["mse"][f"{point}"]["SE Bayes-optimal"][0]
        out.append({"model": name, key: point, "tolerance": tol, "lens": "fails" if lens_fails else "works",
                    "se_m_star": m_star,
                    "learned_overlaps_at_m_star": bool(abs(learned["overlap_planted"] - m_star) <= tol
                                                       and abs(learned["two_sample_overlap"] - m_star) <= tol),
                    "amp_overlaps_at_m_star": bool(abs(s_amp["overlap_planted"] - m_star) <= tol
                                                   and abs(s_amp["two_sample_overlap"] - m_star) <= tol),
                    "overlap_diff": learned["overlap_planted"] - s_amp["overlap_planted"],
                    "two_sample_diff": learned["two_sample_overlap"] - s_amp["two_sample_overlap"],
                    "overlaps_match": bool(abs(learned["overlap_planted"] - s_amp["overlap_planted"]) <= tol
                                           and abs(learned["two_sample_overlap"] - s_amp["two_sample_overlap"])
                                           <= tol),
                    "amp_gap_flagged": flagged(s_amp), "learned_gap_flagged": flagged(learned),
                    "untrained_gap_flagged": flagged(by["untrained"]),
                    "learned_as_lens_says": flagged(learned) == lens_fails})
    return out


def figure(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(report["models"])
    fig, axes = plt.subplots(1, 2 * len(names), figsize=(5.5 * len(names), 3.6), squeeze=False)
    axes = axes[0]
    for j, name in enumerate(names):
        block = report["models"][name]
        ax = axes[2 * j]
        for (point, curves), color in zip(block["mse"].items(), ("C3", "C0", "C2"), strict=False):
            for label, style in (("learned", "o-"), ("untrained", "s--")):
                ax.errorbar(curves[label]["theta"], curves[label]["mse"], yerr=curves[label]["stderr"], fmt=style,
                            color=color, ms=4, alpha=0.8, label=f"{label}, {point}")
            ax.plot(curves["theta"], curves["SE Bayes-optimal"], "-", color=color, lw=0.8)
            ax.plot(curves["theta"], curves["SE algorithmic"], ":", color=color, lw=1)
        ax.set_xlabel("revealed fraction theta")
        ax.set_ylabel("MSE(theta) (all sites)")
        ax.set_title(f"{name}: MSE(theta), SE solid / dotted", fontsize=7)
        ax.legend(fontsize=6)
        ax = axes[2 * j + 1]
        key = "T" if block["kind"] == "tensor" else "lam"
        for k, den in enumerate(("AMP", "learned", "untrained")):
            pts = [s for s in report["summary"] if s["model"] == name and s["denoiser"] == den]
            ax.errorbar([s[key] + 0.01 * (k - 1) for s in pts], [s["energy_gap"] for s in pts],
                        yerr=[s["energy_gap_err"] for s in pts], fmt="o", label=den)
        for th_key, ls in (("T_autoregressive", ":"), ("T_K", "-.")):
            if th_key in block.get("thresholds", {}):
                ax.axvline(block["thresholds"][th_key], color="grey", ls=ls, lw=1,
                           label=f"{th_key} = {block['thresholds'][th_key]:.3f}")
        ax.axhline(0.0, color="k", lw=0.5)
        ax.set_xlabel(key)
        ax.set_ylabel("energy gap E(x)/N - E(x*)/N")
        ax.set_title(f"{name}: AR samples, N = {block['n']}", fontsize=7)
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_model(name: str, cfg: dict, seed: int) -> tuple[dict, list[dict]]:
    spec = MODELS[name]
    tensor = spec["kind"] == "tensor"
    prior = spec["prior"]

    def build():
        if tensor:
            return AmortisedTensorAMP(prior, p=3, n_layers=cfg["layers"], hidden=cfg["hidden"], seed=seed,
                                      erasure=True)
        return AmortisedAMP(prior, n_layers=cfg["layers"], hidden=cfg["hidden"], seed=seed, erasure=True)

    if cfg["mse_thetas"][0] != 0.0:
        cfg = {**cfg, "mse_thetas": (0.0,) + tuple(cfg["mse_thetas"])}  # theta = 0 gives the SE m* of the verdicts

    def data_at(point, rows):
        if tensor:
            return PlantedSpikedTensor(cfg["n"], 3, point, prior, rows_per_instance=rows, channel="erasure")
        return PlantedSpikedWigner(cfg["n"], point, prior, rows_per_instance=rows, channel="erasure")

    net, untrained = build(), build()
    train_point = cfg["T_range"] if tensor else spec["lam"]
    config = TrainConfig(batch_size=cfg["instances_per_step"], epochs=cfg["epochs"], lr=cfg["lr"], seed=seed,
                         device="cpu", progress=False)
    t0, c0 = time.time(), time.process_time()
    hist = train_amortised_denoiser(net, data_at(train_point, cfg["rows"]), config,
                                    steps_per_epoch=cfg["steps_per_epoch"], val_instances=cfg["val_instances"])
    train = {"wall_seconds": time.time() - t0, "cpu_seconds": time.process_time() - c0, "epochs_run": hist.epochs_run,
             "train_loss": hist.train_loss, "val_loss": hist.val_loss, "n_parameters": net.n_parameters}
    log(f"[{name}] trained {hist.epochs_run} epochs in {train['cpu_seconds']:.0f} s CPU, val loss "
        f"{hist.val_loss[-1] if hist.val_loss else float('nan'):.4f}")
    points = spec["temperatures"] if tensor else (spec["lam"],)
    block = {"kind": spec["kind"], "n": cfg["n"], "points": list(points), "train": train, "mse": {},
             "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}}
    if tensor:
        block["thresholds"] = recorded_thresholds(name)
    rows = []
    for point in points:
        evals = data_at(point, 4)
        curves = {"theta": list(cfg["mse_thetas"])}
        for label, network in (("learned", net), ("untrained", untrained)):
            r = planted_mse(network, evals, cfg["mse_thetas"], n_instances=cfg["mse_instances"], seed=11, device="cpu")
            curves[label] = {"theta": r.t.tolist(), "mse": r.mse.tolist(), "stderr": r.stderr.tolist()}
        small = (sg.SpikedTensor.from_temperature(3, 3, point, prior, seed=0) if tensor
                 else sg.SpikedWigner(3, point, prior, seed=0))
        bayes, alg = se_mse(small, cfg["mse_thetas"])
        curves["SE Bayes-optimal"], curves["SE algorithmic"] = bayes.tolist(), alg.tolist()
        block["mse"][f"{point}"] = curves
        log(f"[{name} {point}] MSE(theta) learned {np.round(curves['learned']['mse'], 3)} untrained "
            f"{np.round(curves['untrained']['mse'], 3)} SE Bayes {np.round(bayes, 3)} alg {np.round(alg, 3)}")
        rows += sample_block(name, spec, cfg, {"learned": net, "untrained": untrained}, point)
    return block, rows


def summarise(rows: list[dict]) -> list[dict]:
    out = []
    for key in ("T", "lam"):
        sel = [r for r in rows if key in r]
        if sel:
            out += group_mean_se(sel, ("model", key, "denoiser"), QUANTITIES)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: small N, a few steps (targets not meant to be met)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "docs" / "figures"))
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--replot", action="store_true", help="redraw the figure from the JSON of an earlier run")
    args = ap.parse_args(argv)
    stem = "learned_autoregressive_quick" if args.quick else "learned_autoregressive"
    out = Path(args.out)
    if args.replot:
        figure(json.loads((out / f"{stem}.json").read_text()), out / f"{stem}.png")
        return 0
    torch.set_num_threads(1)
    table = QUICK if args.quick else FULL
    out.mkdir(parents=True, exist_ok=True)
    report = {"driver": DRIVER, "amp": {"tensor": AMP_TENSOR, "wigner": AMP}, "models": {}, "rows": [],
              "learned_denoiser": {"warm_start": True, "init_scale": 1e-3, "tol": 1e-4},
              "machine": {"python": platform.python_version(), "torch": torch.__version__,
                          "cpu_count": os.cpu_count(), "load_average_start": os.getloadavg()}}
    c_start = time.process_time()
    for name in args.models:
        cfg = table[MODELS[name]["kind"]]
        block, rows = run_model(name, cfg, args.seed)
        report["models"][name] = block
        report["rows"] += rows
        report["summary"] = summarise(report["rows"])
        report["verdicts"] = verdicts(report["summary"], report)
        report["cpu_seconds_total"] = time.process_time() - c_start
        report["machine"]["load_average_end"] = os.getloadavg()
        (out / f"{stem}.json").write_text(json.dumps(report, indent=1))
    figure(report, out / f"{stem}.png")
    print_sample_table(report["summary"], report["verdicts"], "T / lam")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
