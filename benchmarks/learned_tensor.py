r"""Learned diffusion on the planted 3-spin models (issue 17): does a trained network fail where the lens says?

For the Ising (Rademacher prior) and spherical (Gaussian prior) planted 3-spin models, an
``AmortisedTensorAMP`` (``samplers.neural.amortised_tensor``: the tensor AMP unrolled, learned corrections,
initialised at AMP) is trained on fresh planted pairs at N = ``n`` amortised over a temperature range that
straddles the lens' thresholds, then judged on instances at one temperature well below T_diffusion and
T_autoregressive (also below T_K, where the posterior is informative: the "hard" point) and one well above
both (the "easy" point):

1. MSE(t) on fresh planted instances at both temperatures: the learned network, the untrained one (L AMP
   iterations from the prior start) and the damped tensor AMP of ``analysis.reproduction.finite_size``
   (the Bayes-optimal denoiser's algorithmic branch, run to convergence).
2. Stochastic localisation (the driver settings of ``finite_size``: geometric schedule to T = 30, 30 steps)
   over the damped AMP and over the learned network (warm-started, ``max_passes`` passes, random start
   1e-3), on ``instances`` instance seeds x ``n_samples`` samples: overlap with x*, two-sample overlap and
   the energy-form Nishimori gap E(x)/N - E(x*)/N (≈ 0 for posterior samples; ``analysis.measures.metrics``).

The lens' statement (docs/reproduction.md): both generative samplers work above T_diffusion /
T_autoregressive and fail below; at the hard point the failure shows as a positive energy gap (both overlaps
≈ 0 there, so the overlap form of the Nishimori check cannot see it).  The network here runs the Gaussian
path only; the autoregressive half of the statement (an ``erasure=True`` network over ``Autoregressive``) is
``benchmarks/learned_autoregressive.py``.

Outputs ``<out>/learned_tensor.json`` and ``<out>/learned_tensor.png``.  Usage:
``python benchmarks/learned_tensor.py [--quick] [--out docs/figures]``.  Torch and BLAS run on one thread.
A rerun with the same settings regenerates its record; a run with other settings refuses to replace it, and
another size or instance count needs a name of its own: ``--n 200 --instances 16
--no-untrained-samples --name STEM`` (``--models`` one per process, then ``--merge STEM1 STEM2 --name STEM``
joins them).  ``--warm`` trains half the rows from the network's own warm-started state at an earlier time of the
path, the queries the warm-started sampler makes (``samplers.neural.WarmStarts``; recorded in the settings).
"""

from __future__ import annotations

import argparse
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
from learned_common import (  # noqa: E402
    check_replaceable,
    gap_flagged,
    group_mean_se,
    merged_record,
    print_sample_table,
    recorded_thresholds,
)

import spinglass as sg  # noqa: E402
from analysis.measures.learned import state_evolution_mmse  # noqa: E402
from analysis.measures.metrics import energy_nishimori_gap, overlap_with_planted, replica_overlaps  # noqa: E402
from analysis.reproduction.finite_size import AMP_TENSOR, DRIVER  # noqa: E402
from samplers import GeometricSchedule, StochasticLocalization  # noqa: E402
from samplers.denoisers import AMPDenoiser  # noqa: E402
from samplers.neural import TrainConfig, WarmStarts  # noqa: E402
from samplers.neural.amortised_tensor import AmortisedTensorAMP, PlantedSpikedTensor  # noqa: E402
from samplers.neural.amortised_training import planted_mse, train_amortised_denoiser  # noqa: E402

