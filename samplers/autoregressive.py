r"""Autoregressive sampling by decimation along the erasure path (docs/physics.md §2).

The chain rule mu(x) = prod_k mu(x_{pi(k)} | x_{pi(1)}, ..., x_{pi(k-1)}) turns sampling into n draws from
conditional marginals: with the set R_k of the first k variables of the order pi revealed,

    x_{pi(k+1)} ~ mu(x_{pi(k+1)} = a | x_{R_k}),

which is the erasure-channel denoiser at revealed fraction theta = k / n (``Denoiser.marginals``).  With
the exact denoiser this draws exactly from mu; with BP / AMP decimation it follows the algorithmic
branch of the erasure path and fails where the lens predicts a first-order transition in theta.

Blocks.  ``reveal_per_step = r > 1`` draws the next r variables of the order independently from their
current marginals (one denoiser query per block, n / r queries in all).  This is exact for r = 1 only;
for mean-field models the error of a block is the correlation between r of n variables, O(r / n), which
is what makes decimation at N in the thousands affordable.

Orders: "random" (a fresh uniform permutation per sample, from the seed), "given" with ``order=array``
(one permutation shared by all samples), or an explicit permutation array.
"""

from __future__ import annotations

import numpy as np

from spinglass._validate import check_int

from .denoisers.base import ContradictionError
from .generative import GenerativeDriver, Trajectory, categorical, denoiser_description, mean_representation


