r"""Learned Gaussian-channel denoisers m_theta(y, t) ≈ E[x | y_t = y] and their adapter to the drivers.

The stochastic-localisation path (docs/physics.md §2) observes y_t = t x + B_t, i.e. y = t x + sqrt(t) z with
z ~ N(0, I) at "time" (signal-to-noise ratio) t >= 0.  The Bayes-optimal denoiser is the posterior mean
m(y, t) = E[x | y_t = y] under mu_{y,t}(x) ∝ mu(x) exp(<y, x> - t |x|^2 / 2).  A network trained by
denoising score matching (DSM) replaces it in the existing drivers (``StochasticLocalization``,
``StochasticInterpolant``) through :class:`NeuralDenoiser`.

Networks (scalar models: x in A^n for a finite alphabet A = {a_1 < ... < a_K}, or x in R^n)
------------------------------------------------------------------------------------------------
Both networks end in the same *alphabet head*.  For a discrete alphabet, site i gets logits

    l_{i,a} = [a y_i - t a^2 / 2 + log p0(a)]  +  c_{i,a}(y, t),         a in A,
    p_i(a)  = softmax_a(l_{i,a}),      m_i = sum_a a p_i(a),

where the bracket ("channel skip") is the exact single-site tilt of the Gaussian channel, so that c = 0 is
the exact denoiser of the product prior p0^n and the network only learns the interaction correction
c (a learned cavity field).  m is a convex combination of alphabet values, hence always in the convex
hull [a_1, a_K], and p_i are proper marginals (used by the drivers' final rounding).  For a continuous
prior the head is linear, m = y / (1 + t) + c(y, t) (the skip is the exact denoiser of an N(0, 1) prior).
``channel_skip=False`` drops the bracket (l = c, m = c).

* :class:`MLPDenoiser` — a dense network on (y / (1 + t), phi(t)), with phi the time features below.
* :class:`CouplingDenoiser` — an unrolled mean-field / AMP network that reads the model's couplings
  (dense or scipy CSR): starting from the channel-only marginals p^0 it runs L layers

      h^l_i = y_i + beta h_i + gamma_l · beta (J m^{l-1})_i - omega_l · m^{l-2}_i,
      l^l_{i,a} = a h^l_i - (t/2 + kappa_l) a^2 + log p0(a) + b_{l,a} + g_{i,a}(p^{l-1}),
      p^l_i = softmax(l^l_i),  m^l_i = sum_a a p^l_i(a),   (m^{-1} = 0)

  where g is the mean-field value of the model's order-2 global terms (``spinglass.base``; term
  c · e_2(x^r) gives g_{i,a} = -beta c a^r sum_{j != i} E_{p_j}[x_j^r]: the Curie-Weiss interaction,
  the spiked-Wigner "x_i^2 x_j^2" term), and the layer's scalars (gamma_l, omega_l, kappa_l, b_{l,a}) are
  the output of a small per-layer MLP of (phi(t), q^{l-1}), q = |m|^2 / n.  The last layer of each
  scalar MLP starts at zero, so the untrained network is exactly naive mean field (gamma = 1, omega =
  kappa = b = 0) iterated L times in parallel; omega plays the part of AMP's Onsager reaction term,
  beta^2 (1 - q) for SK.  The parameter count does not depend on n.

Time features phi(t): with s = log(1 + t) / log(1 + t_scale) (s = 1 at t = t_scale),
"log": phi = (s,), dimension 1; "fourier": phi = (s, sin(pi k s), cos(pi k s) for k = 1..F), dimension
1 + 2F.  They are fixed (no parameters).

Training (denoising score matching, :func:`train_denoiser`)
----------------------------------------------------------
For data x ~ mu (rows on the alphabet), draw t = 0 with probability ``p_zero`` and otherwise
log t ~ U[log t_min, log t_max], z ~ N(0, I), y = t x + sqrt(t) z, and minimise

    L(theta) = E || m_theta(y, t) - x ||^2 / n,

whose minimiser over all functions is the posterior mean (the MSE decomposes as
E||m - x||^2 = E||m - E[x|y]||^2 + MMSE).  The noise is drawn with the CPU generator of
``samplers.neural.training.fit`` (reproducible on any device).

Evaluation against the Bayes-optimal MMSE(t) (exact or state evolution) lives in
:mod:`analysis.measures.learned` (``denoiser_mse_curve``, ``plot_mse_curves``).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from spinglass.base import Model

from ..denoisers.base import Denoiser, DenoiserOutput
from .training import (
    NetworkModule,
    TrainConfig,
    TrainHistory,
    batch_and_time,
    check_positive_int,
    fit,
    pick_device,
)

__all__ = [
    "TimeFeatures", "DenoiserNetwork", "MLPDenoiser", "CouplingDenoiser", "NeuralDenoiser", "denoising_loss",
    "train_denoiser", "check_training_data", "check_network", "check_network_fits",
]

_ACTIVATIONS = {"relu": F.relu, "tanh": torch.tanh, "gelu": F.gelu, "silu": F.silu}


# -- validation helpers ------------------------------------------------------------------------------------
def _pos_real(name: str, value, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number {'>=' if allow_zero else '>'} 0, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be a finite real number {'>=' if allow_zero else '>'} 0, got {value}")
    return value


def _check_dtype(dtype) -> torch.dtype:
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    return dtype


def _uniform_linear(fan_in: int, fan_out: int, gen: torch.Generator, dtype, scale: float = 1.0) -> nn.Linear:
    """nn.Linear with weights and bias U(-s/sqrt(fan_in), s/sqrt(fan_in)) drawn from ``gen`` (torch's default
    bound, without touching the global random state)."""
    lin = nn.Linear(fan_in, fan_out, dtype=dtype)
    bound = scale / math.sqrt(fan_in)
    with torch.no_grad():
        lin.weight.copy_(torch.empty(fan_out, fan_in, dtype=dtype).uniform_(-bound, bound, generator=gen))
        lin.bias.copy_(torch.empty(fan_out, dtype=dtype).uniform_(-bound, bound, generator=gen))
    return lin


def _scalar_model(model, who: str):
    from spinglass.scalar import ScalarModel

    if not isinstance(model, Model):
        raise TypeError(f"model must be a spinglass Model, got {type(model).__name__}")
    if getattr(model, "q", None) is not None or not isinstance(model, ScalarModel):
        raise TypeError(f"{who} supports scalar models (x in A^n or R^n), not {model.family}")
    return model


def _model_log_prior(model) -> np.ndarray | None:
    """log p0 on the alphabet (0 for counting-measure models), None for continuous priors."""
    if model.alphabet is None:
        return None
    if getattr(model, "counting", False):
        return np.zeros(model.alphabet.size)
    lw = np.asarray(model.prior.log_weights, dtype=float)
    return lw - np.max(lw)


# -- time features -------------------------------------------------------------------------------------------
class TimeFeatures(nn.Module):
    """Fixed features phi(t) of the path time t >= 0 (module docstring): "log" (dim 1) or "fourier" (1 + 2F)."""

    def __init__(self, kind: str = "fourier", n_frequencies: int = 4, t_scale: float = 100.0):
        super().__init__()
        if kind not in ("log", "fourier"):
            raise ValueError(f"time_embedding must be 'log' or 'fourier', got {kind!r}")
        self.kind = kind
        self.n_frequencies = check_positive_int("n_frequencies", n_frequencies, 1) if kind == "fourier" else 0
        self.t_scale = _pos_real("t_scale", t_scale)
        self._log_scale = math.log1p(self.t_scale)

    @property
    def dim(self) -> int:
        return 1 + 2 * self.n_frequencies

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        s = torch.log1p(t) / self._log_scale
        if self.kind == "log":
            return s[:, None]
        k = torch.arange(1, self.n_frequencies + 1, dtype=t.dtype, device=t.device)
        arg = math.pi * s[:, None] * k[None, :]
        return torch.cat([s[:, None], torch.sin(arg), torch.cos(arg)], dim=1)


# -- networks ------------------------------------------------------------------------------------------------
class DenoiserNetwork(NetworkModule):
    """Common interface of the denoiser networks.

    Attributes: ``n`` (sites), ``alphabet`` (tuple of the K sorted values, or None for a continuous prior).
    ``posterior(y, t) -> (mean (B, n), marginals (B, n, K) or None)`` on tensors y (B, n), t (B,);
    ``forward(y, t)`` is the mean.
    """

    n: int
    alphabet: tuple[float, ...] | None
    hparams: dict

    def posterior(self, y: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        raise NotImplementedError

    def forward(self, y: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.posterior(y, t)[0]


    def describe(self) -> dict:
        return {"name": type(self).__name__, **self.hparams, "n_parameters": self.n_parameters}

    def _prepare(self, y: torch.Tensor, t) -> tuple[torch.Tensor, torch.Tensor]:
        """Checked (y (B, n), t (B,)) in the network's dtype and device."""
        return batch_and_time(y, t, self.n, device=self.device, dtype=self.dtype)

    def _head(self, y: torch.Tensor, t: torch.Tensor, corr: torch.Tensor, skip: bool,
              extra: torch.Tensor | None = None, quad: torch.Tensor | None = None):
        """The alphabet head of the module docstring: corr (B, n, K) or (B, n) -> (mean, marginals)."""
        if self.alphabet is None:
            mean = corr + (y / (1.0 + t[:, None]) if skip else 0.0)
            return mean, None
        a = self.values
        logits = corr
        if skip:
            logits = logits + y[:, :, None] * a - 0.5 * t[:, None, None] * a**2 + self.log_prior
        if quad is not None:
            logits = logits - quad[:, None, None] * a**2
        if extra is not None:
            logits = logits + extra
        probs = torch.softmax(logits, dim=-1)
        return probs @ a, probs


