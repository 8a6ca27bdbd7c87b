"""What every sampler family implements, and the vocabulary of the work it reports.

A sampler is an object with a ``name``, a ``settings()`` dict that rebuilds it (constructor arguments
with their defaults resolved, plus ``"name"``), and ``sample(model, n_samples, *, seed=...)`` returning
the common :class:`~samplers.samples.Samples` record.  Families may take more keyword arguments to
``sample`` (chains, initial states, progress bars), but ``sample(model, n, seed=s)`` always works and is
all that :func:`analysis.measures.compare` relies on (the sweep registry passes the chain settings of the
families that have them, MCMC and Langevin).

A :class:`ResumableSampler` (the MCMC and Langevin families) also continues a run:
``sample(model, n, state=s.state)`` picks up from the ``Samples.state`` of an earlier call, bit for bit as
one long run.  Its class attribute ``resumable`` is True; every other sampler's is False.  The two protocols
have the same members, so ``isinstance`` cannot tell them apart at run time: use :func:`is_resumable`.

``Samples.work`` holds cost counters whose keys are named in :data:`WORK_COUNTERS`, so that tables that
compare samplers of different families (quality beside cost) read the same columns.  A driver that counts
something of its own declares it through :meth:`work_from_trace`-style hooks in its family (see
``samplers.generative.GenerativeDriver.work_from_trace``) and adds the key here.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, runtime_checkable

#: Work counters a sampler may report in ``Samples.work``, with what each counts.  Tables of cost
#: (``analysis.measures.compare``, trajectories, sweeps) read these keys, in this order.
WORK_COUNTERS: dict[str, str] = {
    "sweeps": "MCMC sweeps per chain (one attempted update of every variable)",
    "steps": "steps of a generative driver (time steps of a path, or decimation rounds)",
    "denoiser_calls": "queries of the denoiser (one per step and batch)",
    "denoiser_rows": "rows (samples) the denoiser was queried on, summed over its calls",
    "denoiser_iterations": "iterations of an iterative denoiser (AMP / BP) summed over its calls",
    "denoiser_unconverged": "denoiser rows that stopped at max_iter before reaching tol",
    "denoiser_time": "seconds spent inside the denoiser",
    "restarts": "samples redone after a contradiction (autoregressive decimation over BP at beta = inf)",
    "attempted_updates": "single-variable updates attempted by MCMC, over all chains",
    "network_evaluations": "forward passes of a neural network while sampling",
    "network_rows": "rows pushed through a neural network while sampling, summed over passes",
    "training_steps": "optimisation steps of a sampler that trains its network on the model first (VAN)",
}


@runtime_checkable
class Sampler(Protocol):
    """A sampler: ``sample(model, n_samples, *, seed) -> Samples`` and the settings that rebuild it."""

    name: str
    resumable: ClassVar[bool]

    def sample(self, model: Any, n_samples: int, *, seed: Any = None) -> Any:
        """``n_samples`` samples of ``model`` as a ``Samples`` record; ``seed``: int, Generator or None."""
        ...

    def settings(self) -> dict:
        """The sampler's name and settings (JSON-friendly), enough to rebuild it."""
        ...


@runtime_checkable
class ResumableSampler(Sampler, Protocol):
    """A sampler whose ``Samples.state`` continues the run: ``sample(model, n, state=previous.state)``."""

    def sample(self, model: Any, n_samples: int, *, seed: Any = None, state: Any = None) -> Any:
        ...


def check_sampler(sampler: Any, where: str = "sampler") -> Sampler:
    """``sampler`` if it implements :class:`Sampler`, else ``TypeError`` naming what is missing."""
    missing = [attr for attr in ("name", "sample", "settings") if not hasattr(sampler, attr)]
    if missing or not callable(sampler.sample) or not callable(sampler.settings):
        raise TypeError(f"{where} ({type(sampler).__name__}) is not a sampler: it lacks "
                        f"{', '.join(missing) or 'callable sample / settings'} "
                        "(a sampler has name, settings() and sample(model, n_samples, seed=...))")
    return sampler


def is_resumable(sampler: Any) -> bool:
    """Whether ``sampler`` continues runs from ``Samples.state`` (its class says ``resumable = True``)."""
    return bool(getattr(type(sampler), "resumable", False))


__all__ = ["Sampler", "ResumableSampler", "WORK_COUNTERS", "check_sampler", "is_resumable"]
