r"""Training and evaluating a ``SparseMessagePassing`` network on fresh planted sparse pairs.

Loss (``planted_cross_entropy``).  For a batch of I fresh planted instances (G, x*) with R queries each
(revealed sets R or side observations y, ``PlantedSparsePairs``),

    L(theta) = - (1 / #free) sum_{rows, free variables i} log b^theta_i(x*_i | G, query),

the cross-entropy of the network's marginals against the planted values, over the variables not revealed.
Since x* is an exact posterior sample given (G, query) (``planted_sparse_data``), L is an unbiased estimate of
E[ -log b_i(x_i) ] under the posterior, a proper scoring rule: over all functions of (G, query) its minimiser is
the posterior marginal P(x_i = a | G, query), whatever the other variables do.

Colour-permutation (and spin-flip) symmetry: why the loss is not symmetrised.  The planted posterior is invariant
under permutations of the K values (q! colour permutations; the global flip for NAE-SAT) as long as the query
does not break the symmetry (nothing revealed, y = 0).  One might fear that the cross-entropy then punishes a
network for "choosing the wrong permutation" and should be replaced by a minimum over permutations or by an
overlap-based target.  It need not, for two reasons:

1. The target of a *denoiser* is the posterior marginal, and with an unbroken symmetry that marginal is
   symmetric (uniform when nothing is revealed): the plain cross-entropy has exactly this minimiser.  A loss
   minimised over permutations would train instead towards the marginals of one symmetry-broken state (what
   BP reaches from the planted or a random start), i.e. an inference target (overlap with x* up to a
   permutation), which is the wrong input for a sampler: the drivers would draw the first variables from
   non-uniform marginals and bias the samples.
2. ``SparseMessagePassing`` is exactly equivariant under value permutations and starts from the uniform
   messages, so it cannot break the symmetry by itself: on a query without revealed variables (or on a
   connected component without any) it returns the symmetric marginals, the loss there is the constant
   log K and carries no gradient.  The symmetry is broken only by the query (revealed values, the field y),
   and then the planted ensemble fixes the labels: x* is the configuration that generated both G and the
   query, so comparing with x* value by value is meaningful.

Hence rows with few revealed variables contribute little signal, not a wrong one; the theta range of the data
(default U[0, 1]) matches the autoregressive sampler's queries.

Training (``train_message_passing``) reuses ``samplers.neural.training.fit`` unchanged, as
``amortised_training`` does: the "data" are dummy rows, a minibatch of ``TrainConfig.batch_size`` rows means that
many fresh instances drawn inside the loss with fit's CPU generator (a new graph every step: nothing to
over-fit), ``steps_per_epoch`` steps per epoch; the held-out loss uses ``val_instances`` instances from fit's
held-out generator, re-seeded every epoch (the same held-out instances each time), so early stopping (patience,
best weights restored), checkpoints (``save_checkpoint``), the non-finite-loss error and the tqdm bar of
``fit`` apply.

Evaluation (``compare_with_bp``): on fresh held-out instances and queries, the cross-entropy against x* of the
network and of converged ``BPDenoiser`` (the reference the network starts from), and the mean absolute
difference of their marginals over the free variables, per instance.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from ..denoisers.base import NonConvergenceWarning
from ..denoisers.bp import BPDenoiser
from .message_passing import SparseMessagePassing
from .planted_sparse_data import PlantedSparsePairs, SparseBatch
from .training import TrainConfig, TrainHistory, check_positive_int, fit_on_fresh_draws, pick_device

__all__ = ["planted_cross_entropy", "train_message_passing", "BPComparison", "compare_with_bp"]


def _check_pair(network, data) -> None:
    if not isinstance(network, SparseMessagePassing):
        raise TypeError(f"network must be a SparseMessagePassing, got {type(network).__name__}")
    if not isinstance(data, PlantedSparsePairs):
        raise TypeError(f"data must be a PlantedSparsePairs, got {type(data).__name__}")
    if (data.family, data.K, data.beta) != (network.family, network.K, network.beta):
        raise ValueError(f"data: {data.family} with K = {data.K}, beta = {data.beta}, but the network was built for "
                         f"{network.family} with K = {network.K}, beta = {network.beta}")


def cross_entropy_terms(log_marginals: torch.Tensor, batch: SparseBatch) -> tuple[torch.Tensor, torch.Tensor]:
    """(-log b_i(x*_i) (R, N), free mask (R, N)) for log-marginals (R, N, K) of a batch."""
    R, N, _ = log_marginals.shape
    lp = log_marginals.gather(-1, batch.x[None, :, None].expand(R, N, 1)).squeeze(-1)
    return -lp, batch.revealed < 0


def planted_cross_entropy(network: SparseMessagePassing, batch: SparseBatch) -> torch.Tensor:
    """The loss of the module docstring (mean over free variables of all rows); batch on the network's device."""
    log_marg = network(batch.graph, batch.field, batch.revealed, batch.t)
    nll, free = cross_entropy_terms(log_marg, batch)
    return (nll * free).sum() / free.sum().clamp_min(1)


