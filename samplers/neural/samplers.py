r"""Samplers built on a trained autoregressive network (MADE or PixelCNN), with the common call shape
``sample(model, n_samples, *, seed) -> Samples``.

``NeuralAutoregressiveSampler``: i.i.d. draws x ~ q from the network (n forward passes per batch); exact
for mu only as far as q = mu.

``NeuralMCMC``: independence Metropolis-Hastings with the network as proposal (the "neural MCMC" of
the VAN literature, e.g. Nicoli et al., PRE 101, 023304 (2020)): from the current state x, propose
x' ~ q independently of x and accept with probability

    min(1, [w(x') q(x)] / [w(x) q(x')]) = min(1, exp(r(x') - r(x))),   r = log w - log q,

w = exp(``model.log_weight``).  mu is stationary for any q with q > 0 wherever mu > 0, so the chain
corrects the network's bias; the acceptance rate measures how close q is to mu.  A state of weight 0
(possible at beta = inf) is always left for a proposal of positive weight.  Chain c starts from a draw
of q, runs ``n_steps`` steps and then keeps k = n_samples / n_chains states spaced by ``thin`` steps;
row c·k + j of ``Samples.x`` is the j-th state kept by chain c (as in ``samplers.mcmc``).  Since the
proposals do not depend on the state, they are drawn in large batches up front.

Randomness: a torch CPU generator seeded with a 63-bit seed drawn from ``numpy.random.default_rng(seed)``
(or from the given Generator) for the network's draws, and the same numpy generator for the
acceptance uniforms, so equal seeds give equal samples on the CPU.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from spinglass._validate import SeedLike, check_real, make_rng, seed_repr

from ..samples import Samples
from .autoregressive_training import check_network_fits_model, log_weight_of_index
from .made import MADE
from .pixelcnn import PixelCNN
from .training import check_positive_int

__all__ = ["NeuralAutoregressiveSampler", "NeuralMCMC", "VariationalAutoregressive"]

#: rows drawn from the network per batch (memory: rows · n · K floats)
_BLOCK_ROWS = 1 << 16


def _check_network(network) -> MADE | PixelCNN:
    if not isinstance(network, MADE | PixelCNN):
        raise TypeError(f"network must be a samplers.neural.MADE or PixelCNN, got {type(network).__name__}")
    return network


def _generators(seed: SeedLike) -> tuple[np.random.Generator, torch.Generator]:
    rng = make_rng(seed)
    tg = torch.Generator(device="cpu").manual_seed(int(rng.integers(0, 2**63 - 1)))
    return rng, tg


def _draw(network: MADE, n_rows: int, tg: torch.Generator, batch_size: int):
    """Draw ``n_rows`` indices and their log q in blocks; returns (idx (R, n) int64 numpy, log q (R,), passes)."""
    idx_parts, lq_parts, passes = [], [], 0
    was_training = network.training
    network.eval()
    with torch.no_grad():
        for start in range(0, n_rows, batch_size):
            b = min(batch_size, n_rows - start)
            idx = network.sample(b, tg)
            lq_parts.append(network.log_prob(idx).to(torch.float64).cpu().numpy())
            idx_parts.append(idx.cpu().numpy())
            passes += network.n + 1
    network.train(was_training)
    return np.concatenate(idx_parts), np.concatenate(lq_parts), passes


class NeuralAutoregressiveSampler:
    """I.i.d. samples x ~ q from a trained MADE (module docstring).

    Parameters
    ----------
    network : a ``MADE`` with the model's n and alphabet size.
    batch_size : rows drawn per sequential pass (default 65536).
    """

    name = "NeuralAutoregressive"
    resumable = False

    def __init__(self, network: MADE, *, batch_size: int = _BLOCK_ROWS):
        self.network = _check_network(network)
        self.batch_size = check_positive_int("batch_size", batch_size)

    def settings(self) -> dict:
        return {"name": self.name, "network": self.network.describe(), "batch_size": self.batch_size}

    def __repr__(self) -> str:
        return (f"{self.name}(network={type(self.network).__name__}(n={self.network.n}, "
                f"n_values={self.network.n_values}))")

    def sample(self, model, n_samples: int, *, seed: SeedLike = None, progress: bool = False) -> Samples:
        """``n_samples`` i.i.d. draws from the network on the model's alphabet; ``trace["log_q"]`` holds log q(x).

        ``progress`` is accepted for the common call shape (sampling is one batched pass per block).
        """
        check_network_fits_model(self.network, model)
        n_samples = check_positive_int("n_samples", n_samples)
        _, tg = _generators(seed)
        t0 = time.perf_counter()
        idx, lq, passes = _draw(self.network, n_samples, tg, self.batch_size)
        wall = time.perf_counter() - t0
        x = np.asarray(model.alphabet)[idx]
        return Samples(
            x=x, planted=None if model.planted is None else np.asarray(model.planted).copy(),
            model=model.describe(), sampler=self.settings(), seed=seed_repr(seed), trace={"log_q": lq},
            wall_time=wall, work={"network_evaluations": passes, "network_rows": n_samples * (self.network.n + 1)},
        )


class NeuralMCMC:
    """Independence Metropolis-Hastings with a MADE proposal (module docstring).

    Parameters
    ----------
    network : a ``MADE`` with the model's n and alphabet size (the proposal q).
    n_steps : MH steps of every chain before its first kept state (>= 0).
    n_chains : independent chains (default: ``n_samples``, one state per chain).
    thin : steps between kept states of a chain (>= 1).
    trace_every : record the chains' energies every ``trace_every`` steps (``trace["energy"]``).
    """

    name = "NeuralMCMC"
    resumable = False

    def __init__(self, network: MADE, n_steps: int = 100, n_chains: int | None = None, *, thin: int = 1,
                 trace_every: int = 1, batch_size: int = _BLOCK_ROWS):
        self.network = _check_network(network)
        self.n_steps = check_positive_int("n_steps", n_steps, 0)
        self.n_chains = None if n_chains is None else check_positive_int("n_chains", n_chains)
        self.thin = check_positive_int("thin", thin)
        self.trace_every = check_positive_int("trace_every", trace_every)
        self.batch_size = check_positive_int("batch_size", batch_size)

    def settings(self) -> dict:
        return {"name": self.name, "network": self.network.describe(), "n_steps": self.n_steps,
                "n_chains": self.n_chains, "thin": self.thin, "trace_every": self.trace_every}

    def __repr__(self) -> str:
        return f"{self.name}(n_steps={self.n_steps}, n_chains={self.n_chains}, thin={self.thin})"

    def sample(self, model, n_samples: int, *, seed: SeedLike = None, progress: bool = False) -> Samples:
        """Run the chains and return their kept states (module docstring for the layout).

        ``acceptance = {"mean", "per_chain"}`` counts accepted proposals over all steps run;
        ``trace = {"step", "energy" (n_chains, T), "log_ratio" (n_chains, T)}`` with log_ratio = r(x) of
        the current state.
        """
        check_network_fits_model(self.network, model)
        n_samples = check_positive_int("n_samples", n_samples)
        C = n_samples if self.n_chains is None else self.n_chains
        if n_samples % C:
            raise ValueError(f"n_samples = {n_samples} must be a multiple of n_chains = {C}")
        per_chain = n_samples // C
        total_steps = self.n_steps + (per_chain - 1) * self.thin
        keep_at = {self.n_steps + j * self.thin: j for j in range(per_chain)}  # step count -> kept index
        rng, tg = _generators(seed)
        alphabet = np.asarray(model.alphabet)
        t0 = time.perf_counter()
        idx, lq, passes = _draw(self.network, C, tg, self.batch_size)
        r = log_weight_of_index(model, idx) - lq
        energy = np.asarray(model.energy(alphabet[idx]), dtype=float)
        accepted = np.zeros(C, dtype=np.int64)
        x_out = np.empty((n_samples, model.n), dtype=alphabet.dtype)
        rows = np.arange(C) * per_chain
        trace_steps, trace_e, trace_r = [], [], []
        if 0 in keep_at:
            x_out[rows + keep_at[0]] = alphabet[idx]
        steps_per_block = max(1, self.batch_size // C)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=total_steps, desc=f"{self.name} {model.family}", unit="step")
        done = 0
        while done < total_steps:
            k = min(steps_per_block, total_steps - done)
            p_idx, p_lq, p = _draw(self.network, k * C, tg, self.batch_size)
            passes += p
            p_r = (log_weight_of_index(model, p_idx) - p_lq).reshape(k, C)
            p_idx = p_idx.reshape(k, C, model.n)
            p_e = np.asarray(model.energy(alphabet[p_idx.reshape(k * C, model.n)]), dtype=float).reshape(k, C)
            log_u = np.log(rng.random((k, C)))
            for s in range(k):
                new_r = p_r[s]
                with np.errstate(invalid="ignore"):
                    acc = (new_r > -np.inf) & ((r == -np.inf) | (log_u[s] < new_r - r))
                idx[acc] = p_idx[s, acc]
                r = np.where(acc, new_r, r)
                energy = np.where(acc, p_e[s], energy)
                accepted += acc
                step = done + s + 1
                if step % self.trace_every == 0:
                    trace_steps.append(step)
                    trace_e.append(energy.copy())
                    trace_r.append(r.copy())
                if step in keep_at:
                    x_out[rows + keep_at[step]] = alphabet[idx]
            done += k
            if bar is not None:
                bar.update(k)
        if bar is not None:
            bar.close()
        wall = time.perf_counter() - t0
        per = accepted / max(total_steps, 1)
        if total_steps == 0:
            per = np.full(C, math.nan)
        trace = {"step": np.asarray(trace_steps, dtype=np.int64),
                 "energy": np.stack(trace_e, axis=1) if trace_e else np.empty((C, 0)),
                 "log_ratio": np.stack(trace_r, axis=1) if trace_r else np.empty((C, 0))}
        settings = self.settings()
        settings["n_chains"] = C
        return Samples(
            x=x_out, planted=None if model.planted is None else np.asarray(model.planted).copy(),
            model=model.describe(), sampler=settings, seed=seed_repr(seed), chain=np.repeat(np.arange(C), per_chain),
            trace=trace, wall_time=wall,
            work={"network_evaluations": passes, "network_rows": (total_steps + 1) * C * (self.network.n + 1),
                  "mh_steps": total_steps, "chains": C},
            acceptance={"mean": float(np.mean(per)), "per_chain": per},
        )


class VariationalAutoregressive:
    """Train a MADE on the model from its energy alone (VAN, ``train_van``), then draw i.i.d. samples from it.

    The train-then-sample form of the learned autoregressive sampler, so that it runs wherever a sampler
    does (``compare``, sweeps, ``spinglass sample``).  Needs a finite ``model.beta``.

    Parameters
    ----------
    hidden : hidden width(s) of the MADE (int or list of ints).
    n_steps, batch_size, lr, beta0, anneal_fraction : ``train_van`` settings (annealed energy factor from
        beta0 to 1 over the first anneal_fraction of the steps).
    device : "auto" (CUDA when present), "cpu" or "cuda[:k]".
    architecture : "made" (default) or "pixelcnn" (models on a 2D lattice, ``model.shape`` = (L, M)): then
        ``hidden`` = [C, ...] gives C channels and len(hidden) residual blocks.
    z2 : PixelCNN only: symmetrise the network under the global spin flip.

    The seed of ``sample`` seeds the weights, the training batches and the draws; ``Samples.trace`` holds
    ``log_q`` of each sample and the training curve ``free_energy`` (per step), ``Samples.work`` the
    training steps and the network evaluations.
    """

    name = "VAN"
    resumable = False

    def __init__(self, hidden: int | list[int] = 64, n_steps: int = 500, batch_size: int = 500, lr: float = 1e-3,
                 beta0: float = 0.1, anneal_fraction: float = 0.5, device: str = "auto", architecture: str = "made",
                 z2: bool = False):
        hs = [hidden] if isinstance(hidden, int | np.integer) else list(hidden)
        if not hs:
            raise ValueError("hidden must be a positive integer or a non-empty list of them, got []")
        self.hidden = [check_positive_int("hidden", h) for h in hs]
        self.n_steps = check_positive_int("n_steps", n_steps)
        self.batch_size = check_positive_int("batch_size", batch_size, 2)
        self.lr = check_real("lr", lr, minimum=0.0, strict_min=True)
        self.beta0 = check_real("beta0", beta0, minimum=0.0, maximum=1.0)
        self.anneal_fraction = check_real("anneal_fraction", anneal_fraction, minimum=0.0, maximum=1.0)
        if not isinstance(device, str):
            raise TypeError(f"device must be a string ('auto', 'cpu', 'cuda[:k]'), got {type(device).__name__}")
        self.device = device
        if architecture not in ("made", "pixelcnn"):
            raise ValueError(f"architecture must be 'made' or 'pixelcnn', got {architecture!r}")
        if not isinstance(z2, bool):
            raise TypeError(f"z2 must be a bool, got {z2!r}")
        if z2 and architecture != "pixelcnn":
            raise ValueError("z2=True needs architecture='pixelcnn'")
        self.architecture = architecture
        self.z2 = z2

    def settings(self) -> dict:
        s = {"name": self.name, "hidden": list(self.hidden), "n_steps": self.n_steps,
             "batch_size": self.batch_size, "lr": self.lr, "beta0": self.beta0,
             "anneal_fraction": self.anneal_fraction, "device": self.device}
        if self.architecture != "made":  # recorded when used, so that earlier MADE runs keep their identity
            s.update(architecture=self.architecture, z2=self.z2)
        return s

    def _network(self, model, seed: int):
        if self.architecture == "made":
            return MADE(model.n, model.n_values, self.hidden, seed=seed)
        shape = getattr(model, "shape", None)
        if shape is None or len(shape) != 2 or model.n_values != 2:
            raise ValueError(f"architecture='pixelcnn' needs Ising spins on a 2D lattice (model.shape = (L, M)), "
                             f"got {model.family} with shape {shape}")
        return PixelCNN(shape[0], shape[1], channels=self.hidden[0], n_blocks=len(self.hidden), z2=self.z2,
                        seed=seed)

    def sample(self, model, n_samples: int, *, seed: SeedLike = None, progress: bool = False) -> Samples:
        from .autoregressive_training import train_van

        n_samples = check_positive_int("n_samples", n_samples)
        if model.alphabet is None:
            raise TypeError(f"{model.family} has a continuous prior: VAN needs a finite alphabet")
        rng = make_rng(seed)
        weights_seed, train_seed, draw_seed = (int(s) for s in rng.integers(0, 2**31 - 1, size=3))
        t0 = time.perf_counter()
        net = self._network(model, weights_seed)
        fit = train_van(net, model, n_steps=self.n_steps, batch_size=self.batch_size, lr=self.lr, beta0=self.beta0,
                        anneal_fraction=self.anneal_fraction, seed=train_seed, device=self.device,
                        progress=progress)
        out = NeuralAutoregressiveSampler(net).sample(model, n_samples, seed=draw_seed)
        out.sampler = self.settings()
        out.seed = seed_repr(seed)
        out.trace["free_energy"] = np.asarray(fit.free_energy)
        out.work = {**out.work, "training_steps": self.n_steps}
        out.wall_time = time.perf_counter() - t0
        return out
