r"""Learned (amortised BP) denoisers for the sparse planted models at n = 1000, against converged BP.

Usage: ``python benchmarks/learned_sparse.py [--quick] [--out docs/figures] [--device cpu] [--threads 1]
[--ar-untrained]``

What is measured (``samplers.neural``: ``SparseMessagePassing`` trained by ``train_message_passing`` on fresh
planted pairs from ``PlantedSparsePairs`` on the erasure path; no MCMC anywhere), for planted q = 3 colouring
(c_KS = c_c = 4) and planted 5-NAE-SAT (autoregressive generative threshold alpha ≈ 8.47, docs/reproduction.md),
both at beta = inf (``SETTINGS``; the colouring network damped (0.3) with its 10 layers applied 3 times per forward
pass, in training and in use: undamped flooding BP does not settle at small revealed fractions near c_KS, and one
pass of 10 layers leaves damped BP unconverged there; item 4 measures both):

1. Training: wall time and held-out loss per epoch, on instances with n and the density drawn per instance from
   ranges around the test values (the network is amortised over n and density; one size would teach it that
   size's finite-n effects).
2. Marginals at n = 1000: on 8 fresh planted instances per test density (colouring c = 3.0, 3.7; NAE-SAT
   alpha = 4, 6) and revealed fraction theta (uniform on [0, 1] as in training, 0.05, 0.1, 0.3)
   (``compare_with_bp``): the mean |b_learned - b_BP| over free variables and values, and the cross-entropy
   against x* of the learned network, of the untrained network (= L parallel BP iterations) and of converged
   ``BPDenoiser`` (damping 0.3, tol 1e-8), with standard errors over instances.
3. Autoregressive sampling at n = 1000 (colouring c = 3.7, NAE-SAT alpha = 4): one sample on each of 8 planted
   instances per denoiser (learned, BP; the untrained network too with ``--ar-untrained``),
   ``Autoregressive(reveal_per_step=r, on_contradiction="restart", max_restarts=5)``; violated constraints per
   sample (mean, standard error, paired difference learned - BP), restarts, samples that still contradicted
   after 5 restarts ("failed"), wall time.  r > 1 (5 for colouring, 10 for NAE-SAT) reveals r variables per
   query from their current marginals (an O(r/n) block error), the same r for every denoiser, to keep the run
   within ~10 minutes on 2 shared CPU cores.

4. Passes (networks with ``passes`` > 1): at theta = 0.05 and each test density, the mean |b - b_BP| of the
   untrained network undamped (flooding BP) and damped, and of the trained network, after P = 1, 2, 3, 5, 10, 30
   passes of the layers (``passes_to_bp``).

Output: ``<out>/learned_sparse.json`` (every number, settings, versions, machine load); a summary on stdout.
``--quick``: n = 300, shorter training, fewer instances (a smoke run).  Everything is seeded.
"""

from __future__ import annotations

import argparse
import copy
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

import spinglass as sg  # noqa: E402
from samplers.autoregressive import Autoregressive  # noqa: E402
from samplers.denoisers.base import ContradictionError  # noqa: E402
from samplers.denoisers.bp import BPDenoiser  # noqa: E402
from samplers.neural.message_passing import SparseMessagePassing  # noqa: E402
from samplers.neural.message_passing_training import compare_with_bp, train_message_passing  # noqa: E402
from samplers.neural.planted_sparse_data import PlantedSparsePairs  # noqa: E402
from samplers.neural.training import TrainConfig, pick_device  # noqa: E402

SEED = 0
MAX_RESTARTS = 5
SETTINGS = {
    "coloring_q3": dict(family="potts", fixed=dict(q=3), density="c", train_density=(2.0, 3.8), test=(3.0, 3.7),
                        ar_density=3.7, n_train=(200, 1000), epochs=20, n_layers=10, hidden=16, reveal_per_step=5,
                        damping=0.3, passes=3, lr=1e-3, val_instances=8),
    "naesat_k5": dict(family="naesat", fixed=dict(k=5), density="alpha", train_density=(3.0, 7.0), test=(4.0, 6.0),
                      ar_density=4.0, n_train=(200, 600), epochs=10, n_layers=12, hidden=8, reveal_per_step=10),
}
THETAS = (None, 0.05, 0.1, 0.3)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def stats(a) -> dict:
    a = np.asarray(a, dtype=float)
    se = float(a.std(ddof=1) / math.sqrt(a.size)) if a.size > 1 else math.nan
    return {"mean": float(a.mean()), "stderr": se, "values": a.tolist()}


