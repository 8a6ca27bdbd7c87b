r"""Evidence report for the learned (torch) samplers of ``samplers.neural``: law of every sampler vs the exact law.

Usage: ``python benchmarks/neural_report.py [--quick] [--out docs/figures] [--device cpu]``.

What is measured
----------------
1. **Total variation to the exact law** on two instances small enough to enumerate,
   SK(12, beta=0.8, seed=0) (2^12 states) and SpikedWigner(8, lam=2, SparseRademacher(0.3), seed=0)
   (3^8 states).  For every sampler, S i.i.d. (or one-per-chain) samples are drawn and
   TV(p_hat, mu) = (1/2) sum_s |p_hat(s) - mu(s)| is computed with ``analysis.measures.metrics.empirical_tv``
   against ``model.exact()``.  The reference is ``tv_null_quantile``: the 0.999 quantile of the same TV
   for S exact i.i.d. samples (multinomial simulation); a sampler with TV above it is distinguishable
   from exact sampling at level ~1e-3.  Samplers (training data: exact i.i.d. samples, separate seed
   from the evaluation):

   * MADE trained by maximum likelihood (``train_made_ml``), sampled i.i.d. (``NeuralAutoregressiveSampler``);
   * MADE trained by VAN from the energy only (``train_van``), sampled i.i.d.; its variational free
     energy F_q = E_q[log q - log w] (the last steps of training, and exactly by enumerating q) is compared
     with -log Z, and the importance-sampling estimate log Z_hat +- stderr (``importance_log_z``) with log Z;
   * ``NeuralMCMC``: independence Metropolis-Hastings with the VAN network as proposal (acceptance rate);
   * stochastic localisation (``StochasticLocalization``, geometric schedule) and the stochastic
     interpolant ODE (``StochasticInterpolant``, linear, Heun) over ``NeuralDenoiser(MLPDenoiser)`` and
     ``NeuralDenoiser(CouplingDenoiser)`` trained by denoising score matching (``train_denoiser``);
   * the interpolant ODE over a ``TwoLayerReLUVelocity`` trained by flow matching (``train_velocity``);
   * references: the same two drivers over the Bayes-optimal ``ExactDenoiser`` (their only errors are the
     time discretisation and the final rounding), and an untrained network of every family (MADE i.i.d.,
     MLP / coupling denoiser under stochastic localisation, velocity under the ODE).

   For the MADEs the network's own law q is also enumerated: TV(q, mu) without sampling noise.
   Wall times: ``train_s`` is the training time, ``sample_s`` the time to draw the S samples.

2. **Learned vs Bayes-optimal MSE along the Gaussian path** y = t x + sqrt(t) z
   (``denoiser_mse_curve`` + ``plot_mse_curves``) on an easy instance, SpikedWigner(200, lam=2,
   Rademacher), and a hard one, SpikedWigner(300, lam=0.95, SparseRademacher(0.05)), which is in its hard
   phase (at t = 0 the state-evolution fixed point reached from an uninformed start is the trivial one,
   while the Bayes-optimal branch is informed).  Posterior samples for training and evaluation come
   from heat-bath MCMC started at the planted configuration (so they sit in the informed state); the
   reference is the state-evolution MMSE (Bayes-optimal and algorithmic branches).  The Nishimori check
   (``analysis.measures.metrics``): mean overlap with the planted configuration minus the mean two-replica
   overlap, on samples of stochastic localisation over each learned denoiser and on the MCMC samples
   themselves (≈ 0 for exact posterior samples).

Outputs: ``<out>/neural_report.json`` (every number, settings, device and versions),
``<out>/neural_mse_easy.png``, ``<out>/neural_mse_hard.png``; a Markdown table on stdout (progress on
stderr).  Everything is seeded; with ``--device cpu`` (default) one torch thread is used, and the
numbers are reproducible on the same machine.
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

import spinglass as sg  # noqa: E402
from analysis.measures.learned import denoiser_mse_curve, plot_mse_curves  # noqa: E402
from analysis.measures.metrics import (  # noqa: E402
    default_symmetry,
    empirical_tv,
    nishimori_gap,
    overlap_with_planted,
    replica_overlaps,
    total_variation,
    tv_null_quantile,
)
from samplers.denoisers import ExactDenoiser  # noqa: E402
from samplers.diffusion import StochasticLocalization  # noqa: E402
from samplers.flow import StochasticInterpolant  # noqa: E402
from samplers.mcmc import HeatBath  # noqa: E402
from samplers.neural import (  # noqa: E402
    MADE,
    CouplingDenoiser,
    MLPDenoiser,
    NeuralAutoregressiveSampler,
    NeuralDenoiser,
    NeuralMCMC,
    TrainConfig,
    TwoLayerReLUVelocity,
    VelocityField,
    as_index_tensor,
    importance_log_z,
    pick_device,
    train_denoiser,
    train_made_ml,
    train_van,
    train_velocity,
)

SEED = 0

FULL = {
    "n_samples": 20000,  # S: samples per sampler for the TV
    "n_train": 20000,  # exact samples for the data-driven trainings
    "null_repeats": 200,
    "made_hidden": 64, "made_epochs": 40, "made_batch": 500, "made_lr": 1e-2,
    "van_steps": 1000, "van_batch": 1000, "van_lr": 5e-3, "van_beta0": 0.1, "van_anneal": 0.3, "van_last": 100,
    "mcmc_steps": 20,
    "mlp_hidden": 128, "mlp_depth": 2, "coupling_layers": 4, "coupling_hidden": 16,
    "den_epochs": (6, 4), "den_t_max": 50.0,
    "vel_width": 256, "vel_steps": 3000,
    "sl_steps": 60, "flow_steps": 60, "flow_T": 100.0,
    "mse_n_mcmc": 16000, "mse_n_test": 4000, "mse_mcmc_chains": 160, "mse_burn": 500, "mse_thin": 10,
    "mse_mlp_hidden": 256, "mse_mlp_epochs": (4, 2), "mse_coupling_epochs": (3, 1), "mse_n_ts": 15,
    "nishimori_samples": 400, "nishimori_sl_steps": 100,
}

QUICK = {
    **FULL,
    "n_samples": 5000, "n_train": 8000, "null_repeats": 100,
    "made_epochs": 15, "van_steps": 250, "van_batch": 500, "van_lr": 1e-2, "van_last": 50, "mcmc_steps": 10,
    "mlp_hidden": 64, "den_epochs": (2, 1), "vel_steps": 800, "sl_steps": 40, "flow_steps": 30,
    "mse_n_mcmc": 4000, "mse_n_test": 1000, "mse_mcmc_chains": 80, "mse_burn": 200, "mse_thin": 5,
    "mse_mlp_hidden": 128, "mse_mlp_epochs": (2, 1), "mse_coupling_epochs": (1, 1), "mse_n_ts": 8,
    "nishimori_samples": 200, "nishimori_sl_steps": 50,
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def two_stage_denoiser(net, x, epochs, device, seed, t_max):
    """DSM training: a fast stage (batch 256, lr 3e-3), then a fine stage (batch 1024, lr 1e-3)."""
    e1, e2 = epochs
    train_denoiser(net, x, TrainConfig(epochs=e1, batch_size=256, lr=3e-3, val_fraction=0.0, seed=seed,
                                       device=device), t_max=t_max)
    train_denoiser(net, x, TrainConfig(epochs=e2, batch_size=1024, lr=1e-3, val_fraction=0.0, seed=seed + 1,
                                       device=device), t_max=t_max)


def two_stage_velocity(net, x, steps, device, seed):
    """Flow matching for about ``steps`` minibatches of 256 at lr 3e-3, then half as many at lr 3e-4."""
    per_epoch = math.ceil(len(x) / 256)
    epochs = max(1, math.ceil(steps / per_epoch))
    train_velocity(net, x, TrainConfig(epochs=epochs, batch_size=256, lr=3e-3, val_fraction=0.0, seed=seed,
                                       device=device))
    train_velocity(net, x, TrainConfig(epochs=max(1, epochs // 2), batch_size=256, lr=3e-4, val_fraction=0.0,
                                       seed=seed + 1, device=device))


def made_law(made, model, exact) -> dict:
    """The MADE's law q enumerated on all states: TV(q, mu), KL(mu || q) and F_q = sum q (log q - log w)."""
    with torch.no_grad():
        log_q = made.log_prob(as_index_tensor(model, exact.configurations)).double().cpu().numpy()
    q = np.exp(log_q)
    q = q / q.sum()
    p = exact.probabilities
    pos = p > 0
    kl = float(np.sum(p[pos] * (np.log(p[pos]) - log_q[pos])))
    f_q = float(np.sum(q * (log_q - exact.log_weights)))
    return {"tv_network_exact": total_variation(q, p), "kl_mu_q": kl, "F_q_enumerated": f_q}


