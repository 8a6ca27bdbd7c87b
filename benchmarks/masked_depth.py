r"""Why the learned masked (autoregressive) sampler fails on planted 5-NAE-SAT at alpha = 8: depth, not learning.

Usage: ``python benchmarks/masked_depth.py [--quick] [--out docs/figures] [--instances 8] [--alpha 8]``
(writes ``<out>/masked_depth.json``; ``--quick``: n = 300, 2 instances, short training, a smoke run).

``benchmarks/learned_comparisons.py`` part B trains the erasure-channel ``SparseMessagePassing`` (12 layers,
hidden 8, damping 0.3, the layers applied 3 times per forward pass: 36 damped parallel BP iterations when
untrained) and finds that ``Autoregressive`` over it fails at alpha = 8, below the lens' autoregressive
threshold 8.47, on instances where the sampler over converged ``BPDenoiser`` succeeds.  Near an algorithmic
threshold BP needs many iterations, and a fixed-depth network answers with unconverged messages, which
decimation turns into contradictions.  This script separates the two possible causes on one network trained
with part B's erasure recipe (fresh planted pairs, n uniform in [200, 600], alpha uniform in [3, 10], theta
uniform in [0, 1], 2 instances x 4 queries per step, 150 steps, Adam at lr 1e-3; ``train_message_passing``):

* ``fixed``: the trained network at the depth it was trained with (3 passes per query);
* ``adaptive``: the same trained network with ``MessagePassingDenoiser(tol=1e-4, max_passes=10)``: a query
  takes more passes, continuing its messages, until the last layer moves them by less than 1e-4 (BP's ``tol`` in
  part B), at most 10 passes (120 iterations);
* ``untrained-adaptive``: the untrained network (its learned corrections zero: damped parallel BP) with the same
  adaptive depth, which separates the two causes: if it succeeds where ``adaptive`` fails, the trained corrections
  are what breaks the sampler; if both fail where BP succeeds, depth is;
* ``bp``: ``Autoregressive`` over ``BPDenoiser(tol=1e-4, max_iter=200)``, as in part B.

Each draws one sample on each of ``--instances`` planted instances (default 4: a diagnostic, each adaptive sample
takes minutes on a CPU core; n = 1000, seeds 1000 + i, as part B), with 10 variables revealed per query and at most
3 restarts on contradiction (part B's settings); reported per sampler: samples that are solutions, failed samples
(still contradicting after the restarts), violated clauses, restarts, the mean passes per query (network samplers)
and wall seconds. Everything is seeded.
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

import spinglass as sg  # noqa: E402
from samplers.autoregressive import Autoregressive  # noqa: E402
from samplers.denoisers.bp import BPDenoiser  # noqa: E402
from samplers.neural.continuous_vs_masked import sample_violations  # noqa: E402
from samplers.neural.message_passing import MessagePassingDenoiser, SparseMessagePassing  # noqa: E402
from samplers.neural.message_passing_training import train_message_passing  # noqa: E402
from samplers.neural.planted_sparse_data import PlantedSparsePairs  # noqa: E402
from samplers.neural.training import TrainConfig  # noqa: E402

SEED = 0
FULL = {"n": 1000, "k": 5, "train_n": (200, 600), "train_alpha": (3.0, 10.0), "steps": 150, "lr": 1e-3,
        "n_layers": 12, "hidden": 8, "damping": 0.3, "passes": 3, "tol": 1e-4, "max_passes": 10,
        "reveal_per_step": 10, "max_restarts": 3, "bp": {"tol": 1e-4, "max_iter": 200}}
QUICK = {**FULL, "n": 300, "train_n": (100, 200), "steps": 10}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class CountingDenoiser:
    """A factory of ``MessagePassingDenoiser`` that keeps the denoisers it made (for their passes per query)."""

    def __init__(self, network: SparseMessagePassing, **kwargs):
        self.network, self.kwargs, self.made = network, kwargs, []

    def __call__(self, model) -> MessagePassingDenoiser:
        den = MessagePassingDenoiser(self.network, model, device="cpu", **self.kwargs)
        self.made.append(den)
        return den


def train(cfg: dict) -> tuple[SparseMessagePassing, dict]:
    net = SparseMessagePassing("naesat", 2, math.inf, n_layers=cfg["n_layers"], hidden=cfg["hidden"],
                               damping=cfg["damping"], passes=cfg["passes"], seed=SEED)
    data = PlantedSparsePairs("naesat", cfg["train_n"], channel="erasure", rows_per_instance=4, k=cfg["k"],
                              alpha=cfg["train_alpha"])
    config = TrainConfig(batch_size=2, epochs=cfg["steps"] // 10, lr=cfg["lr"], seed=SEED, device="cpu")
    c0 = time.process_time()
    hist = train_message_passing(net, data, config, steps_per_epoch=10, val_instances=0)
    net.eval()
    return net, {"cpu_seconds": time.process_time() - c0, "train_loss_last_epoch": hist.train_loss[-1],
                 "network": net.describe(), "data": data.describe(), "config": config.to_dict()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "docs" / "figures"))
    ap.add_argument("--instances", type=int, default=4)
    ap.add_argument("--alpha", type=float, default=8.0)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    cfg = QUICK if args.quick else FULL
    instances = 2 if args.quick else args.instances
    w0 = time.perf_counter()
    log(f"training the erasure network ({cfg['steps']} steps)")
    net, training = train(cfg)
    log(f"trained in {training['cpu_seconds']:.0f} s CPU")
    untrained = SparseMessagePassing("naesat", 2, math.inf, n_layers=cfg["n_layers"], hidden=cfg["hidden"],
                                     damping=cfg["damping"], passes=cfg["passes"], seed=SEED)
    factories = {"fixed": CountingDenoiser(net),
                 "adaptive": CountingDenoiser(net, tol=cfg["tol"], max_passes=cfg["max_passes"]),
                 "untrained-adaptive": CountingDenoiser(untrained, tol=cfg["tol"], max_passes=cfg["max_passes"]),
                 "bp": functools.partial(BPDenoiser, **cfg["bp"])}
    raw = {k: {"violations": [], "failed": [], "restarts": [], "seconds": []} for k in factories}
    passes = {k: [] for k in ("fixed", "adaptive", "untrained-adaptive")}
    samplers = {label: Autoregressive(factory, reveal_per_step=cfg["reveal_per_step"], on_contradiction="restart",
                                      max_restarts=cfg["max_restarts"]) for label, factory in factories.items()}
    for i in range(instances):
        model = sg.PlantedNAESAT(cfg["n"], cfg["k"], args.alpha, seed=1000 + i)
        one = sample_violations([model], samplers, seed=SEED + i)
        for label, rec in one.items():
            for key, vals in rec.items():
                raw[label][key] += vals
            if rec["failed"][0]:  # still contradicting after the restarts: counted as max_restarts + 1 restarts here
                raw[label]["restarts"][-1] = cfg["max_restarts"] + 1
            if label in passes:  # mean passes per query row over this sample's denoisers (restarts included)
                made = factories[label].made
                rows = sum(d.n_rows for d in made)
                passes[label].append(sum(d.n_row_passes for d in made) / rows if rows else math.nan)
                factories[label].made = []
        log(f"instance {i}: " + ", ".join(f"{k} {r['violations'][-1]:g}{' (failed)' if r['failed'][-1] else ''} "
                                          f"in {r['seconds'][-1]:.0f} s" for k, r in raw.items()))
    summary = {}
    for label, r in raw.items():
        v = np.array(r["violations"], dtype=float)
        summary[label] = {"solved": int(np.sum(v == 0)), "failed": int(np.sum(r["failed"])),
                          "samples": len(v), "restarts": int(np.sum(r["restarts"])),
                          "seconds": float(np.sum(r["seconds"]))}
        if label in passes:
            summary[label]["passes_per_query"] = float(np.nanmean(passes[label]))
    report = {"benchmark": "masked_depth", "quick": args.quick, "alpha": args.alpha, "instances": instances,
              "settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()},
              "training": training, "raw": raw, "passes_per_query": passes, "summary": summary,
              "wall_seconds": time.perf_counter() - w0,
              "machine": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
                          "cpus": os.cpu_count(), "load_average": list(os.getloadavg())},
              "command": "python benchmarks/masked_depth.py" + (" --quick" if args.quick else "")}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / ("masked_depth_quick.json" if args.quick else "masked_depth.json")
    path.write_text(json.dumps(report, indent=1))
    for label, s in summary.items():
        extra = f", {s['passes_per_query']:.2f} passes per query" if "passes_per_query" in s else ""
        print(f"alpha = {args.alpha:g}, {label}: {s['solved']} of {s['samples']} solved, {s['failed']} failed, "
              f"{s['restarts']} restarts{extra}, {s['seconds']:.0f} s")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