def make_model(setting: dict, n: int, density: float, seed: int):
    if setting["family"] == "potts":
        return sg.PlantedColoring(n, setting["fixed"]["q"], density, seed=seed)
    return sg.PlantedNAESAT(n, setting["fixed"]["k"], density, seed=seed)


def autoregressive(setting: dict, specs: dict, n: int, n_instances: int) -> dict:
    """Violations per sample of one autoregressive sample per instance and denoiser."""
    sampler = functools.partial(Autoregressive, reveal_per_step=setting["reveal_per_step"],
                                on_contradiction="restart", max_restarts=MAX_RESTARTS)
    out = {name: {"violations": [], "restarts": [], "seconds": []} for name in specs}
    for i in range(n_instances):
        model = make_model(setting, n, setting["ar_density"], seed=1000 + i)
        for name, spec in specs.items():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    s = sampler(spec).sample(model, 1, seed=SEED + i)
                    viol, restarts = float(model.energy(s.x)[0]), int(s.work.get("restarts", 0))
                except ContradictionError:  # still contradicting after max_restarts: no sample
                    viol, restarts = math.nan, MAX_RESTARTS + 1
            out[name]["seconds"].append(time.perf_counter() - start)
            out[name]["violations"].append(viol)
            out[name]["restarts"].append(restarts)
        log(f"  autoregressive instance {i}: " + ", ".join(
            f"{k} {v['violations'][-1]:.0f} ({v['restarts'][-1]} restarts, {v['seconds'][-1]:.0f} s)"
            for k, v in out.items()))
    res = {}
    for name, v in out.items():
        ok = np.isfinite(v["violations"])
        res[name] = {"violations": stats(np.asarray(v["violations"])[ok]), "failed": int(np.sum(~ok)),
                     "restarts": int(np.sum(v["restarts"])), "seconds": float(np.sum(v["seconds"]))}
    both = np.isfinite(out["learned"]["violations"]) & np.isfinite(out["bp"]["violations"])
    res["learned_minus_bp"] = stats(np.subtract(out["learned"]["violations"], out["bp"]["violations"])[both])
    return res


PASSES = (1, 2, 3, 5, 10, 30)


def passes_to_bp(setting: dict, net, untrained, args) -> dict:
    """Distance to converged BP against the number of passes of the layers, at theta = 0.05 (the slowest queries):
    the untrained network undamped (flooding BP) and damped as configured (damped BP), and the trained network;
    mean |b - b_BP| with its standard error over the test instances."""
    family = setting["family"]
    K = setting["fixed"].get("q", 2)
    flooding = SparseMessagePassing(family, K, math.inf, n_layers=setting["n_layers"], hidden=setting["hidden"],
                                    seed=SEED)
    nets = {"untrained, undamped": flooding, f"untrained, damping {untrained.damping:g}": untrained,
            "trained": net}
    out = {}
    for density in setting["test"]:
        test = PlantedSparsePairs(family, args.n, rows_per_instance=2, **setting["fixed"],
                                  **{setting["density"]: density})
        key = f"{setting['density']}={density},theta=0.05"
        out[key] = {label: {str(P): {k: v for k, v in compare_with_bp(
            network, test, n_instances=args.instances, seed=SEED + 7, theta=0.05, passes=P,
            device="cpu").summary().items() if k in ("mad", "mad_stderr", "ce_difference", "ce_difference_stderr")}
            for P in PASSES} for label, network in nets.items()}
        log(f"passes to BP {key}: " + "; ".join(
            f"{label}: " + " ".join(f"{P}:{r['mad']:.4f}" for P, r in rows.items())
            for label, rows in out[key].items()))
    return out


