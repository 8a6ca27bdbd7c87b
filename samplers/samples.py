"""The common result record of every sampler: every family returns a Samples (docs/architecture.md).

``Samples.x`` holds the samples on the model's alphabet, one row per sample.  MCMC samplers also fill
``chain`` (which chain each row came from), a per-chain ``trace`` of observables recorded every
``trace["sweep"]`` sweep, acceptance statistics and a resumable ``state``.  Generative samplers fill the
same fields that apply to them (``work["denoiser_calls"]``, ...).  ``meta`` records the seed, the model
and sampler parameters and the package version, so that every number can be traced back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def package_version() -> str:
    """Version of the installed toolkit distribution."""
    from spinglass import __version__

    return __version__


@dataclass
class Samples:
    """Samples and everything needed to interpret and reproduce them.

    Attributes
    ----------
    x : (n_samples, n) samples on the model's alphabet (float for scalar models, int colours for Potts).
    planted : the model's planted configuration, or None.
    model : ``model.describe()``.
    sampler : sampler name and settings.
    seed : the seed the run was given (int, "Generator" or None).
    chain : (n_samples,) index of the chain each sample came from (None for independent samplers).
    trace : named per-chain traces, e.g. ``{"sweep": (T,), "energy": (n_chains, T)}``.
    wall_time : seconds spent sampling (compilation excluded when the kernels were already compiled).
    work : work counters, e.g. ``{"sweeps": ..., "attempted_updates": ..., "denoiser_calls": ...}``.
    acceptance : acceptance statistics, e.g. ``{"mean": ..., "per_chain": array}``.
    state : a sampler-specific record from which ``sample(..., state=...)`` continues the run.
    version : package version.
    """

    x: np.ndarray
    planted: np.ndarray | None
    model: dict
    sampler: dict
    seed: Any = None
    chain: np.ndarray | None = None
    trace: dict[str, np.ndarray] = field(default_factory=dict)
    wall_time: float = 0.0
    work: dict[str, float] = field(default_factory=dict)
    acceptance: dict[str, Any] = field(default_factory=dict)
    state: Any = None
    version: str = field(default_factory=package_version)

    @property
    def n_samples(self) -> int:
        return int(self.x.shape[0])

    @property
    def n(self) -> int:
        return int(self.x.shape[1])

    def meta(self) -> dict:
        """Flat JSON-friendly record of what produced these samples."""
        return {"model": self.model, "sampler": self.sampler, "seed": self.seed, "version": self.version,
                "wall_time": self.wall_time, "work": dict(self.work),
                "acceptance_mean": self.acceptance.get("mean")}

    def __repr__(self) -> str:
        return (f"Samples(n_samples={self.n_samples}, n={self.n}, model={self.model.get('family')}, "
                f"sampler={self.sampler.get('name')}, wall_time={self.wall_time:.3g}s)")
