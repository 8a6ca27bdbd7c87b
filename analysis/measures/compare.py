r"""Run several samplers on one model instance and tabulate quality against cost.

``compare(model, samplers, n_samples, seed=...)`` runs each sampler (anything with the common call
``sample(model, n_samples, *, seed) -> Samples``: MCMC, Langevin, diffusion, flow, autoregressive) and
returns a ``Comparison``: ``table``, a pandas DataFrame with one row per sampler, and ``samples``, the
``Samples`` records by name.  Columns:

quality
    ``energy`` mean energy per variable E(x)/N of the samples and ``energy_sem`` its standard error over
    samples; ``overlap_planted`` mean overlap with the planted configuration (model symmetry: |.| for
    flip-invariant laws, colour permutations for Potts) and ``two_sample_overlap`` mean overlap between
    pairs of samples (pairs from different chains for MCMC); ``nishimori_gap`` their difference and
    ``energy_gap`` = mean E(x)/N - E(x*)/N (both ≈ 0 for Bayes-optimal posterior samples; docs/physics.md §1);
    ``tv_exact`` the TV distance of the empirical law to the exact law and ``tv_bound`` the 0.999 quantile
    of that distance for exact i.i.d. samples (only when the model has at most ``max_exact_states``
    configurations).
cost
    ``wall_time`` (s), ``sweeps`` (MCMC) / ``steps`` (Langevin, generative drivers), ``denoiser_calls``,
    ``denoiser_iterations`` (AMP / BP iterations summed over rows), ``denoiser_unconverged`` (queries that
    missed their tolerance), ``restarts`` (autoregressive samples redone after a contradiction),
    ``attempted_updates``.

Each sampler gets its own seed from ``numpy.random.SeedSequence(seed).spawn`` (recorded in the
``sampler_seed`` column): a sampler's seed depends on (seed, its position) only, so appending samplers to
the list leaves the earlier rows unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from samplers.base import WORK_COUNTERS, check_sampler
from spinglass._validate import check_int
from spinglass.base import Model

from . import metrics

#: Work counters copied to the table when a sampler reports them.
#: The work counters a comparison table reports: those of ``samplers.base.WORK_COUNTERS`` except the
#: denoiser's seconds and rows (left to ``wall_time`` and the sample count).
COST_COLUMNS = tuple(k for k in WORK_COUNTERS if k not in ("denoiser_rows", "denoiser_time"))


@dataclass
class Comparison:
    """The table of ``compare`` and the ``Samples`` behind each row (module docstring)."""

    table: object  # pandas.DataFrame
    samples: dict = field(default_factory=dict)


def _name_of(sampler) -> str:
    return getattr(sampler, "name", None) or type(sampler).__name__


def _as_named(samplers) -> dict:
    if isinstance(samplers, dict):
        named = dict(samplers)
    else:
        named = {}
        for s in samplers:
            base = _name_of(s)
            name, k = base, 2
            while name in named:
                name, k = f"{base}_{k}", k + 1
            named[name] = s
    if not named:
        raise ValueError("samplers must name at least one sampler")
    for name, s in named.items():
        check_sampler(s, f"samplers[{name!r}]")
    return named


def compare(model: Model, samplers, n_samples: int, *, seed: int = 0, max_exact_states: int = 1 << 16,
            max_pairs: int = 20000) -> Comparison:
    """Run ``samplers`` (a list, or a dict name -> sampler) on ``model``; see the module docstring."""
    import pandas as pd

    if not isinstance(model, Model):
        raise TypeError(f"model must be a spinglass Model, got {type(model).__name__}")
    n_samples = check_int("n_samples", n_samples, minimum=2)
    seed = check_int("seed", seed, minimum=0)
    max_exact_states = check_int("max_exact_states", max_exact_states, minimum=0)
    named = _as_named(samplers)
    exact = None
    if model.alphabet is not None and model.n_values**model.n <= max_exact_states:
        exact = model.exact(max_states=max_exact_states)
        bound = metrics.tv_null_quantile(exact, n_samples, quantile=0.999, repeats=200, seed=seed)
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(len(named))]
    rows, records = [], {}
    for (name, sampler), s in zip(named.items(), seeds, strict=True):
        res = sampler.sample(model, n_samples, seed=s)
        records[name] = res
        e = metrics.energy_per_variable(model, res.x)
        row = {"sampler": name, "sampler_seed": s, "n_samples": res.n_samples, "energy": float(np.mean(e)),
               "energy_sem": float(np.std(e, ddof=1) / math.sqrt(e.size))}
        symmetry = metrics.default_symmetry(model)
        q = getattr(model, "q", None) if symmetry == "permutation" else None
        pairs = metrics.replica_overlaps(res.x, chain=res.chain, max_pairs=max_pairs, seed=s, symmetry=symmetry,
                                         q=q)
        row["two_sample_overlap"] = float(np.mean(pairs)) if np.size(pairs) else math.nan
        if model.planted is not None:
            row["overlap_planted"] = float(np.mean(metrics.overlap_with_planted(model, res.x)))
            row["nishimori_gap"] = row["overlap_planted"] - row["two_sample_overlap"]
            row["energy_gap"] = metrics.energy_nishimori_gap(model, res.x)
        if exact is not None:
            row["tv_exact"] = metrics.empirical_tv(exact, res.x)
            row["tv_bound"] = bound
        row["wall_time"] = float(res.wall_time)
        for key in COST_COLUMNS:
            if key in res.work:
                row[key] = float(res.work[key])
        rows.append(row)
    return Comparison(table=pd.DataFrame(rows), samples=records)


def count_or_none(row: dict, key: str) -> int | None:
    """A work counter of a ``compare`` table row as an int, or None when the sampler does not report it
    (the table holds NaN there)."""
    v = row.get(key)
    return None if v is None or v != v else int(v)


__all__ = ["compare", "Comparison", "COST_COLUMNS", "count_or_none"]
