r"""The amortised unrolled AMP for the planted p-spin (spiked tensor): fresh planted pairs and the network.

Model (``spinglass.SpikedTensor``, order p, e = {i_1 < ... < i_p}): Y_e = s_p prod_{i in e} x*_i + sqrt(Delta) W_e
with s_p = sqrt((p-1)!/N^(p-1)), W_e ~ N(0, 1), and the posterior's weights w_e = s_p Y_e / Delta.  The planted
p-spin at temperature T is Delta = 2 T^2 / p (``SpikedTensor.from_temperature``); the prior is Rademacher (Ising
p-spin) or Gaussian N(0, 1) (the spherical model's Gaussian relaxation used by the study).

Dense form of an instance.  The network reads the weights as a symmetric dense tensor with p axes,

    T_{i_1 ... i_p} = w_{sorted(i_1, ..., i_p)}  for distinct indices,  0 when two indices coincide,

so that the AMP field of site i is sum_{e ∋ i} w_e prod_{j in e \ i} f_j = (1/(p-1)!) sum_{j_2..j_p} T_{i j_2..j_p}
f_{j_2} ... f_{j_p}: one batched matrix product (I, n^(p-1), n) x (I, n, R) followed by p - 2 cheap contractions,
O(I R n^p) per layer.  It holds n^p numbers per instance (n = 120, p = 3: 1.7 M, 7 MB in float32), so this form
is meant for the sizes where the dense p = 3 AMP runs (``samplers.denoisers.amp``: O(N^3) per iteration too).

Network (:class:`AmortisedTensorAMP`).  The layers of ``AmortisedAMP`` with the tensor's AMP (Lesieur, Miolane,
Lelarge, Krzakala, Zdeborová, ISIT 2017; the form and the derivation of the reaction term are in
``samplers.denoisers.amp``), lam = 1/Delta:

    omega_k = (p-1) lam <v^k> <f^k f^{k-1}>^(p-2) (1 + a_k),     g^k = lam <(f^k)^2>^(p-1) exp(b_k) + t,
    r^k     = y + (1 + c_k) T(f^k) - omega_k f^{k-1},

and the same learned per-site correction C_k and row features (phi(t), <f^2>, <v>, log lam).  With a = b = c = 0
and C = 0 every layer is one step of ``AMPDenoiser`` on the ``SpikedTensor`` (tested to float64 round-off in
``tests/test_neural_tensor.py``), so the untrained network is L AMP iterations from the prior start.  The
parameter count is ``AmortisedAMP``'s (independent of n and of p).  Everything else, ``bind`` /
``AmortisedDenoiser`` behind the ``Denoiser`` protocol, warm starts, passes, ``train_amortised_denoiser`` and
``planted_mse``, works unchanged; so does the erasure path (``erasure=True``: revealed sites clamped, f_i = x_i,
v_i = 0, the reaction term's <v> summing the free sites only, as ``AMPDenoiser`` on a ``SpikedTensor`` does;
the untrained erasure network equals that AMP, ``tests/test_amortised_erasure.py``).

Training data (:class:`PlantedSpikedTensor`).  As for the spiked Wigner model (``samplers.neural.planted_data``),
the pair (instance, x*) is an exact draw of the joint law, so fresh pairs with side observations y_t = t x* +
sqrt(t) z train the posterior mean without any sampler.  T is one temperature or a range (lo, hi), drawn
uniformly per instance (amortising over the temperature; the network receives lam = p / (2 T^2)).  The
``"torch"`` backend draws the noise as a symmetrised Gaussian tensor: for G with i.i.d. N(0, 1) entries,
W_{i_1..i_p} = G_{sorted(i_1..i_p)} is exactly symmetric and its entries at distinct sorted indices are i.i.d.
N(0, 1), the law of the model's W_e (the draws at unsorted positions are discarded); the ``"spinglass"`` backend builds
every instance with ``SpikedTensor`` itself (the slower reference).  Randomness per draw, from one CPU torch
generator: T (range only), one 63-bit seed per instance (x*, and the model with the spinglass backend), G, t, z.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch

from spinglass.priors import Prior
from spinglass.spiked import SpikedTensor

from .amortised_amp import AmortisedAMP
from .planted_data import PlantedSpikedWigner, check_cpu_generator, positive_range
from .training import check_positive_int

__all__ = ["MAX_DENSE_ENTRIES", "dense_weights", "PlantedSpikedTensor", "AmortisedTensorAMP"]

#: Largest n^p a dense instance may hold (2^27 numbers: 512 MB in float32; n = 512 at p = 3).
MAX_DENSE_ENTRIES = 1 << 27


def _check_dense_size(n: int, p: int) -> None:
    if n**p > MAX_DENSE_ENTRIES:
        raise ValueError(f"n = {n} with p = {p} needs n^p = {n**p} dense entries per instance > {MAX_DENSE_ENTRIES}; "
                         "reduce n")


def _offdiagonal_mask(n: int, p: int, dtype: torch.dtype) -> torch.Tensor:
    """1 where the p indices are pairwise distinct, 0 elsewhere (shape (n,) * p)."""
    idx = torch.arange(n)
    grids = torch.meshgrid(*([idx] * p), indexing="ij")
    mask = torch.ones((n,) * p, dtype=torch.bool)
    for a, b in itertools.combinations(range(p), 2):
        mask &= grids[a] != grids[b]
    return mask.to(dtype)


def _sorted_flat_index(n: int, p: int) -> torch.Tensor:
    """For every index tuple (i_1, ..., i_p), the flat position of the sorted tuple in an (n,) * p array."""
    grids = torch.meshgrid(*([torch.arange(n)] * p), indexing="ij")
    ordered = torch.sort(torch.stack([g.reshape(-1) for g in grids]), dim=0).values
    flat = torch.zeros(n**p, dtype=torch.int64)
    for axis in range(p):
        flat = flat * n + ordered[axis]
    return flat


def dense_weights(model: SpikedTensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The symmetric dense tensor T (n,) * p of a ``SpikedTensor``'s weights (module docstring), on the CPU."""
    if not isinstance(model, SpikedTensor):
        raise TypeError(f"model must be a spinglass SpikedTensor, got {type(model).__name__}")
    n, p = model.n, int(model.p)
    _check_dense_size(n, p)
    edges = np.asarray(model.hyperedges, dtype=np.int64)
    w = np.asarray(model.weights, dtype=float)
    T = np.zeros((n,) * p)
    for perm in itertools.permutations(range(p)):
        T[tuple(edges[:, list(perm)].T)] = w
    return torch.as_tensor(T, dtype=dtype)