MODELS = {
    "ising_3spin": {"prior": sg.priors.Rademacher(), "hard": 0.60, "easy": 0.90},
    "spherical_3spin": {"prior": sg.priors.Gaussian(), "hard": 0.55, "easy": 0.85},
}
FULL = {"n": 100, "T_range": (0.5, 1.0), "layers": 12, "hidden": 16, "instances_per_step": 2, "rows": 16,
        "steps_per_epoch": 50, "epochs": 8, "lr": 2e-3, "val_instances": 8,
        "mse_ts": (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
        "mse_instances": 6, "instances": 8, "n_samples": 4, "max_passes": 8}
QUICK = {**FULL, "n": 40, "epochs": 1, "steps_per_epoch": 5, "val_instances": 2, "mse_ts": (0.3, 3.0),
         "mse_instances": 2, "instances": 2, "n_samples": 2, "max_passes": 4}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def amp_mse(model_prior, n: int, T: float, ts, instances: int, seed: int) -> np.ndarray:
    """MSE(t) of the damped tensor AMP (``finite_size``'s settings, max_iter 300) on fresh instances."""
    rng = np.random.default_rng(seed)
    out = np.zeros((len(ts), instances))
    for i in range(instances):
        model = sg.SpikedTensor.from_temperature(n, 3, T, model_prior, seed=int(rng.integers(2**62)))
        den = AMPDenoiser(model, **{**AMP_TENSOR, "warm_start": False, "max_iter": 300}, init="prior")
        for k, t in enumerate(ts):
            y = t * model.planted + math.sqrt(t) * rng.standard_normal(n)
            out[k, i] = float(np.mean((den.posterior(y[None], np.array([t])).mean[0] - model.planted) ** 2))
    return out


def sample_block(name: str, spec: dict, net, untrained, T: float, cfg: dict) -> list[dict]:
    schedule = GeometricSchedule(T=DRIVER["T_end"], n_steps=DRIVER["sl_steps"], t_min=DRIVER["t_min"])
    denoisers = {
        "AMP (damped)": lambda m: AMPDenoiser(m, **AMP_TENSOR),
        "learned": net.factory(warm_start=True, init_scale=1e-3, max_passes=cfg["max_passes"], device="cpu"),
        "untrained": untrained.factory(warm_start=True, init_scale=1e-3, max_passes=cfg["max_passes"], device="cpu"),
    }
    denoisers = {k: v for k, v in denoisers.items() if k in cfg.get("sample_denoisers", denoisers)}
    rows = []
    for i in range(cfg["instances"]):
        model = sg.SpikedTensor.from_temperature(cfg["n"], 3, T, spec["prior"], seed=1000 * i + 7)
        for label, den in denoisers.items():
            t0 = time.process_time()
            res = StochasticLocalization(den, schedule).sample(model, cfg["n_samples"], seed=500 + i)
            x = res.x
            ov = overlap_with_planted(model, x)
            q = replica_overlaps(x, symmetry="sign") if x.shape[0] > 1 else np.array([np.nan])
            row = {"model": name, "T": T, "instance": i, "denoiser": label, "overlap_planted": float(np.mean(ov)),
                   "two_sample_overlap": float(np.mean(q)), "energy_gap": energy_nishimori_gap(model, x),
                   "cpu_seconds": time.process_time() - t0}
            rows.append(row)
            log(f"[{name} T={T}] instance {i} {label:<13} overlap {row['overlap_planted']:.3f} two-sample "
                f"{row['two_sample_overlap']:.3f} energy gap {row['energy_gap']:+.4f}")
    return rows


def summarise(rows: list[dict]) -> list[dict]:
    return group_mean_se(rows, ("model", "T", "denoiser"), ("overlap_planted", "two_sample_overlap", "energy_gap"))


def bayes_overlap(name: str, T: float) -> float:
    """The Bayes-optimal overlap m* = 1 - MMSE(t = 0) of state evolution at temperature T (0 above T_K, where the
    posterior carries no information on x*): posterior samples have mean overlap m* with x* (Nishimori)."""
    bayes, _ = state_evolution_mmse(sg.SpikedTensor.from_temperature(3, 3, T, MODELS[name]["prior"], seed=0), [0.0])
    return float(1.0 - bayes[0])


def verdicts(summary: list[dict], n: int) -> list[dict]:
    """Per (model, T): learned vs damped AMP within 3/sqrt(N) + 0.02 on both overlaps; the energy gap of each
    flagged when it exceeds 3 standard errors (over instances) and 0.05; and whether each ends uninformed, its
    overlap with x* more than the same tolerance below the state-evolution m* (possible only where m* > 0)."""
    tol = 3.0 / math.sqrt(n) + 0.02
    out = []
    for (model, T) in sorted({(s["model"], s["T"]) for s in summary}):
        by = {s["denoiser"]: s for s in summary if (s["model"], s["T"]) == (model, T)}
        amp, learned = by["AMP (damped)"], by["learned"]
        m_star = bayes_overlap(model, T)
        out.append({"model": model, "T": T, "tolerance": tol, "m_bayes": m_star,
                    "overlap_diff": learned["overlap_planted"] - amp["overlap_planted"],
                    "two_sample_diff": learned["two_sample_overlap"] - amp["two_sample_overlap"],
                    "overlaps_match": bool(abs(learned["overlap_planted"] - amp["overlap_planted"]) <= tol
                                           and abs(learned["two_sample_overlap"] - amp["two_sample_overlap"]) <= tol),
                    "amp_gap_flagged": gap_flagged(amp["energy_gap"], amp["energy_gap_err"]),
                    "learned_gap_flagged": gap_flagged(learned["energy_gap"], learned["energy_gap_err"]),
                    "amp_uninformed": bool(amp["overlap_planted"] < m_star - tol),
                    "learned_uninformed": bool(learned["overlap_planted"] < m_star - tol)})
    return out


def merge(reports: list[dict]) -> dict:
    """One record from runs of the same settings on different models (e.g. one process per model): the models and
    rows of all, the summary and verdicts recomputed.  Raises ``ValueError`` when the settings differ or a model
    appears twice."""
    first = reports[0]
    out = {**first, "models": {}, "rows": [],
           "machine": first["machine"] if len(reports) == 1 else [r["machine"] for r in reports]}
    for r in reports:
        if r["settings"] != first["settings"]:
            raise ValueError("the records to merge were run with different settings")
        for name, block in r["models"].items():
            if name in out["models"]:
                raise ValueError(f"model {name!r} appears in more than one record to merge")
            out["models"][name] = block
        out["rows"] += r["rows"]
    out["summary"] = summarise(out["rows"])
    out["verdicts"] = verdicts(out["summary"], first["settings"]["n"])
    return out


def figure(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(report["models"])
    fig, axes = plt.subplots(1, 2 * len(models), figsize=(6 * len(models), 3.6))
    for j, name in enumerate(models):
        block = report["models"][name]
        ax = axes[2 * j]
        for T, color in ((block["hard"], "C3"), (block["easy"], "C0")):
            curves = block["mse"][f"{T}"]
            for label, style in (("learned", "o-"), ("untrained", "s--"), ("AMP (damped)", "^:")):
                ax.errorbar(curves[label]["t"], curves[label]["mse"], yerr=curves[label]["stderr"], fmt=style,
                            color=color, ms=4, alpha=0.8, label=f"{label}, T = {T}")
            for label, style in (("SE Bayes-optimal", "-"), ("SE algorithmic", ":")):
                ax.plot(curves[label]["t"], curves[label]["mse"], style, color="k" if T == block["hard"] else "grey",
                        lw=1, label=f"{label}, T = {T}")
        ax.set_xscale("log")
        ax.set_xlabel("path time t")
        ax.set_ylabel("MSE(t)")
        ax.set_title(f"{name}: MSE(t)", fontsize=9)
        ax.legend(fontsize=6)
        ax = axes[2 * j + 1]
        present = {s["denoiser"] for s in report["summary"]}
        dens = [d for d in ("AMP (damped)", "learned", "untrained") if d in present]
        for k, den in enumerate(dens):
            pts = [s for s in report["summary"] if s["model"] == name and s["denoiser"] == den]
            ax.errorbar([s["T"] + 0.01 * (k - 1) for s in pts], [s["energy_gap"] for s in pts],
                        yerr=[s["energy_gap_err"] for s in pts], fmt="o", label=den)
        th = block["thresholds"]
        for key, ls in (("T_diffusion", "--"), ("T_autoregressive", ":"), ("T_K", "-.")):
            if key in th:
                ax.axvline(th[key], color="grey", ls=ls, lw=1, label=f"{key} = {th[key]:.3f}")
        ax.axhline(0.0, color="k", lw=0.5)
        ax.set_xlabel("temperature T")
        ax.set_ylabel("energy gap E(x)/N - E(x*)/N")
        ax.set_title(f"{name}: SL samples, N = {report['settings']['n']}", fontsize=9)
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: N = 40, a few steps (targets not meant to be met)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "docs" / "figures"))
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, help=f"problem size N (default {FULL['n']}; training and AMP grow as N^3)")
    ap.add_argument("--instances", type=int, help=f"instance seeds sampled per temperature (default "
                    f"{FULL['instances']})")
    ap.add_argument("--no-untrained-samples", action="store_true",
                    help="sample over the AMP and learned denoisers only (the untrained network keeps its MSE curve)")
    ap.add_argument("--warm", action="store_true",
                    help="train half the rows from the network's own warm-started state at an earlier time of the "
                         "path (samplers.neural.WarmStarts), as the warm-started sampler queries it")
    ap.add_argument("--name", help="stem of the output files (default learned_tensor, learned_tensor_quick)")
    ap.add_argument("--merge", nargs="+", metavar="STEM",
                    help="write --name from the records <out>/STEM.json of one run per model, then exit")
    ap.add_argument("--replot", action="store_true", help="redraw the figure from the JSON of an earlier run")
    args = ap.parse_args(argv)
    out = Path(args.out)
    stem = args.name or ("learned_tensor_quick" if args.quick else "learned_tensor")
    partial = args.n is not None or args.instances is not None or args.no_untrained_samples or args.warm
    if (args.merge or partial) and not args.name:
        ap.error("--name is required with --merge, --n, --instances, --no-untrained-samples and --warm (the record "
                 "they write must not replace learned_tensor.json)")
    if args.merge:
        if partial or args.quick or args.replot:
            ap.error("--merge only joins records: it takes --out and --name, no run options")
        try:
            report = merged_record(out, args.merge, stem, merge, "records of this script")
        except ValueError as err:
            ap.error(f"--merge: {err}")
        (out / f"{stem}.json").write_text(json.dumps(report, indent=1))  # merged_record refused an existing one
        figure(report, out / f"{stem}.png")
        print_sample_table(report["summary"], report["verdicts"], "T")
        return 0
    if args.replot:
        figure(json.loads((out / f"{stem}.json").read_text()), out / f"{stem}.png")
        return 0
    smallest = {"--n": 3, "--instances": 1}
    for flag, value in (("--n", args.n), ("--instances", args.instances)):
        if value is not None and value < smallest[flag]:
            ap.error(f"{flag} must be >= {smallest[flag]} (got {value})")
    torch.set_num_threads(1)
    cfg = dict(QUICK if args.quick else FULL)
    cfg.update({k: v for k, v in (("n", args.n), ("instances", args.instances)) if v is not None})
    if args.no_untrained_samples:
        cfg["sample_denoisers"] = ["AMP (damped)", "learned"]
    cfg["warm"] = WarmStarts().to_dict() if args.warm else None
    settings = {**{k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}, "seed": args.seed}
    try:
        check_replaceable(out / f"{stem}.json", settings, legacy={"seed": 0, "warm": None})
    except ValueError as err:
        ap.error(str(err))
    out.mkdir(parents=True, exist_ok=True)
    report = {"settings": settings,
              "driver": DRIVER, "amp": AMP_TENSOR, "models": {}, "rows": [],
              "machine": {"python": platform.python_version(), "torch": torch.__version__,
                          "cpu_count": os.cpu_count(), "load_average": os.getloadavg()}}
    for name in args.models:
        spec = MODELS[name]
        net = AmortisedTensorAMP(spec["prior"], p=3, n_layers=cfg["layers"], hidden=cfg["hidden"], seed=args.seed)
        untrained = AmortisedTensorAMP(spec["prior"], p=3, n_layers=cfg["layers"], hidden=cfg["hidden"],
                                       seed=args.seed)
        data = PlantedSpikedTensor(cfg["n"], 3, cfg["T_range"], spec["prior"], rows_per_instance=cfg["rows"])
        config = TrainConfig(batch_size=cfg["instances_per_step"], epochs=cfg["epochs"], lr=cfg["lr"],
                             seed=args.seed, device="cpu", progress=False)
        t0, c0 = time.time(), time.process_time()
        hist = train_amortised_denoiser(net, data, config, steps_per_epoch=cfg["steps_per_epoch"],
                                        val_instances=cfg["val_instances"],
                                        warm=WarmStarts(**cfg["warm"]) if cfg["warm"] else None)
        train = {"wall_seconds": time.time() - t0, "cpu_seconds": time.process_time() - c0,
                 "epochs_run": hist.epochs_run, "train_loss": hist.train_loss, "val_loss": hist.val_loss,
                 "n_parameters": net.n_parameters}
        log(f"[{name}] trained {hist.epochs_run} epochs in {train['wall_seconds']:.0f} s, val loss "
            f"{hist.val_loss[-1] if hist.val_loss else float('nan'):.4f}")
        block = {"thresholds": recorded_thresholds(name), "hard": spec["hard"], "easy": spec["easy"], "train": train,
                 "mse": {}}
        for T in (spec["hard"], spec["easy"]):
            evals = PlantedSpikedTensor(cfg["n"], 3, T, spec["prior"], rows_per_instance=4)
            curves = {}
            for label, network in (("learned", net), ("untrained", untrained)):
                r = planted_mse(network, evals, cfg["mse_ts"], n_instances=cfg["mse_instances"], seed=11,
                                device="cpu")
                curves[label] = {"t": r.t.tolist(), "mse": r.mse.tolist(), "stderr": r.stderr.tolist()}
            a = amp_mse(spec["prior"], cfg["n"], T, cfg["mse_ts"], cfg["mse_instances"], seed=12)
            curves["AMP (damped)"] = {"t": list(cfg["mse_ts"]), "mse": a.mean(axis=1).tolist(),
                                      "stderr": (a.std(axis=1, ddof=1) / math.sqrt(a.shape[1])).tolist()}
            bayes, alg = state_evolution_mmse(sg.SpikedTensor.from_temperature(3, 3, T, spec["prior"], seed=0),
                                              cfg["mse_ts"])
            curves["SE Bayes-optimal"] = {"t": list(cfg["mse_ts"]), "mse": bayes.tolist()}
            curves["SE algorithmic"] = {"t": list(cfg["mse_ts"]), "mse": alg.tolist()}
            block["mse"][f"{T}"] = curves
            log(f"[{name} T={T}] MSE learned {np.round(curves['learned']['mse'], 3)} untrained "
                f"{np.round(curves['untrained']['mse'], 3)} AMP {np.round(curves['AMP (damped)']['mse'], 3)}")
            report["rows"] += sample_block(name, spec, net, untrained, T, cfg)
        report["models"][name] = block
        report["summary"] = summarise(report["rows"])
        report["verdicts"] = verdicts(report["summary"], cfg["n"])
        (out / f"{stem}.json").write_text(json.dumps(report, indent=1))
    figure(report, out / f"{stem}.png")
    print_sample_table(report["summary"], report["verdicts"], "T")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