# -- part 1: TV on small instances -----------------------------------------------------------------------------
def tv_instance(label: str, model, cfg: dict, device: str) -> list[dict]:
    S = cfg["n_samples"]
    exact = model.exact()
    x_train = exact.sample(cfg["n_train"], seed=SEED + 100)
    null = tv_null_quantile(exact, S, quantile=0.999, repeats=cfg["null_repeats"], seed=SEED)
    rows: list[dict] = []

    def add(sampler, family, driver, trained, x, train_s, sample_s, n_params, **extra):
        tv = empirical_tv(exact, x)
        row = {"instance": label, "sampler": sampler, "family": family, "driver": driver, "trained": trained,
               "tv": tv, "null_q999": null, "within_null": bool(tv <= null), "n_samples": int(len(x)),
               "train_seconds": train_s, "sample_seconds": sample_s, "n_parameters": n_params,
               "n_states": int(exact.n_states), "seed": SEED, **extra}
        rows.append(row)
        log(f"  {label:<24} {sampler:<36} TV {tv:.4f} (null {null:.4f})  train {train_s:6.1f}s  "
            f"sample {sample_s:6.1f}s")

    def run_driver(sampler, seed):
        res, secs = timed(sampler.sample, model, S, seed=seed)
        return res, secs

    sl = lambda den: StochasticLocalization(den, n_steps=cfg["sl_steps"])  # noqa: E731
    ode = lambda den: StochasticInterpolant(den, n_steps=cfg["flow_steps"], T=cfg["flow_T"])  # noqa: E731
    sl_desc = f"SL (geometric, {cfg['sl_steps']} steps, T=30)"
    ode_desc = f"ODE (linear, Heun, {cfg['flow_steps']} steps, T={cfg['flow_T']:g})"

    # references: Bayes-optimal denoiser under both drivers
    exact_den = ExactDenoiser(model)
    res, secs = run_driver(sl(exact_den), SEED + 1)
    add("SL / ExactDenoiser", "exact", sl_desc, None, res.x, 0.0, secs, 0)
    res, secs = run_driver(ode(exact_den), SEED + 2)
    add("ODE / ExactDenoiser", "exact", ode_desc, None, res.x, 0.0, secs, 0)

    # MADE by maximum likelihood
    K = model.n_values
    untrained = MADE(model.n, K, hidden=cfg["made_hidden"], seed=SEED)
    res, secs = timed(NeuralAutoregressiveSampler(untrained).sample, model, S, seed=SEED + 3)
    add("MADE untrained, i.i.d.", "MADE", "i.i.d.", False, res.x, 0.0, secs, untrained.n_parameters,
        **made_law(untrained, model, exact))
    made_ml = MADE(model.n, K, hidden=cfg["made_hidden"], seed=SEED)
    hist, train_s = timed(train_made_ml, made_ml, model, x_train,
                          TrainConfig(epochs=cfg["made_epochs"], batch_size=cfg["made_batch"], lr=cfg["made_lr"],
                                      patience=5, seed=SEED, device=device))
    res, secs = timed(NeuralAutoregressiveSampler(made_ml).sample, model, S, seed=SEED + 3)
    isw = importance_log_z(made_ml, model, S, seed=SEED + 4)
    add("MADE-ML, i.i.d.", "MADE", "i.i.d.", True, res.x, train_s, secs, made_ml.n_parameters,
        **made_law(made_ml, model, exact), epochs_run=hist.epochs_run, best_val_nll=hist.best_val_loss,
        log_z_exact=exact.log_Z, log_z_is=isw.log_z, log_z_is_stderr=isw.stderr, is_ess=isw.ess)

    # MADE by VAN
    made_van = MADE(model.n, K, hidden=cfg["made_hidden"], seed=SEED)
    van, train_s = timed(train_van, made_van, model, n_steps=cfg["van_steps"], batch_size=cfg["van_batch"],
                         lr=cfg["van_lr"], beta0=cfg["van_beta0"], anneal_fraction=cfg["van_anneal"], seed=SEED,
                         device=device)
    f_q, f_se = van.final_free_energy(last=cfg["van_last"])
    isw, is_s = timed(importance_log_z, made_van, model, S, seed=SEED + 4)
    res, secs = timed(NeuralAutoregressiveSampler(made_van).sample, model, S, seed=SEED + 5)
    van_extra = {"F_q": f_q, "F_q_stderr": f_se, "minus_log_z_exact": -exact.log_Z, "log_z_exact": exact.log_Z,
                 "log_z_is": isw.log_z, "log_z_is_stderr": isw.stderr, "is_ess": isw.ess, "is_seconds": is_s,
                 "van_settings": van.settings}
    add("MADE-VAN, i.i.d.", "MADE", "i.i.d.", True, res.x, train_s, secs, made_van.n_parameters,
        **made_law(made_van, model, exact), **van_extra)
    mcmc = NeuralMCMC(made_van, n_steps=cfg["mcmc_steps"])
    res, secs = timed(mcmc.sample, model, S, seed=SEED + 6)
    add(f"NeuralMCMC (VAN proposal, {cfg['mcmc_steps']} steps)", "MADE", "independence MH", True, res.x, train_s,
        secs, made_van.n_parameters, acceptance=res.acceptance["mean"], mcmc_steps=cfg["mcmc_steps"],
        n_chains=S)

    # learned denoisers under both drivers, and the untrained networks under stochastic localisation
    families = {
        "MLP": lambda: MLPDenoiser.for_model(model, hidden=cfg["mlp_hidden"], depth=cfg["mlp_depth"], seed=SEED),
        "Coupling": lambda: CouplingDenoiser(model, n_layers=cfg["coupling_layers"], hidden=cfg["coupling_hidden"],
                                             seed=SEED),
    }
    for fam, make in families.items():
        net = make()
        res, secs = run_driver(sl(NeuralDenoiser.factory(net, device=device)), SEED + 7)
        add(f"SL / {fam} untrained", f"{fam}Denoiser", sl_desc, False, res.x, 0.0, secs, net.n_parameters)
        _, train_s = timed(two_stage_denoiser, net, x_train, cfg["den_epochs"], device, SEED, cfg["den_t_max"])
        fac = NeuralDenoiser.factory(net, device=device)
        res, secs = run_driver(sl(fac), SEED + 7)
        add(f"SL / {fam}", f"{fam}Denoiser", sl_desc, True, res.x, train_s, secs, net.n_parameters,
            network=net.describe())
        res, secs = run_driver(ode(fac), SEED + 8)
        add(f"ODE / {fam}", f"{fam}Denoiser", ode_desc, True, res.x, train_s, secs, net.n_parameters)

    # flow matching
    vel = TwoLayerReLUVelocity(model.n, cfg["vel_width"], seed=SEED)
    vode = lambda v: StochasticInterpolant(velocity=VelocityField(v, device=device),  # noqa: E731
                                           n_steps=cfg["flow_steps"], T=cfg["flow_T"])
    res, secs = run_driver(vode(vel), SEED + 9)
    add(f"ODE / TwoLayerReLU({cfg['vel_width']}) untrained", "velocity", ode_desc, False, res.x, 0.0, secs,
        vel.n_parameters)
    _, train_s = timed(two_stage_velocity, vel, x_train.astype(float), cfg["vel_steps"], device, SEED)
    res, secs = run_driver(vode(vel), SEED + 9)
    add(f"ODE / TwoLayerReLU({cfg['vel_width']}) flow matching", "velocity", ode_desc, True, res.x, train_s, secs,
        vel.n_parameters)
    return rows