def run_setting(name: str, setting: dict, args) -> dict:
    family = setting["family"]
    K = setting["fixed"].get("q", 2)
    net = SparseMessagePassing(family, K, math.inf, n_layers=setting["n_layers"], hidden=setting["hidden"], seed=SEED,
                               damping=setting.get("damping", 0.0), passes=setting.get("passes", 1))
    untrained = copy.deepcopy(net)
    n_train = (100, args.n) if args.quick else setting["n_train"]
    data = PlantedSparsePairs(family, n_train, rows_per_instance=4, **setting["fixed"],
                              **{setting["density"]: setting["train_density"]})
    epochs = 2 if args.quick else setting["epochs"]
    cfg = TrainConfig(batch_size=2, epochs=epochs, lr=setting.get("lr", 3e-3),
                      weight_decay=setting.get("weight_decay", 0.0), patience=5, seed=SEED, device=args.device)
    log(f"{name}: training {net.n_parameters} parameters on n in {n_train}")
    hist = train_message_passing(net, data, cfg, steps_per_epoch=args.steps,
                                 val_instances=setting.get("val_instances", 4))
    log(f"{name}: trained in {hist.seconds:.0f} s ({hist.epochs_run} epochs), held-out loss per epoch "
        + " ".join(f"{v:.4f}" for v in hist.val_loss))
    net.to("cpu")
    marg = {}
    for density in setting["test"]:
        test = PlantedSparsePairs(family, args.n, rows_per_instance=2, **setting["fixed"],
                                  **{setting["density"]: density})
        for theta in THETAS:
            row = {label: compare_with_bp(network, test, n_instances=args.instances, seed=SEED + 7, theta=theta,
                                          device="cpu").summary()
                   for label, network in (("learned", net), ("untrained", untrained))}
            key = f"{setting['density']}={density},theta={'uniform' if theta is None else theta}"
            marg[key] = row
            log(f"{name}: {key}: mad {row['learned']['mad']:.4f} (untrained {row['untrained']['mad']:.4f}), CE learned "
                f"{row['learned']['ce_network']:.4f} untrained {row['untrained']['ce_network']:.4f} "
                f"BP {row['learned']['ce_bp']:.4f}")
    passes = passes_to_bp(setting, net, untrained, args) if setting.get("passes", 1) > 1 else None
    specs = {"learned": net.factory(device="cpu"), "bp": BPDenoiser}
    if args.ar_untrained:
        specs["untrained"] = untrained.factory(device="cpu")
    ar = autoregressive(setting, specs, args.n, args.instances)
    log(f"{name}: violations " + ", ".join(f"{k} {ar[k]['violations']['mean']:.2f}" for k in specs))
    return {"setting": setting, "network": net.describe(), "train_data": data.describe(),
            "train_config": cfg.to_dict(), "steps_per_epoch": args.steps,
            "training": {"seconds": hist.seconds, "epochs_run": hist.epochs_run, "best_epoch": hist.best_epoch,
                         "train_loss": hist.train_loss, "val_loss": hist.val_loss},
            "marginals": marg, "passes_to_bp": passes, "autoregressive": ar}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", default="docs/figures")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--ar-untrained", action="store_true", help="also sample with the untrained network")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.n = 300 if args.quick else 1000
    args.steps = 5 if args.quick else 10
    args.instances = 3 if args.quick else 8
    start = time.perf_counter()
    results = {}
    for name, setting in SETTINGS.items():
        results[name] = run_setting(name, setting, args)
    report = {
        "benchmark": "learned_sparse", "quick": args.quick, "n": args.n,
        "instances": args.instances, "seed": SEED, "device": str(pick_device(args.device)), "threads": args.threads,
        "results": results, "seconds": time.perf_counter() - start,
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
                    "numpy": np.__version__, "cpus": os.cpu_count(), "load_average": list(os.getloadavg())},
        "command": "python benchmarks/learned_sparse.py" + (" --quick" if args.quick else ""),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "learned_sparse.json"
    path.write_text(json.dumps(report, indent=1))
    for name, r in results.items():
        for key, row in r["marginals"].items():
            print(f"{name} {key}: mad {row['learned']['mad']:.4f}; CE learned {row['learned']['ce_network']:.4f} "
                  f"untrained {row['untrained']['ce_network']:.4f} BP {row['learned']['ce_bp']:.4f}")
        ar = r["autoregressive"]
        print(f"{name}: violations per sample learned {ar['learned']['violations']['mean']:.2f} ± "
              f"{ar['learned']['violations']['stderr']:.2f} ({ar['learned']['failed']} failed), BP "
              f"{ar['bp']['violations']['mean']:.2f} ± {ar['bp']['violations']['stderr']:.2f} "
              f"({ar['bp']['failed']} failed)")
    print(f"wrote {path} in {report['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
