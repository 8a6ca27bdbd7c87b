r"""Learned samplers on planted 5-colouring on either side of the lens' generative thresholds (issue 17).

Usage: ``python benchmarks/learned_colouring.py [--quick] [--cs 10 14] [--instances 8] [--damping 0.3]
[--drivers SL AR] [--name learned_colouring] [--out docs/figures] [--threads 1] [--from-json FILE]``

Planted q = 3 colouring has no first-order transition (c_d = c_c = c_KS = 4), so nothing along its generative
paths predicts a failure.  Planted q = 5 colouring has one: c_d ≈ 12.84 < c_c ≈ 13.23 < c_KS = 16, and the
population dynamics along the paths (``analysis.theory.population_paths.potts_generative_threshold``, population
4000, 200 sweeps, tolerance 0.1; ``THRESHOLDS``) put the tricritical degrees of the Gaussian path (diffusion /
flows) and of the erasure path (autoregressive) just below c_d.  This script asks the study's question of the
learned samplers there, with the Bayes-optimal (BP-driven) samplers beside them:

1. Training (``samplers.neural.continuous_vs_masked.train_channels``): one BP-initialised
   ``SparseMessagePassing`` per channel (Gaussian for ``StochasticLocalization``, erasure for ``Autoregressive``),
   damped 0.3 and unrolled 3 times as the q = 3 network of ``learned_sparse.py``, trained on the same fresh planted
   instances (n and c drawn per instance from ``train_n`` and ``train_c``, a range covering both test degrees).
2. Marginals (``compare_with_bp``): the mean |b - b_BP| of each network on held-out planted queries of its own
   channel at each test degree.
3. Samples: one sample per planted instance (n = 1000, ``instances`` instances, seeds 1000 + i) and sampler:
   SL over the Gaussian-trained network, AR over the erasure-trained one, SL and AR over converged ``BPDenoiser``
   (damping 0.3), the autoregressive ones revealing one variable per query (a block of r > 1 variables drawn
   from the same marginals can give two neighbours the same colour: with r = 5 at c = 10, a first run's AR over
   BP left 2, 1, 1 and 0 violated edges on its first four instances); violated edges per sample, contradictions
   after ``max_restarts`` restarts counted as failed
   (``sample_violations``, ``summarise_violations``), and the verdict against the lens (``lens_verdicts``: a
   sampler fails when half its samples or more are not proper colourings, or its mean violations exceed 2
   standard errors; the lens says "works" below its path's threshold - precision and "fails" above + precision).

Damping.  At 0.3 the flooding (parallel) BP of the untrained network does not settle on 5-colouring at degree 10
and small Gaussian SNR (mean |b - b_BP| 0.12 at t <= 0.3 after 30 passes, n = 1000): the messages of an
antiferromagnet oscillate between colour classes, so the Gaussian network's marginals end 0.05-0.1 from BP's
while the erasure network's (whose revealed variables break the oscillation) stay within 0.003.  Damped 0.5 it
is within 0.004 of BP after 3 passes (``tests/test_neural_message_passing.py``).  The record keeps 0.3 for both
networks; ``--damping 0.5 --drivers SL --name learned_colouring_damped`` reruns the diffusion half with 0.5.

Output: ``<out>/<name>.json`` (default name ``learned_colouring``; rewritten after every instance, so a stopped
run keeps what it finished), ``<out>/<name>.png`` (proper colourings against c, the thresholds drawn), a summary
on stderr; ``--from-json FILE`` recomputes the summaries and the figure from a record.  ``--quick``: n = 200,
2 instances, short training (a smoke run, ~2 min).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import re
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import spinglass as sg  # noqa: E402
from samplers.denoisers.bp import BPDenoiser  # noqa: E402
from samplers.neural.continuous_vs_masked import (  # noqa: E402
    channel_samplers,
    density_verdicts,
    sample_violations,
    train_channels,
)
from samplers.neural.message_passing_training import compare_with_bp  # noqa: E402
from samplers.neural.planted_sparse_data import PlantedSparsePairs  # noqa: E402

SEED = 0
#: q = 5 thresholds: c_d, c_c (``potts_thresholds``, docs/reproduction.md), c_KS = (q - 1)^2, and the generative
#: thresholds of the two paths (``potts_generative_threshold``, see the module docstring; ± their bisection width)
THRESHOLDS = {"c_d": 12.84, "c_c": 13.23, "c_KS": 16.0, "alpha_diffusion": 12.18, "alpha_autoregressive": 12.24,
              "precision": 0.3}
FULL = {"q": 5, "train_n": (200, 600), "train_c": (8.0, 15.0), "steps": 150, "instances_per_step": 2,
        "rows_per_instance": 4, "lr": 1e-3, "n_layers": 10, "hidden": 8, "damping": 0.3, "passes": 3, "n": 1000,
        "cs": (10.0, 14.0), "instances": 8, "sl_steps": 99, "sl_T": 30.0, "reveal_per_step": 1, "max_restarts": 3,
        "marginal_instances": 4, "bp": {"damping": 0.3, "tol": 1e-4, "max_iter": 200}, "drivers": ("SL", "AR"),
        "name": "learned_colouring"}
QUICK = {**FULL, "train_n": (100, 200), "steps": 8, "n": 200, "instances": 2, "sl_steps": 29, "marginal_instances": 2,
         "max_restarts": 1}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def ckey(c: float) -> str:
    return f"{float(c):g}"


def derive(report: dict, c: float) -> dict:
    """One degree's summaries from its raw samples: violations per sampler, paired differences to BP, verdicts."""
    row = report["by_c"][ckey(c)]
    row["violations"], row["verdicts"] = density_verdicts(row["raw"], c, max(1, int(round(row["edges_mean"]))),
                                                          report["thresholds"], n_variables=report["settings"]["n"])
    row["marginals_within_0.02"] = {ch: bool(m["mad"] <= 0.02) for ch, m in row.get("marginals", {}).items()}
    return row


