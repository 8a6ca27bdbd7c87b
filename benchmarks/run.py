"""MCMC throughput benchmarks: single-site updates per second, single core.

Usage: ``python benchmarks/run.py [--quick] [--out benchmarks/results.json]``.  Each figure is the median
over repeats of (attempted single-site updates) / (wall time of the sweeping, compilation excluded).
Prints a table and writes JSON with the machine description.  Speed is never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numba

import spinglass as sg
from samplers import HeatBath, Metropolis, ParallelTempering


def _cases(quick: bool):
    L = 128 if quick else 256
    n_col = 20_000 if quick else 100_000
    yield f"EA 2D ±1 L={L} Metropolis", sg.EdwardsAnderson((L, L), "pm1", beta=0.5, seed=0), Metropolis, {}
    yield f"EA 2D ±1 L={L} HeatBath", sg.EdwardsAnderson((L, L), "pm1", beta=0.5, seed=0), HeatBath, {}
    yield (f"PlantedColoring q=5 c=5 n={n_col} beta=2 Metropolis",
           sg.PlantedColoring(n_col, 5, 5.0, beta=2.0, seed=0), Metropolis, {})
    yield (f"PlantedColoring q=5 c=5 n={n_col} beta=inf Metropolis",
           sg.PlantedColoring(n_col, 5, 5.0, seed=0), Metropolis, {"init": "planted"})
    yield "SK dense n=2000 beta=0.5 Metropolis", sg.SK(2000, 0.5, seed=0), Metropolis, {}
    yield ("SpikedWigner sparse rho=0.1 n=2000 Metropolis",
           sg.SpikedWigner(2000, 2.0, sg.SparseRademacher(0.1), seed=0), Metropolis, {})
    yield "PlantedNAESAT k=5 alpha=3 n=50000 beta=2 Metropolis", \
        sg.PlantedNAESAT(50_000, 5, 3.0, beta=2.0, seed=0), Metropolis, {}
    yield f"EA 2D ±1 L={L // 2} ParallelTempering (8 temps)", \
        sg.EdwardsAnderson((L // 2, L // 2), "pm1", beta=1.0, seed=0), ParallelTempering, {"n_temps": 8}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller instances")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).with_name("results.json")))
    args = parser.parse_args()
    numba.set_num_threads(1)
    rows = []
    for name, model, cls, extra in _cases(args.quick):
        init = extra.pop("init", "random")
        sweeps = max(2, int(2e7 / model.n)) if cls is not ParallelTempering else max(2, int(2e7 / model.n / 8))
        sampler = cls(sweeps=sweeps, **extra)
        sampler.sample(model, 1, seed=0, init=init)  # compile / load cache
        rates = []
        for r in range(args.repeats):
            res = sampler.sample(model, 1, seed=r, init=init)
            rates.append(res.work["attempted_updates"] / res.wall_time)
        rows.append({"benchmark": name, "n": model.n, "sweeps": sweeps, "updates_per_s": statistics.median(rates),
                     "repeats": args.repeats, "acceptance": res.acceptance["mean"]})
        print(f"{name:<55} {statistics.median(rates) / 1e6:8.1f} M updates/s  (acc {res.acceptance['mean']:.3f})",
              flush=True)
    machine = {"platform": platform.platform(), "processor": _cpu_model(), "cpu_count": os.cpu_count(),
               "python": platform.python_version(), "numba": numba.__version__, "version": sg.__version__,
               "date": time.strftime("%Y-%m-%d")}
    Path(args.out).write_text(json.dumps({"machine": machine, "results": rows}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