class Autoregressive(GenerativeDriver):
    """Sample variable by variable from conditional marginals of an erasure-channel oracle (module docstring).

    Parameters
    ----------
    oracle : a ``Denoiser`` bound to the model (``ExactDenoiser``, ``AMPDenoiser``, ``BPDenoiser``, ...) or
        a callable ``model -> Denoiser``; the model needs a finite alphabet.
    order : "random" (default; per sample), "given" (requires ``permutation``) or a permutation of
        range(n) (shared by all samples).
    permutation : the order for ``order="given"``.
    reveal_per_step : variables revealed per denoiser query (1 = exact chain rule).
    trajectory : record the denoiser's self-overlap / overlap with planted along theta = k / n
        (``Samples.trace``: "theta", "self_overlap", "overlap_planted", "jump_t", "jump_size").
    batch_size : samples decimated at once (default: all).
    on_contradiction : "raise" (default) or "restart".  An approximate oracle (BP at beta = inf) can
        declare that the values revealed so far leave no configuration (``ContradictionError``).  With
        "restart" the rows of a batch that hit one are decimated again one at a time, from scratch with
        a fresh order, up to ``max_restarts`` times each; the samples then follow the sampler's law
        *conditioned on finishing*, and ``trace["restarts"]`` (n_samples,) counts the restarts of each
        sample (``work["restarts"]`` their total).  For an exact oracle nothing changes: it never
        contradicts, and the same seed gives the same samples as "raise".
    max_restarts : restarts allowed per sample (>= 1) with "restart"; beyond them the error is raised.
    """

    name = "Autoregressive"

    def __init__(self, oracle, order="random", *, permutation=None, reveal_per_step: int = 1,
                 trajectory: bool = False, batch_size: int | None = None, on_contradiction: str = "raise",
                 max_restarts: int = 10):
        self._init_common(oracle, trajectory, batch_size)
        if on_contradiction not in ("raise", "restart"):
            raise ValueError(f"on_contradiction must be 'raise' or 'restart', got {on_contradiction!r}")
        if on_contradiction == "restart" and trajectory:
            raise ValueError("on_contradiction='restart' does not record trajectories: use trajectory=False")
        self.on_contradiction = on_contradiction
        self.max_restarts = check_int("max_restarts", max_restarts, minimum=1)
        if isinstance(order, str):
            if order not in ("random", "given"):
                raise ValueError(f"order must be 'random', 'given' or a permutation array, got {order!r}")
            if order == "given" and permutation is None:
                raise ValueError("order='given' needs permutation=array (a permutation of range(n))")
            if order == "random" and permutation is not None:
                raise ValueError("permutation is only used with order='given'")
            self.order = order
            self.permutation = None if permutation is None else self._check_perm(permutation)
        else:
            if permutation is not None:
                raise ValueError("give the order either as order=array or as order='given' with permutation=array")
            self.order = "given"
            self.permutation = self._check_perm(order)
        self.reveal_per_step = check_int("reveal_per_step", reveal_per_step, minimum=1)

    @property
    def oracle(self):
        """The conditional-marginal oracle (the driver's denoiser)."""
        return self.denoiser

    @staticmethod
    def _check_perm(perm) -> np.ndarray:
        arr = np.asarray(perm)
        if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer) or \
                not np.array_equal(np.sort(arr), np.arange(arr.size)):
            raise ValueError("permutation must be a 1-d integer permutation of range(n)")
        return arr.astype(np.int64)

    def settings(self) -> dict:
        d = {"name": self.name, "order": self.order, "reveal_per_step": self.reveal_per_step,
             "oracle": denoiser_description(self.oracle), "batch_size": self.batch_size,
             "on_contradiction": self.on_contradiction}
        if self.on_contradiction == "restart":
            d["max_restarts"] = self.max_restarts
        if self.permutation is not None:
            d["permutation"] = self.permutation.tolist()
        return d

    def work_from_trace(self, trace: dict) -> dict[str, float]:
        """``restarts``: samples redone after a contradiction (only with ``on_contradiction="restart"``)."""
        return {"restarts": int(np.sum(trace["restarts"]))} if "restarts" in trace else {}

    def _check_run(self, model, n_samples, batch):
        if model.alphabet is None:
            raise TypeError(f"{model.family} has a continuous prior: autoregressive sampling needs a finite alphabet")
        if self.permutation is not None and self.permutation.size != model.n:
            raise ValueError(f"permutation has length {self.permutation.size}, but the model has n = {model.n}")

    def _run_batch(self, model, client, b, rng, progress):
        if self.on_contradiction == "raise":
            return self._decimate(model, client, b, rng, progress)
        try:
            x, trace, steps = self._decimate(model, client, b, rng, progress)
            return x, {"restarts": np.zeros(b, dtype=np.int64)}, steps
        except ContradictionError:
            pass
        # redo every row of the batch alone, restarting each on a contradiction
        xs, restarts = [], np.zeros(b, dtype=np.int64)
        steps = 0
        for i in range(b):
            while True:
                client.denoiser.reset(rng)
                try:
                    x, _, k = self._decimate(model, client, 1, rng, False)
                except ContradictionError as err:
                    restarts[i] += 1
                    if restarts[i] > self.max_restarts:
                        raise ContradictionError(f"{err} (sample {i} of the batch still contradicts after "
                                                 f"max_restarts = {self.max_restarts} restarts)", i) from err
                    continue
                xs.append(x)
                steps += k
                break
        return np.concatenate(xs, axis=0), {"restarts": restarts}, steps

    def _decimate(self, model, client, b, rng, progress):
        n = model.n
        if self.permutation is not None:
            orders = np.broadcast_to(self.permutation, (b, n))
        else:
            orders = rng.permuted(np.tile(np.arange(n), (b, 1)), axis=1)
        revealed = np.full((b, n), -1, dtype=np.int64)
        rows = np.arange(b)[:, None]
        traj = Trajectory(model, self.trajectory)
        r = self.reveal_per_step
        starts = range(0, n, r)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc=self.name, unit="query")
        for k in starts:
            out = client.ask(revealed=revealed, where=f"at theta = {k / n:.6g}")
            if out.marginals is None:
                raise TypeError(f"{type(client.denoiser).__name__} returns no marginals: autoregressive sampling "
                                "needs conditional marginals")
            traj.record(k / n, out.mean)
            sites = orders[:, k:k + r]
            p = out.marginals[rows, sites]  # (b, r, K)
            revealed[rows, sites] = categorical(p, rng)
        if self.trajectory:
            traj.record(1.0, mean_representation(model, revealed))
        return np.asarray(model.alphabet)[revealed], traj.as_trace("theta"), -(-n // r)


__all__ = ["Autoregressive"]