def train_message_passing(network: SparseMessagePassing, data: PlantedSparsePairs, config: TrainConfig | None = None,
                          *, steps_per_epoch: int = 20, val_instances: int = 4) -> TrainHistory:
    """Train ``network`` on fresh planted pairs from ``data`` with ``fit`` (module docstring).

    config : ``TrainConfig``; ``batch_size`` = instances per step (default 4), ``epochs`` x ``steps_per_epoch``
        steps at most; ``val_fraction`` is ignored (the held-out set is ``val_instances`` fresh instances; 0 = none,
        no early stopping).  steps_per_epoch : optimiser steps per epoch (>= 1).
    Returns the ``TrainHistory``; a non-finite loss raises ``NonFiniteLossError``.
    """
    _check_pair(network, data)
    return fit_on_fresh_draws(network, data, planted_cross_entropy,
                              TrainConfig(batch_size=4, epochs=20, lr=3e-3) if config is None else config,
                              steps_per_epoch=steps_per_epoch, val_instances=val_instances)


@dataclass
class BPComparison:
    """Network vs converged BP on the same held-out planted queries (``compare_with_bp``), per instance.

    ce_network, ce_bp : (I,) cross-entropy against x* over the free variables of the instance's R rows.
    mad : (I,) mean |b_network - b_BP| over free variables and values.
    bp_unconverged : BP queries that hit their iteration cap.  seconds_network, seconds_bp : wall-clock times.
    """

    ce_network: np.ndarray
    ce_bp: np.ndarray
    mad: np.ndarray
    bp_unconverged: int
    seconds_network: float
    seconds_bp: float

    @staticmethod
    def _stats(a: np.ndarray) -> tuple[float, float]:
        return float(a.mean()), float(a.std(ddof=1) / math.sqrt(a.size)) if a.size > 1 else math.nan

    def summary(self) -> dict:
        """Means and standard errors over instances (JSON-friendly)."""
        out = {}
        for name in ("ce_network", "ce_bp", "mad"):
            m, se = self._stats(getattr(self, name))
            out[name] = m
            out[name + "_stderr"] = se
        m, se = self._stats(self.ce_network - self.ce_bp)
        out.update(ce_difference=m, ce_difference_stderr=se, instances=int(self.mad.size),
                   bp_unconverged=self.bp_unconverged, seconds_network=self.seconds_network,
                   seconds_bp=self.seconds_bp)
        return out


def compare_with_bp(network: SparseMessagePassing, data: PlantedSparsePairs, n_instances: int = 8, seed: int = 0, *,
                    theta: float | None = None, t: float | None = None, passes: int | None = None, device="auto",
                    bp_damping: float = 0.3, bp_max_iter: int = 1000, bp_tol: float = 1e-8) -> BPComparison:
    """Cross-entropies and marginal differences of ``network`` and ``BPDenoiser`` on ``n_instances`` fresh held-out
    instances of ``data`` (module docstring), one instance at a time.

    seed : seed of the CPU generator of the instances and queries.  theta / t : fixed query parameters (None: drawn
    as in training).  passes : applications of the L layers (None: the network's own ``passes``).
    bp_* : the reference BP's settings.
    """
    import time

    _check_pair(network, data)
    n_instances = check_positive_int("n_instances", n_instances, 1)
    gen = torch.Generator(device="cpu").manual_seed(check_positive_int("seed", seed, 0))
    dev = pick_device(device)
    network.to(dev)
    was_training = network.training
    network.eval()
    ce_n, ce_b, mad = np.zeros(n_instances), np.zeros(n_instances), np.zeros(n_instances)
    unconverged, sec_n, sec_b = 0, 0.0, 0.0
    try:
        for i in range(n_instances):
            batch = data.draw(1, gen, theta=theta, t=t)
            model = batch.models[0]
            start = time.perf_counter()
            with torch.no_grad():
                log_marg = network.run(batch.graph.to(dev), batch.field.to(dev), batch.revealed.to(dev),
                                       batch.t.to(dev), passes=passes).log_marginals.double().cpu()
            sec_n += time.perf_counter() - start
            bp = BPDenoiser(model, damping=bp_damping, max_iter=bp_max_iter, tol=bp_tol)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NonConvergenceWarning)
                out = bp.posterior(y=batch.y.double().numpy(), t=batch.t[:, 0].double().numpy(),
                                   revealed=batch.revealed.numpy())
            sec_b += time.perf_counter() - start
            unconverged += int(np.sum(~out.converged))
            p_bp = torch.as_tensor(out.marginals)
            nll_n, free = cross_entropy_terms(log_marg, batch)
            nll_b, _ = cross_entropy_terms(torch.log(p_bp.clamp_min(1e-300)), batch)
            nf = max(int(free.sum()), 1)
            ce_n[i] = float((nll_n * free).sum()) / nf
            ce_b[i] = float((nll_b * free).sum()) / nf
            diff = (torch.exp(log_marg) - p_bp).abs().mean(dim=-1)
            mad[i] = float((diff * free).sum()) / nf
    finally:
        network.train(was_training)
    return BPComparison(ce_network=ce_n, ce_bp=ce_b, mad=mad, bp_unconverged=unconverged, seconds_network=sec_n,
                        seconds_bp=sec_b)
