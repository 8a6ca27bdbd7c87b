r"""Continuous (Gaussian) against masked (erasure) diffusion on a planted CSP, with one network and one budget.

Bhatt, Gupta, Kolossov & Montanari (arXiv:2603.20589, 2026) report, for uniformly random solutions of random
k-SAT / k-XORSAT, that (i) continuous diffusions outperform masked discrete diffusions and (ii) learned diffusions
can match the "ideal" accuracy of the Bayes-optimal (BP) sampler.  This module sets up the same comparison on the
planted sparse models of this package (colouring / NAE-SAT, ``spinglass.sparse``):

* one network class, ``SparseMessagePassing`` (BP-initialised, amortised over instances), trained twice from the
  same initial weights, with the same optimiser (Adam), learning rate, steps and batch, on the *same* fresh planted
  instances at every step (``PlantedSparsePairs.instances``, one draw shared by both runs): once on the Gaussian
  channel (``channel="gaussian"``: y = t x + sqrt(t) z in the drivers' site representation) and once on the erasure
  channel (``channel="erasure"``: a revealed fraction theta ~ U[theta_lo, theta_hi]); the loss of both is the
  planted cross-entropy of ``message_passing_training`` (a proper scoring rule whose minimiser is the posterior
  marginal on the path's queries);
* the Gaussian-trained network drives ``StochasticLocalization`` (continuous diffusion) through
  ``MessagePassingDenoiser``; the erasure-trained one drives ``Autoregressive`` (masked / autoregressive
  decimation: a masked diffusion with a fixed unmasking schedule, r variables per query); the same drivers over
  ``BPDenoiser`` are the BP-driven references;
* judged by the constraint violations E(x) of the samples (beta = inf: the number of violated constraints; 0 for
  a solution), per instance, and by the marginals' mean absolute difference to converged BP on held-out planted
  queries of each network's own channel (``compare_with_bp``).

:func:`train_channels` trains the pair (interleaved steps; CPU seconds per step recorded);
:func:`sample_violations` draws the samples; :func:`summarise_violations` gives means, standard errors over
instances and the paired differences to the BP-driven samplers.  A sample that still contradicts after
``max_restarts`` restarts of ``Autoregressive`` counts as failed (no violation count) and is reported.

:func:`lens_verdicts` sets the observations of one test density against the lens: at beta = inf the planted x* and
every posterior sample are solutions, E = 0, so the energy-form Nishimori gap is E(x)/M - E(x*)/M = E(x)/M (M = alpha n
clauses), and a sampler *fails* at a density when its samples are not solutions beyond noise
(:func:`observed_failure`: half the samples or more are not solutions, or the mean number of violated clauses
exceeds 2 standard errors); the lens expects failure of a generative sampler driven by BP (or by a denoiser that
learned BP) above its algorithmic threshold, alpha > alpha_alg + precision, and success below alpha_alg - precision
(:func:`lens_expectation`; alpha_alg = alpha_diffusion for ``StochasticLocalization``, alpha_autoregressive for
``Autoregressive``).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..denoisers.base import ContradictionError
from .message_passing import SparseMessagePassing
from .message_passing_training import planted_cross_entropy
from .planted_sparse_data import PlantedSparsePairs
from .training import check_positive_int, pick_device

__all__ = ["CHANNEL_RUNS", "SAMPLER_DRIVERS", "BP_REFERENCES", "ChannelTraining", "train_channels",
           "channel_samplers", "sample_violations", "summarise_violations", "paired_bad_difference",
           "lens_expectation", "observed_failure", "lens_verdicts", "density_verdicts"]

#: The two training paths: "gaussian" (continuous diffusion) and "erasure" (masked / autoregressive).
CHANNEL_RUNS = ("gaussian", "erasure")
#: The four samplers of the comparison (:func:`channel_samplers`) and their drivers ("SL" or "AR").
SAMPLER_DRIVERS = {"SL/learned-gaussian": "SL", "AR/learned-erasure": "AR", "SL/BP": "SL", "AR/BP": "AR"}
#: Each learned sampler's BP-driven reference (the same driver over ``BPDenoiser``).
BP_REFERENCES = {"SL/learned-gaussian": "SL/BP", "AR/learned-erasure": "AR/BP"}


@dataclass
class ChannelTraining:
    """Result of :func:`train_channels`: per channel the trained network, per-step losses and cumulative CPU
    seconds (the step plus the shared instance draw and each channel's own query draw)."""

    networks: dict[str, SparseMessagePassing] = field(default_factory=dict)
    loss: dict[str, np.ndarray] = field(default_factory=dict)
    cpu_seconds: dict[str, np.ndarray] = field(default_factory=dict)
    data: dict[str, PlantedSparsePairs] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)

    def summary(self) -> dict[str, dict]:
        """Per channel: the per-step losses, the CPU seconds of the whole training and the mean loss over its last
        quarter (JSON-friendly apart from the loss array)."""
        return {c: {"loss": self.loss[c], "cpu_seconds": float(self.cpu_seconds[c][-1]),
                    "loss_last_quarter_mean": float(self.loss[c][-max(1, len(self.loss[c]) // 4):].mean())}
                for c in self.loss}


def train_channels(family: str, n, *, steps: int = 100, instances_per_step: int = 2, rows_per_instance: int = 4,
                   lr: float = 3e-3, n_layers: int = 12, hidden: int = 8, damping: float = 0.0, passes: int = 1,
                   seed: int = 0, device="cpu",
                   progress: bool = False, **data_kwargs) -> ChannelTraining:
    """Train one ``SparseMessagePassing`` per channel on the same planted stream (module docstring).

    family : "potts" or "naesat".  n : variables per instance, or a range (lo, hi).  steps : Adam steps per channel
    (>= 1).  instances_per_step : fresh planted instances per step, shared by the channels.  rows_per_instance :
    queries per instance.  lr : learning rate.  n_layers, hidden, damping, passes : the network
    (``SparseMessagePassing``; the same for both channels).  seed : initial weights (the same
    for both), the instance stream (seed) and the queries (seed + 1 for each channel).  data_kwargs : the other
    ``PlantedSparsePairs`` arguments (q, c / k, alpha, beta, signed, theta, t_min, t_max, p_zero).
    """
    steps = check_positive_int("steps", steps, 1)
    ipst = check_positive_int("instances_per_step", instances_per_step, 1)
    seed = check_positive_int("seed", seed, 0)
    dev = pick_device(device)
    theta = data_kwargs.pop("theta", (0.0, 1.0))
    gauss_keys = ("t_min", "t_max", "p_zero")
    gauss = {k: data_kwargs.pop(k) for k in gauss_keys if k in data_kwargs}
    data = {"gaussian": PlantedSparsePairs(family, n, channel="gaussian", rows_per_instance=rows_per_instance,
                                           **gauss, **data_kwargs),
            "erasure": PlantedSparsePairs(family, n, channel="erasure", rows_per_instance=rows_per_instance,
                                          theta=theta, **data_kwargs)}
    base = data["gaussian"]
    nets = {c: SparseMessagePassing(family, base.K, base.beta, n_layers=n_layers, hidden=hidden, damping=damping,
                                    passes=passes, seed=seed).to(dev) for c in CHANNEL_RUNS}
    opts = {c: torch.optim.Adam(nets[c].parameters(), lr=lr) for c in CHANNEL_RUNS}
    gens = {c: torch.Generator(device="cpu").manual_seed(seed + 1) for c in CHANNEL_RUNS}
    inst_gen = torch.Generator(device="cpu").manual_seed(seed)
    losses = {c: [] for c in CHANNEL_RUNS}
    cpu = {c: [] for c in CHANNEL_RUNS}
    total = {c: 0.0 for c in CHANNEL_RUNS}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc="gaussian vs erasure", unit="step")
    try:
        for s in range(steps):
            c0 = time.process_time()
            models = base.instances(ipst, inst_gen)
            c_draw = time.process_time() - c0
            for c in CHANNEL_RUNS:
                c0 = time.process_time()
                batch = data[c].batch(models, gens[c]).to(dev)
                loss = planted_cross_entropy(nets[c], batch)
                if not bool(torch.isfinite(loss.detach())):
                    raise FloatingPointError(f"{c}: non-finite loss at step {s}; lower lr")
                opts[c].zero_grad(set_to_none=True)
                loss.backward()
                opts[c].step()
                total[c] += time.process_time() - c0 + c_draw
                losses[c].append(float(loss.detach()))
                cpu[c].append(total[c])
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    for net in nets.values():
        net.eval()
    return ChannelTraining(networks=nets, loss={c: np.array(v) for c, v in losses.items()},
                           cpu_seconds={c: np.array(v) for c, v in cpu.items()}, data=data,
                           settings={"family": family, "steps": steps, "instances_per_step": ipst,
                                     "rows_per_instance": rows_per_instance, "lr": lr, "optimiser": "Adam",
                                     "n_layers": n_layers, "hidden": hidden, "seed": seed,
                                     **({"damping": damping, "passes": passes}
                                        if (damping, passes) != (0.0, 1) else {}),
                                     "n_parameters": nets["gaussian"].n_parameters,
                                     "data": {c: d.describe() for c, d in data.items()}})


def channel_samplers(training: ChannelTraining, bp, *, sl_steps: int, sl_T: float, reveal_per_step: int,
                     max_restarts: int, drivers: Sequence[str] = ("SL", "AR")) -> dict:
    """The samplers of the comparison, keyed as ``SAMPLER_DRIVERS``: ``StochasticLocalization`` (``sl_steps``,
    ``sl_T``) over the Gaussian-trained network (contradictions ignored: it reads marginals, not revealed values)
    and over ``bp`` (a ``BPDenoiser`` spec), ``Autoregressive`` (``reveal_per_step``, restarting up to
    ``max_restarts`` times on a contradiction) over the erasure-trained network and over ``bp``; the networks run
    on the CPU.  ``drivers`` keeps only the samplers of those drivers."""
    from ..autoregressive import Autoregressive
    from ..diffusion import StochasticLocalization

    ar = dict(reveal_per_step=reveal_per_step, on_contradiction="restart", max_restarts=max_restarts)
    nets = training.networks
    samplers = {
        "SL/learned-gaussian": StochasticLocalization(nets["gaussian"].factory(device="cpu", contradictions="ignore"),
                                                      n_steps=sl_steps, T=sl_T),
        "AR/learned-erasure": Autoregressive(nets["erasure"].factory(device="cpu"), **ar),
        "SL/BP": StochasticLocalization(bp, n_steps=sl_steps, T=sl_T),
        "AR/BP": Autoregressive(bp, **ar),
    }
    return {k: v for k, v in samplers.items() if SAMPLER_DRIVERS[k] in drivers}


def sample_violations(models: Sequence, samplers: dict, *, seed: int = 0) -> dict[str, dict]:
    """One sample per model and sampler: {label: {"violations": [...], "failed": [...], "seconds": [...],
    "restarts": [...]}} (violations nan for a failed sample).

    samplers : {label: a generative driver (``StochasticLocalization``, ``Autoregressive``, ...)}; each is run as
    ``sampler.sample(model, 1, seed=seed + i)`` on model i; ``ContradictionError`` marks the sample failed.
    """
    out = {k: {"violations": [], "failed": [], "seconds": [], "restarts": []} for k in samplers}
    for i, model in enumerate(models):
        for label, sampler in samplers.items():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    res = sampler.sample(model, 1, seed=seed + i)
                    v, failed, restarts = float(model.energy(res.x)[0]), False, int(res.work.get("restarts", 0))
                except ContradictionError:
                    v, failed, restarts = math.nan, True, -1
            rec = out[label]
            rec["violations"].append(v)
            rec["failed"].append(failed)
            rec["seconds"].append(time.perf_counter() - start)
            rec["restarts"].append(restarts)
    return out


def _stats(a) -> dict:
    a = np.asarray(a, dtype=float)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return {"mean": math.nan, "stderr": math.nan, "count": 0}
    se = float(a.std(ddof=1) / math.sqrt(a.size)) if a.size > 1 else math.nan
    return {"mean": float(a.mean()), "stderr": se, "count": int(a.size)}


def summarise_violations(raw: dict[str, dict], references: dict[str, str] | None = None) -> dict[str, dict]:
    """Mean and standard error over instances of the violations per sampler, the failed count, and for each label
    in ``references`` ({label: reference label}) the paired difference label - reference over the instances where
    both produced a sample, with ``within_2se``: |mean difference| <= 2 standard errors, or both exactly equal.
    Also per label: ``solved_fraction`` (samples with zero violations over all samples, failed ones counted as not
    solved), ``bad`` (samples that are failed or violate a clause) and ``samples``, and ``restarts`` (total over the
    samples that were produced; absent from the raw record: 0).
    """
    out = {}
    for label, rec in raw.items():
        v = np.asarray(rec["violations"], dtype=float)
        failed = np.asarray(rec["failed"], dtype=bool)
        restarts = np.asarray(rec.get("restarts", [0] * v.size), dtype=float)
        out[label] = {"violations": _stats(v), "failed": int(failed.sum()), "samples": int(v.size),
                      "solved_fraction": float(np.mean(np.isfinite(v) & (v == 0))) if v.size else math.nan,
                      "bad": int(np.sum(_bad_samples(rec))),
                      "restarts": int(restarts[restarts >= 0].sum()),
                      "seconds": float(np.sum(rec["seconds"])), "values": list(map(float, rec["violations"]))}
    for label, ref in (references or {}).items():
        a, b = np.asarray(raw[label]["violations"], float), np.asarray(raw[ref]["violations"], float)
        ok = np.isfinite(a) & np.isfinite(b)
        d = _stats(a[ok] - b[ok])
        se = d["stderr"]
        exact = d["count"] > 0 and bool(np.all(a[ok] == b[ok]))
        d["within_2se"] = bool(exact or (d["count"] > 1 and math.isfinite(se) and abs(d["mean"]) <= 2 * se))
        d["not_worse_2se"] = bool(exact or (d["count"] > 1 and math.isfinite(se) and d["mean"] <= 2 * se))
        out[label][f"minus_{ref}"] = d
    return out


def _bad_samples(rec: dict) -> np.ndarray:
    """Per sample: failed (a contradiction after the allowed restarts) or violating a constraint."""
    v = np.asarray(rec["violations"], dtype=float)
    return np.asarray(rec["failed"], dtype=bool) | (np.isfinite(v) & (v > 0))


def paired_bad_difference(raw: dict[str, dict], label: str, reference: str) -> dict | None:
    """Per instance, bad = the sample failed (a contradiction after the allowed restarts) or violates a constraint;
    the paired difference bad(label) - bad(reference) over the instances (mean, standard error, count), with
    ``not_worse_2se``: both equal on every instance, or the mean difference <= 2 standard errors.  Unlike the
    violation counts this keeps the failed samples.  None when there are no samples."""
    bad = {k: _bad_samples(raw[k]) for k in (label, reference)}
    if bad[label].size == 0:
        return None
    if bad[label].shape != bad[reference].shape:
        raise ValueError(f"{label!r} and {reference!r} must have one sample per instance each, got "
                         f"{bad[label].size} and {bad[reference].size}")
    d = bad[label].astype(float) - bad[reference].astype(float)
    se = float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else math.nan
    out = {"mean": float(d.mean()), "stderr": se, "count": int(d.size)}
    exact = bool(np.all(bad[label] == bad[reference]))
    out["not_worse_2se"] = bool(exact or (d.size > 1 and math.isfinite(se) and out["mean"] <= 2 * se))
    return out


def lens_expectation(alpha: float, threshold: float, precision: float) -> str:
    """What the lens says of a BP-type generative sampler at clause density ``alpha`` given its algorithmic threshold
    ``threshold`` ± ``precision``: "works" below threshold - precision, "fails" above threshold + precision,
    "undecided" inside the band."""
    if not (math.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be a positive finite number, got {alpha!r}")
    if not (math.isfinite(precision) and precision >= 0):
        raise ValueError(f"precision must be finite and >= 0, got {precision!r}")
    if alpha < threshold - precision:
        return "works"
    if alpha > threshold + precision:
        return "fails"
    return "undecided"


def observed_failure(row: dict) -> bool:
    """A sampler fails at a density (one row of :func:`summarise_violations`) when at least half of its samples are
    not solutions (``bad``: failed, i.e. a contradiction after the allowed restarts, or violating a clause), or when
    its mean number of violated clauses exceeds twice its standard error over the instances (a standard error of 0
    with a positive mean: every instance violated the same positive number)."""
    v = row["violations"]
    mean, se = v["mean"], v["stderr"]
    if row["samples"] and 2 * row["bad"] >= row["samples"]:
        return True
    if not math.isfinite(mean) or mean <= 0:
        return False
    return bool(math.isfinite(se) and mean > 2 * se)


def lens_verdicts(summary: dict[str, dict], alpha: float, n_clauses: int, thresholds: dict,
                  drivers: dict[str, str], n_variables: int | None = None) -> dict[str, dict]:
    """Per sampler label: the energy-form gap (mean violations / M), the observed failure, the lens' expectation and
    whether they agree ("agrees": None where the lens is undecided).

    summary : :func:`summarise_violations` output of one density.  n_clauses : M.  thresholds : {"alpha_diffusion",
    "alpha_autoregressive", "precision"}.  drivers : {label: "SL" | "AR"} (which threshold applies).
    n_variables : N; when given, the gap per variable E(x)/N (the form of docs/reproduction.md) is added.
    """
    if n_clauses < 1:
        raise ValueError(f"n_clauses must be >= 1, got {n_clauses!r}")
    key = {"SL": "alpha_diffusion", "AR": "alpha_autoregressive"}
    out = {}
    for label, drv in drivers.items():
        if drv not in key:
            raise ValueError(f"drivers values must be 'SL' or 'AR', got {drv!r} for {label!r}")
        row = summary[label]
        fails = observed_failure(row)
        expect = lens_expectation(alpha, thresholds[key[drv]], thresholds["precision"])
        v = row["violations"]
        seen = "fails" if fails else "works"
        out[label] = {"driver": drv, "threshold": thresholds[key[drv]], "energy_gap_per_clause": v["mean"] / n_clauses,
                      "energy_gap_per_clause_stderr": v["stderr"] / n_clauses, "observed": seen, "lens": expect,
                      "agrees": None if expect == "undecided" else expect == seen}
        if n_variables:
            out[label]["energy_gap_per_variable"] = v["mean"] / n_variables
            out[label]["energy_gap_per_variable_stderr"] = v["stderr"] / n_variables
    return out


def density_verdicts(raw: dict[str, dict], density: float, n_constraints: int, thresholds: dict,
                     n_variables: int | None = None) -> tuple[dict, dict]:
    """One test density of the comparison from its raw samples (labels of ``SAMPLER_DRIVERS``, any subset):
    (:func:`summarise_violations` with the paired differences to ``BP_REFERENCES``, :func:`lens_verdicts`), each
    learned sampler's verdict also carrying ``not_worse_than_bp_2se`` (paired violations) and ``bad_minus_bp``
    (:func:`paired_bad_difference`, failed samples included)."""
    violations = summarise_violations(raw, {k: v for k, v in BP_REFERENCES.items() if k in raw and v in raw})
    verdicts = lens_verdicts(violations, density, n_constraints, thresholds,
                             {k: v for k, v in SAMPLER_DRIVERS.items() if k in raw}, n_variables=n_variables)
    for label, ref in BP_REFERENCES.items():
        if label in violations:
            verdicts[label]["not_worse_than_bp_2se"] = violations[label][f"minus_{ref}"]["not_worse_2se"]
            verdicts[label]["bad_minus_bp"] = paired_bad_difference(raw, label, ref)
    return violations, verdicts
