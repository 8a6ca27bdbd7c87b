r"""Training data for amortised denoisers without MCMC: fresh planted pairs of the spiked Wigner model.

Why planted pairs are exact posterior data
------------------------------------------
``spinglass.SpikedWigner(n, lam, prior, seed)`` draws x* ~ p0^n and the observation
Y_ij = sqrt(lam/n) x*_i x*_j + W_ij (i < j, W_ij ~ N(0, 1), Y symmetric, zero diagonal), and its posterior
is the model with couplings J = sqrt(lam/n) Y (``model.couplings``).  The pair (J, x*) is one exact draw
of the joint law, so x* is an exact posterior sample given J (Nishimori).  With a side observation
y_t = t x* + sqrt(t) z (z ~ N(0, I_n)) the posterior mean E[x | J, y_t] minimises

    L(m) = E_{J, x*, t, z} || m(J, y_t, t) - x* ||^2 / n

over all functions m of (J, y_t, t): the denoising loss of ``samplers.neural.denoiser`` with the instance J
as an extra input.  Fresh (J, x*, t, z) at every step make the training set infinite (no over-fitting to
instances) and need no sampler of the posterior.

The law of an instance (both backends)
--------------------------------------
    x*_i ~ p0 i.i.d. (``prior.sample``),  J_ij = J_ji = (lam/n) x*_i x*_j + sqrt(lam/n) W_ij (i < j),  J_ii = 0,

with W_ij ~ N(0, 1) independent.  ``backend="spinglass"`` builds every instance with the model's own
constructor ``SpikedWigner(n, lam, prior, seed)`` (seed drawn from the torch generator) and returns
``model.couplings`` / ``model.planted``: the reference, O(n^2) numpy work per instance.  ``backend="torch"``
(default, several times faster) draws x* with the same ``prior.sample`` (numpy generator seeded from the
torch generator) and the noise as W = (G + G^T) / sqrt(2) with G_ij i.i.d. N(0, 1) (``torch.randn`` on the
CPU, in the output dtype): W is symmetric and its entries above the diagonal are i.i.d. N(0, 1), the law of
the model's W.  ``tests/test_neural_amortised.py`` checks that both backends give the same law (moments of
the noise entries, the spike, the prior frequencies, and two-sample tests against ``SpikedWigner`` on
instance-level statistics).

Side channel and path times
---------------------------
Each instance carries R = ``rows_per_instance`` side observations, each with its own t and z:
t = 0 with probability ``p_zero`` and otherwise log t ~ U[log t_min, log t_max] (the distribution of
``samplers.neural.denoiser.denoising_loss``), or a fixed t given to :meth:`PlantedSpikedWigner.draw`.
``lam`` is one SNR, or a range (lo, hi) from which each instance draws lam ~ U[lo, hi] (amortising over the
SNR as well; the network receives lam with the instance).

Erasure channel (``channel="erasure"``, the autoregressive path)
---------------------------------------------------------------
Instead of (t, z), each row draws a revealed fraction theta ~ U[theta_lo, theta_hi] (default [0, 1]) and
reveals x* on a *uniformly random subset of exactly k = round(theta n) sites* (not Bernoulli(theta) per
site): under an exact autoregressive sampler the query after k steps is (J, x_S) with S a uniform k-set and
x_S an exact sample of the posterior's marginal on S, i.e. the law of (J, x*_S) by Nishimori, and the drivers
query k = 0, r, 2r, ... exactly.  The target is then E[x | J, x_S = x*_S], which minimises the same squared
loss.  The batch carries ``revealed`` (I, R, n): the prior's value index of x*_i (index into the sorted
alphabet ``prior.values``, the protocol's convention) on revealed sites, -1 on free ones; y = 0 and t = 0.
A finite alphabet is needed (a ``DiscretePrior``); ``"gaussian"`` (default) is the side channel above and
its draws are unchanged by the option.

Randomness: every draw consumes, from one CPU ``torch.Generator``, in order: lam (range only), one 63-bit
seed per instance (for x*, and for the model with the spinglass backend), G (torch backend), then t and z
(Gaussian channel) or theta (I, R) and one uniform per site (I, R, n), whose ranks choose the revealed
subsets (erasure channel).  The same generator state and dtype give bit-for-bit the same batch on any machine.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from spinglass.priors import DiscretePrior, Prior
from spinglass.spiked import SpikedWigner

from .denoiser import _draw_t, _pos_real, check_time_law
from .training import check_positive_int

__all__ = ["CHANNELS", "PlantedBatch", "PlantedSpikedWigner"]

BACKENDS = ("torch", "spinglass")
CHANNELS = ("gaussian", "erasure")


@dataclass
class PlantedBatch:
    """I planted instances with R side observations each.

    J : (I, n, n) couplings.  lam : (I,) SNR of each instance.  x : (I, n) planted configurations.
    t : (I, R) path times.  y : (I, R, n) side observations y = t x + sqrt(t) z.
    revealed : None (Gaussian channel) or (I, R, n) int64 value indices of x* on revealed sites, -1 on free ones
    (erasure channel; then y = 0 and t = 0).
    """

    J: torch.Tensor
    lam: torch.Tensor
    x: torch.Tensor
    t: torch.Tensor
    y: torch.Tensor
    revealed: torch.Tensor | None = None

    def to(self, device) -> PlantedBatch:
        return PlantedBatch(*(getattr(self, k).to(device) for k in ("J", "lam", "x", "t", "y")),
                            revealed=None if self.revealed is None else self.revealed.to(device))

    @property
    def theta(self) -> torch.Tensor | None:
        """(I, R) revealed fraction of each row (erasure channel), None on the Gaussian channel."""
        return None if self.revealed is None else (self.revealed >= 0).to(self.y.dtype).mean(dim=-1)


def positive_range(name: str, value) -> tuple[float, float]:
    """``value`` (a real > 0, or a pair (lo, hi) of them) as a range (lo, hi), lo == hi for one value;
    ValueError / TypeError naming ``name``.  Shared by the planted-pair generators (lam, c, alpha)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        v = float(value)
        if not math.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be a finite real number > 0 or a range (lo, hi), got {v}")
        return v, v
    if isinstance(value, Sequence) and not isinstance(value, str | bytes) and len(value) == 2:
        lo, hi = (_pos_real(name, v) for v in value)
        if hi < lo:
            raise ValueError(f"{name} range must have lo <= hi, got ({lo}, {hi})")
        return lo, hi
    raise TypeError(f"{name} must be a real number > 0 or a pair (lo, hi), got {type(value).__name__} {value!r}")


