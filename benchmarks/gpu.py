"""Throughput of the torch chromatic Metropolis chains (``samplers.TorchMetropolis``) on CUDA or the CPU.

Usage: ``python benchmarks/gpu.py [--quick] [--device auto|cpu|cuda] [--out benchmarks/gpu_results.json]``.

Model: 2D Edwards-Anderson ±1 spin glass on an L x L torus (L = 256; ``--quick`` on the CPU: L = 64) at
beta = 0.5, float32.  Figure: attempted single-site updates per nanosecond, (sweeps x n x chains) / wall
time, where the wall time covers the sweeps only (set-up, colouring, warm-up sweep and the first CUDA
synchronisation excluded; the clock is read after ``torch.cuda.synchronize``), median over ``repeats``
runs, for 1, 16, 256 and 1024 chains run at once.  On the CPU torch runs on one thread unless ``--threads``
says otherwise (figures are single-core, as in ``benchmarks/run.py``).  Speed is never asserted in tests.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

import spinglass as sg  # noqa: E402
from samplers import TorchMetropolis  # noqa: E402

CHAINS = (1, 16, 256, 1024)
BETA = 0.5


@functools.lru_cache(maxsize=4)
def _lattice(L: int) -> sg.EdwardsAnderson:
    return sg.EdwardsAnderson((L, L), "pm1", beta=BETA, seed=0)


def torch_mcmc_flips_per_ns(L: int = 256, chains: int = 256, sweeps: int = 20, device: str = "auto",
                            dtype: str = "float32", seed: int = 0) -> tuple[float, str]:
    """(attempted updates per ns, device) of ``TorchMetropolis`` on the EA 2D ±1 L x L lattice at beta = 0.5.

    ``chains`` independent chains each run ``sweeps`` sweeps (one sample per chain); the rate is
    sweeps * L^2 * chains / ``Samples.wall_time``.
    """
    return _run(L, chains, sweeps, device, dtype, seed)[:2]


def _run(L, chains, sweeps, device, dtype, seed):
    model = _lattice(L)
    sampler = TorchMetropolis(sweeps=sweeps, device=device, dtype=dtype, trace_every=max(sweeps, 1))
    res = sampler.sample(model, chains, seed=seed)
    rate = res.work["attempted_updates"] / res.wall_time / 1e9
    return rate, str(sampler.device), res


def _machine(device: str) -> dict:
    info = {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(),
            "processor": platform.processor(), "torch_threads": torch.get_num_threads(), "device": device}
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small run (CPU: L = 64, < 1 minute)")
    ap.add_argument("--device", default="auto", help="auto (default), cpu, cuda or cuda:k")
    ap.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    ap.add_argument("--L", type=int, default=None, help="lattice side (default 256; --quick on the CPU: 64)")
    ap.add_argument("--repeats", type=int, default=None, help="runs per row, median reported (default 3; --quick 1)")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch CPU threads (default on the CPU: 1, a single-core figure; on CUDA: torch's default)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "gpu_results.json"))
    args = ap.parse_args(argv)
    device = str(TorchMetropolis(device=args.device).device)
    on_gpu = device.startswith("cuda")
    if args.threads is not None or not on_gpu:
        torch.set_num_threads(args.threads or 1)
    L = args.L or (64 if args.quick and not on_gpu else 256)
    repeats = args.repeats or (1 if args.quick else 3)
    # updates per measurement: enough to dwarf launch latency on a GPU, a fraction of a second on a CPU
    target = (2e8 if args.quick else 2e9) if on_gpu else (4e6 if args.quick else 3e7)
    rows = []
    t_start = time.perf_counter()
    print(f"TorchMetropolis, EA 2D ±1 L = {L} (n = {L * L}), beta = {BETA}, {args.dtype}, device {device}")
    print(f"{'chains':>7} {'sweeps':>7} {'updates':>12} {'wall s':>9} {'flips/ns':>9} {'accept':>7}")
    for chains in CHAINS:
        sweeps = max(2, int(target / (L * L * chains)))
        runs = [_run(L, chains, sweeps, device, args.dtype, seed) for seed in range(repeats)]
        rate = statistics.median(r[0] for r in runs)
        res = runs[-1][2]
        row = {"L": L, "n": L * L, "chains": chains, "sweeps": sweeps,
               "attempted_updates": res.work["attempted_updates"],
               "wall_time_s": statistics.median(r[2].wall_time for r in runs), "flips_per_ns": rate,
               "acceptance": res.acceptance["mean"], "colours": res.work["colours"], "repeats": repeats}
        rows.append(row)
        print(f"{chains:>7} {sweeps:>7} {row['attempted_updates']:>12.3g} {row['wall_time_s']:>9.3f} "
              f"{rate:>9.4f} {row['acceptance']:>7.3f}")
    out = {"benchmark": "torch_mcmc_flips_per_ns", "model": _lattice(L).describe(), "dtype": args.dtype,
           "quick": args.quick, "machine": _machine(device), "rows": rows,
           "total_s": time.perf_counter() - t_start}
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")
    return out


if __name__ == "__main__":
    main()
