r"""How many instance seeds a finite-size statement holds on: recovery fractions of AMP and diffusion.

At finite N the easy / hard verdict of one instance can depend on its seed (near x_alg the uninformed
fixed point of AMP is only marginally unstable, and |x*|^2 / N fluctuates by sqrt((1 - rho) / (rho N))).
``recovery_fractions`` runs, on instance seeds 0, 1, ..., the sparse Rademacher instance
``SpikedWigner(n, 1/x, SparseRademacher(rho), seed)`` (``analysis.measures.trajectories.make_instance``'s
family) and records per seed

* **AMP**: plain AMP from its uninformed start (``AMPDenoiser.posterior()`` at s = 0, no side channel);
* **diffusion**: ``StochasticLocalization`` over ``AMPDenoiser`` (``opposite_regime.diffusion_overlaps``);

the |overlap with x*| / (|x*|^2 / N), and whether it reaches half the SE overlap m* (the informed branch
at s = 0, ``opposite_regime.se_overlap``; the threshold of ``opposite_regime``).  The fraction of seeds
that recover says whether a statement about "the" easy or hard instance holds beyond seed 0.
"""

from __future__ import annotations

import warnings

import numpy as np

import spinglass as sg
from samplers.denoisers import AMPDenoiser

from .opposite_regime import THRESHOLD_FRACTION, _seed, diffusion_overlaps, planted_norm, se_overlap

#: plain AMP: tolerance and iteration cap of the uninformed run
AMP_PLAIN = {"tol": 1e-6, "max_iter": 500}


def amp_overlap(model, seed: int = 0) -> float:
    """|<m_AMP, x*>| / (N |x*|^2 / N) of AMP at s = 0 from its uninformed start (random start from ``seed``)."""
    den = AMPDenoiser(model, **AMP_PLAIN)
    den.reset(np.random.default_rng(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = np.asarray(den.posterior().mean, dtype=float).reshape(-1, model.n)[0]
    return float(abs(m @ np.asarray(model.planted, dtype=float)) / (model.n * planted_norm(model)))


def recovery_fractions(x: float, n: int, seeds, *, rho: float = 0.05, diffusion: bool = True,
                       n_samples: int = 2, sl_steps: int = 30, seed: int = 0) -> dict:
    """Per instance seed: AMP's and diffusion's normalised overlaps and whether they reach THRESHOLD_FRACTION
    m*; with the fractions of seeds on which AMP recovers and on which every diffusion sample does."""
    m_star = se_overlap(rho, x)
    thr = THRESHOLD_FRACTION * m_star
    per_seed = []
    for s in seeds:
        model = sg.SpikedWigner(int(n), lam=1.0 / x, prior=sg.SparseRademacher(rho), seed=int(s))
        rec = {"seed": int(s), "planted_norm": planted_norm(model),
               "amp_overlap": amp_overlap(model, _seed(seed, s, 3))}
        rec["amp_recovers"] = rec["amp_overlap"] >= thr
        if diffusion:
            ovs = diffusion_overlaps(model, n_samples=n_samples, sl_steps=sl_steps, seed=_seed(seed, s, 2))
            rec["diffusion_overlaps"] = ovs
            rec["diffusion_recovers"] = all(v >= thr for v in ovs)
        per_seed.append(rec)
    out = {"rho": rho, "x": float(x), "n": int(n), "m_star": m_star, "threshold": thr, "seeds": per_seed,
           "amp_fraction": float(np.mean([r["amp_recovers"] for r in per_seed]))}
    if diffusion:
        out["diffusion_fraction"] = float(np.mean([r["diffusion_recovers"] for r in per_seed]))
    return out


#: the record's points: make_instance's family (rho = 0.05, N = 2000, the trajectories demo's default size),
#: its former easy point x = 0.9, the easy point x = 0.75 and its hard point x = 1.2; seeds 0-7
RECORD = {"xs": (0.75, 0.9, 1.2), "n": 2000, "seeds": tuple(range(8)), "rho": 0.05, "n_samples": 2, "sl_steps": 30}


def seed_fractions_record(path=None, settings: dict | None = None) -> dict:
    """``recovery_fractions`` at each x of ``settings`` (default ``RECORD``); written as JSON to ``path``."""
    import json
    from pathlib import Path

    cfg = RECORD if settings is None else settings
    points = [recovery_fractions(x, cfg["n"], cfg["seeds"], rho=cfg["rho"], n_samples=cfg["n_samples"],
                                 sl_steps=cfg["sl_steps"]) for x in cfg["xs"]]
    record = {"settings": {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()},
              "threshold_fraction": THRESHOLD_FRACTION, "points": points}
    if path is not None:
        Path(path).write_text(json.dumps(record, indent=1))
    return record


__all__ = ["AMP_PLAIN", "RECORD", "amp_overlap", "recovery_fractions", "seed_fractions_record"]