def check_theta_range(theta) -> tuple[float, float]:
    """``theta`` as a range (lo, hi) with 0 <= lo <= hi <= 1 (the erasure channel's revealed fraction)."""
    if (not isinstance(theta, Sequence) or isinstance(theta, str | bytes) or len(theta) != 2
            or any(isinstance(v, bool) or not isinstance(v, numbers.Real) for v in theta)
            or not 0.0 <= float(theta[0]) <= float(theta[1]) <= 1.0):
        raise ValueError(f"theta must be a range (lo, hi) with 0 <= lo <= hi <= 1, got {theta!r}")
    return float(theta[0]), float(theta[1])


def check_cpu_generator(generator) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if generator.device.type != "cpu":
        raise ValueError(f"generator must live on the CPU (draws are device independent), got {generator.device}")
    return generator


class PlantedSpikedWigner:
    r"""Fresh planted spiked-Wigner instances with side observations (module docstring).

    Parameters
    ----------
    n : number of variables (>= 2).
    lam : SNR lam = 1/Delta (> 0), or a range (lo, hi) drawn uniformly per instance.
    prior : a ``spinglass.priors.Prior`` (Rademacher, SparseRademacher(rho), Gaussian, any ``DiscretePrior``).
    rows_per_instance : R, side observations (t, z) per instance (>= 1).
    t_min, t_max : range of the log-uniform t (0 < t_min < t_max).  p_zero : probability of t = 0, in [0, 1).
    backend : "torch" (default) or "spinglass" (the model's constructor; slower reference).
    dtype : torch.float32 (default) or torch.float64 for the returned tensors (draws are made in float64).
    channel : "gaussian" (default: side observation y_t) or "erasure" (x* revealed on a uniform random subset of
        round(theta n) sites, theta ~ U[theta]; needs a ``DiscretePrior``).  The Gaussian draws do not depend on it.
    theta : (lo, hi) range of the revealed fraction, 0 <= lo <= hi <= 1 (erasure channel; default (0, 1)).
    """

    #: order of the interaction (the spiked tensor's generator, ``PlantedSpikedTensor``, has p >= 3)
    p = 2

    def __init__(self, n: int, lam: float | tuple[float, float], prior: Prior, *, rows_per_instance: int = 16,
                 t_min: float = 1e-2, t_max: float = 100.0, p_zero: float = 0.05, backend: str = "torch",
                 dtype: torch.dtype = torch.float32, channel: str = "gaussian",
                 theta: tuple[float, float] = (0.0, 1.0)):
        self.n = check_positive_int("n", n, 2)
        self.lam_range = positive_range("lam", lam)
        if not isinstance(prior, Prior):
            raise TypeError(f"prior must be a spinglass.priors.Prior, got {type(prior).__name__}")
        self.prior = prior
        self.rows_per_instance = check_positive_int("rows_per_instance", rows_per_instance, 1)
        self.t_min, self.t_max, self.p_zero = check_time_law(t_min, t_max, p_zero)
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.backend = backend
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        self.dtype = dtype
        if channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
        if channel == "erasure" and not isinstance(prior, DiscretePrior):
            raise ValueError(f"channel='erasure' reveals values of a finite alphabet: prior must be a DiscretePrior, "
                             f"got {type(prior).__name__}")
        self.channel = channel
        self.theta = check_theta_range(theta)

    def describe(self) -> dict:
        lo, hi = self.lam_range
        d = {"name": "PlantedSpikedWigner", "n": self.n, "lam": lo if lo == hi else [lo, hi],
             "prior": self.prior.describe(), "rows_per_instance": self.rows_per_instance, "t_min": self.t_min,
             "t_max": self.t_max, "p_zero": self.p_zero, "backend": self.backend}
        if self.channel == "erasure":
            d.update({"channel": "erasure", "theta": list(self.theta)})
        return d

    # -- instances ------------------------------------------------------------------------------------------
    def _lams(self, count: int, gen: torch.Generator) -> torch.Tensor:
        lo, hi = self.lam_range
        if lo == hi:
            return torch.full((count,), lo, dtype=torch.float64)
        return lo + (hi - lo) * torch.rand(count, generator=gen, dtype=torch.float64)

    def instances(self, count: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``count`` fresh instances (J (I, n, n), lam (I,), x* (I, n)) drawn with ``generator`` (CPU)."""
        count = check_positive_int("count", count, 1)
        gen = check_cpu_generator(generator)
        n = self.n
        lams = self._lams(count, gen)
        seeds = torch.randint(0, 2**63 - 1, (count,), generator=gen, dtype=torch.int64).tolist()
        if self.backend == "spinglass":
            Js, xs = [], []
            for lam, seed in zip(lams.tolist(), seeds, strict=True):
                model = SpikedWigner(n, lam, self.prior, seed=int(seed))
                Js.append(np.asarray(model.couplings, dtype=float))
                xs.append(np.asarray(model.planted, dtype=float))
            J = torch.as_tensor(np.stack(Js))
            x = torch.as_tensor(np.stack(xs))
        else:
            x = torch.as_tensor(np.stack([self.prior.sample(n, seed=np.random.default_rng(int(s))) for s in seeds]),
                                dtype=self.dtype)
            # (G + G^T) / sqrt(2) for G with i.i.d. N(0, 1) entries is symmetric with i.i.d. N(0, 1) entries above
            # the diagonal: the law of W_ij (i < j) without a triangular copy
            G = torch.randn((count, n, n), generator=gen, dtype=self.dtype)
            scale = torch.sqrt(lams / n).to(self.dtype)[:, None, None]
            J = G + G.transpose(1, 2)
            J.mul_(scale * math.sqrt(0.5)).add_(scale**2 * (x[:, :, None] * x[:, None, :]))
            J.diagonal(dim1=1, dim2=2).zero_()
        return J.to(self.dtype), lams.to(self.dtype), x.to(self.dtype)

    def side_channel(self, x: torch.Tensor, t: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """y = t x + sqrt(t) z for x (I, n) and t (I, R): (I, R, n), z drawn from ``generator`` (float64)."""
        gen = check_cpu_generator(generator)
        if x.ndim != 2 or t.ndim != 2 or t.shape[0] != x.shape[0]:
            raise ValueError(f"x must be (I, n) and t (I, R) with the same I, got {tuple(x.shape)}, {tuple(t.shape)}")
        z = torch.randn((t.shape[0], t.shape[1], x.shape[1]), generator=gen, dtype=torch.float64)
        t64 = t.to(torch.float64)
        y = t64[:, :, None] * x.to(torch.float64)[:, None, :] + torch.sqrt(t64)[:, :, None] * z
        return y.to(self.dtype)

    def erasure_channel(self, x: torch.Tensor, theta: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Revealed value indices (I, R, n) for x (I, n) and revealed fractions theta (I, R): row (i, r) reveals
        x_i on the round(theta n) sites of smallest rank of n uniforms drawn from ``generator`` (a uniform subset
        of that size), -1 elsewhere."""
        gen = check_cpu_generator(generator)
        if x.ndim != 2 or theta.ndim != 2 or theta.shape[0] != x.shape[0]:
            raise ValueError(f"x must be (I, n) and theta (I, R) with the same I, got {tuple(x.shape)}, "
                             f"{tuple(theta.shape)}")
        I, R = theta.shape
        n = x.shape[1]
        u = torch.rand((I, R, n), generator=gen, dtype=torch.float64)
        rank = torch.argsort(torch.argsort(u, dim=-1), dim=-1)
        k = torch.round(theta.to(torch.float64) * n).to(torch.int64)
        values = torch.as_tensor(np.array(self.prior.values, dtype=float), dtype=torch.float64)
        index = torch.argmin((x.to(torch.float64)[..., None] - values).abs(), dim=-1)  # (I, n)
        return torch.where(rank < k[..., None], index[:, None, :].expand(I, R, n),
                           torch.full((I, R, n), -1, dtype=torch.int64))

    def draw(self, count: int, generator: torch.Generator, *, t: float | None = None,
             theta: float | None = None) -> PlantedBatch:
        """``count`` fresh instances with R queries each (module docstring), on the CPU.

        t : Gaussian channel: None (t drawn per row: p_zero δ_0 + (1 - p_zero) LogUniform[t_min, t_max]) or a
            fixed t >= 0.  theta : erasure channel: None (theta ~ U[theta range] per row) or a fixed fraction in
            [0, 1].  Giving the other channel's parameter is a ValueError.
        """
        if self.channel == "erasure":
            if t is not None:
                raise ValueError("t: the erasure channel has no path time (use theta)")
            if theta is not None and (isinstance(theta, bool) or not isinstance(theta, numbers.Real)
                                      or not 0.0 <= float(theta) <= 1.0):
                raise ValueError(f"theta must be a real number in [0, 1], got {theta!r}")
        elif theta is not None:
            raise ValueError("theta: the Gaussian channel reveals no variable (use t, or channel='erasure')")
        J, lams, x = self.instances(count, generator)
        R = self.rows_per_instance
        if self.channel == "erasure":
            lo, hi = self.theta
            th = (torch.full((count, R), float(theta), dtype=torch.float64) if theta is not None
                  else lo + (hi - lo) * torch.rand((count, R), generator=generator, dtype=torch.float64))
            revealed = self.erasure_channel(x, th, generator)
            zeros = torch.zeros((count, R), dtype=self.dtype)
            return PlantedBatch(J=J, lam=lams, x=x, t=zeros, y=torch.zeros((count, R, self.n), dtype=self.dtype),
                                revealed=revealed)
        if t is None:
            tt = _draw_t(count * R, generator, self.t_min, self.t_max, self.p_zero, torch.float64).reshape(count, R)
        else:
            tt = torch.full((count, R), _pos_real("t", t, allow_zero=True), dtype=torch.float64)
        y = self.side_channel(x, tt, generator)
        return PlantedBatch(J=J, lam=lams, x=x, t=tt.to(self.dtype), y=y)
