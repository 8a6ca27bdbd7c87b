r"""Does the learned sampler's escape from the sparse hard phase shrink with N?  (issue 17)

At the hard point of sparse Rademacher (rho = 0.05, Delta/rho^2 = 1.2) the lens says every sampler whose denoiser is
AMP-like fails: its samples end uninformed, far from the posterior's overlap m* = 0.74.  That is an asymptotic
statement.  At N = 2000-4000 some instances let a sampler find x* anyway (AMP-driven ones rarely, better-trained
networks more often: ``learned_at_scale.json`` and ``learned_at_scale_sparse_warm.json``).  This script measures
how that escape depends on N with one network: an ``AmortisedAMP`` trained at ``--train-n`` (default 2000) on its
own warm-started queries with the sign-invariant loss (``learned_at_scale.py --warm --sign-invariant``'s recipe and
budget; the parameters do not depend on N), then stochastic localisation (SL) and the stochastic interpolant (SI)
over it, warm-started as ``learned_at_scale.py``'s "learned+warm", on instance seeds 0-3 at every size of
``--sizes`` (default 2000 4000 8000), 8 samples each.  Reported per size and driver: the samples that found x*
(overlap with x* above m*/2), the instances on which any did, the mean overlap and the energy-form Nishimori gap.

Usage: ``python benchmarks/learned_escape.py [--quick] [--out docs/figures] [--name learned_escape]``; writes
``<out>/<name>.json`` and ``.png``.  About 70 min on 2 loaded cores (N = 8000: 4-5 min per run).  ``--quick``: sizes
300 and 600, one epoch of training (a smoke run).  A rerun with the same settings regenerates its record; other
settings need another ``--name``.  Torch and BLAS on one thread.
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
from learned_at_scale import FULL, QUICK, SEED, se_overlap, train  # noqa: E402
from learned_common import check_replaceable  # noqa: E402

import spinglass as sg  # noqa: E402
from analysis.measures.metrics import energy_nishimori_gap, overlap_with_planted  # noqa: E402
from samplers.diffusion import StochasticLocalization  # noqa: E402
from samplers.flow import StochasticInterpolant  # noqa: E402
from samplers.neural import WarmStarts  # noqa: E402

DRIVERS = ("SI", "SL")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def summarise(rows: list[dict], m_bayes: float) -> list[dict]:
    """Per (N, driver): samples that found x* (overlap > m*/2) out of all, the instances where any did, the mean
    overlap and the mean energy gap over instances."""
    out = []
    for n in sorted({r["n"] for r in rows}):
        for drv in DRIVERS:
            sel = [r for r in rows if (r["n"], r["driver"]) == (n, drv)]
            found = [sum(v > m_bayes / 2 for v in r["overlap_planted_per_sample"]) for r in sel]
            out.append({"n": n, "driver": drv, "found": int(sum(found)),
                        "samples": int(sum(len(r["overlap_planted_per_sample"]) for r in sel)),
                        "instances_with_escape": [r["instance_seed"] for r, f in zip(sel, found, strict=True) if f],
                        "overlap_planted": float(np.mean([r["overlap_planted"] for r in sel])),
                        "energy_nishimori_gap": float(np.mean([r["energy_nishimori_gap"] for r in sel]))})
    return out


def figure(report: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11.0, 4.2))
    ax1, ax2 = fig.subplots(1, 2)
    summary = report["summary"]
    for k, drv in enumerate(DRIVERS):
        s = [r for r in summary if r["driver"] == drv]
        ns = [r["n"] for r in s]
        ax1.plot(ns, [r["found"] / r["samples"] for r in s], marker="os"[k], label=f"{drv} over the learned network")
    ax1.set(xscale="log", xlabel="N", ylabel="fraction of samples that found x*",
            title=f"sparse rho = {report['settings']['rho']}, Delta/rho^2 = {report['settings']['x']} (hard)")
    ax1.legend(fontsize=8)
    for k, drv in enumerate(DRIVERS):
        rows = [r for r in report["rows"] if r["driver"] == drv]
        ax2.scatter([r["n"] * (1.03 if k else 0.97) for r in rows], [r["overlap_planted"] for r in rows],
                    marker="os"[k], label=f"{drv}: one instance (mean over its samples)")
    ax2.axhline(report["se"]["m_bayes"], color="k", ls="--", lw=1, label="posterior m* (state evolution)")
    ax2.set(xscale="log", xlabel="N", ylabel="overlap with x*", title="per instance seed")
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(FixedLocator(report["settings"]["sizes"]))
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="sizes 300 and 600, one epoch (smoke run)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "docs" / "figures"))
    ap.add_argument("--name", default=None, help="stem of the outputs (default learned_escape, learned_escape_quick)")
    ap.add_argument("--sizes", type=int, nargs="+", default=None, help="N values to sample at (default 2000 4000 8000)")
    ap.add_argument("--train-n", type=int, default=None, help="N of the training instances (default 2000)")
    args = ap.parse_args(argv)
    sizes = args.sizes or ([300, 600] if args.quick else [2000, 4000, 8000])
    train_n = args.train_n if args.train_n is not None else (300 if args.quick else 2000)
    for flag, value in (("--sizes", min(sizes)), ("--train-n", train_n)):
        if value < 10:
            ap.error(f"{flag} values must be >= 10 (got {value})")
    if len(set(sizes)) != len(sizes):
        ap.error(f"--sizes must be distinct (got {sizes})")
    name = args.name or ("learned_escape_quick" if args.quick else "learned_escape")
    out = Path(args.out)
    cfg = dict(QUICK if args.quick else FULL)
    cfg.update({"n": train_n, "warm": WarmStarts().to_dict(), "sign_invariant": True})
    if args.quick:
        cfg["sparse_epochs"] = 1
    x, rho, seeds = 1.2, cfg["sparse_rho"], (0, 1, 2, 3)
    settings = {"x": x, "rho": rho, "sizes": sorted(sizes), "train_n": train_n, "seeds": list(seeds),
                "n_samples": cfg["n_samples"], "sl_steps": cfg["sl_steps"], "si_steps": cfg["si_steps"],
                "si_T": cfg["si_T"], "max_passes": cfg["max_passes"], "warm": cfg["warm"], "sign_invariant": True,
                "sparse_epochs": cfg["sparse_epochs"], "quick": args.quick}
    try:
        check_replaceable(out / f"{name}.json", settings)
    except ValueError as err:
        ap.error(str(err))
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    t_start = time.perf_counter()
    prior = sg.SparseRademacher(rho)
    lam = 1.0 / x
    se = se_overlap(prior, lam)
    net, _, info = train(prior, lam, cfg, cfg["sparse_epochs"], "cpu", SEED + 1, f"sparse_{x}", None)
    rows = []
    for n in sorted(sizes):
        for seed in seeds:
            model = sg.SpikedWigner(n, lam, prior, seed=seed)
            for drv in DRIVERS:
                den = net.factory(device="cpu", warm_start=True, init_scale=1e-3, max_passes=cfg["max_passes"],
                                  tol=1e-4)
                sampler = (StochasticLocalization(den, n_steps=cfg["sl_steps"]) if drv == "SL"
                           else StochasticInterpolant(den, n_steps=cfg["si_steps"], T=cfg["si_T"]))
                res = sampler.sample(model, cfg["n_samples"], seed=1000 + seed)
                ov = overlap_with_planted(model, res.x)
                row = {"n": n, "instance_seed": seed, "driver": drv, "overlap_planted": float(np.mean(ov)),
                       "overlap_planted_per_sample": [float(v) for v in ov],
                       "energy_nishimori_gap": energy_nishimori_gap(model, res.x), "wall_time": res.wall_time,
                       "denoiser_unconverged": res.work.get("denoiser_unconverged")}
                rows.append(row)
                log(f"N = {n} seed {seed} {drv}: overlap {row['overlap_planted']:.3f}, found x* in "
                    f"{sum(v > se['m_bayes'] / 2 for v in ov)} of {len(ov)} ({res.wall_time:.0f} s)")
    report = {"settings": settings, "se": se, "training": info, "rows": rows,
              "summary": summarise(rows, se["m_bayes"]),
              "meta": {"script": "benchmarks/learned_escape.py", "package_version": sg.__version__,
                       "torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
                       "cpu_count": os.cpu_count(), "load_average_at_end": list(os.getloadavg()),
                       "total_seconds": time.perf_counter() - t_start}}
    (out / f"{name}.json").write_text(json.dumps(report, indent=1, default=lambda o: o.tolist()
                                                  if hasattr(o, "tolist") else str(o)))
    figure(report, out / f"{name}.png")
    print("| N | driver | found x* | instances with an escape | mean overlap | energy gap |")
    print("|---|---|---|---|---|---|")
    for s in report["summary"]:
        print(f"| {s['n']} | {s['driver']} | {s['found']} / {s['samples']} | {s['instances_with_escape']} | "
              f"{s['overlap_planted']:.3f} | {s['energy_nishimori_gap']:+.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