# -- part 2: MSE curves and the Nishimori check -----------------------------------------------------------------
def nishimori_parts(model, x, chain=None) -> dict:
    sym = default_symmetry(model)
    with_planted = float(np.mean(overlap_with_planted(model, x, symmetry=sym)))
    replicas = float(np.mean(replica_overlaps(x, chain=chain, max_pairs=20000, seed=SEED, symmetry=sym)))
    gap = nishimori_gap(model, x, chain=chain, max_pairs=20000, seed=SEED)
    return {"overlap_planted": with_planted, "overlap_replicas": replicas, "nishimori_gap": gap, "symmetry": sym,
            "n_samples": int(len(x))}


def mse_instance(tag: str, model, cfg: dict, device: str, out: Path) -> dict:
    t0 = time.perf_counter()
    n_total = cfg["mse_n_mcmc"] + cfg["mse_n_test"]
    chains = cfg["mse_mcmc_chains"]
    n_total = chains * math.ceil(n_total / chains)
    thin = cfg["mse_thin"]
    burn = cfg["mse_burn"]
    mcmc = HeatBath(sweeps=burn, thin=thin).sample(model, n_total, n_chains=chains, init="planted", seed=SEED + 1)
    mcmc_s = time.perf_counter() - t0
    rng = np.random.default_rng(SEED)
    perm = rng.permutation(n_total)
    x_train, x_test = mcmc.x[perm[: cfg["mse_n_mcmc"]]], mcmc.x[perm[cfg["mse_n_mcmc"]:]]
    info = {"model": model.describe(), "mcmc": {"sampler": "HeatBath", "init": "planted", "chains": chains,
                                                "burn_sweeps": burn, "thin": thin, "samples": n_total,
                                                "seconds": mcmc_s},
            "nishimori": {"mcmc": nishimori_parts(model, mcmc.x, chain=mcmc.chain)}}
    ts = np.concatenate([[0.0], np.geomspace(1e-3, 30.0, cfg["mse_n_ts"] - 1)])
    nets = {
        f"MLP({cfg['mse_mlp_hidden']}x2)": (MLPDenoiser.for_model(model, hidden=cfg["mse_mlp_hidden"], depth=2,
                                                                  seed=SEED), cfg["mse_mlp_epochs"]),
        "Coupling(L=4,H=16)": (CouplingDenoiser(model, n_layers=4, hidden=16, seed=SEED), cfg["mse_coupling_epochs"]),
    }
    curves = {}
    info["networks"] = {}
    for name, (net, epochs) in nets.items():
        _, train_s = timed(two_stage_denoiser, net, x_train, epochs, device, SEED, cfg["den_t_max"])
        curve, curve_s = timed(denoiser_mse_curve, net, model, ts, x=x_test, seed=SEED + 3,
                               reference="state_evolution", device=device)
        curves[name] = curve
        sampler = StochasticLocalization(NeuralDenoiser.factory(net, device=device),
                                         n_steps=cfg["nishimori_sl_steps"])
        res, sample_s = timed(sampler.sample, model, cfg["nishimori_samples"], seed=SEED + 4)
        nish = nishimori_parts(model, res.x)
        info["nishimori"][f"SL / {name}"] = nish | {"sample_seconds": sample_s}
        info["networks"][name] = {"n_parameters": net.n_parameters, "train_seconds": train_s, "epochs": list(epochs),
                                  "curve_seconds": curve_s, "mse": curve.mse.tolist(),
                                  "mse_stderr": curve.mse_stderr.tolist()}
        log(f"  {tag}: {name} trained in {train_s:.1f}s; Nishimori gap of SL samples {nish['nishimori_gap']:+.4f}")
    info["t"] = ts.tolist()
    info["mmse_bayes"] = curve.mmse.tolist()
    info["mmse_algorithmic"] = curve.mmse_algorithmic.tolist()
    prior = dict(model.prior.describe())
    name = prior.pop("name", "prior")
    prior_s = name + ("(" + ", ".join(f"{k}={v:g}" for k, v in prior.items()) + ")" if prior else "")
    title = f"{tag}: SpikedWigner(n={model.n}, lam={model.lam:g}, {prior_s})"
    png = out / f"neural_mse_{tag}.png"
    plot_mse_curves(curves, png, title=title)
    info["figure"] = str(png)
    info["seconds"] = time.perf_counter() - t0
    return info


