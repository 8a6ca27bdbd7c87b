r"""MADE: a masked autoregressive network over n discrete variables (Germain et al., ICML 2015).

The network defines a normalised distribution on {0..K-1}^n by the chain rule along an order pi
(a permutation of the sites; identity by default):

    q(s) = prod_{k=1}^{n} q(s_{pi(k)} | s_{pi(1)}, ..., s_{pi(k-1)}),
    q(s_i = a | s_{<i}) = softmax_a( l_{i,a}(s) ),

where the logits l_i(s) of site i depend only on the sites earlier than i in the order.  This is the
neural version of the erasure / decimation path of docs/physics.md §2: the conditionals are the network's
guess of the erasure-channel marginals, and sampling is the decimation, one site per forward pass.

Architecture.  Input: the one-hot encoding of s, (B, n, K) flattened to D = nK units, unit i·K + a for
site i, value a.  Hidden layers of widths H_1, ..., H_L with activation phi; output: D logits reshaped to
(B, n, K).  Every layer is a dense affine map whose weight matrix is multiplied elementwise by a fixed 0/1
mask built from *degrees*: with rank(i) the position (0-based) of site i in the order,

* input and output units of site i have degree d(i) = rank(i) + 1 in {1..n};
* hidden unit k of every layer has degree m(k) = 1 + (k mod max(n-1, 1)) in {1..n-1};
* a hidden-from-input or hidden-from-hidden weight is kept iff m_out >= m_in (resp. m_out >= d_in);
* an output-from-hidden weight is kept iff d_out > m_in (strict), and the optional direct
  output-from-input weight (``direct=True``) iff d_out > d_in.

Every path from an input of site j to an output of site i then has rank(j) < rank(i), so l_i is a
function of the earlier sites only (the first site of the order has constant logits: its bias).

Parameter count (dense matrices, masked entries included, as ``count_parameters`` reports), D = nK:

    L >= 1:  D·H_1 + H_1 + sum_{l=1}^{L-1} (H_l·H_{l+1} + H_{l+1}) + H_L·D + D  [+ D^2 if direct]
    L  = 0:  D^2 + D  (one masked input-to-output layer with bias: a logistic autoregressive model, the
             depth-1 network of the VAN paper; ``direct`` is then implied)

Weights are initialised U(-1/sqrt(f), 1/sqrt(f)) with f the mean number of unmasked inputs of a unit of
the layer (biases likewise), drawn from a CPU generator seeded with ``seed``, so two networks built
with the same arguments are identical and construction does not touch torch's global random state.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .training import NonFiniteLossError, check_positive_int, count_parameters

__all__ = ["MADE"]

_ACTIVATIONS = {"relu": F.relu, "tanh": torch.tanh, "gelu": F.gelu, "silu": F.silu}


class MADE(nn.Module):
    """Masked autoregressive network on n sites with K = ``n_values`` states each (module docstring).

    Parameters
    ----------
    n : number of sites (>= 1).
    n_values : states per site K (>= 2): 2 for Ising spins, 3 for sparse Rademacher, q for Potts.
    hidden : width of the single hidden layer (int) or the widths of several (sequence; empty = none,
        then ``direct`` must be True).
    order : the autoregressive order pi, a permutation of range(n) (default identity): sites are
        generated in the order pi[0], pi[1], ...
    direct : add masked direct input-to-output connections.
    activation : "relu", "tanh", "gelu" or "silu".
    seed : seed of the weight initialisation (int >= 0).
    dtype : floating dtype of the parameters.
    """

    def __init__(self, n: int, n_values: int, hidden: int | Sequence[int] = 64, *, order=None,
                 direct: bool = True, activation: str = "relu", seed: int = 0, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.n = check_positive_int("n", n, 1)
        self.n_values = check_positive_int("n_values", n_values, 2)
        if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
            widths = [check_positive_int("hidden", hidden, 1)]
        elif isinstance(hidden, Sequence) and not isinstance(hidden, str):
            widths = [check_positive_int(f"hidden[{k}]", h, 1) for k, h in enumerate(hidden)]
        else:
            raise TypeError(f"hidden must be an int or a sequence of ints, got {type(hidden).__name__}")
        if not isinstance(direct, bool):
            raise TypeError(f"direct must be a bool, got {direct!r}")
        if not widths and not direct:
            raise ValueError("hidden is empty and direct=False: the network would have no connections")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        seed = check_positive_int("seed", seed, 0)
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        if order is None:
            perm = np.arange(self.n)
        else:
            perm = np.asarray(order.detach().cpu() if isinstance(order, torch.Tensor) else order)
            if perm.ndim != 1 or perm.size != self.n or not np.issubdtype(perm.dtype, np.integer) \
                    or not np.array_equal(np.sort(perm), np.arange(self.n)):
                raise ValueError(f"order must be a permutation of range(n) = range({self.n}), got {perm.tolist()}")
        self.hidden = tuple(widths)
        self.direct = direct
        self.activation = activation
        self.seed = seed
        self._act = _ACTIVATIONS[activation]
        n, K = self.n, self.n_values
        rank = np.empty(n, dtype=np.int64)
        rank[perm] = np.arange(n)
        d_io = np.repeat(rank + 1, K)  # degrees of input and output units
        self.register_buffer("order", torch.as_tensor(perm, dtype=torch.int64).clone())
        self.register_buffer("rank", torch.as_tensor(rank), persistent=False)

        gen = torch.Generator(device="cpu").manual_seed(seed)
        masks: list[np.ndarray] = []
        degrees_in = d_io
        for h in widths:
            m = 1 + (np.arange(h) % max(n - 1, 1))
            masks.append(m[:, None] >= degrees_in[None, :])
            degrees_in = m
        masks.append(d_io[:, None] > degrees_in[None, :])
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for k, mk in enumerate(masks):
            mask = torch.as_tensor(mk, dtype=dtype)
            self.register_buffer(f"mask{k}", mask, persistent=False)
            w, b = self._init(mask, gen, dtype, bias=True)
            self.weights.append(w)
            self.biases.append(b)
        self.n_layers = len(masks)
        if direct and widths:
            mask = torch.as_tensor(d_io[:, None] > d_io[None, :], dtype=dtype)
            self.register_buffer("mask_direct", mask, persistent=False)
            self.weight_direct, _ = self._init(mask, gen, dtype, bias=False)
        else:
            self.weight_direct = None
        self.hparams = {"n": n, "n_values": K, "hidden": list(widths), "order": perm.tolist(), "direct": direct,
                        "activation": activation, "seed": seed, "dtype": str(dtype).replace("torch.", "")}

    @staticmethod
    def _init(mask: torch.Tensor, gen: torch.Generator, dtype, bias: bool):
        fan_in = max(float(mask.sum(dim=1).mean()), 1.0)
        bound = 1.0 / math.sqrt(fan_in)
        w = torch.empty(mask.shape, dtype=dtype).uniform_(-bound, bound, generator=gen)
        b = torch.empty(mask.shape[0], dtype=dtype).uniform_(-bound, bound, generator=gen) if bias else None
        return nn.Parameter(w), (nn.Parameter(b) if bias else None)

    # -- bookkeeping ---------------------------------------------------------------------------------
    @property
    def n_parameters(self) -> int:
        """Trainable scalars (the formula of the module docstring)."""
        return count_parameters(self)

    @staticmethod
    def parameter_count(n: int, n_values: int, hidden: Sequence[int], direct: bool = True) -> int:
        """The parameter-count formula of the module docstring, without building the network."""
        D = n * n_values
        widths = [int(h) for h in hidden]
        if not widths:
            return D * D + D
        total = D * widths[0] + widths[0]
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            total += a * b + b
        total += widths[-1] * D + D
        return total + (D * D if direct else 0)

    @property
    def device(self) -> torch.device:
        return self.biases[0].device

    @property
    def dtype(self) -> torch.dtype:
        return self.biases[0].dtype

    def describe(self) -> dict:
        """JSON-friendly settings (the constructor's arguments) and the parameter count."""
        d = {"name": "MADE", **{k: (list(v) if isinstance(v, list) else v) for k, v in self.hparams.items()}}
        d["n_parameters"] = self.n_parameters
        return d

    def extra_repr(self) -> str:
        return (f"n={self.n}, n_values={self.n_values}, hidden={list(self.hidden)}, direct={self.direct}, "
                f"activation={self.activation!r}, n_parameters={self.n_parameters}")

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        order = state_dict.get("order")
        if order is not None and (order.shape != self.order.shape or not torch.equal(order.cpu(), self.order.cpu())):
            raise ValueError(f"the state_dict was saved with order {order.tolist()}, this MADE has order "
                             f"{self.order.tolist()}: build the MADE with the same order")
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    # -- input checks ----------------------------------------------------------------------------------
    def check_index(self, idx, name: str = "idx") -> torch.Tensor:
        """Validate ``idx`` of shape (B, n) with integer entries in [0, K) and return it as int64 on the device."""
        if isinstance(idx, np.ndarray):
            idx = torch.from_numpy(idx)
        if not isinstance(idx, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor or numpy array of alphabet indices, "
                            f"got {type(idx).__name__}")
        if idx.dtype == torch.bool or idx.is_floating_point() or idx.is_complex():
            raise TypeError(f"{name} must hold integers (alphabet indices in [0, {self.n_values})), got {idx.dtype}")
        if idx.ndim != 2 or idx.shape[1] != self.n:
            raise ValueError(f"{name} must have shape (B, n) = (B, {self.n}), got {tuple(idx.shape)}")
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= self.n_values):
            raise ValueError(f"{name} entries must lie in [0, {self.n_values - 1}], got range "
                             f"[{int(idx.min())}, {int(idx.max())}]")
        return idx.to(device=self.device, dtype=torch.int64)

    # -- the network ---------------------------------------------------------------------------------------
    def forward_onehot(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, n, K) from a (relaxed) one-hot input x of shape (B, n, K) (no validation of values)."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if x.ndim != 3 or x.shape[1:] != (self.n, self.n_values):
            raise ValueError(f"x must have shape (B, n, K) = (B, {self.n}, {self.n_values}), got {tuple(x.shape)}")
        B = x.shape[0]
        inp = x.reshape(B, self.n * self.n_values).to(self.dtype)
        h = inp
        for k in range(self.n_layers):
            w = self.weights[k] * getattr(self, f"mask{k}")
            h = F.linear(h, w, self.biases[k])
            if k < self.n_layers - 1:
                h = self._act(h)
        if self.weight_direct is not None:
            h = h + F.linear(inp, self.weight_direct * self.mask_direct)
        return h.reshape(B, self.n, self.n_values)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits (B, n, K) of the conditionals q(s_i = a | s_<i) for alphabet indices ``idx`` (B, n)."""
        if not torch.compiler.is_compiling():  # validated eagerly; a traced check would break the graph
            idx = self.check_index(idx)
        return self.forward_onehot(F.one_hot(idx, self.n_values).to(self.dtype))

    def log_conditionals(self, idx: torch.Tensor) -> torch.Tensor:
        """log q(s_i = a | s_<i) for every site i and value a, shape (B, n, K)."""
        return F.log_softmax(self(idx), dim=-1)

    def conditionals(self, idx: torch.Tensor) -> torch.Tensor:
        """q(s_i = a | s_<i) (the earlier sites in the order taken from ``idx``), shape (B, n, K)."""
        return self.log_conditionals(idx).exp()

    def log_prob(self, idx: torch.Tensor) -> torch.Tensor:
        """log q(s) = sum_i log q(s_i | s_<i) for each row of ``idx`` (B, n); shape (B,)."""
        idx = self.check_index(idx)
        logp = F.log_softmax(self(idx), dim=-1)  # through __call__, so that Module.compile() applies
        return logp.gather(-1, idx.unsqueeze(-1)).squeeze(-1).sum(dim=-1)

    @torch.no_grad()
    def sample(self, n_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n_samples`` i.i.d. draws s ~ q, alphabet indices of shape (n_samples, n) on the module's device.

        Sequential along the order: n forward passes, the k-th fixing site pi(k) by inverse-CDF sampling
        with uniforms drawn from ``generator`` (a CPU ``torch.Generator``; None = torch's global CPU
        stream), so the draws do not depend on the device's random streams.
        """
        n_samples = check_positive_int("n_samples", n_samples, 1)
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
        if generator is not None and generator.device.type != "cpu":
            raise ValueError("generator must be a CPU torch.Generator")
        u = torch.rand((self.n, n_samples), generator=generator, dtype=torch.float64).to(self.device)
        idx = torch.zeros((n_samples, self.n), dtype=torch.int64, device=self.device)
        onehot = torch.zeros((n_samples, self.n, self.n_values), dtype=self.dtype, device=self.device)
        for k, site in enumerate(self.order.tolist()):
            logits = self.forward_onehot(onehot)[:, site]
            p = torch.softmax(logits.to(torch.float64), dim=-1)
            if not torch.isfinite(p).all():
                raise NonFiniteLossError(f"non-finite conditional probabilities at site {site} (step {k} of the "
                                         "order): the network's weights have diverged")
            cdf = torch.cumsum(p, dim=-1)
            a = (cdf < u[k, :, None] * cdf[:, -1:]).sum(dim=-1).clamp_(max=self.n_values - 1)
            idx[:, site] = a
            onehot[:, site] = F.one_hot(a, self.n_values).to(self.dtype)
        return idx
