r"""A masked-convolution autoregressive network for Ising spins on an L x M lattice (PixelCNN-style).

The network defines a normalised law on x in {-1, +1}^{L x M} by the chain rule in raster order
(row-major, site i = r·M + c, the index of ``spinglass.lattice``):

    q(x) = prod_i q(x_i | x_{<i}),    q(x_i = +1 | x_{<i}) = sigmoid(l_i(x_{<i})),
    log q(x_i | x_{<i}) = log sigmoid(x_i · l_i),

where the logit l_i of site (r, c) depends only on the sites before it in raster order.  Input to the
network: the spins as one channel of values ±1 (0 outside the lattice).  Layers:

* a type-A masked convolution, 1 -> C channels, kernel (h0 + 1) x (2 h0 + 1) covering the h0 rows above
  and the current row; in the current row only the columns strictly left of the centre are kept (the site
  itself is *excluded*);
* ``n_blocks`` residual blocks  y <- y + W_b * phi(y)  with type-B masked convolutions C -> C, kernel
  (h + 1) x (2 h + 1) (the current row up to and *including* the centre: after a type-A layer the centre
  only carries information about earlier sites);
* the output  l = w_out · phi(y) + b_out  (a 1 x 1 convolution, C -> 1).

The kernels only look upwards, so the convolutions are "valid" in the vertical direction: the input is
padded with R = h0 + n_blocks · h zero rows on top and every layer consumes h (resp. h0) rows; horizontally
each layer zero-pads h columns on both sides.  The logits of row r are then a function of the input rows
r - R .. r only, which the sampler uses: it evaluates the network on that (R + 1)-row window for each
site instead of on the whole lattice (the same numbers, L / (R + 1) times less work).

Parameters:  C(h0 + 1)(2h0 + 1) + C  +  n_blocks (C^2 (h + 1)(2h + 1) + C)  +  C + 1  (masked entries
counted, as ``count_parameters`` reports); independent of L.

Z2 symmetrisation (``z2=True``; Wu, Wang & Zhang, PRL 122, 080602 (2019)):  the model is the mixture

    q_sym(x) = (q(x) + q(-x)) / 2,    log q_sym(x) = logaddexp(log q(x), log q(-x)) - log 2,

sampled by drawing x ~ q and flipping every spin with probability 1/2.  It is exactly invariant under
x -> -x, as the zero-field Ising law is, so a network that learns one of the two ordered states still
gives both their weight below T_c.

Alphabet indices: index 0 is spin -1 and index 1 is spin +1 (``model.alphabet = [-1, 1]``), as for MADE.
Weights are initialised U(-1/sqrt(f), 1/sqrt(f)) with f the number of unmasked inputs of a unit, from a
CPU generator seeded with ``seed`` (construction does not touch torch's global random state).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .made import MADE
from .training import NetworkModule, NonFiniteLossError, check_positive_int

__all__ = ["PixelCNN"]

_ACTIVATIONS = {"relu": F.relu, "tanh": torch.tanh, "gelu": F.gelu, "silu": F.silu}


def conv_mask(half: int, *, include_centre: bool) -> torch.Tensor:
    """0/1 mask of shape (half + 1, 2 half + 1): rows above all ones; in the last (current) row the columns
    left of the centre, and the centre iff ``include_centre`` (type B) or not (type A)."""
    mask = torch.ones(half + 1, 2 * half + 1)
    mask[half, half + (1 if include_centre else 0):] = 0.0
    return mask


class PixelCNN(NetworkModule):
    """Masked-convolution autoregressive network on an L x M lattice of ±1 spins (module docstring).

    Parameters
    ----------
    L, M : rows and columns (>= 1 each; M defaults to L); n = L·M sites in raster order.
    channels : width C of the hidden layers (>= 1).
    n_blocks : residual blocks after the first layer (>= 0).
    half_kernel : h of the type-B kernels, (h + 1) x (2h + 1) (>= 1).
    first_half_kernel : h0 of the type-A kernel (>= 1; default ``2 * half_kernel + 1``).
    z2 : symmetrise under global spin flip (module docstring).
    activation : "relu", "tanh", "gelu" or "silu".
    seed : seed of the weight initialisation (int >= 0).
    dtype : torch.float32 or torch.float64.
    """

    n_values = 2

    def __init__(self, L: int, M: int | None = None, *, channels: int = 16, n_blocks: int = 2,
                 half_kernel: int = 1, first_half_kernel: int | None = None, z2: bool = False,
                 activation: str = "gelu", seed: int = 0, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.L = check_positive_int("L", L, 1)
        self.M = self.L if M is None else check_positive_int("M", M, 1)
        self.n = self.L * self.M
        self.channels = check_positive_int("channels", channels, 1)
        self.n_blocks = check_positive_int("n_blocks", n_blocks, 0)
        self.half_kernel = check_positive_int("half_kernel", half_kernel, 1)
        h0 = 2 * self.half_kernel + 1 if first_half_kernel is None else first_half_kernel
        self.first_half_kernel = check_positive_int("first_half_kernel", h0, 1)
        if not isinstance(z2, bool):
            raise TypeError(f"z2 must be a bool, got {z2!r}")
        self.z2 = z2
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        self.activation = activation
        self._act = _ACTIVATIONS[activation]
        self.seed = check_positive_int("seed", seed, 0)
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        self.rows_above = self.first_half_kernel + self.n_blocks * self.half_kernel  # R
        gen = torch.Generator(device="cpu").manual_seed(self.seed)
        C = self.channels
        self.register_buffer("mask_a", conv_mask(self.first_half_kernel, include_centre=False).to(dtype),
                             persistent=False)
        self.register_buffer("mask_b", conv_mask(self.half_kernel, include_centre=True).to(dtype),
                             persistent=False)
        self.w_first, self.b_first = self._init((C, 1), self.mask_a, gen, dtype)
        self.w_blocks = nn.ParameterList()
        self.b_blocks = nn.ParameterList()
        for _ in range(self.n_blocks):
            w, b = self._init((C, C), self.mask_b, gen, dtype)
            self.w_blocks.append(w)
            self.b_blocks.append(b)
        self.w_out, self.b_out = self._init((1, C), torch.ones(1, 1, dtype=dtype), gen, dtype)
        self.hparams = {"L": self.L, "M": self.M, "channels": C, "n_blocks": self.n_blocks,
                        "half_kernel": self.half_kernel, "first_half_kernel": self.first_half_kernel, "z2": z2,
                        "activation": activation, "seed": self.seed, "dtype": str(dtype).replace("torch.", "")}

    @staticmethod
    def _init(shape, mask, gen, dtype):
        out_ch, in_ch = shape
        fan_in = max(float(mask.sum()) * in_ch, 1.0)
        bound = 1.0 / math.sqrt(fan_in)
        w = torch.empty((out_ch, in_ch, *mask.shape), dtype=dtype).uniform_(-bound, bound, generator=gen)
        b = torch.empty(out_ch, dtype=dtype).uniform_(-bound, bound, generator=gen)
        return nn.Parameter(w * mask), nn.Parameter(b)

    # -- bookkeeping ---------------------------------------------------------------------------------
    @staticmethod
    def parameter_count(channels: int, n_blocks: int, half_kernel: int, first_half_kernel: int) -> int:
        """The parameter-count formula of the module docstring, without building the network."""
        C, h, h0 = channels, half_kernel, first_half_kernel
        return C * (h0 + 1) * (2 * h0 + 1) + C + n_blocks * (C * C * (h + 1) * (2 * h + 1) + C) + C + 1

    def describe(self) -> dict:
        """JSON-friendly settings (the constructor's arguments) and the parameter count."""
        return {"name": "PixelCNN", **self.hparams, "n": self.n, "n_parameters": self.n_parameters}

    def extra_repr(self) -> str:
        return (f"L={self.L}, M={self.M}, channels={self.channels}, n_blocks={self.n_blocks}, "
                f"half_kernel={self.half_kernel}, first_half_kernel={self.first_half_kernel}, z2={self.z2}, "
                f"n_parameters={self.n_parameters}")

    def check_index(self, idx, name: str = "idx") -> torch.Tensor:
        """Validate ``idx`` of shape (B, n) with entries in {0, 1} and return it as int64 on the device."""
        return MADE.check_index(self, idx, name)

    # -- the network -----------------------------------------------------------------------------------
    def _trunk(self, spins: torch.Tensor) -> torch.Tensor:
        """Logits (B, rows - R, M) from spins (B, rows, M) whose first R rows are the rows above the output."""
        h0, h = self.first_half_kernel, self.half_kernel
        y = F.conv2d(F.pad(spins.unsqueeze(1), (h0, h0, 0, 0)), self.w_first * self.mask_a, self.b_first)
        for w, b in zip(self.w_blocks, self.b_blocks, strict=True):
            y = y[:, :, h:] + F.conv2d(F.pad(self._act(y), (h, h, 0, 0)), w * self.mask_b, b)
        return F.conv2d(self._act(y), self.w_out, self.b_out).squeeze(1)

    def logits(self, spins: torch.Tensor) -> torch.Tensor:
        """Logits l_i of q(x_i = +1 | x_<i) for spins (B, n) of ±1 (floats); shape (B, n)."""
        B = spins.shape[0]
        grid = spins.reshape(B, self.L, self.M).to(self.dtype)
        padded = F.pad(grid, (0, 0, self.rows_above, 0))
        return self._trunk(padded).reshape(B, self.n)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits (B, n, 2) of the raw (unsymmetrised) conditionals q(x_i = a | x_<i) for indices ``idx``."""
        idx = self.check_index(idx)
        lg = self.logits(2.0 * idx.to(self.dtype) - 1.0)
        return torch.stack([torch.zeros_like(lg), lg], dim=-1)

    def log_conditionals(self, idx: torch.Tensor) -> torch.Tensor:
        """log q(x_i = a | x_<i) of the raw (unsymmetrised) chain, shape (B, n, 2)."""
        return F.log_softmax(self(idx), dim=-1)

    def _raw_log_prob(self, spins: torch.Tensor) -> torch.Tensor:
        return F.logsigmoid(spins * self.logits(spins)).sum(dim=-1)

    def log_prob(self, idx: torch.Tensor) -> torch.Tensor:
        """log q(x) (log q_sym(x) when ``z2``) for each row of ``idx`` (B, n); shape (B,)."""
        idx = self.check_index(idx)
        spins = 2.0 * idx.to(self.dtype) - 1.0
        if not self.z2:
            return self._raw_log_prob(spins)
        both = self._raw_log_prob(torch.cat([spins, -spins], dim=0))
        B = spins.shape[0]
        return torch.logaddexp(both[:B], both[B:]) - math.log(2.0)

    @torch.no_grad()
    def sample(self, n_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n_samples`` i.i.d. draws x ~ q (q_sym when ``z2``), indices (n_samples, n) on the module's device.

        Site by site in raster order with uniforms from ``generator`` (a CPU ``torch.Generator``; None =
        torch's global CPU stream); each site's logit is computed on the (R + 1)-row window above it.
        With ``z2`` one more uniform per row decides the global flip.
        """
        n_samples = check_positive_int("n_samples", n_samples, 1)
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
        if generator is not None and generator.device.type != "cpu":
            raise ValueError("generator must be a CPU torch.Generator")
        L, M, R = self.L, self.M, self.rows_above
        u = torch.rand((self.n, n_samples), generator=generator, dtype=torch.float64).to(self.device)
        flip = torch.rand(n_samples, generator=generator, dtype=torch.float64).to(self.device) < 0.5 \
            if self.z2 else None
        grid = torch.zeros((n_samples, R + L, M), dtype=self.dtype, device=self.device)
        for r in range(L):
            window = grid[:, r:r + R + 1]
            for c in range(M):
                lg = self._trunk(window)[:, 0, c].to(torch.float64)
                p_up = torch.sigmoid(lg)
                if not torch.isfinite(p_up).all():
                    raise NonFiniteLossError(f"non-finite conditional probabilities at site ({r}, {c}): the "
                                             "network's weights have diverged")
                grid[:, R + r, c] = torch.where(u[r * M + c] < p_up, 1.0, -1.0).to(self.dtype)
        spins = grid[:, R:].reshape(n_samples, self.n)
        if flip is not None:
            spins = torch.where(flip[:, None], -spins, spins)
        return (spins > 0).to(torch.int64)
