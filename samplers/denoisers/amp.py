r"""Approximate message passing (AMP) denoisers for dense mean-field models (docs/physics.md §3-§4).

All three iterations below are one loop over a scalar denoiser.  Notation: N = n variables, <a> = (1/N)
sum_i a_i, prior p0 with scalar-channel posterior mean f(r; g) and variance f'(r; g) (``Prior.f``,
``Prior.df``; docs/physics.md §3), side channel y (the field of mu_{y,t,R}, ``samplers.denoisers.base``) at
SNR t, revealed set R.  Iterates f^k (estimates of E[x]) and v^k = f'(...) (posterior variances); f^{-1} = 0.

Spiked Wigner (``AMPDenoiser`` on ``SpikedWigner``)
---------------------------------------------------
Model: Y_ij = sqrt(lam/N) x*_i x*_j + W_ij, couplings J_ij = sqrt(lam/N) Y_ij (``model.couplings``),
noise Delta = 1/lam.  This is the Bayes-optimal low-rank AMP of Lesieur, Krzakala, Zdeborová, "Constrained
low-rank matrix estimation: phase transitions, approximate message passing and applications",
J. Stat. Mech. (2017) 073403 (symmetric rank-one case, Gaussian output channel): in their notation
Y' = x x^T/sqrt(N) + sqrt(Delta) W, Fisher score S = Y'/Delta, and

    B_i^k = (1/sqrt(N)) sum_j S_ij f_j^k - (1/(N Delta)) sum_j v_j^k · f_i^{k-1},
    A^k   = (1/(N Delta)) sum_j (f_j^k)^2,        f_i^{k+1} = f(B_i^k; A^k),  v_i^{k+1} = f'(B_i^k; A^k).

Our Y equals sqrt(lam) Y', so (1/sqrt(N)) S = J.  The side channel multiplies the posterior by
exp(y_i x_i - t x_i^2/2), which adds y_i to the linear and t to the quadratic coefficient of the scalar
channel.  Hence, with the Onsager reaction term lam <v^k> f^{k-1}:

    r_i^k = y_i + sum_j J_ij f_j^k - lam <v^k> f_i^{k-1},      g^k = lam <(f^k)^2> + t.

Spiked tensor (``AMPDenoiser`` on ``SpikedTensor``)
---------------------------------------------------
Model (order p, i_1 < ... < i_p): Y_e = sqrt((p-1)!/N^(p-1)) prod_{i in e} x*_i + sqrt(Delta) W_e with
weights w_e = sqrt((p-1)!/N^(p-1)) Y_e / Delta (``model.hyperedges``, ``model.weights``).  The AMP of
Lesieur, Miolane, Lelarge, Krzakala, Zdeborová, "Statistical and computational phase transitions in spiked
tensor estimation", ISIT 2017 (see also Richard & Montanari, NIPS 2014) reads, in our normalisation,

    r_i^k = y_i + sum_{e ∋ i} w_e prod_{j in e, j != i} f_j^k
                - ((p-1)/Delta) <v^k> <f^k f^{k-1}>^(p-2) f_i^{k-1},
    g^k   = <(f^k)^2>^(p-1) / Delta + t.

Derivation of the reaction term: in belief propagation factor e receives from j the cavity mean
f_{j->e} ≈ f_j - v_j w_e prod_{l in e, l != j} f_l^{k-1} (the part of j's field that came from e).
Inserting it in sum_{e ∋ i} w_e prod_{j in e \ i} f_{j->e} and keeping the first order gives
-f_i^{k-1} sum_{e ∋ i} w_e^2 sum_{j in e \ i} v_j prod_{l in e \ {i,j}} f_l^k f_l^{k-1}.  Replacing w_e^2 by
its mean (p-1)!/(Delta N^(p-1)) and sum_{j} sum_{(p-2)-subsets} by N <v> (N <f^k f^{k-1}>)^(p-2)/(p-2)!
gives the term above; the quadratic coefficient g^k arises the same way from the global term of the
posterior (``spinglass.spiked``) and the variance of w_e.  p = 2 recovers the Wigner iteration with
lam = 1/Delta.  The p-body field is computed by a numba kernel over the stored hyperedges (O(M p^2) per
row and iteration, M = C(N, p), no Python loop over entries).

State evolution (both models; docs/physics.md §4).  With y = t x* + sqrt(t) z and the overlap
m^k = <f^k x*> = <(f^k)^2> (Nishimori), r^k is asymptotically the scalar channel at SNR g^k:
r_i^k ≈ g^k x*_i + sqrt(g^k) z_i, so

    m^{k+1} = F(m^k^(p-1) / Delta + t),        and with a fraction theta revealed (f_i = x*_i, v_i = 0):
    m^{k+1} = theta + (1 - theta) F(m^k^(p-1) / Delta).

SK at inverse temperature beta (``SKAMPDenoiser``)
--------------------------------------------------
Tilted SK measure mu_{y,t}(x) ∝ exp(beta sum_{i<j} J_ij x_i x_j + beta h sum_i x_i + <y, x> - t |x|^2/2),
J = ``model.couplings`` (J_ij = g_ij/sqrt(N)), x in {±1}^N.  Since |x|^2 = N, t only shifts the log
normaliser and drops out of every mean.  The AMP / TAP iteration (Bolthausen, CMP 2014; El Alaoui,
Montanari, Sellke, "Sampling from the Sherrington-Kirkpatrick Gibbs measure via algorithmic stochastic
localization", FOCS 2022) is the Rademacher case of the loop above with matrix beta J and no SNR term:

    m^{k+1} = tanh( beta h + y + beta J m^k - beta^2 (1 - q_k) m^{k-1} ),    q_k = |m^k|^2 / N,

where 1 - q_k = <v^k> (v = 1 - m^2); revealed spins have m_i = x_i, v_i = 0, so the reaction coefficient is
beta^2 <v^k> in general.  Fixed points solve the TAP equations m = tanh(beta h + y + beta J m -
beta^2 (1 - q) m); at high temperature (beta < 1 and, with fields, above the AT line) the iteration
converges and q approaches the replica-symmetric q = E tanh^2(H + beta sqrt(q) Z) (H the field law).

Iteration, damping, convergence
-------------------------------
Each step computes (r^k, g^k), then f^{k+1} = (1 - d) f(r^k; g^k) + d f^k and v^{k+1} likewise (damping
d in [0, 1); the fixed points do not depend on d).  A batch row stops (and is frozen) when the max-abs
change of f is below ``tol``; rows still moving after ``max_iter`` steps are reported with
``converged = False`` (``Denoiser.posterior`` then warns).  The output mean and marginals are the scalar
posterior at the last fields, f(r; g) and p0(x) exp(r x - g x^2/2)/Z (delta on revealed sites), which
equal the iterate at a fixed point.  ``trace["residual"]`` (B, T) records the change at each step and
``trace["overlap_planted"]`` (B, T) the overlap <f^{k+1}, x*>/N when the model has a planted x* (NaN
after a row stopped).  ``free_entropy`` is not computed (None).

Initialisation (``init``)
-------------------------
* ``"random"`` (default for the spiked models): f^0 = E_p0[x] + init_scale · z with z ~ N(0, I_N) drawn once
  from ``seed`` at construction (the same z for every query, so the denoiser is a deterministic function
  of (y, t, R) and a batch equals the same rows queried one by one), v^0 = Var_p0[x].  This is the
  uninformed start (m^0 ≈ 0) that follows the algorithmic branch; the small random part breaks the
  symmetry of the x -> -x invariant priors where f = E[x] is itself a fixed point.
* ``"prior"``: f^0 = E_p0[x], v^0 = Var_p0[x] (no random part; for a symmetric prior with y = 0 and
  nothing revealed this is the uninformative fixed point itself).
* ``"planted"``: f^0 = x*, v^0 = 0 (informed start, m^0 = 1, follows the informed branch).
* an array (n,) or (B, n): f^0 = init, v^0 = 0 (a start independent of the noise).
SK: ``"zero"`` (default, m^0 = 0, so m^1 = tanh(beta h + y)), ``"random"`` (m^0 = init_scale · z) or an
array.  Revealed sites always start (and stay) at their revealed values.

Precision (``dtype``)
---------------------
``dtype="float32"`` (dense models: spiked Wigner and SK) runs the one O(N^2) operation of an iteration,
the product J f, in single precision on a float32 copy of J, and everything else in float64.  The
product is memory bound, so this halves its cost (2.15x faster at N = 4000 on the benchmark machine);
the rounding error of each entry of J f is about 1e-7 |J f|, far below the tolerances a sampler needs
(use ``tol`` >= 1e-6 with it).  The spiked tensor's p-body field has no BLAS form and stays float64.

Device (``device``)
-------------------
``device="cpu"``, ``"cuda"`` (or ``"cuda:k"``) runs the matrix product J f with torch on that device, on a
copy of J kept there (float64, or float32 with ``dtype="float32"``); only the (b, n) iterate crosses to the
device and back, everything else stays numpy.  ``device="auto"`` picks CUDA when torch finds it and the
numpy/BLAS path otherwise; ``None`` (default) is the numpy/BLAS path.  Dense models only.

Warm start (``warm_start=True``)
--------------------------------
Along a denoising path consecutive queries differ little, so a query may start from the iterate
(f^K, v^K, f^{K-1}) the previous query of the same batch size ended with instead of from ``init``; revealed
sites are then reset to their values.  The fixed point reached is the one continuously connected to the
previous one, i.e. the branch followed along the path (the algorithmic branch when the path began
uninformed), in far fewer iterations.  A warm-started query is a function of the query history, not of
(y, t, R) alone; ``reset()`` forgets the history (the generative drivers call it at the start of every
batch, with their run generator, and once more at the end of the run).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numba import njit

from spinglass._validate import SeedLike, check_int, check_real, make_rng
from spinglass.mean_field import SK
from spinglass.priors import DiscretePrior, Prior, Rademacher
from spinglass.spiked import SpikedTensor, SpikedWigner

from .base import Denoiser, DenoiserOutput


@njit(cache=True)
def _tensor_fields(edges, weights, f, out):
    """out[b, i] = sum_{e ∋ i} w_e prod_{j in e, j != i} f[b, j] (out zeroed by the caller)."""
    B = f.shape[0]
    M, p = edges.shape
    for b in range(B):
        for e in range(M):
            w = weights[e]
            for a in range(p):
                prod = w
                for c in range(p):
                    if c != a:
                        prod *= f[b, edges[e, c]]
                out[b, edges[e, a]] += prod


def _check_device(device) -> str | None:
    """The torch device of the matrix product, or None for numpy/BLAS (module docstring, "Device")."""
    if device is None:
        return None
    if not isinstance(device, str):
        raise TypeError(f"device must be None, 'auto', 'cpu' or 'cuda[:k]', got {type(device).__name__}")
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else None
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r}: torch finds no CUDA device (use 'auto' to fall back to the CPU)")
        return device
    if device != "cpu":
        raise ValueError(f"device must be None, 'auto', 'cpu' or 'cuda[:k]', got {device!r}")
    return device


def _check_damping(damping) -> float:
    if isinstance(damping, bool) or not isinstance(damping, numbers.Real):
        raise TypeError(f"damping must be a real number in [0, 1), got {type(damping).__name__}")
    damping = float(damping)
    if not (0.0 <= damping < 1.0):
        raise ValueError(f"damping must be in [0, 1), got {damping}")
    return damping


class _AMPBase(Denoiser):
    """The AMP loop shared by the spiked models and SK (module docstring); subclasses give the fields."""

    prior: Prior
    _init_modes: tuple[str, ...] = ()

    def _setup(self, model, damping, tol, max_iter, init, init_scale, seed, warm_start=False,
               dtype="float64", device=None) -> None:
        self.model = model
        if dtype not in ("float64", "float32"):
            raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
        self.dtype = dtype
        self._J32: np.ndarray | None = None
        self.device = _check_device(device)
        self._Jt = None
        if not isinstance(warm_start, bool):
            raise TypeError(f"warm_start must be a bool, got {type(warm_start).__name__}")
        self.warm_start = warm_start
        self._last: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.damping = _check_damping(damping)
        self.tol = check_real("tol", tol, minimum=0.0, strict_min=True)
        self.max_iter = check_int("max_iter", max_iter, minimum=1)
        self.init_scale = (max(1e-3, 100 * self.tol) if init_scale is None
                           else check_real("init_scale", init_scale, minimum=0.0))
        if isinstance(init, str) and init == "random" and self.init_scale < 100 * self.tol:
            # a start closer to the uninformative fixed point than the tolerance "converges" at step 1
            raise ValueError(f"init_scale must be >= 100 * tol = {100 * self.tol:g} for init='random', "
                             f"got {self.init_scale:g}")
        n = model.n
        if isinstance(init, str):
            if init not in self._init_modes:
                raise ValueError(f"init must be one of {self._init_modes} or an array, got {init!r}")
            if init == "planted" and model.planted is None:
                raise ValueError("init='planted' needs a model with a planted configuration")
            self._init_array = None
        else:
            arr = np.asarray(init, dtype=float)
            if arr.shape == (n,):
                arr = arr[None]
            if arr.ndim != 2 or arr.shape[1] != n:
                raise ValueError(f"init must be one of {self._init_modes}, or an array of shape ({n},) or (B, {n}), "
                                 f"got shape {arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise ValueError("init must be finite")
            self._init_array = arr
        self.init = init if isinstance(init, str) else "array"
        self.seed = seed
        self._z = make_rng(seed).standard_normal(n)
        self._values = None if model.alphabet is None else np.asarray(model.alphabet, dtype=float)
        self._planted = None if model.planted is None else np.asarray(model.planted, dtype=float)

    def describe(self) -> dict:
        return {"name": type(self).__name__, "damping": self.damping, "tol": self.tol, "max_iter": self.max_iter,
                "init": self.init, "init_scale": self.init_scale, "warm_start": self.warm_start, "dtype": self.dtype,
                "device": self.device,
                "seed": self.seed if self.seed is None or isinstance(self.seed, int) else "Generator"}

    def reset(self, rng: np.random.Generator | None = None) -> None:
        """Forget the iterate kept for ``warm_start``: the next query starts from ``init``.

        With ``rng`` (a sampler's run generator), the random part of the ``"random"`` start is redrawn
        from it, one independent vector per batch row, and kept for the rest of the run (until the next
        reset); without it, the vector drawn from ``seed`` at construction is shared by every row.  For a
        sign-symmetric prior this random part decides the lobe (x or -x) a row's iteration settles in, so
        a sampler must draw it from its own seed, independently per sample.
        """
        self._last = None
        self._run_rng = rng
        self._run_z = None

    def _random_part(self, B: int) -> np.ndarray:
        """The random start z: (B, n) from the run generator after ``reset(rng)``, else the shared z (n,)."""
        rng = getattr(self, "_run_rng", None)
        if rng is None:
            return self._z
        if self._run_z is None or self._run_z.shape[0] != B:
            self._run_z = rng.standard_normal((B, self.model.n))
        return self._run_z

    def _matvec(self, f: np.ndarray) -> np.ndarray:
        """(J f^T)^T for a batch f (b, n): J symmetric, and this order is 5-10x faster than f @ J for few
        rows with this BLAS; in float32 on a float32 copy of J when ``dtype="float32"``."""
        if self.device is not None:
            import torch

            if self._Jt is None:
                kind = torch.float32 if self.dtype == "float32" else torch.float64
                self._Jt = torch.tensor(np.asarray(self._J), dtype=kind, device=self.device)  # a copy: J is read-only
            ft = torch.as_tensor(np.ascontiguousarray(f.T), dtype=self._Jt.dtype, device=self.device)
            return (self._Jt @ ft).T.cpu().numpy().astype(float)
        if self.dtype == "float32":
            if self._J32 is None:
                self._J32 = np.asarray(self._J, dtype=np.float32)
            return (self._J32 @ f.T.astype(np.float32)).T.astype(float)
        return (self._J @ f.T).T

    # -- to implement ---------------------------------------------------------------------------------
    def _fields(self, f, v, f_prev, y, t) -> tuple[np.ndarray, np.ndarray]:
        """(r, g): the scalar-channel field (b, n) and SNR (b,) of the next step."""
        raise NotImplementedError

    def _start(self, B: int) -> tuple[np.ndarray, np.ndarray]:
        """(f^0, v^0) for B rows before the revealed values are imposed."""
        raise NotImplementedError

    def _init_from_array(self, B: int) -> tuple[np.ndarray, np.ndarray]:
        arr = self._init_array
        if arr.shape[0] not in (1, B):
            raise ValueError(f"init has {arr.shape[0]} rows but the batch has {B}")
        f = np.array(np.broadcast_to(arr, (B, self.model.n)))
        return f, np.zeros_like(f)

    # -- the loop -------------------------------------------------------------------------------------
    def _scalar(self, r, g):
        return self.prior.f(r, g[:, None]), self.prior.df(r, g[:, None])

    def _posterior(self, y: np.ndarray, t: np.ndarray, revealed: np.ndarray) -> DenoiserOutput:
        B, n = y.shape
        is_rev = revealed >= 0
        any_rev = bool(is_rev.any())
        rev_vals = self._values[np.maximum(revealed, 0)] if any_rev else None
        if self.warm_start and self._last is not None and self._last[0].shape == (B, n):
            f, v, f_prev = (a.copy() for a in self._last)
        else:
            f, v = self._start(B)
            f_prev = np.zeros_like(f)
        if any_rev:
            f = np.where(is_rev, rev_vals, f)
            v = np.where(is_rev, 0.0, v)
        r_out = np.zeros((B, n))
        g_out = np.zeros(B)
        residual = np.full(B, np.inf)
        iterations = np.zeros(B, dtype=np.int64)
        converged = np.zeros(B, dtype=bool)
        res_trace = np.full((B, self.max_iter), np.nan)
        ov_trace = None if self._planted is None else np.full((B, self.max_iter), np.nan)
        active = np.arange(B)
        d = self.damping
        steps = 0
        for k in range(self.max_iter):
            if active.size == 0:
                break
            steps = k + 1
            fa, va, fpa = f[active], v[active], f_prev[active]
            r, g = self._fields(fa, va, fpa, y[active], t[active])
            f_new, v_new = self._scalar(r, g)
            if d:
                f_new = (1.0 - d) * f_new + d * fa
                v_new = (1.0 - d) * v_new + d * va
            if any_rev:
                rv = is_rev[active]
                f_new = np.where(rv, rev_vals[active], f_new)
                v_new = np.where(rv, 0.0, v_new)
            change = np.max(np.abs(f_new - fa), axis=1)
            f_prev[active], f[active], v[active] = fa, f_new, v_new
            r_out[active], g_out[active] = r, g
            residual[active] = change
            iterations[active] = k + 1
            res_trace[active, k] = change
            if ov_trace is not None:
                ov_trace[active, k] = f_new @ self._planted / n
            done = change < self.tol
            converged[active[done]] = True
            active = active[~done]
        if self.warm_start:
            self._last = (f, v, f_prev)
        mean, _ = self._scalar(r_out, g_out)
        marginals = None
        if isinstance(self.prior, DiscretePrior):
            marginals = self.prior.posterior(r_out, g_out[:, None])
        if any_rev:
            mean = np.where(is_rev, rev_vals, mean)
            if marginals is not None:
                delta = np.arange(self.n_values)[None, None, :] == revealed[:, :, None]
                marginals = np.where(is_rev[:, :, None], delta.astype(float), marginals)
        trace = {"residual": res_trace[:, :steps]}
        if ov_trace is not None:
            trace["overlap_planted"] = ov_trace[:, :steps]
        return DenoiserOutput(mean=np.asarray(mean, dtype=float), marginals=marginals, converged=converged,
                              iterations=iterations, residual=residual, free_entropy=None, trace=trace)


class AMPDenoiser(_AMPBase):
    """AMP for ``SpikedWigner`` and ``SpikedTensor`` with side channel and revealed variables (Bayes-optimal
    where the uninformed branch it follows is the Bayes-optimal one: docs/physics.md §3).

    Parameters
    ----------
    model : a ``SpikedWigner`` or ``SpikedTensor`` instance (any prior: Rademacher, SparseRademacher,
        Gaussian; revealed variables need a discrete prior).
    damping : d in [0, 1); f <- (1 - d) f_new + d f (same for the variances).
    tol : convergence when the max-abs change of the estimate f is below ``tol``.
    max_iter : iteration cap; rows that have not converged are reported with ``converged = False``.
    init : ``"random"`` (uninformed, default), ``"prior"``, ``"planted"`` (informed) or an array of shape
        (n,) or (B, n); see the module docstring.
    init_scale : size of the random part of the ``"random"`` start (default max(1e-3, 100 tol)).
    seed : seed of the random start (drawn once at construction).
    warm_start : start each query from the previous query's final iterate (module docstring).
    dtype : "float64" (default) or "float32" for the matrix product (module docstring; spiked Wigner only).
    device : None (numpy/BLAS), "auto", "cpu" or "cuda[:k]": torch device of the matrix product.

    The iteration, its derivation, references and state evolution m <- F(m^(p-1)/Delta + t) (p = 2,
    Delta = 1/lam for spiked Wigner) are in the module docstring.
    """

    _init_modes = ("random", "prior", "planted")

    def __init__(self, model: SpikedWigner | SpikedTensor, damping: float = 0.0, tol: float = 1e-8,
                 max_iter: int = 500, init: str | np.ndarray = "random", *, init_scale: float | None = None,
                 seed: SeedLike = None, warm_start: bool = False, dtype: str = "float64", device: str | None = None):
        if isinstance(model, SpikedWigner):
            self.p = 2
            self.Delta = 1.0 / model.lam if model.lam > 0 else math.inf
            self._J = np.asarray(model.couplings)
        elif isinstance(model, SpikedTensor):
            self.p = int(model.p)
            self.Delta = float(model.Delta)
            self._edges = np.ascontiguousarray(model.hyperedges, dtype=np.int64)
            self._weights = np.ascontiguousarray(model.weights, dtype=float)
        else:
            raise TypeError(f"AMPDenoiser supports SpikedWigner and SpikedTensor models, got {type(model).__name__} "
                            "(use SKAMPDenoiser for SK, ExactDenoiser or BP for other models)")
        self.prior = model.prior
        self._setup(model, damping, tol, max_iter, init, init_scale, seed, warm_start, dtype, device)
        if (dtype == "float32" or self.device is not None) and self.p != 2:
            raise ValueError("dtype='float32' and device apply to the dense matrix product (SpikedWigner); the "
                             f"spiked tensor (p = {self.p}) runs in float64 with numba")
        self._inv_delta = 0.0 if math.isinf(self.Delta) else 1.0 / self.Delta
        if isinstance(self.prior, DiscretePrior):
            mu = float(self.prior.weights @ self.prior.values)
            var = float(self.prior.weights @ self.prior.values**2) - mu**2
        else:  # Gaussian N(0, 1)
            mu, var = 0.0, 1.0
        self._prior_mean, self._prior_var = mu, var

    def describe(self) -> dict:
        d = super().describe()
        d.update({"p": self.p, "Delta": self.Delta})
        return d

    def _start(self, B):
        n = self.model.n
        if self.init == "array":
            return self._init_from_array(B)
        if self.init == "planted":
            f = np.broadcast_to(self._planted, (B, n)).copy()
            return f, np.zeros((B, n))
        f = np.full((B, n), self._prior_mean)
        if self.init == "random":
            f += self.init_scale * self._random_part(B)
        return f, np.full((B, n), self._prior_var)

    def _linear(self, f: np.ndarray) -> np.ndarray:
        """sum_j J_ij f_j (Wigner) or sum_{e ∋ i} w_e prod_{j in e \\ i} f_j (tensor), batched (b, n)."""
        if self.p == 2 and hasattr(self, "_J"):
            return self._matvec(f)
        out = np.zeros_like(f)
        _tensor_fields(self._edges, self._weights, np.ascontiguousarray(f), out)
        return out

    def _fields(self, f, v, f_prev, y, t):
        n = self.model.n
        p = self.p
        q = np.einsum("bi,bi->b", f, f) / n
        ons = (p - 1) * self._inv_delta * v.mean(axis=1)
        if p > 2:
            ons = ons * (np.einsum("bi,bi->b", f, f_prev) / n) ** (p - 2)
        r = y + self._linear(f) - ons[:, None] * f_prev
        g = q ** (p - 1) * self._inv_delta + t
        return r, g


class SKAMPDenoiser(_AMPBase):
    """AMP / TAP iteration for the SK Gibbs measure tilted by an external field y (module docstring).

    Parameters
    ----------
    model : an ``SK`` instance (inverse temperature ``model.beta``, uniform field ``model.h``).
    damping, tol, max_iter : as for ``AMPDenoiser``.
    init : ``"zero"`` (default: m^0 = 0), ``"random"`` (m^0 = init_scale · z) or an array (n,) / (B, n).
    init_scale, seed : the random start.

    Iteration: m^{k+1} = tanh(beta h + y + beta J m^k - beta^2 <1 - (m^k)^2> m^{k-1}) (revealed spins fixed,
    contributing 0 to the reaction coefficient).  The side-channel SNR t does not change the means of ±1
    spins (|x|^2 = N); the output ``marginals`` are P(x_i = -1), P(x_i = +1) = (1 ∓ m_i)/2.
    """

    _init_modes = ("zero", "random")

    def __init__(self, model: SK, damping: float = 0.0, tol: float = 1e-8, max_iter: int = 500,
                 init: str | np.ndarray = "zero", *, init_scale: float | None = None, seed: SeedLike = None,
                 warm_start: bool = False, dtype: str = "float64", device: str | None = None):
        if not isinstance(model, SK):
            raise TypeError(f"SKAMPDenoiser supports SK models, got {type(model).__name__}")
        self.prior = Rademacher()
        self._setup(model, damping, tol, max_iter, init, init_scale, seed, warm_start, dtype, device)
        self.beta = float(model.beta)
        self._J = np.asarray(model.couplings)
        self._h = self.beta * np.asarray(model.fields, dtype=float)

    def describe(self) -> dict:
        d = super().describe()
        d.update({"beta": self.beta})
        return d

    def _start(self, B):
        n = self.model.n
        if self.init == "array":
            return self._init_from_array(B)
        f = np.zeros((B, n))
        if self.init == "random":
            f += self.init_scale * self._random_part(B)
        return f, 1.0 - f**2

    def _fields(self, f, v, f_prev, y, t):
        beta = self.beta
        r = self._h + y + beta * self._matvec(f) - (beta**2 * v.mean(axis=1))[:, None] * f_prev
        return r, np.asarray(t, dtype=float)


__all__ = ["AMPDenoiser", "SKAMPDenoiser"]
