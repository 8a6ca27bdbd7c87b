r"""Flow matching against diffusion, and continuous against masked diffusion, each on the same footing.

Usage: ``python benchmarks/learned_comparisons.py [--quick] [--out docs/figures] [--threads 1] [--only A|B]
[--alphas 6 8 9.2] [--from-json PATH]`` (``--from-json``: recompute the derived summaries, figure and tables of an
existing JSON) (writes ``<out>/learned_comparisons.json`` and ``<out>/learned_comparisons.png``; a summary on
stdout, progress on stderr).  ``--quick``: small sizes and short runs (a smoke run, under 3 minutes; numbers not
meant to settle anything).  Torch and BLAS run with one thread by default; run it niced on a shared machine.
Everything is seeded.

A. Flow matching vs diffusion (``samplers.neural.flow_vs_diffusion``), Rademacher spiked Wigner, lam = 2, N = 500
--------------------------------------------------------------------------------------------------------------------
One ``AmortisedAMP`` (16 layers, hidden 16) per objective, from the same initial weights (``init_scale`` = 1: the
AMP initialisation with its zero output layers redrawn, so that the untrained network is *not* AMP; at the AMP
initialisation the untrained network is already within noise of the SE MMSE, see learned_at_scale.json, and there
is nothing to race for), trained on the same planted instances (2 per step, 16 side observations each), Adam with
the same learning rate, the same number of steps, interleaved step by step:

* denoising loss ||x_hat - x*||^2 (t log-uniform on [1e-3, 100], p_zero = 0.05);
* conditional flow matching ||b_theta - (x* - z)||^2 on the linear interpolant (tau ~ U[0, tau(100)]), the
  velocity expressed through the same denoiser, b = (x_hat(J, y(u, tau), t(tau)) - u) / (1 - tau) with
  t = tau^2 / (1 - tau)^2 and y = tau u / (1 - tau)^2.

Reported: (a) coefficient of variation (std / mean) of the per-step loss and of the gradient norm over the last half
of training, and the gradient-norm variance; (b) CPU and wall seconds (cumulative training time, evaluations not
counted) until the held-out excess MSE, mean over a 10-point geometric t grid in [0.02, 5] of MSE / MMSE_SE - 1 on
8 fixed planted instances x 8 rows per t, first falls below each level of ``levels``, beside the same excess of
converged AMP (50 iterations) on the same rows (the floor set by finite N and the held-out sample), and until it
comes within 0.5, 0.1, 0.05, 0.02 of that floor (``gap_summary``; three training seeds, each with its own held-out
rows, mean ± s.e. and the paired difference flow - diffusion); (c) samples at
NFE = 10, 20, 50 on 4 instances x 8 samples: ``StochasticLocalization`` over the diffusion-trained denoiser and
``StochasticInterpolant`` (ODE, Heun) over the flow-trained velocity, plus the two crossed pairings, overlap with x*
and two-sample overlap against the SE m*, tolerance 3/sqrt(N) + 0.02.

B. Continuous vs masked diffusion on planted 5-NAE-SAT (``samplers.neural.continuous_vs_masked``)
---------------------------------------------------------------------------------------------------
One ``SparseMessagePassing`` (12 layers, hidden 8, BP-initialised, damping 0.3, the layers applied 3 times per
forward pass: 36 damped BP iterations when untrained) per channel from the same initial weights, on the same planted
instances (n uniform in [200, 600], alpha uniform in [3, 10], 2 instances x 4 queries per step), Adam (lr 1e-3),
same steps (150): the Gaussian channel (for ``StochasticLocalization``) and the erasure channel (for
``Autoregressive``).  One training serves every test density (``--alphas``, default 6, 8, 9.2; each below
alpha_c = 10.29, where planted pairs stand for uniform solutions): n = 1000, 8 instances per density.  The lens
(docs/reproduction.md): alpha_autoregressive = 8.47 and alpha_diffusion = 8.67 (± 0.2), alpha_d = 9.49; 6 and 8 lie
below both generative thresholds (8: close to them, the informative test of "learned matches BP"), 9.2 above both and
below alpha_d (the lens: diffusion and autoregressive sampling over BP fail, MCMC works).  Per density: one sample
per instance from SL over the Gaussian-trained network (geometric schedule, 99 steps to T = 30: 100 network
evaluations), ``Autoregressive`` over the erasure-trained one (10 variables revealed per query: 100 evaluations,
at most 3 restarts on contradiction), and both drivers over ``BPDenoiser`` (tol 1e-4, max_iter 200: the settings of
``analysis.reproduction.finite_size``): violated clauses per sample (mean ± standard error over the instances,
fraction of samples that are solutions, failed samples, restarts; paired difference to the BP-driven sampler of the
same driver), the energy-form gap E(x)/N (E(x*) = 0) and the verdict against the lens (``lens_verdicts``: observed
"fails" when half the samples or more are not solutions (failed or violating) or the mean violations exceed
2 s.e.; the lens expects "works" below threshold - 0.2, "fails" above threshold + 0.2; and, per learned sampler,
the paired difference learned - BP of the indicator "not a solution"), and the marginals' mean |b - b_BP| on
held-out planted queries of each network's own channel at that density (``compare_with_bp``).

JSON layout of part B: ``settings`` (with ``alphas``), ``training_settings``, ``training``, ``cost``, ``meta`` (this
part's run), and ``by_alpha[f"{alpha:g}"]`` = {marginals, raw, violations, continuous_minus_masked_learned, verdicts,
marginals_within_0.02, cost, instances_done}.  The former single-density layout (``settings["alpha"]`` with
``violations`` etc. at the top of B) is migrated on ``--from-json`` (``migrate_b``).  ``--only A`` / ``--only B``
keep the other part of an existing ``<out>/learned_comparisons.json``; part B writes its partial record after every
instance (a long run can be stopped and its finished densities kept).
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
from analysis.measures.learned import state_evolution_mmse  # noqa: E402
from analysis.theory.state_evolution import StateEvolution  # noqa: E402
from analysis.theory.transitions import analyze_path  # noqa: E402
from samplers.denoisers.bp import BPDenoiser  # noqa: E402
from samplers.neural.continuous_vs_masked import (  # noqa: E402
    BP_REFERENCES,
    channel_samplers,
    density_verdicts,
    sample_violations,
    train_channels,
)
from samplers.neural.flow_vs_diffusion import compare_training, sample_quality  # noqa: E402
from samplers.neural.message_passing_training import compare_with_bp  # noqa: E402
from samplers.neural.planted_sparse_data import PlantedSparsePairs  # noqa: E402

SEED = 0
#: planted 5-NAE-SAT condensation density (docs/reproduction.md): the planted pairs stand for uniform solutions below it
ALPHA_C = 10.29
FULL_A = {"n": 500, "lam": 2.0, "n_layers": 16, "hidden": 16, "steps": 300, "instances_per_step": 2,
          "rows_per_instance": 16, "lr": 1e-3, "init_scale": 1.0, "grid": (0.02, 5.0, 10),
          "eval_every": tuple(range(4, 60, 4)) + tuple(range(60, 301, 30)), "training_seeds": (0, 1, 2),
          "eval_instances": 8, "eval_rows": 8, "reference_layers": 50, "levels": (1.0, 0.5, 0.2, 0.1, 0.05, 0.0),
          "nfe": (10, 20, 50), "instance_seeds": (0, 1, 2, 3), "n_samples": 8, "sl_T": 30.0, "si_T": 100.0}
QUICK_A = {**FULL_A, "n": 200, "steps": 40, "eval_every": 10, "eval_instances": 2, "eval_rows": 4, "nfe": (10, 20),
           "instance_seeds": (0,), "n_samples": 4, "reference_layers": 30, "training_seeds": (0,)}
FULL_B = {"family": "naesat", "k": 5, "train_n": (200, 600), "train_alpha": (3.0, 10.0), "steps": 150,
          "instances_per_step": 2, "rows_per_instance": 4, "lr": 1e-3, "n_layers": 12, "hidden": 8, "damping": 0.3,
          "passes": 3, "n": 1000,
          "alphas": (6.0, 8.0, 9.2), "instances": 8, "sl_steps": 99, "sl_T": 30.0, "reveal_per_step": 10,
          "max_restarts": 3, "marginal_instances": 4, "bp": {"tol": 1e-4, "max_iter": 200},
          "thresholds": {"alpha_autoregressive": 8.47031, "alpha_diffusion": 8.66719, "precision": 0.2,
                         "alpha_d": 9.49103}}
QUICK_B = {**FULL_B, "train_n": (100, 200), "steps": 10, "n": 200, "alphas": (6.0, 9.2), "instances": 2,
           "sl_steps": 29, "marginal_instances": 2, "max_restarts": 1}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def stats(a) -> dict:
    a = np.asarray(a, dtype=float)
    se = float(a.std(ddof=1) / math.sqrt(a.size)) if a.size > 1 else math.nan
    return {"mean": float(a.mean()), "stderr": se, "count": int(a.size)}


# -- A -----------------------------------------------------------------------------------------------------------------
def part_a(cfg: dict) -> dict:
    prior = sg.Rademacher()
    ts = np.geomspace(*cfg["grid"][:2], cfg["grid"][2])
    mmse, _ = state_evolution_mmse(sg.SpikedWigner(2, cfg["lam"], prior, seed=0), ts)
    rep = analyze_path(StateEvolution.wigner(prior, cfg["lam"]), "gaussian")
    m_star = float(rep.m_bayes[0])
    tol = 3.0 / math.sqrt(cfg["n"]) + 0.02
    log(f"[A] N = {cfg['n']}, lam = {cfg['lam']}: {cfg['steps']} steps per objective, SE m* = {m_star:.4f}")
    by_seed = []
    for seed in cfg["training_seeds"]:
        res = compare_training(prior, cfg["n"], cfg["lam"], steps=cfg["steps"],
                               instances_per_step=cfg["instances_per_step"], rows_per_instance=cfg["rows_per_instance"],
                               lr=cfg["lr"], n_layers=cfg["n_layers"], hidden=cfg["hidden"], t_grid=ts, mmse=mmse,
                               eval_every=cfg["eval_every"], eval_instances=cfg["eval_instances"],
                               eval_rows=cfg["eval_rows"], seed=seed, init_scale=cfg["init_scale"],
                               reference_layers=cfg["reference_layers"])
        training = {}
        for m, run in res.runs.items():
            s = run.summary(cfg["levels"])
            training[m] = {**s, "loss": run.loss, "grad_norm": run.grad_norm, "cpu_seconds_per_step": run.cpu_seconds,
                           "wall_seconds_per_step": run.wall_seconds, "eval_steps": run.eval_steps,
                           "eval_excess": run.eval_excess, "final_rel_dev": run.eval_mse[-1] / mmse - 1.0}
            log(f"[A] seed {seed} {m}: loss CV {s['loss_cv_last_half']:.3f}, grad-norm CV "
                f"{s['grad_norm_cv_last_half']:.3f}, final excess {s['final_excess']:.4f}, "
                f"CPU {s['cpu_seconds']:.1f} s, "
                f"steps to levels {[None if h is None else h['step'] for h in s['time_to'].values()]}")
        log(f"[A] seed {seed}: converged-AMP floor on the same rows: excess {res.reference_excess:.4f}")
        by_seed.append({"seed": seed, "training": training, "reference_excess_converged_amp": res.reference_excess,
                        "reference_rel_dev": res.reference_mse / mmse - 1.0, "settings": res.settings})
        if seed == cfg["training_seeds"][0]:
            first = res
    res = first
    # paired over training seeds: flow minus diffusion
    paired = {}
    for key in ("loss_cv_last_half", "grad_norm_cv_last_half", "final_excess"):
        d = [b["training"]["flow"][key] - b["training"]["diffusion"][key] for b in by_seed]
        paired[key] = {"flow": stats([b["training"]["flow"][key] for b in by_seed]),
                       "diffusion": stats([b["training"]["diffusion"][key] for b in by_seed]),
                       "flow_minus_diffusion": stats(d)}
    for lv in cfg["levels"]:
        hits = {m: [b["training"][m]["time_to"][f"{lv:g}"] for b in by_seed] for m in ("diffusion", "flow")}
        paired[f"cpu_seconds_to_{lv:g}"] = {
            m: stats([h["cpu_seconds"] for h in hs]) if all(h is not None for h in hs) else None
            for m, hs in hits.items()}
        paired[f"steps_to_{lv:g}"] = {m: [None if h is None else h["step"] for h in hs] for m, hs in hits.items()}
    nets = {m: run.network for m, run in res.runs.items()}
    rows = sample_quality(nets, cfg["lam"], cfg["n"], nfe=cfg["nfe"], instance_seeds=cfg["instance_seeds"],
                          n_samples=cfg["n_samples"], sl_T=cfg["sl_T"], si_T=cfg["si_T"], seed=1000)
    summary = []
    for net in nets:
        for drv in ("SL", "SI"):
            for k in cfg["nfe"]:
                sel = [r for r in rows if r["network"] == net and r["driver"] == drv and r["nfe"] == k]
                ov = stats([r["overlap"] for r in sel])
                q = stats([r["two_sample_overlap"] for r in sel])
                summary.append({"network": net, "driver": drv, "nfe": k, "nfe_used": sel[0]["nfe_used"],
                                "overlap": ov, "two_sample_overlap": q,
                                "overlap_dev": ov["mean"] - m_star, "two_sample_dev": q["mean"] - m_star,
                                "within_tol": bool(abs(ov["mean"] - m_star) <= tol and abs(q["mean"] - m_star) <= tol)})
                log(f"[A] {drv} over {net}-trained, NFE {k}: overlap {ov['mean']:.3f} ± {ov['stderr']:.3f}, "
                    f"two-sample {q['mean']:.3f} (m* {m_star:.3f}, tol {tol:.3f})")
    return {"settings": {**res.settings, **{k: cfg[k] for k in ("levels", "nfe", "instance_seeds", "n_samples", "sl_T",
                                                                 "si_T", "grid", "training_seeds")}},
            "t_grid": ts, "se_mmse": mmse, "m_star": m_star, "tolerance": tol,
            "reference_excess_converged_amp": res.reference_excess, "reference_rel_dev": res.reference_mse / mmse - 1.0,
            "training": by_seed[0]["training"], "by_seed": by_seed, "over_seeds": paired, "samples": rows,
            "samples_summary": summary}


# -- B -----------------------------------------------------------------------------------------------------------------
def akey(alpha: float) -> str:
    """The key of a test density in ``B["by_alpha"]``."""
    return f"{float(alpha):g}"


def derive_density(B: dict, alpha: float) -> dict:
    """(Re)compute one density's summaries from its raw samples: violations per sampler (mean ± s.e., solved
    fraction, failures, restarts, paired difference to the BP-driven sampler of the same driver), the learned
    continuous - masked paired difference, and the verdicts against the lens."""
    row = B["by_alpha"][akey(alpha)]
    raw = row["raw"]
    n_clauses = int(round(alpha * B["settings"]["n"]))
    violations, verdicts = density_verdicts(raw, alpha, n_clauses, B["settings"]["thresholds"],
                                            n_variables=B["settings"]["n"])
    row["violations"] = violations
    a = np.asarray(raw["SL/learned-gaussian"]["violations"], float)
    b = np.asarray(raw["AR/learned-erasure"]["violations"], float)
    ok = np.isfinite(a) & np.isfinite(b)
    row["continuous_minus_masked_learned"] = (stats(a[ok] - b[ok]) if ok.sum() > 0
                                              else {"mean": math.nan, "stderr": math.nan, "count": 0})
    row["verdicts"] = verdicts
    mg = row.get("marginals", {})
    row["marginals_within_0.02"] = {c: bool(m["mad"] <= 0.02) for c, m in mg.items()}
    return row


def migrate_b(B: dict) -> dict:
    """Bring a part-B record to the per-density layout: the single-density layout (``settings["alpha"]`` with
    ``violations``, ``marginals``, ``raw``, ``continuous_minus_masked_learned`` at the top of B) moves under
    ``by_alpha[akey(alpha)]``; ``settings["alphas"]`` lists the densities.  Idempotent."""
    if "by_alpha" not in B:
        alpha = float(B["settings"]["alpha"])
        B["by_alpha"] = {akey(alpha): {k: B.pop(k) for k in ("marginals", "violations", "raw",
                                                              "continuous_minus_masked_learned") if k in B}}
        B["settings"]["alphas"] = [alpha]
    for alpha in B["settings"]["alphas"]:
        if akey(alpha) in B["by_alpha"] and "raw" in B["by_alpha"][akey(alpha)]:
            derive_density(B, float(alpha))
    return B


def part_b(cfg: dict, checkpoint=None) -> dict:
    """Train once (both channels) over the widened density range, then per test density: marginals against BP,
    one sample per instance and sampler, summaries and verdicts.  ``checkpoint(B)`` is called after each density
    (the caller writes the partial report)."""
    log(f"[B] training on planted {cfg['k']}-NAE-SAT, n in {cfg['train_n']}, alpha in {cfg['train_alpha']}, "
        f"{cfg['steps']} steps per channel")
    c0, w0 = time.process_time(), time.perf_counter()
    tr = train_channels(cfg["family"], cfg["train_n"], steps=cfg["steps"], instances_per_step=cfg["instances_per_step"],
                        rows_per_instance=cfg["rows_per_instance"], lr=cfg["lr"], n_layers=cfg["n_layers"],
                        hidden=cfg["hidden"], damping=cfg.get("damping", 0.0), passes=cfg.get("passes", 1), seed=SEED,
                        k=cfg["k"], alpha=cfg["train_alpha"])
    training = tr.summary()
    log("[B] trained: " + ", ".join(f"{c} {v['cpu_seconds']:.1f} s CPU, final loss {v['loss_last_quarter_mean']:.4f}"
                                    for c, v in training.items()))
    B = {"settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()},
         "training_settings": tr.settings, "training": training, "by_alpha": {},
         "cost": {"training": {"cpu_seconds": time.process_time() - c0, "wall_seconds": time.perf_counter() - w0}}}
    samplers = channel_samplers(tr, functools.partial(BPDenoiser, **cfg.get("bp", {})), sl_steps=cfg["sl_steps"],
                                sl_T=cfg["sl_T"], reveal_per_step=cfg["reveal_per_step"],
                                max_restarts=cfg["max_restarts"])
    for alpha in cfg["alphas"]:
        c0, w0 = time.process_time(), time.perf_counter()
        marg = {}
        for c in ("gaussian", "erasure"):
            test = PlantedSparsePairs(cfg["family"], cfg["n"], k=cfg["k"], alpha=alpha, channel=c, rows_per_instance=2)
            marg[c] = compare_with_bp(tr.networks[c], test, n_instances=cfg["marginal_instances"], seed=SEED + 7,
                                      device="cpu").summary()
            log(f"[B] alpha {alpha:g}: marginals, {c}-trained on its channel: mad {marg[c]['mad']:.4f} ± "
                f"{marg[c]['mad_stderr']:.4f}, CE network {marg[c]['ce_network']:.4f} BP {marg[c]['ce_bp']:.4f}")
        raw = {k: {"violations": [], "failed": [], "seconds": [], "restarts": []} for k in samplers}
        for i in range(cfg["instances"]):
            model = sg.PlantedNAESAT(cfg["n"], cfg["k"], alpha, seed=1000 + i)
            one = sample_violations([model], samplers, seed=SEED + i)  # = sample_violations(models, seed=SEED)
            for k, rec in one.items():
                for f, vals in rec.items():
                    raw[k][f].extend(vals)
            B["by_alpha"][akey(alpha)] = {"alpha": float(alpha), "marginals": marg, "raw": raw,
                                          "instances_done": i + 1}
            row = derive_density(B, float(alpha))
            row["cost"] = {"cpu_seconds": time.process_time() - c0, "wall_seconds": time.perf_counter() - w0}
            log(f"[B] alpha {alpha:g} instance {i}: " + ", ".join(
                f"{k} {rec['violations'][0]:g}{' (failed)' if rec['failed'][0] else ''} in {rec['seconds'][0]:.0f} s"
                for k, rec in one.items()))
            if checkpoint is not None and i + 1 < cfg["instances"]:
                checkpoint(B)
        models = range(cfg["instances"])
        log(f"[B] alpha {alpha:g}: {len(models)} instances x {len(samplers)} samplers, "
            f"{row['cost']['wall_seconds']:.0f} s wall, {row['cost']['cpu_seconds']:.0f} s CPU")
        for label, s in row["violations"].items():
            v, vd = s["violations"], row["verdicts"][label]
            log(f"[B] alpha {alpha:g} {label}: violations {v['mean']:.2f} ± {v['stderr']:.2f}, solved "
                f"{s['solved_fraction']:.2f}, {s['failed']} failed, {s['restarts']} restarts ({s['seconds']:.0f} s); "
                f"observed {vd['observed']}, lens {vd['lens']}")
        if checkpoint is not None:
            checkpoint(B)
    return B


# -- derived: the gap to converged AMP on the same held-out rows -------------------------------------------------------
GAPS = (0.5, 0.1, 0.05, 0.02)


def gap_summary(A: dict, gaps=GAPS) -> dict:
    """Steps and CPU seconds until each method's held-out excess comes within ``gap`` of converged AMP's excess on the
    same rows (the held-out sample's own floor: finite N and the chosen instances move the SE-relative excess of
    every estimator, the Bayes-optimal one included, by a few per cent), per training seed; mean ± s.e. over seeds
    and the paired difference flow - diffusion where both reached it."""
    out = {}
    for gap in gaps:
        per = {m: [] for m in ("diffusion", "flow")}
        for b in A["by_seed"]:
            ref = b["reference_excess_converged_amp"]
            for m in per:
                tr = b["training"][m]
                exc = np.asarray(tr["eval_excess"], float) - ref
                hit = np.flatnonzero(exc <= gap)
                if hit.size == 0:
                    per[m].append(None)
                    continue
                step = int(np.asarray(tr["eval_steps"])[hit[0]])
                cpu = 0.0 if step == 0 else float(np.asarray(tr["cpu_seconds_per_step"], float)[step - 1])
                per[m].append({"step": step, "cpu_seconds": cpu})
        both = [i for i in range(len(A["by_seed"])) if per["diffusion"][i] and per["flow"][i]]
        row = {"per_seed": per}
        for m in per:
            ok = [h for h in per[m] if h]
            row[m] = {"reached": len(ok), "of": len(per[m]),
                      "cpu_seconds": stats([h["cpu_seconds"] for h in ok]) if ok else None,
                      "steps": [None if h is None else h["step"] for h in per[m]]}
        row["flow_minus_diffusion_cpu"] = (stats([per["flow"][i]["cpu_seconds"] - per["diffusion"][i]["cpu_seconds"]
                                                  for i in both]) if both else None)
        out[f"{gap:g}"] = row
    final = {m: [b["training"][m]["final_excess"] - b["reference_excess_converged_amp"] for b in A["by_seed"]]
             for m in ("diffusion", "flow")}
    out["final_gap"] = {m: stats(v) for m, v in final.items()}
    out["final_gap"]["flow_minus_diffusion"] = stats(np.subtract(final["flow"], final["diffusion"]))
    return out


# -- figure ------------------------------------------------------------------------------------------------------------
def figure(report: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(20.0, 4.2))
    axes = fig.subplots(1, 5)
    A = report.get("A")
    if A is not None:
        ax = axes[0]
        for c, m in zip(("C0", "C1"), ("diffusion", "flow"), strict=True):
            loss = np.asarray(A["training"][m]["loss"], float)
            ax.plot(loss / loss[len(loss) // 2:].mean(), color=c, lw=0.6, alpha=0.8,
                    label=f"{m} (CV last half {A['training'][m]['loss_cv_last_half']:.2f})")
        ax.set(xlabel="step", ylabel="loss / mean over last half", yscale="log",
               title="A: per-step loss (same net, data, budget)")
        ax.legend(fontsize=7)
        ax = axes[1]
        for c, m in zip(("C0", "C1"), ("diffusion", "flow"), strict=True):
            tr = A["training"][m]
            steps = np.asarray(tr["eval_steps"], int)
            cpu = np.concatenate([[0.0], np.asarray(tr["cpu_seconds_per_step"], float)])[steps]
            ax.plot(cpu, tr["eval_excess"], "o-", color=c, ms=3, label=m)
        ax.axhline(A["reference_excess_converged_amp"], color="k", ls="--", lw=1, label="converged AMP (same rows)")
        ax.set_yscale("symlog", linthresh=0.05)
        ax.set(xlabel="training CPU seconds", ylabel="mean_t MSE/MMSE_SE - 1 (symlog)",
               title="A: held-out excess MSE (seed 0)")
        ax.legend(fontsize=7)
        ax = axes[2]
        for row in A["samples_summary"]:
            lab = f"{row['driver']} / {row['network']}-trained"
            style = {"SL": "o-", "SI": "s--"}[row["driver"]]
            color = {"diffusion": "C0", "flow": "C1"}[row["network"]]
            if row["nfe"] == A["settings"]["nfe"][0]:
                sel = [r for r in A["samples_summary"]
                       if r["driver"] == row["driver"] and r["network"] == row["network"]]
                ax.errorbar([r["nfe"] for r in sel], [r["overlap"]["mean"] for r in sel],
                            yerr=[2 * (r["overlap"]["stderr"] if np.isfinite(r["overlap"]["stderr"]) else 0)
                                  for r in sel], fmt=style, color=color, ms=4, capsize=2, label=lab)
        ax.axhspan(A["m_star"] - A["tolerance"], A["m_star"] + A["tolerance"], color="0.9", label="SE m* ± tol")
        ax.axhline(A["m_star"], color="k", lw=1)
        ax.set(xlabel="network evaluations (NFE)", ylabel="overlap with x*", xscale="log",
               title="A: samples at equal NFE")
        ax.legend(fontsize=6)
    B = report.get("B")
    if B is not None:
        ax = axes[3]
        keys = sorted(B["by_alpha"], key=float)
        alphas = np.array([float(k) for k in keys])
        th = B["settings"]["thresholds"]
        styles = {"SL/learned-gaussian": ("C2", "o-"), "AR/learned-erasure": ("C3", "s-"), "SL/BP": ("0.3", "o--"),
                  "AR/BP": ("0.6", "s--")}
        for label, (color, fmt) in styles.items():
            rows = [B["by_alpha"][k]["violations"].get(label) for k in keys]
            if any(r is None for r in rows):
                continue
            m = np.array([r["violations"]["mean"] for r in rows])
            e = np.array([2 * r["violations"]["stderr"] if np.isfinite(r["violations"]["stderr"]) else 0
                          for r in rows])
            fails = [f"{r['failed']}" for r in rows]
            ax.errorbar(alphas, m, yerr=e, fmt=fmt, color=color, ms=4, capsize=3,
                        label=f"{label} (failed: {'/'.join(fails)})")
        for name, ls in (("alpha_autoregressive", ":"), ("alpha_diffusion", "-.")):
            ax.axvspan(th[name] - th["precision"], th[name] + th["precision"], color="0.92")
            ax.axvline(th[name], color="k", ls=ls, lw=1, label=f"{name} = {th[name]:.2f}")
        ax.axvline(th["alpha_d"], color="C4", lw=1, label=f"alpha_d = {th['alpha_d']:.2f}")
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_ylim(bottom=-0.2)
        ax2 = axes[4]
        for label, (color, fmt) in styles.items():
            rows = [B["by_alpha"][k]["violations"].get(label) for k in keys]
            if any(r is None for r in rows):
                continue
            shift = {"SL/learned-gaussian": -0.06, "SL/BP": -0.02, "AR/learned-erasure": 0.02, "AR/BP": 0.06}[label]
            ax2.plot(alphas + shift, [1 - r["solved_fraction"] for r in rows], fmt, color=color, ms=5, label=label)
        for name, ls in (("alpha_autoregressive", ":"), ("alpha_diffusion", "-.")):
            ax2.axvspan(th[name] - th["precision"], th[name] + th["precision"], color="0.92")
            ax2.axvline(th[name], color="k", ls=ls, lw=1)
        ax2.axvline(th["alpha_d"], color="C4", lw=1)
        ax2.set_xlim(min(alphas.min(), th["alpha_autoregressive"]) - 0.5, max(alphas.max(), th["alpha_d"]) + 0.3)
        ax2.set_ylim(-0.05, 1.05)
        ax2.set(xlabel="clause density alpha", ylabel="fraction of samples not solutions (failed or violating)",
                title="B: failures (AR: contradiction after restarts)")
        ax2.legend(fontsize=6)
        ax.set_xlim(min(alphas.min(), th["alpha_autoregressive"]) - 0.5, max(alphas.max(), th["alpha_d"]) + 0.3)
        ax.set(xlabel="clause density alpha", ylabel="violated clauses per sample (± 2 s.e.)",
               title=f"B: 5-NAE-SAT n={B['settings']['n']}, {B['settings']['instances']} inst./alpha")
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, short runs (smoke run, < 3 min)")
    ap.add_argument("--out", default="docs/figures")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", choices=("A", "B"), default=None, help="run one part only (the other part of an "
                    "existing <out>/learned_comparisons.json is kept)")
    ap.add_argument("--alphas", type=float, nargs="+", default=None,
                    help="part B test clause densities (default 6 8 9.2; each in (0, 10.29), below alpha_c)")
    ap.add_argument("--from-json", default=None, help="recompute the derived summaries, the figure and the tables "
                    "from an existing learned_comparisons.json (nothing is trained or sampled)")
    args = ap.parse_args(argv)
    cfg_b = dict(QUICK_B if args.quick else FULL_B)
    if args.alphas is not None:
        bad = [a for a in args.alphas if not (math.isfinite(a) and 0 < a < ALPHA_C)]
        if bad:
            raise ValueError(f"--alphas must lie in (0, {ALPHA_C}) (below the condensation density, where planted and "
                             f"uniform solutions agree), got {bad}")
        cfg_b["alphas"] = tuple(args.alphas)
    torch.set_num_threads(max(1, args.threads))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0, c0 = time.perf_counter(), time.process_time()
    report: dict = {}
    if args.from_json is not None:
        report = json.loads(Path(args.from_json).read_text())
        if "A" in report:
            report["A"]["gap_to_converged_amp"] = gap_summary(report["A"])
        if "B" in report:
            migrate_b(report["B"])
        return finish(report, out)
    previous = out / "learned_comparisons.json"
    if args.only is not None and previous.exists():
        kept = json.loads(previous.read_text())
        other = "A" if args.only == "B" else "B"
        if other in kept:
            report[other] = kept[other]
            report["meta"] = kept.get("meta", {})
    command = ("python benchmarks/learned_comparisons.py" + (" --quick" if args.quick else "")
               + (f" --only {args.only}" if args.only else "")
               + (" --alphas " + " ".join(f"{a:g}" for a in args.alphas) if args.alphas else ""))

    def run_meta() -> dict:
        return {"script": "benchmarks/learned_comparisons.py", "quick": args.quick, "seed": SEED, "command": command,
                "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "numpy": np.__version__,
                "python": platform.python_version(), "cpu_count": os.cpu_count(),
                "load_average_at_end": list(os.getloadavg()), "wall_seconds": time.perf_counter() - t0,
                "cpu_seconds": time.process_time() - c0, "device": "cpu"}

    if args.only in (None, "A"):
        report["A"] = part_a(QUICK_A if args.quick else FULL_A)
        report["A"]["gap_to_converged_amp"] = gap_summary(report["A"])
    if args.only in (None, "B"):
        def checkpoint(B: dict) -> None:
            B["meta"] = run_meta()
            write_json({**report, "B": B}, out / "learned_comparisons.json")

        report["B"] = part_b(cfg_b, checkpoint=checkpoint)
        report["B"]["meta"] = run_meta()
    if args.only is None or "meta" not in report:
        report["meta"] = run_meta()
    return finish(report, out)


def write_json(report: dict, path: Path) -> None:
    path.write_text(json.dumps(report, indent=1, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def finish(report: dict, out: Path) -> int:
    """Write the JSON and the figure, print the tables."""
    path = out / "learned_comparisons.json"
    write_json(report, path)
    figure(report, out / "learned_comparisons.png")
    if "A" in report:
        A = report["A"]
        print(f"## A. Flow matching vs diffusion (Rademacher lam = {A['settings']['lam']}, N = {A['settings']['n']})\n")
        print("| objective | loss CV (last half) | grad-norm CV | grad-norm var | final excess | "
              + " | ".join(f"CPU s to excess <= {lv:g}" for lv in A["settings"]["levels"]) + " |")
        print("|---|---|---|---|---|" + "---|" * len(A["settings"]["levels"]))
        for m, tr in A["training"].items():
            hits = [tr["time_to"][f"{lv:g}"] for lv in A["settings"]["levels"]]
            cells = [f"{h['cpu_seconds']:.1f} (step {h['step']})" if h else "not reached" for h in hits]
            print(f"| {m} | {tr['loss_cv_last_half']:.3f} | {tr['grad_norm_cv_last_half']:.3f} | "
                  f"{tr['grad_norm_var_last_half']:.4g} | {tr['final_excess']:.4f} | " + " | ".join(cells) + " |")
        print(f"\nconverged AMP on the same held-out rows: excess {A['reference_excess_converged_amp']:.4f}"
              f" (seed {A['settings']['training_seeds'][0]}; table above: that seed)\n")
        seeds = A["settings"]["training_seeds"]
        print(f"Over training seeds {list(seeds)} (mean ± s.e.):\n")
        print("| quantity | diffusion | flow | flow - diffusion (paired) |")
        print("|---|---|---|---|")
        for key in ("loss_cv_last_half", "grad_norm_cv_last_half", "final_excess"):
            o = A["over_seeds"][key]
            print(f"| {key} | {o['diffusion']['mean']:.4f} ± {o['diffusion']['stderr']:.4f} | {o['flow']['mean']:.4f} "
                  f"± {o['flow']['stderr']:.4f} | {o['flow_minus_diffusion']['mean']:+.4f} ± "
                  f"{o['flow_minus_diffusion']['stderr']:.4f} |")
        for lv in A["settings"]["levels"]:
            o, st = A["over_seeds"][f"cpu_seconds_to_{lv:g}"], A["over_seeds"][f"steps_to_{lv:g}"]
            cells = [f"{o[m]['mean']:.1f} ± {o[m]['stderr']:.1f} s (steps {st[m]})" if o[m] else f"not always ({st[m]})"
                     for m in ("diffusion", "flow")]
            print(f"| CPU s to excess <= {lv:g} | {cells[0]} | {cells[1]} | |")
        g = A.get("gap_to_converged_amp")
        if g is not None:
            for key, row in g.items():
                if key == "final_gap":
                    continue
                cells = [f"{row[m]['cpu_seconds']['mean']:.1f} ± {row[m]['cpu_seconds']['stderr']:.1f} s "
                         f"(steps {row[m]['steps']})" if row[m]["cpu_seconds"] else f"never ({row[m]['steps']})"
                         for m in ("diffusion", "flow")]
                d = row["flow_minus_diffusion_cpu"]
                dtxt = f"{d['mean']:+.1f} ± {d['stderr']:.1f} s" if d else ""
                print(f"| CPU s to within {key} of converged AMP (same rows) | {cells[0]} | {cells[1]} | {dtxt} |")
            fg = g["final_gap"]
            fd, ff, fm = fg["diffusion"], fg["flow"], fg["flow_minus_diffusion"]
            print(f"| final excess - converged AMP's | {fd['mean']:.4f} ± {fd['stderr']:.4f} | "
                  f"{ff['mean']:.4f} ± {ff['stderr']:.4f} | {fm['mean']:+.4f} ± {fm['stderr']:.4f} |")
        print()
        print("| driver / trained by | NFE | overlap with x* | two-sample overlap | SE m* | within 3/sqrt(N)+0.02 |")
        print("|---|---|---|---|---|---|")
        for r in A["samples_summary"]:
            print(f"| {r['driver']} / {r['network']} | {r['nfe_used']} | {r['overlap']['mean']:.3f} ± "
                  f"{r['overlap']['stderr']:.3f} | {r['two_sample_overlap']['mean']:.3f} | {A['m_star']:.3f} | "
                  f"{'yes' if r['within_tol'] else 'no'} |")
    if "B" in report:
        B = report["B"]
        th = B["settings"]["thresholds"]
        print(f"\n## B. Continuous vs masked diffusion, planted 5-NAE-SAT n = {B['settings']['n']}, "
              f"{B['settings']['instances']} instances per density; lens: alpha_autoregressive = "
              f"{th['alpha_autoregressive']:.2f}, alpha_diffusion = {th['alpha_diffusion']:.2f} (± {th['precision']}), "
              f"alpha_d = {th['alpha_d']:.2f}\n")
        print("| alpha | sampler | violations (mean ± s.e.) | solved | failed | restarts | paired diff to BP-driven "
              "| gap E/N | observed | lens | agrees | seconds |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for key, row in sorted(B["by_alpha"].items(), key=lambda kv: float(kv[0])):
            for label, s in row["violations"].items():
                v, vd = s["violations"], row["verdicts"][label]
                diff = next((d for k, d in s.items() if k.startswith("minus_")), None)
                dtxt = f"{diff['mean']:+.2f} ± {diff['stderr']:.2f}" if diff else ""
                done = row.get("instances_done", B["settings"]["instances"])
                akey_txt = key if done >= B["settings"]["instances"] else f"{key} ({done} instances so far)"
                print(f"| {akey_txt} | {label} | {v['mean']:.2f} ± {v['stderr']:.2f} | {s['solved_fraction']:.2f} | "
                      f"{s['failed']}/{s['samples']} | {s['restarts']} | {dtxt} | "
                      f"{vd['energy_gap_per_variable']:.4f} | "
                      f"{vd['observed']} | {vd['lens']} | {vd['agrees']} | {s['seconds']:.0f} |")
        print("\n| alpha | learned sampler | samples not solutions (failed or violating), learned - BP, paired | "
              "not worse (2 s.e.) |")
        print("|---|---|---|---|")
        for key, row in sorted(B["by_alpha"].items(), key=lambda kv: float(kv[0])):
            for label in BP_REFERENCES:
                db = row["verdicts"].get(label, {}).get("bad_minus_bp")
                if db:
                    print(f"| {key} | {label} | {db['mean']:+.3f} ± {db['stderr']:.3f} ({db['count']} instances) | "
                          f"{db['not_worse_2se']} |")
        print("\n| alpha | network (channel) | marginals mad vs BP | within 0.02 | CE network | CE BP |")
        print("|---|---|---|---|---|---|")
        for key, row in sorted(B["by_alpha"].items(), key=lambda kv: float(kv[0])):
            for c, m in row["marginals"].items():
                print(f"| {key} | {c} | {m['mad']:.4f} ± {m['mad_stderr']:.4f} | {m['mad'] <= 0.02} | "
                      f"{m['ce_network']:.4f} | {m['ce_bp']:.4f} |")
        cost = B.get("cost")
        if cost:
            print(f"\npart B cost: training {cost['training']['wall_seconds']:.0f} s wall / "
                  f"{cost['training']['cpu_seconds']:.0f} s CPU; per density "
                  + ", ".join(f"{k}: {r['cost']['wall_seconds']:.0f} s wall / {r['cost']['cpu_seconds']:.0f} s CPU"
                              for k, r in B["by_alpha"].items() if "cost" in r))
    if "B" in report and "meta" in report["B"]:
        mb = report["B"]["meta"]
        print(f"\npart B run: {mb['command']} ({mb['wall_seconds']:.0f} s wall, {mb['cpu_seconds']:.0f} s CPU, load "
              f"average at the end {mb['load_average_at_end'][0]:.1f} on {mb['cpu_count']} cores)")
    print(f"\nWrote {path} and {out / 'learned_comparisons.png'} "
          f"({report['meta']['wall_seconds']:.0f} s wall, {report['meta']['cpu_seconds']:.0f} s CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
