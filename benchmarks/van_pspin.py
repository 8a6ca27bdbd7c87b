r"""The study's question for a learned autoregressive sampler (issue 22, item 4): VAN on the planted Ising 3-spin.

On ``SpikedTensor.from_temperature(N, 3, T, Rademacher)`` (the planted Ising 3-spin at its Nishimori point) at
temperatures on both sides of the lens' thresholds (T_K = 0.651, T_d = 0.682, T_diffusion = 0.741,
T_autoregressive = 0.759; docs/reproduction.md), each of ``instances`` instances gets:

* **VAN**: a ``MADE`` (hidden width 2N) trained variationally from the energy (``train_van``: reverse KL,
  annealed from 0.1 beta to beta over the first half), then ``n_samples`` exact draws of q.  Reported: the
  variational free energy F_q = E_q[log q - log w] (an upper bound of -log Z) and the importance-sampled
  -log Z (``importance_log_z``, with its standard error and effective sample size); their difference
  F_q - (-log Z_IS) estimates KL(q || p), the free-energy gap.
* **Autoregressive over AMP**: ``Autoregressive`` decimation over the damped tensor AMP of
  ``analysis.reproduction.finite_size`` (the Bayes-optimal form of the autoregressive sampler that the lens
  judges), ``n_samples`` samples.
* **MCMC references**: Metropolis from the planted configuration and from random starts (``mcmc_chains``
  chains, ``mcmc_sweeps`` sweeps each), the equilibrium reference where it mixes.

For every sampler: the mean overlap with the planted configuration |<x, x*>|/N, the energy-form Nishimori
gap E(x)/N - E(x*)/N (≈ 0 for posterior samples), and the two-sample overlap distribution |q_ab| (mean and
the fraction of pairs with |q| > 0.8, a mode-collapse indicator when the reference's is low).

Outputs ``<out>/van_pspin.json`` and ``<out>/van_pspin.png`` (energy gap and overlap against T, the lens'
thresholds drawn).  Usage: ``python benchmarks/van_pspin.py [--quick] [--out docs/figures]``.  One torch /
BLAS thread; everything seeded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from learned_common import group_mean_se, recorded_thresholds  # noqa: E402

import spinglass as sg  # noqa: E402
from analysis.measures.metrics import energy_nishimori_gap, overlap_with_planted, replica_overlaps  # noqa: E402
from analysis.reproduction.finite_size import AMP_TENSOR, REVEAL_FRACTION_TENSOR  # noqa: E402
from samplers import Autoregressive, Metropolis  # noqa: E402
from samplers.denoisers import AMPDenoiser  # noqa: E402
from samplers.neural import MADE, importance_log_z, train_van  # noqa: E402
from samplers.neural.training import index_to_alphabet  # noqa: E402

FULL = {"n": 48, "temperatures": (0.6, 0.7, 0.8, 1.0), "instances": 2, "van_steps": 600, "batch_size": 256,
        "lr": 2e-3, "n_samples": 64, "is_samples": 4000, "mcmc_chains": 16, "mcmc_sweeps": 2000}
QUICK = {**FULL, "n": 16, "temperatures": (0.6, 1.0), "instances": 1, "van_steps": 40, "batch_size": 64,
         "n_samples": 16, "is_samples": 500, "mcmc_chains": 4, "mcmc_sweeps": 100}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def measures(model, x: np.ndarray) -> dict:
    """Overlap with x*, energy gap and two-sample overlaps of samples ``x`` (rows)."""
    q = np.abs(replica_overlaps(x, symmetry="none")) if x.shape[0] > 1 else np.array([np.nan])
    return {"overlap_planted": float(np.mean(np.abs(overlap_with_planted(model, x)))),
            "energy_gap": energy_nishimori_gap(model, x), "two_sample_overlap": float(np.mean(q)),
            "collapsed_pairs": float(np.mean(q > 0.8)), "overlap_histogram": np.histogram(q, bins=10,
                                                                                          range=(0, 1))[0].tolist()}


def run_point(T: float, instance: int, cfg: dict) -> list[dict]:
    n = cfg["n"]
    model = sg.SpikedTensor.from_temperature(n, 3, T, sg.priors.Rademacher(), seed=1000 + instance)
    base = {"T": T, "instance": instance, "n": n}
    rows = []
    # VAN
    made = MADE(n, 2, hidden=2 * n, seed=instance)
    c0 = time.process_time()
    res = train_van(made, model, n_steps=cfg["van_steps"], batch_size=cfg["batch_size"], lr=cfg["lr"], seed=instance,
                    device="cpu")
    train_cpu = time.process_time() - c0
    F_q, F_se = res.final_free_energy(min(50, cfg["van_steps"]))
    est = importance_log_z(made, model, cfg["is_samples"], seed=instance)
    gen = torch.Generator().manual_seed(10_000 + instance)
    with torch.no_grad():
        x = index_to_alphabet(model, made.sample(cfg["n_samples"], gen).cpu().numpy())
    rows.append({**base, "sampler": "VAN", **measures(model, x), "free_energy_variational": F_q,
                 "free_energy_variational_err": F_se, "minus_log_z_is": -est.log_z, "minus_log_z_is_err": est.stderr,
                 "is_ess_fraction": est.ess / cfg["is_samples"], "kl_estimate": F_q + est.log_z,
                 "train_cpu_seconds": train_cpu})
    # autoregressive decimation over the damped tensor AMP
    ar = Autoregressive(lambda m: AMPDenoiser(m, **AMP_TENSOR), reveal_per_step=max(1, n // REVEAL_FRACTION_TENSOR))
    xs = ar.sample(model, cfg["n_samples"] // 4, seed=20_000 + instance).x
    rows.append({**base, "sampler": "autoregressive over AMP", **measures(model, xs)})
    # MCMC from the planted configuration and from random starts
    for init in ("planted", "random"):
        mc = Metropolis(sweeps=cfg["mcmc_sweeps"]).sample(model, cfg["mcmc_chains"], seed=30_000 + instance,
                                                           init=init)
        rows.append({**base, "sampler": f"MCMC from {init}", **measures(model, mc.x)})
    for r in rows:
        log(f"[T={T} instance {instance}] {r['sampler']:<24} overlap {r['overlap_planted']:.3f} energy gap "
            f"{r['energy_gap']:+.4f} |q| {r['two_sample_overlap']:.3f} collapsed {r['collapsed_pairs']:.2f}"
            + (f" KL {r['kl_estimate']:.3f} ESS {r['is_ess_fraction']:.3f}" if r["sampler"] == "VAN" else ""))
    return rows


def summarise(rows: list[dict]) -> list[dict]:
    return group_mean_se(rows, ("T", "sampler"), ("overlap_planted", "energy_gap", "two_sample_overlap",
                                                  "collapsed_pairs", "kl_estimate", "is_ess_fraction"))


def figure(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    samplers = sorted({s["sampler"] for s in report["summary"]})
    for k, s in enumerate(samplers):
        pts = [e for e in report["summary"] if e["sampler"] == s]
        Ts = np.array([e["T"] for e in pts]) + 0.006 * (k - 1.5)
        for ax, q in zip(axes, ("energy_gap", "overlap_planted", "two_sample_overlap"), strict=True):
            ax.errorbar(Ts, [e[q] for e in pts], yerr=[e.get(q + "_err", np.nan) for e in pts], fmt="o-", ms=4,
                        label=s)
    th = report["thresholds"]
    for ax, label in zip(axes, ("energy gap E(x)/N - E(x*)/N", "overlap with x*", "two-sample overlap |q|"),
                         strict=True):
        for key, ls in (("T_K", "-."), ("T_d", "-"), ("T_diffusion", "--"), ("T_autoregressive", ":")):
            if key in th:
                ax.axvline(th[key], color="grey", ls=ls, lw=1, label=f"{key} = {th[key]:.3f}")
        ax.set_xlabel("temperature T")
        ax.set_ylabel(label)
    axes[0].axhline(0.0, color="k", lw=0.5)
    axes[0].legend(fontsize=6)
    fig.suptitle(f"planted Ising 3-spin, N = {report['settings']['n']}: VAN against the autoregressive sampler over "
                 "AMP and MCMC", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: N = 16, two temperatures, a few steps")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "docs" / "figures"))
    ap.add_argument("--replot", action="store_true", help="redraw the figure from the JSON of an earlier run")
    ap.add_argument("--temperatures", type=float, nargs="+", default=None, help="override the temperatures")
    ap.add_argument("--instances", type=int, default=None, help="override the instances per temperature")
    ap.add_argument("--van-steps", type=int, default=None, help="override the VAN training steps")
    ap.add_argument("--name", default=None, help="file stem of the outputs (default van_pspin[_quick])")
    args = ap.parse_args(argv)
    out = Path(args.out)
    stem = out / (args.name or ("van_pspin_quick" if args.quick else "van_pspin"))
    if args.replot:
        figure(json.loads(stem.with_suffix(".json").read_text()), stem.with_suffix(".png"))
        return 0
    torch.set_num_threads(1)
    cfg = dict(QUICK if args.quick else FULL)
    for key, value in (("temperatures", args.temperatures), ("instances", args.instances),
                       ("van_steps", args.van_steps)):
        if value is not None:
            if key != "temperatures" and value < 1:
                ap.error(f"--{key.replace('_', '-')} must be >= 1, got {value}")
            if key == "temperatures" and any(not (t > 0) for t in value):
                ap.error(f"--temperatures must be > 0, got {value}")
            cfg[key] = tuple(value) if key == "temperatures" else value
    out.mkdir(parents=True, exist_ok=True)
    report = {"settings": {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()},
              "thresholds": recorded_thresholds("ising_3spin"), "amp": AMP_TENSOR, "rows": [],
              "machine": {"python": platform.python_version(), "torch": torch.__version__,
                          "cpu_count": os.cpu_count(), "load_average": os.getloadavg()}}
    for T in cfg["temperatures"]:
        for i in range(cfg["instances"]):
            report["rows"] += run_point(T, i, cfg)
            report["summary"] = summarise(report["rows"])
            stem.with_suffix(".json").write_text(json.dumps(report, indent=1))
    figure(report, stem.with_suffix(".png"))
    print("| T | sampler | overlap with x* | energy gap | two-sample |q| | pairs |q| > 0.8 | KL(q||p) est. |")
    print("|---|---|---|---|---|---|---|")
    for e in report["summary"]:
        kl = f"{e['kl_estimate']:.3f}" if "kl_estimate" in e else ""
        print(f"| {e['T']} | {e['sampler']} | {e['overlap_planted']:.3f} | {e['energy_gap']:+.4f} | "
              f"{e['two_sample_overlap']:.3f} | {e['collapsed_pairs']:.2f} | {kl} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
