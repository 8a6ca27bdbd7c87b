r"""An amortised unrolled-AMP denoiser for the dense spiked Wigner model: it reads the instance J as an input.

Target: the Gaussian-channel posterior mean m(J, y, t) = E[x | J, y_t = y] of ``spinglass.SpikedWigner``
(J = ``model.couplings`` = sqrt(lam/n) Y, prior p0 of unit second moment), for *every* instance: the
weights hold no instance and their number does not depend on n, so one network trained on fresh planted
pairs (``samplers.neural.planted_data``) serves any instance and any n.

Equations (one row: instance J with SNR lam, side observation y at time t; <a> = (1/n) sum_i a_i)
-----------------------------------------------------------------------------------------------------
Start (the ``"prior"`` start of ``AMPDenoiser``): f^0 = E_p0[x], v^0 = Var_p0[x], f^{-1} = 0.  Layer
k = 0, ..., L-1, with row features s_k = (phi(t), <(f^k)^2>, <v^k>, log lam) (phi: ``TimeFeatures``):

    (a_k, b_k, c_k) = A_k(s_k)                                  (small MLP, last layer zero-initialised)
    omega_k = lam <v^k> (1 + a_k)                               (learned reaction / Onsager coefficient)
    g^k     = lam <(f^k)^2> exp(b_k) + t                        (learned SNR of the effective scalar channel)
    r^k     = y + (1 + c_k) J f^k - omega_k f^{k-1}             (AMP field)
    u^k_i   = r^k_i / sqrt(1 + g^k)                             (normalised field, the per-site MLP input)
    logits  l_{i,a} = a r^k_i - g^k a^2 / 2 + log p0(a) + C_k(u^k_i, s_k)_a        (a in the alphabet A)
    p^{k+1}_i = softmax_a(l_{i,a}),  f^{k+1}_i = sum_a a p^{k+1}_i(a),  v^{k+1}_i = sum_a a^2 p - (f^{k+1}_i)^2

C_k is a per-site MLP (shared by all sites; last layer zero-initialised).  For the Gaussian prior N(0, 1)
the head is linear: f^{k+1} = r^k / (1 + g^k) + C_k(u^k, s_k), v^{k+1} = 1 / (1 + g^k).  The output is
(f^L, p^L): the mean and the single-site marginals that the drivers round with.

Initialisation at AMP.  With a = b = c = 0 and C = 0 every layer is one step of the Bayes-optimal AMP of
``samplers.denoisers.amp`` (Lesieur, Krzakala, Zdeborová 2017; Bayati & Montanari 2011 for the state
evolution; the side channel adds y to the field and t to the SNR as in Montanari & Wu's AMP-based
diffusion sampler):

    r^k = y + J f^k - lam <v^k> f^{k-1},    g^k = lam <(f^k)^2> + t,    f^{k+1} = f(r^k; g^k),  v^{k+1} = f'(r^k; g^k),

since the softmax above is then the scalar-channel posterior of ``Prior.f`` / ``Prior.df``.  So the
untrained network equals ``AMPDenoiser(model, init="prior", max_iter=L)`` run for exactly L iterations
(tested to float64 round-off in ``tests/test_neural_amortised.py``); training can only learn corrections
(faster convergence at small t, finite-n effects, a scalar denoiser other than the prior's when the
iterate is not yet the Bayes channel).  When C ≠ 0 the softmax variance is no longer exactly df/dr; the
learned factor (1 + a_k) absorbs the mean mismatch in the reaction term.

Sign symmetry.  For a sign-symmetric prior (p0(a) = p0(-a)) the law is invariant under x -> -x and the
posterior mean is odd in y; the network keeps this exactly by symmetrising the per-site correction,
C(u) <- [C(u) + P C(-u)] / 2 with P the alphabet reversal (C(u) <- [C(u) - C(-u)] / 2 for the Gaussian head),
the row features being even.  Hence m(J, 0, 0) = 0 = E[x | J] for every instance, as it must.

What is amortised: the L (A_k, C_k) pairs, shared by every instance, n and lam; the instance enters only
through J (a batched matrix product per layer) and lam.  Parameter count, with E = dim phi, H = ``hidden``
and K = |A| (K = 1 for the Gaussian head):

    L · [ (E + 3 + e) H + H + 3 H + 3  +  (E + 3 + e) H + H + H + H K + K ],   e = 1 with ``erasure=True``, else 0.

Shapes: ``posterior(J, y, t, lam)`` takes J (n, n) with y (B, n), or J (I, n, n) with y (I, R, n) (R rows per
instance); t a scalar or one value per row; lam a scalar or one value per instance.  Cost: L batched
products (I, R, n) x (I, n, n).  Precision: float32 by default (the product is the whole cost; the
round-off of J f, ~1e-7 |J f|, is far below the errors of interest); float64 for exact comparisons.

Erasure path (``erasure=True``; the autoregressive queries, revealed spins as input)
-----------------------------------------------------------------------------------
A query may carry revealed sites R (value indices, -1 = free, as in the ``Denoiser`` protocol) besides or
instead of (y, t).  As in ``AMPDenoiser`` (``samplers.denoisers.amp``), revealed sites are clamped at every
layer and at the start, f_i = x_i and v_i = 0 for i in R, and their output marginal is the delta at x_i; the
averages <f^2>, <v> run over all n sites, so the reaction term lam <v^k> (1 + a_k) f^{k-1} is lam (1/n)
sum_{i free} v_i^k (...), the Onsager coefficient of the free sites only, exactly as AMP has it.  The
erasure network's row features carry one more entry, the revealed fraction theta = |R| / n of the row:
s_k = (phi(t), <(f^k)^2>, <v^k>, log lam, theta) (t = 0 on the pure erasure path; theta = 0 on the Gaussian
path, where both channels' queries at their zero point are the same query E[x | J]).  Since A_k and C_k
start at zero, the untrained erasure network still equals ``AMPDenoiser(init="prior", max_iter=L)`` on any
query with revealed variables (tested in ``tests/test_amortised_erasure.py``).  The extra input adds L · 2H
parameters; ``erasure=False`` (default) keeps the Gaussian-only network, its parameters and its seeds
unchanged, and answers a query with revealed variables by a ValueError.  Revealed variables need a finite
alphabet (a ``DiscretePrior``).

Behind the ``Denoiser`` protocol: :meth:`AmortisedAMP.bind` gives a ``DenoiserNetwork`` view bound to one
``SpikedWigner`` (its J as a non-persistent buffer, the shared weights as a submodule), so
``NeuralDenoiser(network.bind(model), model)`` runs ``StochasticLocalization`` / ``StochasticInterpolant``
unchanged.  :class:`AmortisedDenoiser` is that ``NeuralDenoiser`` with an optional warm start (a query
continues from the previous query's final iterate, like ``AMPDenoiser(warm_start=True)``), and
``network.factory(warm_start=..., device=...)`` is the drivers' denoiser spec (a callable ``model ->
AmortisedDenoiser``).  The device is chosen by ``pick_device`` (CUDA when present, else CPU).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from spinglass.priors import DiscretePrior, Gaussian, Prior
from spinglass.spiked import SpikedWigner

from ..denoisers.base import DenoiserOutput
from .denoiser import DenoiserNetwork, NeuralDenoiser, TimeFeatures, _check_dtype, _pos_real, _uniform_linear
from .training import NetworkModule, check_positive_int

__all__ = ["AmortisedAMP", "BoundAmortisedAMP", "AmortisedDenoiser"]

#: The iterate (f, v, f_prev) carried between layers, and between queries with a warm start.
State = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def _zero_linear(fan_in: int, fan_out: int, gen: torch.Generator, dtype) -> nn.Linear:
    lin = _uniform_linear(fan_in, fan_out, gen, dtype)
    with torch.no_grad():
        lin.weight.zero_()
        lin.bias.zero_()
    return lin


class _Layer(nn.Module):
    """The learned parts of one unrolled layer: A_k (row scalars) and C_k (per-site logit correction)."""

    def __init__(self, n_row: int, hidden: int, n_out: int, gen: torch.Generator, dtype):
        super().__init__()
        self.coef_in = _uniform_linear(n_row, hidden, gen, dtype)
        self.coef_out = _zero_linear(hidden, 3, gen, dtype)
        self.site_row = _uniform_linear(n_row, hidden, gen, dtype)
        bound = 1.0
        self.site_u = nn.Parameter(torch.empty(hidden, dtype=dtype).uniform_(-bound, bound, generator=gen))
        self.site_out = _zero_linear(hidden, n_out, gen, dtype)

    def coefficients(self, s: torch.Tensor) -> torch.Tensor:
        """(a, b, c) of the module docstring, shape (..., 3), from row features s (..., E + 3)."""
        return self.coef_out(torch.tanh(self.coef_in(s)))

    def correction(self, u: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """C(u, s): u (I, R, n), s (I, R, E + 3) -> (n_out, I, R, n) (values first: cheap softmax over them)."""
        h = torch.nn.functional.silu(u[..., None] * self.site_u + self.site_row(s)[:, :, None, :])
        return torch.einsum("irnh,kh->kirn", h, self.site_out.weight) + self.site_out.bias[:, None, None, None]


class AmortisedAMP(NetworkModule):
    r"""L unrolled AMP layers with learned scalar denoisers and reaction terms, reading J (module docstring).

    Parameters
    ----------
    prior : the model's prior (``Rademacher``, ``SparseRademacher``, ``Gaussian`` or any ``DiscretePrior``
        with unit second moment); fixes the alphabet head and log p0.
    n_layers : L (>= 1).  hidden : width H of the per-layer MLPs (>= 1).
    time_embedding, n_frequencies, t_scale : the time features phi(t) (``TimeFeatures``).
    seed : initialisation seed (CPU generator).  dtype : torch.float32 (default) or torch.float64.
    erasure : also answer the erasure channel (revealed variables; the row features get theta; module
        docstring).  Needs a ``DiscretePrior``.  Default False: the Gaussian-channel network.
    """

    def __init__(self, prior: Prior, n_layers: int = 16, hidden: int = 16, *, time_embedding: str = "fourier",
                 n_frequencies: int = 3, t_scale: float = 100.0, seed: int = 0, dtype: torch.dtype = torch.float32,
                 erasure: bool = False):
        super().__init__()
        if not isinstance(prior, DiscretePrior | Gaussian):
            raise TypeError(f"prior must be a spinglass DiscretePrior or Gaussian, got {type(prior).__name__}")
        if not isinstance(erasure, bool):
            raise TypeError(f"erasure must be a bool, got {type(erasure).__name__}")
        if erasure and not isinstance(prior, DiscretePrior):
            raise ValueError(f"erasure=True: revealed variables need a finite alphabet (a DiscretePrior), got "
                             f"{type(prior).__name__}")
        self.erasure = erasure
        self.prior = prior
        n_layers = check_positive_int("n_layers", n_layers, 1)
        hidden = check_positive_int("hidden", hidden, 1)
        seed = check_positive_int("seed", seed, 0)
        dtype = _check_dtype(dtype)
        self.time = TimeFeatures(time_embedding, n_frequencies, t_scale)
        if isinstance(prior, DiscretePrior):
            values = np.asarray(prior.values, dtype=float)
            weights = np.asarray(prior.weights, dtype=float)
            self.alphabet: tuple[float, ...] | None = tuple(float(v) for v in values)
            self.register_buffer("values", torch.tensor(values, dtype=dtype))
            self.register_buffer("log_prior", torch.tensor(np.log(weights) - np.log(weights).max(), dtype=dtype))
            mean = float(weights @ values)
            var = float(weights @ values**2) - mean**2
            self.symmetric = bool(np.allclose(values, -values[::-1], atol=1e-12)
                                  and np.allclose(weights, weights[::-1], atol=1e-12))
            n_out = values.size
        else:
            self.alphabet = None
            mean, var = 0.0, 1.0
            self.symmetric = True
            n_out = 1
        self.prior_mean, self.prior_var = mean, var
        gen = torch.Generator(device="cpu").manual_seed(seed)
        n_row = self.time.dim + 3 + int(erasure)
        self.layers = nn.ModuleList(_Layer(n_row, hidden, n_out, gen, dtype) for _ in range(n_layers))
        self.n_layers = n_layers
        self.hparams = {"prior": prior.describe(), "n_layers": n_layers, "hidden": hidden,
                        "time_embedding": time_embedding, "n_frequencies": self.time.n_frequencies,
                        "t_scale": self.time.t_scale, "seed": seed}
        if erasure:
            self.hparams["erasure"] = True

    # -- bookkeeping --------------------------------------------------------------------------------------------
    @staticmethod
    def parameter_count(n_layers: int, hidden: int, n_values: int | None, n_time_features: int,
                        erasure: bool = False) -> int:
        """The formula of the module docstring (n_values None for the Gaussian head)."""
        E, H, K = n_time_features + int(erasure), hidden, (n_values or 1)
        return n_layers * ((E + 3) * H + H + 3 * H + 3 + (E + 3) * H + H + H + H * K + K)


    def describe(self) -> dict:
        return {"name": type(self).__name__, **self.hparams, "n_parameters": self.n_parameters}

    # -- inputs ---------------------------------------------------------------------------------------------------
    def _inputs(self, J, y, t, lam):
        """Checked (J (I, n, n), y (I, R, n), t (I, R), lam (I,)) on the network's device and dtype."""
        dev, dt = self.device, self.dtype
        for name, v in (("J", J), ("y", y)):
            if not isinstance(v, torch.Tensor):
                raise TypeError(f"{name} must be a torch.Tensor, got {type(v).__name__}")
        p = self.p
        one = "(" + ", ".join(["n"] * p) + ")"
        if J.ndim == p and y.ndim == 2:
            J, y = J[None], y[None]
            t = torch.as_tensor(t, dtype=dt)
            t = t[None] if t.ndim == 1 else t
        if J.ndim != p + 1 or any(s != J.shape[1] for s in J.shape[2:]):
            raise ValueError(f"J must have shape {one} or (I, {one[1:]}, got {tuple(J.shape)}")
        I, n = J.shape[0], J.shape[1]
        if y.ndim != 3 or y.shape[0] != I or y.shape[2] != n:
            raise ValueError(f"y must have shape (B, n) with J {one}, or (I, R, n) = ({I}, R, {n}) with J "
                             f"(I, {one[1:]}, got {tuple(y.shape)}")
        R = y.shape[1]
        t = torch.as_tensor(t, dtype=dt, device=dev)
        if t.ndim == 0:
            t = t.expand(I, R)
        if t.shape != (I, R):
            raise ValueError(f"t must be a scalar or have one value per row, shape ({I}, {R}), got {tuple(t.shape)}")
        lam = torch.as_tensor(lam, dtype=dt, device=dev)
        if lam.ndim == 0:
            lam = lam.expand(I)
        if lam.shape != (I,):
            raise ValueError(f"lam must be a scalar or have one value per instance, shape ({I},), "
                             f"got {tuple(lam.shape)}")
        if not bool(torch.all(lam > 0)) or not bool(torch.all(torch.isfinite(lam))):
            raise ValueError("lam must be finite and > 0 (the SNR of the instance)")
        if not bool(torch.all(t >= 0)) or not bool(torch.all(torch.isfinite(t))):
            raise ValueError("t must be finite and >= 0")
        return J.to(device=dev, dtype=dt), y.to(device=dev, dtype=dt), t, lam

    def _revealed(self, revealed, shape: torch.Size) -> torch.Tensor | None:
        """Checked revealed value indices of y's shape (int64 on the device; -1 = free), or None when nothing is
        revealed.  ValueError when the network cannot answer them (``erasure=False``)."""
        if revealed is None:
            return None
        if isinstance(revealed, np.ndarray):
            revealed = torch.as_tensor(revealed)
        if not isinstance(revealed, torch.Tensor):
            raise TypeError(f"revealed must be a torch.Tensor of value indices, got {type(revealed).__name__}")
        if revealed.dtype.is_floating_point or revealed.dtype == torch.bool:
            raise TypeError(f"revealed must hold integer value indices (-1 = free), got {revealed.dtype}")
        if tuple(revealed.shape) != tuple(shape):
            raise ValueError(f"revealed must have y's shape {tuple(shape)}, got {tuple(revealed.shape)}")
        if revealed.numel() == 0 or int(revealed.max()) < 0:
            if revealed.numel() and int(revealed.min()) < -1:
                raise ValueError("revealed entries must be -1 (free) or value indices")
            return None
        if not self.erasure:
            raise ValueError("revealed: this AmortisedAMP answers the Gaussian channel only (built with "
                             "erasure=False); build it with erasure=True (and train it on channel='erasure' planted "
                             "pairs) for the erasure path")
        K = len(self.alphabet)
        if int(revealed.min()) < -1 or int(revealed.max()) >= K:
            raise ValueError(f"revealed entries must be -1 (free) or value indices in [0, {K - 1}]")
        return revealed.to(device=self.device, dtype=torch.int64)

    # -- the network ------------------------------------------------------------------------------------------
    def _site_correction(self, layer: _Layer, u: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        c = layer.correction(u, s)
        if self.symmetric:
            flip = layer.correction(-u, s)
            c = 0.5 * (c + flip.flip(0)) if self.alphabet is not None else 0.5 * (c - flip)
        return c

    def posterior(self, J: torch.Tensor, y: torch.Tensor, t, lam,
                  revealed: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(mean, marginals) of the module docstring; mean has y's shape, marginals y.shape + (K,) or None.
        revealed : None or value indices of y's shape (-1 = free; ``erasure=True`` networks only)."""
        mean, probs, _ = self.iterate(J, y, t, lam, revealed=revealed)
        return mean, probs

    def iterate(self, J: torch.Tensor, y: torch.Tensor, t, lam, state: State | None = None,
                revealed: torch.Tensor | None = None):
        """``posterior`` from a given start: (mean, marginals, final state).

        state : None (the prior start f^0 = E_p0[x], v^0 = Var_p0[x], f^{-1} = 0) or a tuple (f^0, v^0, f^{-1}) of
        tensors of y's shape (a warm start, e.g. the final state of the previous query along a path).  The
        returned state is (f^L, v^L, f^{L-1}).  revealed : None or value indices of y's shape, -1 = free (the
        erasure path: revealed sites clamped, f_i = x_i, v_i = 0, from the start on; module docstring).
        """
        squeeze = J.ndim == self.p
        shape = y.shape
        rev = self._revealed(revealed, shape)
        J, y, t, lam = self._inputs(J, y, t, lam)
        phi = self.time(t.reshape(-1)).reshape(t.shape + (self.time.dim,))
        log_lam = torch.log(lam)[:, None, None].expand(t.shape + (1,))
        lam_r = lam[:, None]
        if state is None:
            f = torch.full_like(y, self.prior_mean)
            v = torch.full_like(y, self.prior_var)
            f_prev = torch.zeros_like(y)
        else:
            if len(state) != 3 or any(not isinstance(a, torch.Tensor) or a.shape != shape for a in state):
                raise ValueError(f"state must be a tuple (f, v, f_prev) of tensors of y's shape {tuple(shape)}")
            f, v, f_prev = (a.to(device=y.device, dtype=y.dtype).reshape(y.shape) for a in state)
        extra = []
        if rev is not None:
            rev = rev.reshape(y.shape)
            is_rev = rev >= 0
            rev_vals = self.values[rev.clamp_min(0)]
            f = torch.where(is_rev, rev_vals, f)
            v = torch.where(is_rev, torch.zeros_like(v), v)
        if self.erasure:
            theta = torch.zeros_like(t) if rev is None else is_rev.to(y.dtype).mean(dim=-1)
            extra = [theta[..., None]]
        probs = None
        for layer in self.layers:
            q = (f * f).mean(dim=-1)
            vbar = v.mean(dim=-1)
            s = torch.cat([phi, q[..., None], vbar[..., None], log_lam] + extra, dim=-1)
            a, b, c = layer.coefficients(s).unbind(-1)
            omega, g = self._reaction_and_snr(lam_r, q, vbar, f, f_prev, a, b, t)
            r = y + (1.0 + c)[..., None] * self._linear(J, f) - omega[..., None] * f_prev
            u = r / torch.sqrt(1.0 + g)[..., None]
            corr = self._site_correction(layer, u, s)
            if self.alphabet is None:
                f_new = r / (1.0 + g)[..., None] + corr[0]
                v_new = (1.0 / (1.0 + g))[..., None].expand_as(r).clone()  # own memory: rows are written in place
            else:
                a_vals = self.values[:, None, None, None]
                logits = (r * a_vals - (0.5 * g)[..., None] * a_vals**2 + self.log_prior[:, None, None, None]
                          + corr)
                probs = torch.softmax(logits, dim=0)  # (K, I, R, n)
                f_new = (probs * a_vals).sum(dim=0)
                v_new = torch.clamp((probs * a_vals**2).sum(dim=0) - f_new**2, min=0.0)
            if rev is not None:
                f_new = torch.where(is_rev, rev_vals, f_new)
                v_new = torch.where(is_rev, torch.zeros_like(v_new), v_new)
            f_prev, f, v = f, f_new, v_new
        if probs is not None:
            probs = probs.permute(1, 2, 3, 0)
            if rev is not None:
                delta = torch.nn.functional.one_hot(rev.clamp_min(0), probs.shape[-1]).to(probs.dtype)
                probs = torch.where(is_rev[..., None], delta, probs)
        final = (f.reshape(shape), v.reshape(shape), f_prev.reshape(shape))
        if squeeze:
            return f[0], None if probs is None else probs[0], final
        return f, probs, final

    def forward(self, J, y, t, lam, revealed=None) -> torch.Tensor:
        return self.posterior(J, y, t, lam, revealed)[0]

    # -- the instance's operator (order p = 2 here; ``AmortisedTensorAMP`` overrides these two) -------------------
    p = 2

    def _linear(self, J: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
        """The AMP field sum_j J_ij f_j of every row: J (I, n, n), f (I, R, n)."""
        return torch.matmul(f, J)

    def _reaction_and_snr(self, lam, q, vbar, f, f_prev, a, b, t) -> tuple[torch.Tensor, torch.Tensor]:
        """(omega_k, g_k) of the module docstring: lam <v> (1 + a) and lam <f^2> e^b + t (rows (I, R))."""
        return lam * vbar * (1.0 + a), lam * q * torch.exp(b) + t

    def instance_of(self, model) -> tuple[torch.Tensor, float]:
        """(J, lam) of a ``SpikedWigner`` in the network's dtype and device: what ``bind`` reads (checked)."""
        if not isinstance(model, SpikedWigner):
            raise TypeError(f"model must be a spinglass SpikedWigner, got {type(model).__name__}")
        if not (isinstance(model.lam, numbers.Real) and model.lam > 0 and math.isfinite(model.lam)):
            raise ValueError(f"model must have a finite lam > 0, got {model.lam}")
        J = torch.tensor(np.array(model.couplings, dtype=float), dtype=self.dtype, device=self.device)
        return J, float(model.lam)

    # -- behind the Denoiser protocol ----------------------------------------------------------------------------
    def bind(self, model: SpikedWigner) -> BoundAmortisedAMP:
        """A ``DenoiserNetwork`` view of this network on one instance (``BoundAmortisedAMP``)."""
        return BoundAmortisedAMP(self, model)

    def factory(self, **kwargs) -> Callable[[SpikedWigner], AmortisedDenoiser]:
        """A callable ``model -> AmortisedDenoiser(self, model, **kwargs)`` (the drivers' denoiser spec; kwargs:
        ``warm_start``, ``max_passes``, ``tol``, ``device``, ``batch_size``)."""

        def make(model: SpikedWigner) -> AmortisedDenoiser:
            return AmortisedDenoiser(self, model, **kwargs)

        make.__name__ = "AmortisedDenoiser" + ("[warm start]" if kwargs.get("warm_start") else "")
        return make


class BoundAmortisedAMP(DenoiserNetwork):
    """An ``AmortisedAMP`` bound to one ``SpikedWigner`` instance: m(y, t) = network(J_model, y, t, lam_model).

    The shared network is a submodule (training it changes every bound view); the instance's J is a
    non-persistent buffer in the network's dtype.  ``NeuralDenoiser`` accepts the view for this model only
    (``model_fingerprint``).
    """

    def __init__(self, network: AmortisedAMP, model: SpikedWigner):
        super().__init__()
        if not isinstance(network, AmortisedAMP):
            raise TypeError(f"network must be an AmortisedAMP, got {type(network).__name__}")
        J, lam = network.instance_of(model)
        if model.prior != network.prior:
            raise ValueError(f"model has prior {model.prior.describe()} but the network was built for "
                             f"{network.prior.describe()}")
        self.core = network
        self.n = model.n
        self.alphabet = network.alphabet
        self.lam = lam
        self.model_fingerprint = model.fingerprint()
        self.model_family = model.family
        self.register_buffer("couplings", J, persistent=False)
        self.hparams = {**network.hparams, "n": model.n, "lam": self.lam}

    def describe(self) -> dict:
        return {"name": type(self.core).__name__, **self.hparams, "n_parameters": self.n_parameters}

    def posterior(self, y: torch.Tensor, t, revealed: torch.Tensor | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor | None]:
        mean, probs, _ = self.iterate(y, t, revealed=revealed)
        return mean, probs

    def iterate(self, y: torch.Tensor, t, state: State | None = None, revealed: torch.Tensor | None = None):
        """``AmortisedAMP.iterate`` on this instance: (mean (B, n), marginals or None, final state); revealed
        (B, n) value indices (-1 = free) for an ``erasure=True`` network."""
        y, t = self._prepare(y, t)
        return self.core.iterate(self.couplings.to(y.dtype), y, t, self.lam, state, revealed)


class AmortisedDenoiser(NeuralDenoiser):
    r"""An ``AmortisedAMP`` behind the ``Denoiser`` protocol on one ``SpikedWigner`` instance, with an optional
    warm start.

    Without warm start this is ``NeuralDenoiser(network.bind(model), model)``: every query starts the L
    layers from the prior, so the answer is a function of (y, t).  With ``warm_start=True`` a query of the
    same batch size starts from the final state (f^L, v^L, f^{L-1}) of the previous query, as
    ``AMPDenoiser(warm_start=True)`` does: along a denoising path the iteration then continues from one
    path time to the next (L more layers per query), following the branch the path is on, which is how
    AMP-based diffusion samplers run AMP along the SDE (Montanari & Wu 2023).  The answer then depends on
    the query history; ``reset(rng)`` (called by the drivers at the start of every batch and at the end of a
    run) forgets it.  Warm-started queries reuse the layers unchanged (untrained, the warm-started network is
    exactly ``AMPDenoiser(warm_start=True)`` capped at L iterations per query).  A network trained from the prior
    start only never saw such a state; ``train_amortised_denoiser(..., warm=WarmStarts())`` also trains it from
    its own warm-started states, and for a sign-symmetric law ``sign_invariant=True`` lets it keep the lobe a
    warm start has committed to (``samplers.neural.amortised_training``).

    Passes (``max_passes`` > 1).  A query applies the L layers up to ``max_passes`` times, each pass starting
    from the final state of the previous one, and stops a row when its mean changed by less than ``tol``
    (max-abs) in the last pass; rows still moving after ``max_passes`` passes are reported with
    ``converged = False`` (the drivers count them, as for AMP).  Untrained, P passes are exactly L P
    iterations of AMP.  This buys the many iterations AMP needs where the iteration is slow (near an
    algorithmic threshold at small t) without training a deeper network.

    Random start (``init_scale`` > 0).  A query that does not continue a previous one starts from
    f^0 = E_p0[x] + init_scale · z, v^0 = Var_p0[x] instead of the prior start, with z ~ N(0, I_n) drawn as
    ``AMPDenoiser``'s ``"random"`` start: one z per row from the sampler's run generator after ``reset(rng)``
    (kept for the run), else one z drawn from ``seed`` at construction and shared by all rows.  For a
    sign-symmetric prior the prior start gives m(J, 0, 0) = 0 exactly and the iteration cannot leave the
    symmetric point by itself; the small random part lets it pick a lobe (x* or -x*) from J alone at t = 0,
    which is what ``AMPDenoiser`` does along a path.  Untrained, with warm start and the same run generator,
    this denoiser is exactly ``AMPDenoiser(init="random", init_scale=..., warm_start=True, max_iter=L)``.

    Revealed variables (the erasure path, ``Autoregressive``).  With a network built with ``erasure=True`` a query
    may reveal variables (value indices, -1 = free); they are clamped at every layer (module docstring) and
    their marginal is the delta at the revealed value.  Untrained, this is ``AMPDenoiser`` on the same query
    (with the same start, warm start and L iterations per pass).  A network built with ``erasure=False`` (the
    Gaussian-channel network) answers a query with revealed variables by a ValueError.

    Parameters
    ----------
    network : the ``AmortisedAMP`` (moved to ``device``).  model : the ``SpikedWigner`` instance (same prior).
    warm_start : continue from the previous query's final state (see above).
    max_passes : passes of the L layers per query at most (>= 1; default 1: one pass, no convergence test).
    tol : convergence tolerance of the passes (> 0; used when max_passes > 1).
    init_scale : size of the random start (>= 0; default 0: the prior start, m a function of (y, t)).
    seed : seed of the shared random start (used without a run generator).
    device : "auto" (CUDA when available), "cpu", "cuda[:k]" or a torch.device.  batch_size : rows per pass.
    """

    def __init__(self, network: AmortisedAMP, model: SpikedWigner, *, warm_start: bool = False, max_passes: int = 1,
                 tol: float = 1e-4, init_scale: float = 0.0, seed: int = 0, device="auto", batch_size: int = 1 << 15):
        if not isinstance(network, AmortisedAMP):
            raise TypeError(f"network must be an AmortisedAMP, got {type(network).__name__}")
        if not isinstance(warm_start, bool):
            raise TypeError(f"warm_start must be a bool, got {type(warm_start).__name__}")
        super().__init__(network.bind(model), model, device=device, batch_size=batch_size)
        self.warm_start = warm_start
        self.max_passes = check_positive_int("max_passes", max_passes, 1)
        self.tol = _pos_real("tol", tol)
        self.init_scale = _pos_real("init_scale", init_scale, allow_zero=True)
        self.seed = check_positive_int("seed", seed, 0)
        self._z = np.random.default_rng(self.seed).standard_normal(model.n)
        self._run_rng: np.random.Generator | None = None
        self._run_z: np.ndarray | None = None
        self._state: State | None = None

    def describe(self) -> dict:
        return {**super().describe(), "name": "AmortisedDenoiser", "network": type(self.network.core).__name__,
                "n_layers": self.network.core.n_layers, "warm_start": self.warm_start, "max_passes": self.max_passes,
                "tol": self.tol, "init_scale": self.init_scale}

    def reset(self, rng=None) -> None:
        """Forget the state kept for ``warm_start`` (the next query starts afresh); with ``rng`` (the sampler's run
        generator) the random start is redrawn from it, one vector per row, and kept for the run."""
        self._state = None
        self._run_rng = rng
        self._run_z = None

    def _random_start(self, B: int) -> State:
        """(f^0, v^0, f^{-1}) of the random start for B rows (class docstring)."""
        if self._run_rng is not None:
            if self._run_z is None or self._run_z.shape[0] != B:
                self._run_z = self._run_rng.standard_normal((B, self.model.n))
            z = self._run_z
        else:
            z = np.broadcast_to(self._z, (B, self.model.n))
        core = self.network.core
        f = torch.as_tensor(core.prior_mean + self.init_scale * z, dtype=core.dtype).to(self.device)
        return f, torch.full_like(f, core.prior_var), torch.zeros_like(f)

    def _posterior(self, y: np.ndarray, t: np.ndarray, revealed: np.ndarray) -> DenoiserOutput:
        any_revealed = bool(np.any(revealed >= 0))
        if any_revealed and not self.network.core.erasure:
            raise ValueError("revealed: this AmortisedDenoiser's network answers the Gaussian channel only (built "
                             "with erasure=False); for the erasure path (Autoregressive) build the AmortisedAMP with "
                             "erasure=True and train it on channel='erasure' planted pairs")
        if not any_revealed and not self.warm_start and self.max_passes == 1 and self.init_scale == 0:
            return super()._posterior(y, t, revealed)
        rev_all = torch.as_tensor(np.asarray(revealed, dtype=np.int64)) if any_revealed else None
        net = self.network
        B = y.shape[0]
        prev = self._state if self.warm_start and self._state is not None and self._state[0].shape[0] == B else None
        if prev is None and self.init_scale > 0:
            prev = self._random_start(B)
        was_training = net.training
        net.eval()
        means, margs, states, passes, residual = [], [], [], [], []
        try:
            with torch.no_grad():
                for lo in range(0, B, self.batch_size):
                    hi = min(B, lo + self.batch_size)
                    yy = torch.as_tensor(y[lo:hi], dtype=net.dtype).to(self.device)
                    tt = torch.as_tensor(t[lo:hi], dtype=net.dtype).to(self.device)
                    start = None if prev is None else tuple(a[lo:hi] for a in prev)
                    rr = None if rev_all is None else rev_all[lo:hi].to(self.device)
                    out = self._passes(yy, tt, start, rr)
                    means.append(out[0].double().cpu().numpy())
                    if out[1] is not None:
                        margs.append(out[1].double().cpu().numpy())
                    states.append(out[2])
                    passes.append(out[3])
                    residual.append(out[4])
        finally:
            net.train(was_training)
        if self.warm_start:
            self._state = tuple(torch.cat([s[k] for s in states]) for k in range(3))
        self.n_rows += B
        passes_np, res_np = np.concatenate(passes), np.concatenate(residual)
        converged = res_np < self.tol if self.max_passes > 1 else np.ones(B, dtype=bool)
        return DenoiserOutput(mean=np.concatenate(means), marginals=np.concatenate(margs) if margs else None,
                              converged=converged, iterations=passes_np * net.core.n_layers,
                              residual=res_np if self.max_passes > 1 else np.zeros(B))

    def _passes(self, y: torch.Tensor, t: torch.Tensor, state: State | None, revealed: torch.Tensor | None = None):
        """Up to ``max_passes`` passes on rows y (b, n) from ``state`` (revealed: (b, n) value indices or None);
        rows stop once their mean moved < tol.  Returns (mean, marginals, final state, passes per row, last change
        per row)."""
        b = y.shape[0]
        mean, probs, state = self.network.iterate(y, t, state, revealed)
        self.n_evaluations += 1
        passes = np.ones(b, dtype=np.int64)
        change = np.full(b, np.inf)
        active = torch.arange(b, device=y.device)
        for _ in range(self.max_passes - 1):
            sub = tuple(a[active] for a in state)
            m2, p2, s2 = self.network.iterate(y[active], t[active], sub,
                                              None if revealed is None else revealed[active])
            self.n_evaluations += 1
            delta = (m2 - mean[active]).abs().amax(dim=1)
            idx = active.cpu().numpy()
            change[idx] = delta.double().cpu().numpy()
            passes[idx] += 1
            mean[active] = m2
            if probs is not None:
                probs[active] = p2
            for k in range(3):
                state[k][active] = s2[k]
            active = active[delta >= self.tol]
            if active.numel() == 0:
                break
        return mean, probs, state, passes, change