def tensor_field(T: torch.Tensor, f: torch.Tensor, p: int) -> torch.Tensor:
    """sum_{e ∋ i} w_e prod_{j in e \\ i} f_j for every row: T (I,) + (n,) * p dense, f (I, R, n) -> (I, R, n)."""
    I, R, n = f.shape
    ft = f.transpose(1, 2)  # (I, n, R)
    u = torch.matmul(T.reshape(I, -1, n), ft)  # (I, n^(p-1), R)
    for _ in range(p - 2):
        u = (u.reshape(I, -1, n, R) * ft[:, None, :, :]).sum(dim=2)
    return u.transpose(1, 2) / math.factorial(p - 1)


class PlantedSpikedTensor(PlantedSpikedWigner):
    r"""Fresh planted spiked-tensor instances (dense form) with side observations (module docstring).

    Parameters
    ----------
    n : number of variables (>= p).  p : order of the interaction (>= 3; p = 2 is ``PlantedSpikedWigner``).
    T : temperature (> 0), or a range (lo, hi) drawn uniformly per instance; Delta = 2 T^2 / p, lam = 1/Delta.
    prior : a ``spinglass.priors.Prior`` (Rademacher: Ising p-spin; Gaussian: spherical).
    rows_per_instance, t_min, t_max, p_zero, dtype : as for ``PlantedSpikedWigner``.
    channel, theta : "gaussian" (default) or "erasure" with the revealed-fraction range, as for
        ``PlantedSpikedWigner`` (x* revealed on a uniform random subset of round(theta n) sites).
    backend : "torch" (default) or "spinglass" (``SpikedTensor`` itself, the reference).

    ``draw`` returns a ``PlantedBatch`` whose ``J`` is the dense weight tensor (I,) + (n,) * p and ``lam`` = 1/Delta.
    """

    def __init__(self, n: int, p: int, T: float | tuple[float, float], prior: Prior, *, rows_per_instance: int = 16,
                 t_min: float = 1e-2, t_max: float = 100.0, p_zero: float = 0.05, backend: str = "torch",
                 dtype: torch.dtype = torch.float32, channel: str = "gaussian",
                 theta: tuple[float, float] = (0.0, 1.0)):
        p = check_positive_int("p", p, 3)
        n = check_positive_int("n", n, p)
        _check_dense_size(n, p)
        super().__init__(n, 1.0, prior, rows_per_instance=rows_per_instance, t_min=t_min, t_max=t_max,
                         p_zero=p_zero, backend=backend, dtype=dtype, channel=channel, theta=theta)
        self.p = p
        self.T_range = positive_range("T", T)
        lo, hi = self.T_range
        self.lam_range = (p / (2.0 * hi**2), p / (2.0 * lo**2))
        self._mask: torch.Tensor | None = None

    def describe(self) -> dict:
        d = super().describe()
        lo, hi = self.T_range
        del d["lam"]
        return {**d, "name": "PlantedSpikedTensor", "p": self.p, "T": lo if lo == hi else [lo, hi]}

    def instances(self, count: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``count`` fresh instances (T (I,) + (n,) * p, lam (I,), x* (I, n)) drawn with ``generator`` (CPU)."""
        count = check_positive_int("count", count, 1)
        gen = check_cpu_generator(generator)
        n, p = self.n, self.p
        lo, hi = self.T_range
        temps = (torch.full((count,), lo, dtype=torch.float64) if lo == hi
                 else lo + (hi - lo) * torch.rand(count, generator=gen, dtype=torch.float64))
        deltas = 2.0 * temps**2 / p
        seeds = torch.randint(0, 2**63 - 1, (count,), generator=gen, dtype=torch.int64).tolist()
        if self.backend == "spinglass":
            Ts, xs = [], []
            for delta, seed in zip(deltas.tolist(), seeds, strict=True):
                model = SpikedTensor(n, p, delta, self.prior, seed=int(seed))
                Ts.append(dense_weights(model, self.dtype))
                xs.append(torch.as_tensor(np.array(model.planted, dtype=float)))
            return torch.stack(Ts), (1.0 / deltas).to(self.dtype), torch.stack(xs).to(self.dtype)
        x = torch.as_tensor(np.stack([self.prior.sample(n, seed=np.random.default_rng(int(s))) for s in seeds]),
                            dtype=self.dtype)
        G = torch.randn((count, n**p), generator=gen, dtype=self.dtype)
        if self._mask is None:
            self._mask = _offdiagonal_mask(n, p, self.dtype)
            self._sorted = _sorted_flat_index(n, p)
        W = G[:, self._sorted].reshape((count,) + (n,) * p)
        scale = math.sqrt(math.factorial(p - 1) / n ** (p - 1))
        noise = (scale / torch.sqrt(deltas)).to(self.dtype)
        signal = (scale**2 / deltas).to(self.dtype)
        spike = x
        for _ in range(p - 1):
            spike = spike[..., None] * x.reshape((count,) + (1,) * (spike.ndim - 1) + (n,))
        shape = (count,) + (1,) * p
        J = (W * noise.reshape(shape) + spike * signal.reshape(shape)) * self._mask
        return J, (1.0 / deltas).to(self.dtype), x


class AmortisedTensorAMP(AmortisedAMP):
    r"""L unrolled AMP layers of the order-p spiked tensor with learned corrections (module docstring).

    Parameters: ``p`` (>= 3), then those of ``AmortisedAMP`` (prior, n_layers, hidden, time features, seed, dtype).
    Inputs: J the dense weights (n,) * p with y (B, n), or (I,) + (n,) * p with y (I, R, n); lam = 1/Delta.
    """

    def __init__(self, prior: Prior, p: int = 3, n_layers: int = 16, hidden: int = 16, **kwargs):
        super().__init__(prior, n_layers, hidden, **kwargs)
        self.p = check_positive_int("p", p, 3)
        self.hparams["p"] = self.p

    def _linear(self, J: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
        return tensor_field(J, f, self.p)

    def _reaction_and_snr(self, lam, q, vbar, f, f_prev, a, b, t) -> tuple[torch.Tensor, torch.Tensor]:
        p = self.p
        cross = (f * f_prev).mean(dim=-1)
        omega = (p - 1) * lam * vbar * cross ** (p - 2) * (1.0 + a)
        return omega, lam * q ** (p - 1) * torch.exp(b) + t

    def instance_of(self, model) -> tuple[torch.Tensor, float]:
        """(dense weights, lam = 1/Delta) of a ``SpikedTensor`` of order ``p``, in the network's dtype and device."""
        if not isinstance(model, SpikedTensor):
            raise TypeError(f"model must be a spinglass SpikedTensor, got {type(model).__name__}")
        if int(model.p) != self.p:
            raise ValueError(f"model has order p = {model.p} but the network was built for p = {self.p}")
        return dense_weights(model, self.dtype).to(self.device), 1.0 / float(model.Delta)