def _check_alphabet(alphabet) -> tuple[float, ...] | None:
    if alphabet is None:
        return None
    if isinstance(alphabet, str | bytes) or not isinstance(alphabet, Sequence | np.ndarray | torch.Tensor):
        raise TypeError(f"alphabet must be a sequence of reals or None (continuous), got {type(alphabet).__name__}")
    a = np.asarray(alphabet, dtype=float).ravel()
    if a.size < 2 or not np.all(np.isfinite(a)) or np.any(np.diff(a) <= 0):
        raise ValueError(f"alphabet must hold >= 2 finite, strictly increasing values, got {a.tolist()}")
    return tuple(float(v) for v in a)


class MLPDenoiser(DenoiserNetwork):
    r"""Dense denoiser m_theta(y, t) on n sites (module docstring), input (y / (1 + t), phi(t)).

    Parameters
    ----------
    n : number of sites (>= 1).
    alphabet : the sorted alphabet values (K >= 2; softmax head) or None (continuous prior; linear head).
    hidden : width H of every hidden layer (>= 1).  depth : number L of hidden layers (>= 1).
    time_embedding : "fourier" or "log" (``TimeFeatures``); n_frequencies : F for "fourier".
    t_scale : the t at which the log-time feature s reaches 1.
    activation : "silu", "relu", "tanh" or "gelu".
    channel_skip : add the exact single-site channel term to the head (module docstring).
    log_prior : log p0 on the alphabet for the skip (length K; default uniform); ``for_model`` fills it.
    seed : initialisation seed (weights U(-1/sqrt(fan_in), 1/sqrt(fan_in)) from a CPU generator).
    dtype : torch.float32 or torch.float64.

    Parameter count, with E = dim phi (1 or 1 + 2F) and O = nK outputs (discrete) or O = n (continuous):

        (n + E) H + H  +  (L - 1)(H^2 + H)  +  H O + O.
    """

    def __init__(self, n: int, alphabet: Sequence[float] | None = None, hidden: int = 128, depth: int = 2, *,
                 time_embedding: str = "fourier", n_frequencies: int = 4, t_scale: float = 100.0,
                 activation: str = "silu", channel_skip: bool = True, log_prior: Sequence[float] | None = None,
                 seed: int = 0, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.n = check_positive_int("n", n, 1)
        self.alphabet = _check_alphabet(alphabet)
        hidden = check_positive_int("hidden", hidden, 1)
        depth = check_positive_int("depth", depth, 1)
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        if not isinstance(channel_skip, bool):
            raise TypeError(f"channel_skip must be a bool, got {channel_skip!r}")
        seed = check_positive_int("seed", seed, 0)
        dtype = _check_dtype(dtype)
        self.time = TimeFeatures(time_embedding, n_frequencies, t_scale)
        self.channel_skip = channel_skip
        self._act = _ACTIVATIONS[activation]
        K = 0 if self.alphabet is None else len(self.alphabet)
        if self.alphabet is not None:
            self.register_buffer("values", torch.tensor(self.alphabet, dtype=dtype))
            lp = np.zeros(K) if log_prior is None else np.asarray(log_prior, dtype=float).ravel()
            if lp.shape != (K,) or not np.all(np.isfinite(lp)):
                raise ValueError(f"log_prior must hold {K} finite values (one per alphabet value), got {lp.tolist()}")
            self.register_buffer("log_prior", torch.tensor(lp, dtype=dtype))
        elif log_prior is not None:
            raise ValueError("log_prior applies to a discrete alphabet; the continuous head has none")
        gen = torch.Generator(device="cpu").manual_seed(seed)
        widths = [self.n + self.time.dim] + [hidden] * depth
        self.layers = nn.ModuleList(_uniform_linear(a, b, gen, dtype) for a, b in zip(widths[:-1], widths[1:],
                                                                                       strict=True))
        self.out = _uniform_linear(hidden, self.n * max(K, 1), gen, dtype)
        self.hparams = {"n": self.n, "alphabet": None if self.alphabet is None else list(self.alphabet),
                        "hidden": hidden, "depth": depth, "time_embedding": time_embedding,
                        "n_frequencies": self.time.n_frequencies, "t_scale": self.time.t_scale,
                        "activation": activation, "channel_skip": channel_skip, "seed": seed}

    @classmethod
    def for_model(cls, model: Model, **kwargs) -> MLPDenoiser:
        """An ``MLPDenoiser`` with the model's n, alphabet and log p0 (scalar models)."""
        model = _scalar_model(model, "MLPDenoiser")
        kwargs.setdefault("log_prior", _model_log_prior(model))
        alphabet = None if model.alphabet is None else np.asarray(model.alphabet, dtype=float).tolist()
        return cls(model.n, alphabet, **kwargs)

    @staticmethod
    def parameter_count(n: int, n_values: int | None, hidden: int, depth: int, n_time_features: int) -> int:
        """The formula of the class docstring (``n_values=None`` for the continuous head)."""
        O = n * (n_values or 1)
        E = n_time_features
        return (n + E) * hidden + hidden + (depth - 1) * (hidden * hidden + hidden) + hidden * O + O

    def posterior(self, y, t):
        y, t = self._prepare(y, t)
        h = torch.cat([y / (1.0 + t[:, None]), self.time(t)], dim=1)
        for layer in self.layers:
            h = self._act(layer(h))
        c = self.out(h)
        if self.alphabet is not None:
            c = c.view(-1, self.n, len(self.alphabet))
        return self._head(y, t, c, self.channel_skip)


class CouplingDenoiser(DenoiserNetwork):
    r"""Unrolled mean-field / AMP denoiser that uses the model's couplings (module docstring).

    Parameters
    ----------
    model : a scalar ``PairwiseModel`` with a finite alphabet (SK, Curie-Weiss, spiked Wigner, Edwards-
        Anderson); couplings dense or scipy CSR.  Global terms must be of order 2.
    n_layers : L >= 1 message-passing layers.  hidden : width H_c of each layer's scalar MLP.
    time_embedding, n_frequencies, t_scale : the time features phi(t) (dimension E).
    seed, dtype : as for ``MLPDenoiser``.

    Every layer's scalar MLP maps (phi(t), q) in R^{E+1} through one tanh layer of width H_c to the
    3 + K numbers (gamma, omega, kappa, b_a), so the parameter count is

        L · [ (E + 1) H_c + H_c + H_c (3 + K) + (3 + K) ],

    independent of n.  The couplings (beta J), fields and global terms are fixed buffers taken from the
    model (not saved in the state dict: a checkpoint fits any instance; ``NeuralDenoiser`` checks that
    the network was built on the model it is asked about, by fingerprint).
    """

    def __init__(self, model: Model, n_layers: int = 4, hidden: int = 16, *, time_embedding: str = "fourier",
                 n_frequencies: int = 3, t_scale: float = 100.0, seed: int = 0, dtype: torch.dtype = torch.float32):
        super().__init__()
        from spinglass.scalar import PairwiseModel

        model = _scalar_model(model, "CouplingDenoiser")
        if not isinstance(model, PairwiseModel):
            raise TypeError(f"model must be a PairwiseModel (pair couplings J), got {model.family}")
        if model.alphabet is None:
            raise TypeError(f"{model.family} has a continuous prior: CouplingDenoiser needs a finite alphabet")
        if not math.isfinite(model.beta):
            raise ValueError("CouplingDenoiser needs a finite beta (the couplings enter as beta J)")
        for term in model.global_terms:
            if term.order != 2:
                raise TypeError(f"model has a global term of order {term.order}: only order-2 terms are supported")
        self.n = model.n
        self.alphabet = _check_alphabet(np.asarray(model.alphabet, dtype=float))
        n_layers = check_positive_int("n_layers", n_layers, 1)
        hidden = check_positive_int("hidden", hidden, 1)
        seed = check_positive_int("seed", seed, 0)
        dtype = _check_dtype(dtype)
        K = len(self.alphabet)
        beta = float(model.beta)
        self.time = TimeFeatures(time_embedding, n_frequencies, t_scale)
        self.model_fingerprint = model.fingerprint()
        self.model_family = model.family
        self.register_buffer("values", torch.tensor(self.alphabet, dtype=dtype))
        self.register_buffer("log_prior", torch.tensor(_model_log_prior(model), dtype=dtype))
        self.register_buffer("fields", torch.tensor(beta * np.asarray(model.fields, dtype=float), dtype=dtype),
                             persistent=False)
        J = model.couplings
        if sp.issparse(J):
            J = sp.csr_matrix(J * beta)
            with warnings.catch_warnings():  # torch flags sparse CSR as beta
                warnings.simplefilter("ignore", UserWarning)
                csr = torch.sparse_csr_tensor(
                    torch.as_tensor(J.indptr, dtype=torch.int64), torch.as_tensor(J.indices, dtype=torch.int64),
                    torch.as_tensor(J.data, dtype=dtype), size=J.shape, check_invariants=True)
            self.register_buffer("couplings", csr, persistent=False)
            self.sparse = True
        else:
            self.register_buffer("couplings", torch.tensor(beta * np.asarray(J), dtype=dtype), persistent=False)
            self.sparse = False
        self.global_terms = [(beta * float(term.coef), int(term.power)) for term in model.global_terms]
        gen = torch.Generator(device="cpu").manual_seed(seed)
        self.coef_in = nn.ModuleList()
        self.coef_out = nn.ModuleList()
        for _ in range(n_layers):
            self.coef_in.append(_uniform_linear(self.time.dim + 1, hidden, gen, dtype))
            out = _uniform_linear(hidden, 3 + K, gen, dtype)
            with torch.no_grad():
                out.weight.zero_()
                out.bias.zero_()
            self.coef_out.append(out)
        self.hparams = {"n": self.n, "alphabet": list(self.alphabet), "n_layers": n_layers, "hidden": hidden,
                        "time_embedding": time_embedding, "n_frequencies": self.time.n_frequencies,
                        "t_scale": self.time.t_scale, "seed": seed, "model_family": model.family}

    @staticmethod
    def parameter_count(n_layers: int, hidden: int, n_values: int, n_time_features: int) -> int:
        """The formula of the class docstring."""
        E, K, H = n_time_features, n_values, hidden
        return n_layers * ((E + 1) * H + H + H * (3 + K) + (3 + K))

    def _couple(self, m: torch.Tensor) -> torch.Tensor:
        if self.sparse:
            return (self.couplings @ m.T).T
        return m @ self.couplings

    def _global(self, probs: torch.Tensor) -> torch.Tensor | None:
        """Mean-field value g_{i,a} of the order-2 global terms at the marginals ``probs`` (B, n, K)."""
        if not self.global_terms:
            return None
        a = self.values
        g = 0.0
        for coef, power in self.global_terms:
            mom = probs @ a**power  # (B, n): E[x_j^r]
            others = mom.sum(dim=1, keepdim=True) - mom
            g = g - coef * others[:, :, None] * a**power
        return g

    def posterior(self, y, t):
        y, t = self._prepare(y, t)
        phi = self.time(t)
        base = y + self.fields
        zero = torch.zeros_like(y)
        m, probs = self._head(base, t, torch.zeros(y.shape + (len(self.alphabet),), dtype=y.dtype, device=y.device),
                              True)
        m_prev = zero
        for lin_in, lin_out in zip(self.coef_in, self.coef_out, strict=True):
            q = (m * m).mean(dim=1, keepdim=True)
            c = lin_out(torch.tanh(lin_in(torch.cat([phi, q], dim=1))))
            gamma, omega, kappa, bias = 1.0 + c[:, 0:1], c[:, 1:2], c[:, 2], c[:, 3:]
            h = base + gamma * self._couple(m) - omega * m_prev
            corr = bias[:, None, :].expand(-1, self.n, -1)
            m_new, probs = self._head(h, t, corr, True, extra=self._global(probs), quad=kappa)
            m_prev, m = m, m_new
        return m, probs


# -- adapter to the Denoiser protocol ------------------------------------------------------------------------
def check_network(network) -> DenoiserNetwork:
    if not isinstance(network, DenoiserNetwork):
        raise TypeError(f"network must be a samplers.neural DenoiserNetwork (MLPDenoiser, CouplingDenoiser), "
                        f"got {type(network).__name__}")
    return network


def check_network_fits(network: DenoiserNetwork, model) -> None:
    model = _scalar_model(model, type(network).__name__)
    if network.n != model.n:
        raise ValueError(f"model has n = {model.n} but the network was built for n = {network.n}")
    if (network.alphabet is None) != (model.alphabet is None):
        raise ValueError(f"network alphabet {network.alphabet} does not fit {model.family} "
                         f"(alphabet {None if model.alphabet is None else model.alphabet.tolist()})")
    if network.alphabet is not None and (len(network.alphabet) != model.alphabet.size or not np.allclose(
            network.alphabet, model.alphabet, rtol=0, atol=1e-9)):
        raise ValueError(f"network alphabet {list(network.alphabet)} differs from the model's "
                         f"{np.asarray(model.alphabet).tolist()}")
    fp = getattr(network, "model_fingerprint", None)
    if fp is not None and fp != model.fingerprint():
        raise ValueError(f"the {type(network).__name__} was built on another {network.model_family} instance "
                         "(fingerprints differ): its couplings are not this model's")


class NeuralDenoiser(Denoiser):
    r"""A trained ``DenoiserNetwork`` behind the ``Denoiser`` protocol (Gaussian channel only).

    ``_posterior(y, t, revealed)`` runs the network under ``torch.no_grad()`` in eval mode on ``device``
    in row blocks of ``batch_size`` and returns numpy float64 means (B, n) and, for a discrete alphabet,
    the head's marginals (B, n, K) (which the drivers use for the final rounding).  ``converged`` is all
    True (a network evaluation has no iteration to fail), ``iterations`` is 1 per row;
    ``n_evaluations`` / ``n_rows`` count forward passes and rows since construction.

    The erasure channel (revealed variables, ``Autoregressive``) is not supported: a query with a revealed
    site raises ``ValueError`` (use ``samplers.neural.MADE`` for the autoregressive path).

    Parameters
    ----------
    network : an ``MLPDenoiser`` / ``CouplingDenoiser`` (moved to ``device``).
    model : the scalar model it denoises (same n and alphabet; same instance for ``CouplingDenoiser``).
    device : "auto" (CUDA when available), "cpu", "cuda[:k]", "mps" or a torch.device.
    batch_size : rows per forward pass (>= 1).
    """

    def __init__(self, network: DenoiserNetwork, model: Model, *, device="auto", batch_size: int = 1 << 15):
        self.network = check_network(network)
        check_network_fits(network, model)
        self.model = model
        self.device = pick_device(device)
        self.batch_size = check_positive_int("batch_size", batch_size, 1)
        self.network.to(self.device)
        self.n_evaluations = 0
        self.n_rows = 0

    @classmethod
    def factory(cls, network: DenoiserNetwork, **kwargs) -> Callable[[Model], NeuralDenoiser]:
        """A callable ``model -> NeuralDenoiser(network, model, **kwargs)`` for the drivers' denoiser spec."""
        check_network(network)

        def make(model: Model) -> NeuralDenoiser:
            return cls(network, model, **kwargs)

        make.__name__ = f"NeuralDenoiser[{type(network).__name__}]"
        return make

    def describe(self) -> dict:
        return {"name": "NeuralDenoiser", "network": type(self.network).__name__,
                "n_parameters": self.network.n_parameters, "device": str(self.device)}

    def _posterior(self, y: np.ndarray, t: np.ndarray, revealed: np.ndarray) -> DenoiserOutput:
        if np.any(revealed >= 0):
            raise ValueError("revealed: NeuralDenoiser answers the Gaussian channel only (no revealed variables); "
                             "the erasure path needs an autoregressive network (samplers.neural.MADE)")
        net = self.network
        was_training = net.training
        net.eval()
        B = y.shape[0]
        means, margs = [], []
        try:
            with torch.no_grad():
                for lo in range(0, B, self.batch_size):
                    yy = torch.as_tensor(y[lo:lo + self.batch_size], dtype=net.dtype).to(self.device)
                    tt = torch.as_tensor(t[lo:lo + self.batch_size], dtype=net.dtype).to(self.device)
                    mean, probs = net.posterior(yy, tt)
                    means.append(mean.double().cpu().numpy())
                    if probs is not None:
                        margs.append(probs.double().cpu().numpy())
                    self.n_evaluations += 1
        finally:
            net.train(was_training)
        self.n_rows += B
        return DenoiserOutput(mean=np.concatenate(means), marginals=np.concatenate(margs) if margs else None,
                              converged=np.ones(B, dtype=bool), iterations=np.ones(B, dtype=np.int64),
                              residual=np.zeros(B))


# -- training ------------------------------------------------------------------------------------------------
def check_training_data(network, x, name: str = "x") -> torch.Tensor:
    """Rows (N, n) of ``x`` as a tensor of the network's dtype; entries on the network's alphabet (1e-9)
    for a discrete head, finite otherwise (``ValueError`` / ``TypeError`` naming ``name``)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    n = network.n
    if arr.ndim != 2 or arr.shape[1] != n or arr.shape[0] == 0:
        raise ValueError(f"{name} must have shape (N, n) = (N, {n}) with N >= 1, got {arr.shape}")
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains nan or infinite entries")
    alphabet = getattr(network, "alphabet", None)
    if alphabet is not None:
        a = np.asarray(alphabet)
        if not np.all(np.min(np.abs(arr[..., None] - a), axis=-1) <= 1e-9):
            raise ValueError(f"{name} has entries off the network's alphabet {a.tolist()}")
    return torch.as_tensor(arr, dtype=next(network.parameters()).dtype)


def check_time_law(t_min, t_max, p_zero) -> tuple[float, float, float]:
    """The law of the path time t used in training (t = 0 with probability ``p_zero``, else log-uniform on
    [t_min, t_max]), checked: 0 < t_min < t_max finite, p_zero in [0, 1); ValueError naming the parameter."""
    t_min = _pos_real("t_min", t_min)
    t_max = _pos_real("t_max", t_max)
    if t_max <= t_min:
        raise ValueError(f"t_max must be > t_min = {t_min}, got {t_max}")
    if isinstance(p_zero, bool) or not isinstance(p_zero, numbers.Real) or not 0.0 <= float(p_zero) < 1.0:
        raise ValueError(f"p_zero must be a real number in [0, 1), got {p_zero!r}")
    return t_min, t_max, float(p_zero)


def _draw_t(B: int, gen: torch.Generator, t_min: float, t_max: float, p_zero: float, dtype) -> torch.Tensor:
    u = torch.rand(B, generator=gen, dtype=torch.float64)
    log_t = math.log(t_min) + u * (math.log(t_max) - math.log(t_min))
    t = torch.exp(log_t)
    if p_zero > 0:
        zero = torch.rand(B, generator=gen, dtype=torch.float64) < p_zero
        t = torch.where(zero, torch.zeros_like(t), t)
    return t.to(dtype)


def denoising_loss(network: DenoiserNetwork, x: torch.Tensor, generator: torch.Generator, *, t_min: float = 1e-2,
                   t_max: float = 100.0, p_zero: float = 0.05) -> torch.Tensor:
    """One DSM estimate (module docstring): mean over rows and sites of (m_theta(y, t) - x)^2 with
    t ~ p_zero δ_0 + (1 - p_zero) LogUniform[t_min, t_max], y = t x + sqrt(t) z; noise from ``generator`` (CPU)."""
    B = x.shape[0]
    t = _draw_t(B, generator, t_min, t_max, p_zero, x.dtype)
    z = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    t = t.to(x.device)
    y = t[:, None] * x + torch.sqrt(t)[:, None] * z.to(x.device)
    m = network(y, t)
    return ((m - x) ** 2).mean()


def train_denoiser(network: DenoiserNetwork, x, config: TrainConfig | None = None, *, val_x=None,
                   t_min: float = 1e-2, t_max: float = 100.0, p_zero: float = 0.05) -> TrainHistory:
    """Train ``network`` by denoising score matching on the rows of ``x`` (module docstring) with ``fit``.

    x : (N, n) samples of the target (on the network's alphabet for a discrete head).
    config : ``TrainConfig`` (default ``TrainConfig()``).  val_x : held-out rows (else ``config.val_fraction``).
    t_min, t_max : range of the log-uniform t (0 < t_min < t_max); p_zero : probability of t = 0, in [0, 1).
    Returns the ``TrainHistory``; a non-finite loss raises ``NonFiniteLossError``.
    """
    check_network(network)
    t_min, t_max, p_zero = check_time_law(t_min, t_max, p_zero)
    if config is None:
        config = TrainConfig()
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    data = check_training_data(network, x, "x")
    val = None if val_x is None else check_training_data(network, val_x, "val_x")

    def loss_fn(module, batch, gen):
        return denoising_loss(module, batch[0], gen, t_min=t_min, t_max=t_max, p_zero=float(p_zero))

    return fit(network, loss_fn, data, config, val_data=val)