def run(cfg: dict, out: Path, meta: dict) -> dict:
    path = out / f"{cfg['name']}.json"
    log(f"training on planted {cfg['q']}-colouring, n in {cfg['train_n']}, c in {cfg['train_c']}, "
        f"{cfg['steps']} steps per channel")
    c0, w0 = time.process_time(), time.perf_counter()
    tr = train_channels("potts", cfg["train_n"], steps=cfg["steps"], instances_per_step=cfg["instances_per_step"],
                        rows_per_instance=cfg["rows_per_instance"], lr=cfg["lr"], n_layers=cfg["n_layers"],
                        hidden=cfg["hidden"], damping=cfg["damping"], passes=cfg["passes"], seed=SEED, q=cfg["q"],
                        c=cfg["train_c"])
    report = {"settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()},
              "thresholds": dict(THRESHOLDS), "training_settings": tr.settings,
              "training": tr.summary(),
              "cost": {"training": {"cpu_seconds": time.process_time() - c0, "wall_seconds": time.perf_counter() - w0}},
              "by_c": {}, **meta}
    log("trained: " + ", ".join(f"{ch} {v['cpu_seconds']:.1f} s CPU, final loss {v['loss_last_quarter_mean']:.4f}"
                                for ch, v in report["training"].items()))
    samplers = channel_samplers(tr, functools.partial(BPDenoiser, **cfg["bp"]), sl_steps=cfg["sl_steps"],
                                sl_T=cfg["sl_T"], reveal_per_step=cfg["reveal_per_step"],
                                max_restarts=cfg["max_restarts"], drivers=cfg["drivers"])
    for c in cfg["cs"]:
        c0, w0 = time.process_time(), time.perf_counter()
        marg = {}
        for ch in ("gaussian", "erasure"):
            test = PlantedSparsePairs("potts", cfg["n"], q=cfg["q"], c=c, channel=ch, rows_per_instance=2)
            marg[ch] = compare_with_bp(tr.networks[ch], test, n_instances=cfg["marginal_instances"], seed=SEED + 7,
                                       device="cpu").summary()
            log(f"c {c:g}: marginals, {ch}-trained on its channel: mad {marg[ch]['mad']:.4f} ± "
                f"{marg[ch]['mad_stderr']:.4f}")
        raw = {k: {"violations": [], "failed": [], "seconds": [], "restarts": []} for k in samplers}
        edges = []
        for i in range(cfg["instances"]):
            model = sg.PlantedColoring(cfg["n"], cfg["q"], c, seed=1000 + i)
            edges.append(len(model.edges))
            one = sample_violations([model], samplers, seed=SEED + i)
            for k, rec in one.items():
                for f, vals in rec.items():
                    raw[k][f].extend(vals)
            report["by_c"][ckey(c)] = {"c": float(c), "marginals": marg, "raw": raw, "instances_done": i + 1,
                                       "edges_mean": float(np.mean(edges))}
            row = derive(report, float(c))
            row["cost"] = {"cpu_seconds": time.process_time() - c0, "wall_seconds": time.perf_counter() - w0}
            log(f"c {c:g} instance {i}: " + ", ".join(
                f"{k} {rec['violations'][0]:g}{' (failed)' if rec['failed'][0] else ''} in {rec['seconds'][0]:.0f} s"
                for k, rec in one.items()))
            write_json(report, path)
        for label, s in row["violations"].items():
            v, vd = s["violations"], row["verdicts"][label]
            log(f"c {c:g} {label}: violations {v['mean']:.2f} ± {v['stderr']:.2f}, solved {s['solved_fraction']:.2f}, "
                f"{s['failed']} failed; observed {vd['observed']}, lens {vd['lens']}")
    return report


