r"""Flow matching: learned velocity fields for the stochastic-interpolant driver, and a 2-D benchmark.

Interpolant (docs/physics.md §2) with the linear schedule alpha = 1 - tau, beta = tau:

    I_tau = (1 - tau) z + tau x,     z ~ N(0, I_d),  x ~ mu,  tau in [0, 1],

whose law is transported by the ODE du/dtau = b(u, tau) with the velocity

    b(u, tau) = E[ x - z | I_tau = u ] = (E[x | I_tau = u] - u) / (1 - tau).

Conditional flow matching (Lipman et al. 2023; Albergo & Vanden-Eijnden 2023) learns b without the
posterior: the regression

    L(theta) = E_{tau ~ U[0,1], z, x} || b_theta(I_tau, tau) - (x - z) ||^2 / d

has the conditional expectation above as its minimiser over all functions (the loss is the MSE of
predicting x - z from (I_tau, tau)).  :func:`train_velocity` minimises it with
``samplers.neural.training.fit`` (noise and tau drawn with fit's CPU generator).  A trained network is
plugged into ``StochasticInterpolant(velocity=VelocityField(net))`` (ODE, linear interpolant): the driver
integrates u from u_0 ~ N(0, I) to tau_end = tau(T) and returns u / tau_end, rounded to the nearest
alphabet value for discrete models (continuous models: u / tau_end itself).

Network.  :class:`TwoLayerReLUVelocity` is the two-layer ReLU field of the flow-matching convergence
theory, b(u, tau) = sum_k a_k relu(w_k · [u, tau] + c_k) (+ a linear skip S [u, tau] + s_0); see its
docstring for the parameter count.

Benchmark (:func:`compare_flow_diffusion`).  On a continuous target (:class:`GaussianMixture`, e.g. a
2-D mixture) it trains, on the same training rows, (i) a ``TwoLayerReLUVelocity`` of width W by flow
matching and (ii) a one-hidden-layer ReLU ``MLPDenoiser`` of the same width by denoising score matching,
samples each with the existing drivers (ODE over the velocity; stochastic localisation over the
denoiser) on a continuous "carrier" model (``continuous_carrier``: n = d, Gaussian prior, no couplings,
whose only role is to give the drivers the dimension and the continuous alphabet; the law sampled is the
network's), and reports wall times, loss curves and distances to fresh target samples.

Distances between point clouds (:func:`empirical_wasserstein`, :func:`sliced_wasserstein`).  For two
clouds of the same size N, the W_p distance between their empirical laws is an assignment problem,

    W_p(a, b)^p = min_{pi permutation} (1/N) sum_k |a_k - b_pi(k)|^p,

solved exactly with ``scipy.optimize.linear_sum_assignment`` (O(N^3): a few hundred points).  The
sliced W1 averages the exact 1-D W1 of projections on ``n_projections`` random unit directions.  Both
are distances between *empirical* laws: two independent N-samples of the same law sit at a positive
distance (a noise floor, reported by the benchmark as ``floor``).
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from spinglass._validate import SeedLike, make_rng

from .denoiser import _uniform_linear
from .training import TrainConfig, TrainHistory, batch_and_time, check_positive_int, count_parameters, fit, pick_device

__all__ = [
    "TwoLayerReLUVelocity", "VelocityField", "flow_matching_loss", "train_velocity", "GaussianMixture",
    "continuous_carrier", "empirical_wasserstein", "sliced_wasserstein", "FlowDiffusionComparison",
    "compare_flow_diffusion",
]


class TwoLayerReLUVelocity(nn.Module):
    r"""Two-layer ReLU velocity field on R^d:

        b(u, tau) = sum_{k=1}^{W} a_k relu(w_k · [u, tau] + c_k)  [+ S [u, tau] + s_0],

    w_k in R^{d+1}, c_k in R, a_k in R^d (the output layer has no bias), and the optional linear skip
    S in R^{d x (d+1)}, s_0 in R^d.  Parameter count:

        W (d + 1) + W + W d   [+ d (d + 1) + d with ``skip``].

    Parameters: d (>= 1), width W (>= 1), skip (bool), seed (initialisation, CPU generator: first layer
    U(-1/sqrt(d+1), 1/sqrt(d+1)), output U(-1/sqrt(W), 1/sqrt(W))), dtype.
    ``forward(u (B, d), tau (B,) or scalar) -> (B, d)``.
    """

    def __init__(self, d: int, width: int = 64, *, skip: bool = True, seed: int = 0,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        self.d = check_positive_int("d", d, 1)
        self.width = check_positive_int("width", width, 1)
        if not isinstance(skip, bool):
            raise TypeError(f"skip must be a bool, got {skip!r}")
        seed = check_positive_int("seed", seed, 0)
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        gen = torch.Generator(device="cpu").manual_seed(seed)
        self.hidden = _uniform_linear(self.d + 1, self.width, gen, dtype)
        out = _uniform_linear(self.width, self.d, gen, dtype)
        self.out = nn.Linear(self.width, self.d, bias=False, dtype=dtype)
        with torch.no_grad():
            self.out.weight.copy_(out.weight)
        self.skip = _uniform_linear(self.d + 1, self.d, gen, dtype) if skip else None
        self.hparams = {"d": self.d, "width": self.width, "skip": skip, "seed": seed}

    @staticmethod
    def parameter_count(d: int, width: int, skip: bool = True) -> int:
        """The formula of the class docstring."""
        return width * (d + 1) + width + width * d + ((d * (d + 1) + d) if skip else 0)

    @property
    def n_parameters(self) -> int:
        return count_parameters(self)

    def forward(self, u: torch.Tensor, tau) -> torch.Tensor:
        p = self.hidden.weight
        u, tau = batch_and_time(u, tau, self.d, device=p.device, dtype=p.dtype, names=("u", "tau", "d"))
        inp = torch.cat([u, tau[:, None]], dim=1)
        v = self.out(torch.relu(self.hidden(inp)))
        if self.skip is not None:
            v = v + self.skip(inp)
        return v


def _velocity_dim(net: nn.Module) -> int:
    d = getattr(net, "d", None)
    if not isinstance(net, nn.Module) or not isinstance(d, int):
        raise TypeError(f"network must be a velocity nn.Module with an int attribute d (e.g. TwoLayerReLUVelocity), "
                        f"got {type(net).__name__}")
    return d


class VelocityField:
    """A trained velocity network as the callable b(u, tau) of ``StochasticInterpolant(velocity=...)``.

    ``__call__(u, tau)``: u a numpy array (B, d) (or (d,)), tau a float in [0, 1]; runs the network under
    ``torch.no_grad()`` in eval mode on ``device`` and returns float64 numpy of u's shape.
    ``n_evaluations`` / ``n_rows`` count forward passes and rows.  The network must have been trained
    on the interpolant the driver uses (``train_velocity``: linear).
    """

    def __init__(self, network: nn.Module, *, device="auto"):
        self.d = _velocity_dim(network)
        self.network = network
        self.device = pick_device(device)
        network.to(self.device)
        self.n_evaluations = 0
        self.n_rows = 0
        self.__name__ = f"VelocityField[{type(network).__name__}]"

    def __call__(self, u, tau) -> np.ndarray:
        arr = np.asarray(u, dtype=float)
        single = arr.ndim == 1
        if single:
            arr = arr[None]
        if arr.ndim != 2 or arr.shape[1] != self.d:
            raise ValueError(f"u must have shape (B, d) = (B, {self.d}) or ({self.d},), got {np.shape(u)}")
        if not np.all(np.isfinite(arr)):
            raise ValueError("u must be finite")
        if isinstance(tau, bool) or not isinstance(tau, numbers.Real) or not 0.0 <= float(tau) <= 1.0:
            raise ValueError(f"tau must be a real number in [0, 1], got {tau!r}")
        net = self.network
        dtype = next(net.parameters()).dtype
        was_training = net.training
        net.eval()
        try:
            with torch.no_grad():
                v = net(torch.as_tensor(arr, dtype=dtype).to(self.device), float(tau)).double().cpu().numpy()
        finally:
            net.train(was_training)
        self.n_evaluations += 1
        self.n_rows += arr.shape[0]
        return v[0] if single else v


def flow_matching_loss(network: nn.Module, x: torch.Tensor, generator: torch.Generator,
                       tau_max: float = 1.0) -> torch.Tensor:
    """One CFM estimate (module docstring): tau ~ U[0, tau_max], z ~ N(0, I), I = (1 - tau) z + tau x,
    mean over rows and coordinates of (b_theta(I, tau) - (x - z))^2; noise from ``generator`` (CPU)."""
    B = x.shape[0]
    tau = torch.rand(B, generator=generator, dtype=x.dtype) * tau_max
    z = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    tau, z = tau.to(x.device), z.to(x.device)
    u = (1.0 - tau[:, None]) * z + tau[:, None] * x
    return ((network(u, tau) - (x - z)) ** 2).mean()


def _check_rows(x, d: int, name: str, dtype) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] != d or arr.shape[0] == 0:
        raise ValueError(f"{name} must have shape (N, d) = (N, {d}) with N >= 1, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains nan or infinite entries")
    return torch.as_tensor(arr.astype(float), dtype=dtype)


def train_velocity(network: nn.Module, x, config: TrainConfig | None = None, *, val_x=None,
                   tau_max: float = 1.0) -> TrainHistory:
    """Train a velocity network by conditional flow matching on the rows of ``x`` (N, d) with ``fit``.

    tau_max in (0, 1]: the range of tau (U[0, tau_max]).  Returns the ``TrainHistory``; a non-finite loss
    raises ``NonFiniteLossError``.
    """
    d = _velocity_dim(network)
    if isinstance(tau_max, bool) or not isinstance(tau_max, numbers.Real) or not 0.0 < float(tau_max) <= 1.0:
        raise ValueError(f"tau_max must be a real number in (0, 1], got {tau_max!r}")
    if config is None:
        config = TrainConfig()
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    dtype = next(network.parameters()).dtype
    data = _check_rows(x, d, "x", dtype)
    val = None if val_x is None else _check_rows(val_x, d, "val_x", dtype)

    def loss_fn(module, batch, gen):
        return flow_matching_loss(module, batch[0], gen, float(tau_max))

    return fit(network, loss_fn, data, config, val_data=val)


# -- targets and carrier -------------------------------------------------------------------------------------
class GaussianMixture:
    r"""Mixture of isotropic Gaussians in R^d: mu = sum_k w_k N(c_k, s_k^2 I).

    Parameters: means (K, d), stds (K,) or a scalar (> 0), weights (K,) (non-negative, normalised here;
    default uniform).  ``GaussianMixture.ring(k, radius, std)``: k equal components on a circle in 2-D.
    ``sample(n, seed) -> (n, d)``: component k ~ w, then x = c_k + s_k z.
    """

    def __init__(self, means, stds=0.2, weights=None):
        c = np.asarray(means, dtype=float)
        if c.ndim != 2 or c.shape[0] < 1 or c.shape[1] < 1 or not np.all(np.isfinite(c)):
            raise ValueError(f"means must be a finite (K, d) array, got shape {c.shape}")
        K = c.shape[0]
        s = np.broadcast_to(np.asarray(stds, dtype=float), (K,)).copy() if np.ndim(stds) <= 1 else None
        if s is None or s.shape != (K,) or not np.all(np.isfinite(s)) or np.any(s <= 0):
            raise ValueError(f"stds must be a positive scalar or have shape ({K},), got {stds!r}")
        w = np.full(K, 1.0 / K) if weights is None else np.asarray(weights, dtype=float).ravel()
        if w.shape != (K,) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"weights must be {K} non-negative numbers with a positive sum, got {weights!r}")
        self.means, self.stds, self.weights = c, s, w / w.sum()

    @classmethod
    def ring(cls, k: int = 6, radius: float = 2.0, std: float = 0.25) -> GaussianMixture:
        k = check_positive_int("k", k, 1)
        angles = 2 * np.pi * np.arange(k) / k
        return cls(radius * np.stack([np.cos(angles), np.sin(angles)], axis=1), std)

    @property
    def d(self) -> int:
        return int(self.means.shape[1])

    def sample(self, n: int, seed: SeedLike = None) -> np.ndarray:
        n = check_positive_int("n", n, 1)
        rng = make_rng(seed)
        k = rng.choice(len(self.weights), size=n, p=self.weights)
        return self.means[k] + self.stds[k, None] * rng.standard_normal((n, self.d))

    def describe(self) -> dict:
        return {"name": "GaussianMixture", "K": len(self.weights), "d": self.d}


def continuous_carrier(d: int):
    """A d-variable continuous model (Gaussian prior, zero couplings) that carries the dimension and the
    continuous alphabet for the generative drivers when a network, not the model, defines the law."""
    import spinglass as sg

    d = check_positive_int("d", d, 1)
    return sg.PairwiseModel(np.zeros((d, d)), prior=sg.Gaussian(),
                            description={"family": "ContinuousCarrier", "n": d})


# -- distances -----------------------------------------------------------------------------------------------
def _cloud(name: str, a) -> np.ndarray:
    arr = np.asarray(a, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] < 1 or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a finite (N, d) point cloud, got shape {np.shape(a)}")
    return arr


def empirical_wasserstein(a, b, p: int = 1) -> float:
    """Exact W_p (p = 1 or 2) between the empirical laws of two equal-size point clouds (module docstring)."""
    from scipy.optimize import linear_sum_assignment
    from scipy.spatial.distance import cdist

    a, b = _cloud("a", a), _cloud("b", b)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape (N, d), got {a.shape} and {b.shape}")
    if p not in (1, 2):
        raise ValueError(f"p must be 1 or 2, got {p!r}")
    cost = cdist(a, b) ** p
    rows, cols = linear_sum_assignment(cost)
    return float(np.mean(cost[rows, cols]) ** (1.0 / p))


def sliced_wasserstein(a, b, n_projections: int = 64, seed: SeedLike = 0) -> float:
    """Mean over random unit directions theta of the exact 1-D W1 between the projections a·theta, b·theta."""
    from scipy.stats import wasserstein_distance

    a, b = _cloud("a", a), _cloud("b", b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b must have the same dimension, got {a.shape[1]} and {b.shape[1]}")
    n_projections = check_positive_int("n_projections", n_projections, 1)
    theta = make_rng(seed).standard_normal((n_projections, a.shape[1]))
    theta /= np.linalg.norm(theta, axis=1, keepdims=True)
    return float(np.mean([wasserstein_distance(a @ v, b @ v) for v in theta]))


# -- benchmark -----------------------------------------------------------------------------------------------
@dataclass
class FlowDiffusionComparison:
    """Result of :func:`compare_flow_diffusion`; per method ("flow", "diffusion") dicts of numbers.

    n_parameters, train_seconds, sample_seconds, train_loss (per-epoch list), w1, w2 (exact, equal-size
    clouds), sliced_w1; ``floor``: the same distances between two independent target samples of the
    evaluation size; ``samples``: the generated clouds.
    """

    flow: dict = field(default_factory=dict)
    diffusion: dict = field(default_factory=dict)
    floor: dict = field(default_factory=dict)
    samples: dict = field(default_factory=dict)


def _distances(a, b, seed) -> dict:
    return {"w1": empirical_wasserstein(a, b, 1), "w2": empirical_wasserstein(a, b, 2),
            "sliced_w1": sliced_wasserstein(a, b, 64, seed)}


def compare_flow_diffusion(target: GaussianMixture, *, n_train: int = 4000, width: int = 64,
                           config: TrainConfig | None = None, n_eval: int = 400, flow_steps: int = 100,
                           diffusion_steps: int = 200, T: float = 1e4, methods: Sequence[str] = ("flow", "diffusion"),
                           seed: int = 0) -> FlowDiffusionComparison:
    """Flow matching vs diffusion on the same training rows and network width (module docstring).

    target : a ``GaussianMixture``.  n_train : training rows (>= 2).  width : hidden width W of both
    networks (flow: ``TwoLayerReLUVelocity(d, W)``; diffusion: ``MLPDenoiser(d, None, W, depth=1,
    activation="relu", time_embedding="log")``, whose count (d+1)W + W + Wd + d differs from the velocity's
    without skip by the d output biases).  config : shared ``TrainConfig`` (default 100 epochs, batch 256,
    lr 3e-3, no held-out set, CPU).  n_eval : size of the generated and reference clouds.  flow_steps :
    Heun steps of the ODE; diffusion_steps : geometric Euler-Maruyama steps of stochastic localisation up
    to ``T`` (the flow stops at tau(T) = sqrt T / (1 + sqrt T)).  seed : data, networks and sampling.
    """
    from ..diffusion import StochasticLocalization
    from ..flow import StochasticInterpolant
    from ..schedules import GeometricSchedule
    from .denoiser import MLPDenoiser, NeuralDenoiser, train_denoiser

    if not isinstance(target, GaussianMixture):
        raise TypeError(f"target must be a GaussianMixture, got {type(target).__name__}")
    n_train = check_positive_int("n_train", n_train, 2)
    width = check_positive_int("width", width, 1)
    n_eval = check_positive_int("n_eval", n_eval, 2)
    seed = check_positive_int("seed", seed, 0)
    bad = [m for m in methods if m not in ("flow", "diffusion")]
    if bad or not methods:
        raise ValueError(f"methods must be a non-empty subset of ('flow', 'diffusion'), got {methods!r}")
    if config is None:
        config = TrainConfig(epochs=100, batch_size=256, lr=3e-3, val_fraction=0.0, device="cpu", seed=seed)
    rng = np.random.default_rng(seed)
    x = target.sample(n_train, seed=rng)
    ref = target.sample(n_eval, seed=rng)
    ref2 = target.sample(n_eval, seed=rng)
    carrier = continuous_carrier(target.d)
    out = FlowDiffusionComparison(floor=_distances(ref, ref2, seed))
    for method in methods:
        if method == "flow":
            net = TwoLayerReLUVelocity(target.d, width, skip=False, seed=seed)
            hist = train_velocity(net, x, config)
            sampler = StochasticInterpolant(velocity=VelocityField(net, device=config.device), n_steps=flow_steps,
                                            T=T)
        else:
            net = MLPDenoiser(target.d, None, width, 1, activation="relu", time_embedding="log", seed=seed)
            hist = train_denoiser(net, x, config, t_min=1e-2, t_max=T)
            sampler = StochasticLocalization(NeuralDenoiser.factory(net, device=config.device),
                                             GeometricSchedule(T=T, n_steps=diffusion_steps, t_min=1e-2))
        start = time.perf_counter()
        res = sampler.sample(carrier, n_eval, seed=seed + 1)
        secs = time.perf_counter() - start
        rec = {"n_parameters": count_parameters(net), "train_seconds": hist.seconds, "sample_seconds": secs,
               "train_loss": list(hist.train_loss), **_distances(res.x, ref, seed)}
        setattr(out, method, rec)
        out.samples[method] = res.x
    return out

