r"""Variational autoregressive networks at scale, against exact answers: 2D Ising L = 16 and SK N = 64.

Usage: ``python benchmarks/van_ising.py [--steps 600] [--batch 256] [--betas 0.44 0.3 0.5] [--no-sk]
[--no-ising] [--fresh] [--device auto] [--checkpoints DIR] [--out docs/figures]``

What is measured
----------------
1. **2D Ising ferromagnet, L x L torus** (``EdwardsAnderson((L, L), "ferro", beta)``: E = -sum_<ij> x_i x_j,
   the convention of ``spinglass.closed_forms.ising_torus``), at each beta of ``--betas``.  A ``PixelCNN``
   (Z2-symmetrised) is trained by ``train_van`` in two phases: ``--steps`` x 3/4 steps at lr ``--lr`` with the
   energy factor ramped linearly from ``--beta0`` to 1 over half of them, then the remaining quarter at the full
   target with lr / 5 (a fresh Adam).  Then, from ``--is-samples`` fresh draws (``importance_summary``):

   * the variational free energy per site F_q = E_q[E + log q / beta] / n = ``free_energy`` / (beta n), its
     standard error and its relative error (F_q - F) / |F| against Kaufman's exact F = -log Z / (beta n)
     (``ising_torus``); F_q >= F always (a variational bound);
   * the importance-sampled log Z, its delta-method standard error, the relative error |log Z_IS - log Z| /
     log Z and the deviation in units of the standard error;
   * the mean energy per site under q and the self-normalised IS energy, against the exact energy per site;
   * the effective sample size per sample ESS / S;
   * neural MCMC (``NeuralMCMC``, the network as independence proposal): acceptance rate and mean energy;
   * the training curve: F_q relative error of the per-step batch estimates, averaged over windows of steps;
   * CPU seconds (``time.process_time``) and wall seconds of the training, and the device.

   Targets of issue 22 at beta = 0.44: |log Z_IS - log Z| <= 3 SE and relative error <= 1e-4; F_q relative
   error <= 1e-3.  The JSON records whether each is met.
2. **SK, N = 64** (``SK(64, beta, seed=--sk-seed)``) at beta = 0.5 and 1.5: a ``MADE`` trained by
   ``train_van``, its F_q and IS log Z against a parallel-tempering reference computed by thermodynamic
   integration, log Z(beta) = N log 2 - int_0^beta <E>_b db, over a uniform ladder of ``--ti-points`` betas
   from 0 to 1.5 (Simpson's rule; <E>_0 = 0 exactly).  <E>_b is the mean target-temperature energy of
   ``ParallelTempering`` (ladder of up to 8 betas ending at b), second half of ``--pt-sweeps`` sweeps, in each of
   ``--pt-chains`` independent chains; each chain gives its own integral, and the reference's standard error is
   the spread over chains / sqrt(chains).  The discretisation error is reported as |Simpson - trapezoid|.

Published comparison (Wu, Wang & Zhang, PRL 122, 080602 (2019), arXiv:1809.10606, Fig. 2(a): free-energy
relative error of the 16 x 16 periodic ferromagnet against the exact value, beta = 0.1 .. 1).  The authors'
set-up, as their code release states it (github.com/wdphy16/stat-mech-van, ``src_ising/reproduce.sh`` and
``src_ising/args.py``): PixelCNN of depth 3, width 64, half kernel 6 (and a depth-6 residual one with half
kernel 3), Z2 symmetrisation, batch 1000, up to 10^4 Adam steps at lr 1e-3, beta annealing factor 0.998,
gradient clipping 1, on a GPU.  That is 40x the samples of this script's default CPU budget (batch 256,
hundreds of steps) and a network of ~10^5 parameters; the point values of their Fig. 2(a) are not restated
here (read them from the paper).  ``--steps``, ``--batch``, ``--channels`` and ``--blocks`` scale this script
towards their set-up on a GPU (``--device cuda``).

The JSON (``<out>/van_ising.json``) is rewritten after every finished part, merged into the existing file
unless ``--fresh``, so an interrupted run keeps what it finished (a beta run again replaces its entry in
``ising`` and the replaced one moves to ``earlier_runs``); ``<out>/van_ising.png`` is drawn at the end
(and from the JSON alone with ``--plot-only``).  Torch, numpy and BLAS run with one thread.  With
``--checkpoints DIR`` the training checkpoints go to DIR (``train_van`` resumes from them when rerun with the
same settings).
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

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from samplers.neural import MADE, NeuralMCMC  # noqa: E402
from samplers.neural.autoregressive_training import importance_summary, train_van  # noqa: E402
from samplers.neural.pixelcnn import PixelCNN  # noqa: E402
from spinglass.closed_forms import ising_torus  # noqa: E402

SEED = 20260522


def _write(path: Path, report: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))
    os.replace(tmp, path)


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _train_two_phase(net, model, args, tag: str) -> tuple[dict, np.ndarray]:
    """Phase 1 (annealed, lr) then phase 2 (full target, lr / 5); returns timing and the per-step F_q record."""
    n1 = max(1, int(round(0.75 * args.steps)))
    n2 = max(1, args.steps - n1)
    ck = None if args.checkpoints is None else Path(args.checkpoints)
    c0, w0 = time.process_time(), time.perf_counter()
    r1 = train_van(net, model, n_steps=n1, batch_size=args.batch, lr=args.lr, beta0=args.beta0, anneal_fraction=0.5,
                   seed=SEED + 1, device=args.device, progress=args.progress,
                   checkpoint=None if ck is None else ck / f"{tag}_phase1.pt", checkpoint_every=50)
    r2 = train_van(net, model, beta_schedule=np.ones(n2), batch_size=args.batch, lr=args.lr / 5, seed=SEED + 2,
                   device=args.device, progress=args.progress,
                   checkpoint=None if ck is None else ck / f"{tag}_phase2.pt", checkpoint_every=50)
    timing = {"cpu_seconds": time.process_time() - c0, "wall_seconds": time.perf_counter() - w0,
              "train_van_seconds": r1.seconds + r2.seconds, "device": r1.device, "steps": [n1, n2]}
    return timing, np.concatenate([r1.free_energy, r2.free_energy])


def _curve(f_steps: np.ndarray, exact: float, windows: int = 30) -> dict:
    """Windowed means of the per-step F_q estimates and their relative error against ``exact`` (both as beta F)."""
    edges = np.linspace(0, f_steps.size, min(windows, f_steps.size) + 1).astype(int)
    mids, rel = [], []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if b > a:
            mids.append(int((a + b) // 2))
            rel.append(float((f_steps[a:b].mean() - exact) / abs(exact)))
    return {"step": mids, "relative_error": rel}


def run_ising(beta: float, args) -> dict:
    from spinglass.lattice import EdwardsAnderson

    L = args.L
    model = EdwardsAnderson((L, L), "ferro", beta=beta)
    exact = ising_torus(L, L, beta)
    n = L * L
    net = PixelCNN(L, channels=args.channels, n_blocks=args.blocks, half_kernel=args.half_kernel,
                   first_half_kernel=args.first_half_kernel, z2=True, seed=SEED)
    _log(f"Ising L={L} beta={beta}: {net.n_parameters} parameters, {args.steps} steps x batch {args.batch}")
    timing, f_steps = _train_two_phase(net, model, args, f"ising_L{L}_beta{beta}")
    c0 = time.process_time()
    s = importance_summary(net, model, args.is_samples, seed=SEED + 3, batch_size=1024)
    is_cpu = time.process_time() - c0
    F_exact = exact.free_energy_per_spin
    F_q = s.free_energy / (beta * n)
    F_q_se = s.free_energy_stderr / (beta * n)
    rel_F = (F_q - F_exact) / abs(F_exact)
    dev_logz = s.log_z - exact.log_Z
    rel_logz = abs(dev_logz) / abs(exact.log_Z)
    c0 = time.process_time()
    mc = NeuralMCMC(net, n_steps=args.mcmc_steps, n_chains=args.mcmc_chains, batch_size=4096).sample(
        model, args.mcmc_chains, seed=SEED + 4)
    mcmc_cpu = time.process_time() - c0
    e_trace = mc.trace["energy"][:, mc.trace["energy"].shape[1] // 2:] / n
    out = {
        "beta": beta, "L": L, "n": n, "network": net.describe(),
        "exact": {"log_Z": exact.log_Z, "free_energy_per_site": F_exact, "energy_per_site": exact.energy_per_spin},
        "variational_free_energy_per_site": F_q, "variational_free_energy_stderr": F_q_se,
        "free_energy_relative_error": rel_F,
        "is_log_Z": s.log_z, "is_log_Z_stderr": s.log_z_stderr, "is_log_Z_relative_error": rel_logz,
        "is_log_Z_deviation_in_stderr": dev_logz / s.log_z_stderr if s.log_z_stderr > 0 else math.inf,
        "ess": s.ess, "ess_per_sample": s.ess_fraction, "is_samples": s.n_samples,
        "energy_per_site_q": s.energy_q / n, "energy_per_site_q_stderr": s.energy_q_stderr / n,
        "energy_per_site_is": s.energy_is / n,
        "neural_mcmc": {"acceptance": mc.acceptance["mean"], "chains": args.mcmc_chains, "steps": args.mcmc_steps,
                        "energy_per_site": float(e_trace.mean()),
                        "energy_per_site_stderr": float(e_trace.mean(axis=1).std(ddof=1) / math.sqrt(e_trace.shape[0])),
                        "cpu_seconds": mcmc_cpu},
        "training": {**timing, "batch_size": args.batch, "lr": args.lr, "beta0": args.beta0},
        "is_cpu_seconds": is_cpu,
        "training_curve": _curve(f_steps, -exact.log_Z),
        "targets": {"is_within_3_stderr": bool(abs(dev_logz) <= 3 * s.log_z_stderr),
                    "is_relative_error_le_1e-4": bool(rel_logz <= 1e-4),
                    "free_energy_relative_error_le_1e-3": bool(rel_F <= 1e-3)},
    }
    _log(f"  F_q rel err {rel_F:.2e}, IS log Z rel err {rel_logz:.2e} ({out['is_log_Z_deviation_in_stderr']:.2f} SE), "
         f"ESS/S {s.ess_fraction:.3f}, MCMC acc {mc.acceptance['mean']:.3f}, train CPU {timing['cpu_seconds']:.0f} s")
    return out


def pt_reference(n: int, seed: int, beta_max: float, args) -> dict:
    """Thermodynamic-integration log Z(beta) of SK(n, seed) on a uniform ladder from 0 to beta_max (docstring)."""
    from samplers.mcmc import ParallelTempering
    from spinglass.mean_field import SK

    grid = np.linspace(0.0, beta_max, args.ti_points)
    C = args.pt_chains
    energies = np.zeros((C, grid.size))
    c0 = time.process_time()
    for k, b in enumerate(grid[1:], start=1):
        n_t = int(min(8, max(2, math.ceil(8 * b / beta_max))))
        ladder = np.linspace(b / n_t, b, n_t)
        model = SK(n, b, seed=seed)
        out = ParallelTempering(betas=ladder, sweeps=args.pt_sweeps, trace_every=1).sample(
            model, C, seed=seed * 1000 + k, n_chains=C)
        tr = out.trace["energy"]
        energies[:, k] = tr[:, tr.shape[1] // 2:].mean(axis=1)
    cpu = time.process_time() - c0

    def integrate(upto: int) -> tuple[np.ndarray, np.ndarray]:
        from scipy.integrate import simpson, trapezoid

        e = energies[:, :upto + 1]
        x = grid[:upto + 1]
        return n * math.log(2) - simpson(e, x=x, axis=1), n * math.log(2) - trapezoid(e, x=x, axis=1)

    return {"grid": grid, "energy_mean": energies.mean(axis=0), "energy_per_chain": energies, "cpu_seconds": cpu,
            "integrate": integrate}


def run_sk(args) -> dict:
    from spinglass.mean_field import SK

    n = args.sk_n
    betas = (0.5, 1.5)
    _log(f"SK N={n}: PT thermodynamic-integration reference over {args.ti_points} betas")
    ref = pt_reference(n, args.sk_seed, max(betas), args)
    res = {"n": n, "instance_seed": args.sk_seed, "reference": {
        "method": "thermodynamic integration of the PT mean energy, Simpson's rule",
        "ti_points": args.ti_points, "pt_sweeps": args.pt_sweeps, "pt_chains": args.pt_chains,
        "grid": ref["grid"], "energy_mean": ref["energy_mean"], "cpu_seconds": ref["cpu_seconds"]}, "betas": {}}
    for beta in betas:
        k = int(np.argmin(np.abs(ref["grid"] - beta)))
        if not math.isclose(ref["grid"][k], beta, rel_tol=1e-9):
            raise ValueError(f"--ti-points = {args.ti_points} has no ladder point at beta = {beta}: use 1 + 6m points")
        simp, trap = ref["integrate"](k)
        model = SK(n, beta, seed=args.sk_seed)
        net = MADE(n, 2, [args.sk_hidden], seed=SEED)
        c0 = time.process_time()
        fit = train_van(net, model, n_steps=args.sk_steps, batch_size=512, lr=1e-3, beta0=0.2, anneal_fraction=0.5,
                        seed=SEED + 5, device=args.device)
        cpu = time.process_time() - c0
        s = importance_summary(net, model, args.sk_is_samples, seed=SEED + 6)
        log_z_ref, se_ref = float(simp.mean()), float(simp.std(ddof=1) / math.sqrt(simp.size))
        disc = float(abs(simp.mean() - trap.mean()))
        se_tot = math.hypot(se_ref, s.log_z_stderr)
        mc = NeuralMCMC(net, n_steps=200, n_chains=64).sample(model, 64, seed=SEED + 7)
        res["betas"][str(beta)] = {
            "beta": beta, "network": net.describe(), "training_cpu_seconds": cpu, "device": fit.device,
            "training_steps": args.sk_steps,
            "pt_log_Z": log_z_ref, "pt_log_Z_stderr": se_ref, "pt_discretisation": disc,
            "is_log_Z": s.log_z, "is_log_Z_stderr": s.log_z_stderr, "ess_per_sample": s.ess_fraction,
            "variational_free_energy_per_site": s.free_energy / (beta * n),
            "variational_free_energy_stderr": s.free_energy_stderr / (beta * n),
            "pt_free_energy_per_site": -log_z_ref / (beta * n),
            "free_energy_relative_error": float((s.free_energy / (beta * n) + log_z_ref / (beta * n))
                                                / abs(log_z_ref / (beta * n))),
            "is_minus_pt_in_combined_stderr": (s.log_z - log_z_ref) / se_tot,
            "is_consistent_within_3_combined_stderr": bool(abs(s.log_z - log_z_ref) <= 3 * se_tot + disc),
            "variational_bound_holds": bool(-s.free_energy <= log_z_ref + 3 * math.hypot(se_ref, s.free_energy_stderr)),
            "neural_mcmc_acceptance": mc.acceptance["mean"],
        }
        _log(f"  SK beta={beta}: PT log Z {log_z_ref:.4f} ± {se_ref:.4f} (disc {disc:.1e}); IS {s.log_z:.4f} ± "
             f"{s.log_z_stderr:.4f}; -F_q {-s.free_energy:.4f}; ESS/S {s.ess_fraction:.3f}; "
             f"acc {mc.acceptance['mean']:.3f}")
    return res


def plot(report: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4))
    ax1, ax2, ax3 = fig.subplots(1, 3)
    ising = report.get("ising", {})
    bs = sorted(ising, key=float)
    if bs:
        x = [float(b) for b in bs]
        ax1.semilogy(x, [ising[b]["free_energy_relative_error"] for b in bs], "o-", label="F_q (variational)")
        ax1.errorbar(x, [max(ising[b]["is_log_Z_relative_error"], 1e-9) for b in bs],
                     yerr=[ising[b]["is_log_Z_stderr"] / abs(ising[b]["exact"]["log_Z"]) for b in bs], fmt="s-",
                     label="log Z (importance sampling)")
        ax1.axhline(1e-3, ls=":", c="C0")
        ax1.axhline(1e-4, ls=":", c="C1")
        ax1.set_xlabel("beta")
        ax1.set_ylabel("relative error vs Kaufman")
        ax1.set_title(f"2D Ising L = {ising[bs[0]]['L']}, PixelCNN (Z2)")
        ax1.legend(fontsize=8)
        for b in bs:
            c = ising[b]["training_curve"]
            r = ising[b]
            ax2.semilogy(c["step"], np.maximum(np.abs(c["relative_error"]), 1e-7),
                         label=f"beta = {b} ({r['network']['n_parameters']} parameters)")
        ax2.set_xlabel("training step")
        ax2.set_ylabel("F_q relative error (batch means)")
        ax2.legend(fontsize=8)
    sk = report.get("sk", {}).get("betas", {})
    if sk:
        n = report["sk"]["n"]
        for j, (b, r) in enumerate(sorted(sk.items(), key=lambda kv: float(kv[0]))):
            ref = r["pt_log_Z"]
            ax3.errorbar([j - 0.1], [0.0], yerr=[r["pt_log_Z_stderr"]], fmt="ko", capsize=3,
                         label="PT + thermodynamic integration" if j == 0 else None)
            ax3.errorbar([j], [r["is_log_Z"] - ref], yerr=[r["is_log_Z_stderr"]], fmt="C1s", capsize=3,
                         label="importance sampling (MADE)" if j == 0 else None)
            ax3.plot([j + 0.1], [-r["variational_free_energy_per_site"] * float(b) * n - ref], "C0^",
                     label="-beta F_q (variational bound)" if j == 0 else None)
        ax3.axhline(0.0, c="k", lw=0.5)
        ax3.set_xticks(range(len(sk)), [f"beta = {b}" for b in sorted(sk, key=float)])
        ax3.set_ylabel("log Z estimate - PT reference")
        ax3.set_title(f"SK N = {n}")
        ax3.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--L", type=int, default=16)
    ap.add_argument("--betas", type=float, nargs="*", default=[0.44, 0.3, 0.5])
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--beta0", type=float, default=0.2)
    ap.add_argument("--channels", type=int, default=24)
    ap.add_argument("--blocks", type=int, default=3)
    ap.add_argument("--half-kernel", type=int, default=1, help="h of the type-B kernels, (h + 1) x (2h + 1)")
    ap.add_argument("--first-half-kernel", type=int, default=3, help="h0 of the type-A kernel")
    ap.add_argument("--is-samples", type=int, default=16384)
    ap.add_argument("--mcmc-chains", type=int, default=64)
    ap.add_argument("--mcmc-steps", type=int, default=100)
    ap.add_argument("--sk-n", type=int, default=64)
    ap.add_argument("--sk-seed", type=int, default=1)
    ap.add_argument("--sk-hidden", type=int, default=256)
    ap.add_argument("--sk-steps", type=int, default=1500)
    ap.add_argument("--sk-is-samples", type=int, default=65536)
    ap.add_argument("--ti-points", type=int, default=61)
    ap.add_argument("--pt-sweeps", type=int, default=4000)
    ap.add_argument("--pt-chains", type=int, default=8)
    ap.add_argument("--no-sk", action="store_true")
    ap.add_argument("--no-ising", action="store_true")
    ap.add_argument("--fresh", action="store_true", help="start a new JSON instead of merging into the existing one")
    ap.add_argument("--plot-only", action="store_true")
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--checkpoints", default=None)
    ap.add_argument("--out", default="docs/figures")
    args = ap.parse_args(argv)
    if (args.ti_points - 1) % 2:
        ap.error("--ti-points must be odd (Simpson's rule on an even number of intervals)")
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "van_ising.json"
    report = {} if args.fresh or not path.exists() else json.loads(path.read_text())
    if not args.plot_only:
        report.setdefault("ising", {})
        report["machine"] = {"platform": platform.platform(), "python": platform.python_version(),
                             "torch": torch.__version__, "cpu_count": os.cpu_count(), "torch_threads": args.threads,
                             "loadavg_at_start": list(os.getloadavg()),
                             "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
        report["published"] = {
            "reference": "Wu, Wang & Zhang, PRL 122, 080602 (2019), arXiv:1809.10606, Fig. 2(a)",
            "setup_source": "github.com/wdphy16/stat-mech-van src_ising/reproduce.sh and src_ising/args.py",
            "setup": {"network": "PixelCNN depth 3 width 64 half_kernel 6 (or depth 6 residual, half_kernel 3), z2",
                      "batch_size": 1000, "max_steps": 10000, "lr": 1e-3, "beta_anneal": 0.998, "clip_grad": 1,
                      "device": "GPU"},
            "note": "the per-beta relative errors of their Fig. 2(a) are not transcribed here"}
        if not args.no_ising:
            for beta in args.betas:
                new = {**run_ising(beta, args), "command": " ".join(sys.argv)}
                if str(beta) in report["ising"]:  # keep the replaced run (budget trend) under earlier_runs
                    report.setdefault("earlier_runs", []).append(report["ising"][str(beta)])
                report["ising"][str(beta)] = new
                _write(path, report)
        if not args.no_sk:
            report["sk"] = {**run_sk(args), "command": " ".join(sys.argv)}
            _write(path, report)
    plot(report, out / "van_ising.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