def figure(report: dict, path: Path) -> None:
    """Proper colourings (fraction of the samples, failed ones counted as not proper) per sampler against c, with
    the lens' thresholds drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(report["by_c"].values(), key=lambda r: r["c"])
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    # markers only (a few test degrees: lines between them would suggest an interpolation), side by side
    styles = {"SL/learned-gaussian": ("tab:blue", "o", -0.15), "SL/BP": ("tab:blue", "o", -0.05),
              "AR/learned-erasure": ("tab:orange", "s", 0.05), "AR/BP": ("tab:orange", "s", 0.15)}
    for label, (colour, marker, dx) in styles.items():
        pts = [(r["c"] + dx, r["violations"][label]["solved_fraction"]) for r in rows if label in r["violations"]]
        if pts:
            ax.plot(*zip(*pts, strict=True), marker, color=colour, label=label, ms=7,
                    mfc="none" if "BP" in label else colour, ls="none")
    th = report["thresholds"]
    for key, text, ls in (("alpha_diffusion", "diffusion", ":"), ("alpha_autoregressive", "autoregressive", "-."),
                          ("c_d", "$c_d$", "--"), ("c_c", "$c_c$", "-")):
        ax.axvline(th[key], color="grey", ls=ls, lw=1, label=f"{text} = {th[key]:g}")
    n, inst = report["settings"]["n"], report["settings"]["instances"]
    ax.set(xlabel="average degree c", ylabel="proper colourings (fraction of samples)", ylim=(-0.05, 1.05),
           title=f"planted 5-colouring, n = {n}, {inst} instances")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_json(report: dict, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))
    os.replace(tmp, path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="n = 200, 2 instances, short training (smoke run)")
    ap.add_argument("--cs", type=float, nargs="+", default=None, help="test degrees (default 10 14)")
    ap.add_argument("--instances", type=int, default=None)
    ap.add_argument("--out", default="docs/figures")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--from-json", default=None, help="recompute the summaries and the figure from this record")
    ap.add_argument("--damping", type=float, default=None, help="the networks' damping (default 0.3)")
    ap.add_argument("--drivers", nargs="+", choices=("SL", "AR"), default=None,
                    help="sample with these drivers only (default both)")
    ap.add_argument("--name", default=None, help="file name of the record and figure (default learned_colouring)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.name is not None and not re.fullmatch(r"[A-Za-z0-9_.-]+", args.name):
        ap.error(f"--name must be a plain file name (letters, digits, _ . -), got {args.name!r}")
    if args.from_json is not None:
        src = Path(args.from_json)
        if not src.is_file():
            ap.error(f"--from-json: no such file {src}")
        report = json.loads(src.read_text())
        for c in report["by_c"].values():
            derive(report, c["c"])
        out.mkdir(parents=True, exist_ok=True)
        name = args.name or report["settings"].get("name", "learned_colouring")
        write_json(report, out / f"{name}.json")
        figure(report, out / f"{name}.png")
        log(f"wrote {out / name}.json and .png")
        return 0
    if args.threads < 1:
        ap.error(f"--threads must be >= 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    cfg = dict(QUICK if args.quick else FULL)
    if args.cs is not None:
        if any(not (math.isfinite(c) and c > 0) for c in args.cs):
            ap.error(f"--cs must be positive finite degrees, got {args.cs}")
        cfg["cs"] = tuple(args.cs)
    if args.instances is not None:
        if args.instances < 1:
            ap.error(f"--instances must be >= 1, got {args.instances}")
        cfg["instances"] = args.instances
    if args.damping is not None:
        if not (math.isfinite(args.damping) and 0.0 <= args.damping < 1.0):
            ap.error(f"--damping must be in [0, 1), got {args.damping}")
        cfg["damping"] = args.damping
    if args.drivers is not None:
        cfg["drivers"] = tuple(args.drivers)
    if args.name is not None:
        cfg["name"] = args.name
    out.mkdir(parents=True, exist_ok=True)
    import samplers

    meta = {"command": " ".join(["benchmarks/learned_colouring.py", *(argv if argv is not None else sys.argv[1:])]),
            "machine": {"python": platform.python_version(), "torch": torch.__version__, "cpus": os.cpu_count(),
                        "load_average_start": os.getloadavg(), "threads": args.threads},
            "version": getattr(samplers, "__version__", "unknown"), "seed": SEED}
    w0 = time.perf_counter()
    report = run(cfg, out, meta)
    report["wall_seconds"] = time.perf_counter() - w0
    report["machine"]["load_average_end"] = os.getloadavg()
    write_json(report, out / f"{cfg['name']}.json")
    figure(report, out / f"{cfg['name']}.png")
    log(f"wrote {out / cfg['name']}.json and .png ({report['wall_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