# -- output ------------------------------------------------------------------------------------------------------
def fmt(v, spec=".4f") -> str:
    if v is None:
        return ""
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return format(v, spec)


def markdown_tv(rows: list[dict]) -> str:
    head = ("| instance | sampler | trained | TV | null q0.999 | within null | TV(q, mu) | train s | sample s | "
            "params | notes |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        notes = []
        if "acceptance" in r:
            notes.append(f"acceptance {r['acceptance']:.3f}")
        if "F_q" in r:
            notes.append(f"F_q {r['F_q']:.4f} ± {r['F_q_stderr']:.4f} (enum. {r['F_q_enumerated']:.4f}) vs "
                         f"-log Z {r['minus_log_z_exact']:.4f}")
        if "log_z_is" in r:
            notes.append(f"IS log Z {r['log_z_is']:.4f} ± {r['log_z_is_stderr']:.4f} vs {r['log_z_exact']:.4f} "
                         f"(ESS {r['is_ess']:.0f})")
        trained = "—" if r["trained"] is None else ("yes" if r["trained"] else "no")
        lines.append(f"| {r['instance']} | {r['sampler']} | {trained} | {fmt(r['tv'])} | {fmt(r['null_q999'])} | "
                     f"{'yes' if r['within_null'] else 'no'} | {fmt(r.get('tv_network_exact'))} | "
                     f"{fmt(r['train_seconds'], '.1f')} | {fmt(r['sample_seconds'], '.1f')} | {r['n_parameters']} | "
                     f"{'; '.join(notes)} |")
    return "\n".join(lines)


def markdown_mse(mse: dict) -> str:
    lines = ["| instance | samples from | overlap with planted | two-replica overlap | Nishimori gap | "
             "largest MSE - MMSE(SE, Bayes) over t > 0 |", "|---|---|---|---|---|---|"]
    for tag, info in mse.items():
        positive = np.asarray(info["t"]) > 0
        bayes = np.asarray(info["mmse_bayes"])[positive]
        for src, nish in info["nishimori"].items():
            excess = ""
            name = src.removeprefix("SL / ")
            if name in info["networks"]:
                d = np.asarray(info["networks"][name]["mse"])[positive] - bayes
                excess = f"{d[np.argmax(np.abs(d))]:+.4f}"
            lines.append(f"| {tag} | {src} | {nish['overlap_planted']:.4f} | {nish['overlap_replicas']:.4f} | "
                         f"{nish['nishimori_gap']:+.4f} | {excess} |")
    return "\n".join(lines)


def markdown_curves(mse: dict) -> str:
    blocks = []
    for tag, info in mse.items():
        names = list(info["networks"])
        head = "| t | SE MMSE (Bayes) | SE MMSE (algorithmic) | " + " | ".join(f"{k} MSE" for k in names) + " |"
        lines = [f"**{tag}** ({info['model']})", "", head, "|" + "---|" * (head.count("|") - 1)]
        for k, t in enumerate(info["t"]):
            nets = " | ".join(f"{info['networks'][n]['mse'][k]:.4f} ± {info['networks'][n]['mse_stderr'][k]:.4f}"
                              for n in names)
            lines.append(f"| {t:.4g} | {info['mmse_bayes'][k]:.4f} | {info['mmse_algorithmic'][k]:.4f} | {nets} |")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer samples and shorter training (~2 min)")
    ap.add_argument("--out", default="docs/figures", help="folder for neural_report.json and the PNGs")
    ap.add_argument("--device", default="cpu", help="torch device: cpu (default), auto, cuda, cuda:k")
    args = ap.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dev = pick_device(args.device)
    device = str(dev)
    if dev.type == "cpu":
        torch.set_num_threads(1)
    t_start = time.perf_counter()

    instances = {
        "SK(12, beta=0.8)": sg.SK(12, beta=0.8, seed=SEED),
        "SpikedWigner(8, lam=2, SparseRademacher(0.3))": sg.SpikedWigner(8, 2.0, sg.SparseRademacher(0.3),
                                                                         seed=SEED),
    }
    rows: list[dict] = []
    for label, model in instances.items():
        log(f"[TV] {label}")
        rows += tv_instance(label, model, cfg, device)
    tv_s = time.perf_counter() - t_start

    mse_models = {
        "easy": sg.SpikedWigner(200, 2.0, sg.Rademacher(), seed=SEED),
        "hard": sg.SpikedWigner(300, 0.95, sg.SparseRademacher(0.05), seed=SEED),
    }
    mse = {}
    for tag, model in mse_models.items():
        log(f"[MSE] {tag}: {model.describe()}")
        mse[tag] = mse_instance(tag, model, cfg, device, out)
    total_s = time.perf_counter() - t_start

    report = {
        "meta": {"script": "benchmarks/neural_report.py", "quick": args.quick, "seed": SEED, "device": device,
                 "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                 "package": "spinglass-toolkit", "package_version": sg.__version__, "numpy": np.__version__,
                 "python": platform.python_version(), "machine": platform.machine(), "cpu_count": os.cpu_count(),
                 "tv_seconds": tv_s, "total_seconds": total_s, "settings": cfg},
        "tv": rows,
        "mse": mse,
    }
    path = out / "neural_report.json"
    path.write_text(json.dumps(report, indent=1, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))
    print(f"## Neural samplers vs the exact law ({'quick' if args.quick else 'full'} run, device {device}, "
          f"torch {torch.__version__}, spinglass-toolkit {sg.__version__}, seed {SEED})\n")
    print(markdown_tv(rows))
    print("\n## Learned denoisers on the Gaussian path: Nishimori check (SL samples from the learned denoiser)\n")
    print(markdown_mse(mse))
    print("\n## MSE along the Gaussian path (learned denoisers vs state-evolution MMSE)\n")
    print(markdown_curves(mse))
    print(f"\nWrote {path}, {out / 'neural_mse_easy.png'}, {out / 'neural_mse_hard.png'}; "
          f"TV part {tv_s:.0f} s, total {total_s:.0f} s.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
