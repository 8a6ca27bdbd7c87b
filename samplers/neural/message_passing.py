r"""A learned, amortised belief-propagation network for the sparse planted models (colouring / Potts, NAE-SAT).

The network reads an *instance* (the factor graph of a ``spinglass.sparse.PottsModel`` or ``NAESATModel``) and
a query of the ``Denoiser`` protocol (revealed variables and / or a Gaussian side field, docs/physics.md §2-§3)
and returns single-site marginals of the tilted and conditioned posterior

    mu_{y,t,R}(x) ∝ exp(-beta E(x)) · exp(<y, x>) · 1[x_i = r_i for i in R].

Its weights hold no instance and their number does not depend on n: the same network serves every graph of a
family (q, k, beta fixed), so it is trained once on fresh planted pairs (``planted_sparse_data``) and then run
on any instance (*amortised* inference).  It is L layers of BP message updates (Mézard & Montanari, *Information,
Physics and Computation*, OUP 2009, ch. 14) with a learned, zero-initialised correction per layer and a learned
readout: untrained it *is* L parallel iterations of the BP of ``samplers.denoisers.bp`` followed by BP's
marginals, so training starts from BP and only learns corrections (faster information spreading than L
iterations allow, loop corrections at finite n); see Ghio, Dandi, Krzakala & Zdeborová, PNAS 121 (2024) for the
lens, and Bhatt, Gupta, Kolossov & Montanari, arXiv:2603.20589 (2026) for learned diffusions on CSPs.

Representation
--------------
Values are alphabet indices a in {0..K-1}: the colour for Potts (K = q), and for NAE-SAT index 0 = (x = -1),
1 = (x = +1) (K = 2), as in ``BPDenoiser`` and the drivers.  Messages are *log-probabilities* over the K values,
normalised, and floored at ``LOG_FLOOR`` = -50: an exact zero of BP (a structural deduction at beta = inf, a
revealed variable's delta) becomes e^{-50} ≈ 2e-22 relative to the largest entry, which changes marginals by
far less than float32 round-off while keeping every logarithm and gradient finite.  The node factor of variable
i is log psi_i(a) = field_i(a) - max_a field_i(a) (the Gaussian channel: field = y for one-hot Potts variables,
field = (-y_i, +y_i) for NAE-SAT spins), and LOG_FLOOR off the revealed value for a revealed variable.

Messages live on the edges e of the graph (``SparseGraph``): for Potts the 2|E| directed edges e = src(e) ->
dst(e) (edge m of the model gives e = 2m: u -> v and 2m + 1: v -> u, so the reverse edge is rev(e) = e XOR 1);
for NAE-SAT the M k variable-clause pairs e = a k + r (variable var(e) = clauses[a, r], sign s_e).  One layer
maps the variable-to-factor messages l_e (log m_{i->·}, in the frame of variable i) to new ones:

Potts (w(a, b) = exp(-beta 1[a = b]), W the K x K matrix of w; ew = e^{-beta}, 0 at beta = inf)

    inc_e(a)   = log sum_b m_e(b) w(a, b)   = log (m_e W)(a)          (h_{src->dst} of ``bp``, as seen at dst)
    A_i(a)     = log psi_i(a) + sum_{e: dst(e) = i} inc_e(a)            (log of BP's unnormalised belief)
    u_e(a)     = A_{src(e)}(a) - inc_{rev(e)}(a)                          (cavity: leave out the message from dst)

NAE-SAT (literal frame: L = s_e x; lt_e = log P(L_e = +1), lf_e = log P(L_e = -1) from l_e)

    cT_e = sum_{e' in a, e' != e} lt_{e'},   cF_e = sum_{e' in a, e' != e} lf_{e'}     (log T, log F of ``bp`` (2))
    inc_e(L = +1) = log(ew + (1 - ew)(1 - e^{cT_e})),   inc_e(L = -1) = log(ew + (1 - ew)(1 - e^{cF_e})),
    A_i(x) = log psi_i(x) + sum_{e: var(e) = i} inc_e(x)      (inc turned to the variable frame: swap if s_e < 0)
    u_e(x) = A_{var(e)}(x) - inc_e(x)

(with normalised messages, e T + N + F = 1 - (1 - e) T: the clause update of ``bp`` eq. (2); 1 - e^{c} is
``-expm1(c)``, exact near c = 0, so no digits are lost when the other literals are nearly sure).  Then, for
both families, with the learned correction C_k of layer k (zero for an edge whose sender is revealed),

    l_e <- (1 - d) · softmax(u_e + C_k(features_e)) + d · m_e     (in probabilities, d = ``damping``; then log)
    floored at LOG_FLOOR,

except that a revealed sender i always sends its delta, u_e = log psi_i (BP's exact zeros in psi_i make its
messages deltas whatever it hears; with the floor the incoming messages could otherwise outweigh LOG_FLOOR),

and after the L layers the marginals are b_i = softmax(A_i + R(features_i)) with the learned readout R (one-hot
for a revealed variable).  Start: l_e = -log K (BP's ``init="uniform"``).

Initialisation at BP.  The last linear map of every C_k and of R is zero, so the untrained network is L
*parallel* (flooding-schedule) BP iterations from the uniform messages, followed by BP's marginals.
``BPDenoiser`` updates in Gauss-Seidel order, so the two agree on a tree once L >= its diameter (both exact,
while L = diameter - 1 is not) and at convergence on loopy graphs (the same fixed-point equations);
``tests/test_neural_message_passing.py`` checks both to float64 round-off.  ``MessagePassingDenoiser(passes=P)``
runs the L layers P times, continuing the messages (P L BP iterations when untrained).  The flooding schedule
can oscillate with period 2 where Gauss-Seidel BP converges (e.g. hypergraph bicolouring with hard constraints
and revealed variables); damping d > 0 (same fixed points) cures it, as for ``BPDenoiser``.

Passes. BP needs many iterations where it converges slowly: on planted 3-colouring near c_KS = 4 with few revealed
variables (theta ~ 0.05) undamped flooding BP need not settle at all, and damped BP (d = 0.3) needs several times
more iterations than a network of typical depth has (``benchmarks/learned_sparse.py`` measures the untrained
network's distance to converged BP against the number of passes). A network of L layers applied once then answers
with unconverged messages, and its learned corrections, trained on that one unrolling, need not be stable when the
layers are applied again. The constructor's ``passes`` = P makes the unrolling part of the network: every forward
pass (training included) applies the L layers P times with shared weights, so the network is trained on the
iteration it runs, and a query may apply more passes to approach the fixed point (``benchmarks/learned_sparse.py``
measures both).

Corrections and symmetry.  The model is invariant under permutations of the K values (colour permutations;
for NAE-SAT the global flip x -> -x, which flips every literal and keeps "not all equal").  Every learned map is
*equivariant* under permutations of the value axis (a DeepSets layer over the K values): per value a it reads
per-value features and value-independent scalars, and mixes the values only through their mean,

    h_a = relu(V f_a + S s + b),   g_a = relu(U h_a + P mean_b h_b + c),   C(f, s)_a = w · g_a   (w = 0 at start),

with f_a = (the normalised cavity softmax(u_e)(a); exp inc_{rev(e)}(a) (Potts) or exp inc_e(a) (NAE-SAT), the
factor message from the receiver back, in (0, 1]; the normalised node factor psi_i(a); the current message m_e(a),
so that a layer can learn to damp) for C_k, f_a = (softmax(A_i)(a), psi_i(a)) for R, and the scalars
s = (log(1 + deg_i), phi(t_i)) (phi: ``TimeFeatures`` of the Gaussian path time; t = 0 on the erasure path).
Hence the whole network is equivariant: permuting the values of the revealed variables and
of the field permutes the output marginals, and with nothing revealed and no field it returns the uniform
marginals, which is the Gibbs / posterior marginal of a value-symmetric model (see ``message_passing_training``
for why this makes a symmetrised loss unnecessary).

What is amortised: the L C_k and R, shared by every instance, n and density.  Parameter count, with H =
``hidden``, S = 1 + dim phi scalar features, F = 4 (C_k) and 2 (R) per-value features:

    L · ((4 + S) H + 2 H^2 + 4 H)  +  ((2 + S) H + 2 H^2 + 4 H)      (weights and biases of [V S], U, P; w).

Contradictions (beta = inf).  A free variable whose incoming messages leave every value a weight below
e^{ZERO_FLAG} (``ZERO_FLAG`` = LOG_FLOOR / 2 = -25), i.e. max_a sum_{e into i} inc_e(a) < ZERO_FLAG, has no value of
(numerically) positive weight: a structural zero (a revealed neighbour, a deduction) sits below -49 and a value
that many nearly sure neighbours rule out falls below -25 too, so this is BP's exact-zero contradiction with
float32 round-off in mind; likewise a revealed variable whose revealed value has incoming support below
e^{ZERO_FLAG} (BP's marginal of a revealed variable is then zero).  The row is reported in
``MPOutput.contradiction`` (``MessagePassingDenoiser`` raises ``ContradictionError`` there, as ``BPDenoiser``
does, so ``Autoregressive(on_contradiction="restart")`` works unchanged).

Cost: per layer O(B (E K^2 + E K H^2)) on tensors of shape (E, B, K, H) (edge-major inside, so that the
gathers and the ``index_add`` scatters move whole rows; the interface is batch-first); no Python loop over
variables.  float32 by default, float64 for exact comparisons; CPU or CUDA
(``pick_device``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from spinglass.sparse import NAESATModel, PottsModel

from ..denoisers.base import ContradictionError, Denoiser, DenoiserOutput
from .denoiser import TimeFeatures, _check_dtype, _uniform_linear
from .training import NetworkModule, check_positive_int, pick_device

__all__ = ["LOG_FLOOR", "ZERO_FLAG", "SparseGraph", "SparseMessagePassing", "MPOutput", "MessagePassingDenoiser",
           "FAMILIES"]

#: Floor of every log-probability (module docstring).
LOG_FLOOR = -50.0
#: Incoming message entries below this are structural zeros (contradiction detection at beta = inf).
ZERO_FLAG = 0.5 * LOG_FLOOR
#: The two families: "potts" (``PottsModel``, e.g. ``PlantedColoring``) and "naesat" (``NAESATModel``).
FAMILIES = ("potts", "naesat")


def family_of(model) -> str:
    """"potts" or "naesat" for a sparse model; TypeError naming ``model`` otherwise."""
    if isinstance(model, PottsModel):
        return "potts"
    if isinstance(model, NAESATModel):
        return "naesat"
    raise TypeError(f"model must be a spinglass PottsModel (e.g. PlantedColoring) or NAESATModel "
                    f"(e.g. PlantedNAESAT), got {type(model).__name__}")


def _check_beta(beta) -> float:
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or math.isnan(beta) or beta < 0:
        raise ValueError(f"beta must be a real number >= 0 (inf allowed), got {beta!r}")
    return float(beta)


def _log_normalise(u: torch.Tensor) -> torch.Tensor:
    """u - logsumexp(u) over the last (value) axis; for K <= 8 as a chain of elementwise ``logaddexp`` (a reduction
    over a short last axis is several times slower on the CPU than K - 1 elementwise passes)."""
    K = u.shape[-1]
    if K > 8:
        return torch.log_softmax(u, dim=-1)
    lse = u[..., 0]
    for a in range(1, K):
        lse = torch.logaddexp(lse, u[..., a])
    return u - lse[..., None]


# ----------------------------------------------------------------------------------------------------------------
# graphs
# ----------------------------------------------------------------------------------------------------------------
@dataclass
class SparseGraph:
    """The factor graph of one or several (disjoint) sparse instances as index tensors (module docstring).

    family : "potts" or "naesat".  n : variables.  K : values per variable (q, or 2).  beta : inverse temperature.
    degree : (n,) edges (Potts) / clauses (NAE-SAT) at each variable.
    out_node : (E,) the variable that sends message e (src for Potts, var for NAE-SAT).
    in_node : (E,) the variable that receives the incoming factor message inc_e (dst for Potts, var for NAE-SAT).
    partner : (E,) the edge whose incoming message is left out of the cavity of e (rev(e) for Potts, e for NAE-SAT).
    flip : (E,) bool, literal sign s_e < 0 (NAE-SAT; all False for Potts).  k : clause size (NAE-SAT; 2 for Potts).
    """

    family: str
    n: int
    K: int
    beta: float
    degree: torch.Tensor
    out_node: torch.Tensor
    in_node: torch.Tensor
    partner: torch.Tensor
    flip: torch.Tensor
    k: int

    @property
    def n_edges(self) -> int:
        return int(self.out_node.shape[0])

    @property
    def device(self) -> torch.device:
        return self.out_node.device

    def to(self, device) -> SparseGraph:
        return SparseGraph(self.family, self.n, self.K, self.beta, self.degree.to(device), self.out_node.to(device),
                           self.in_node.to(device), self.partner.to(device), self.flip.to(device), self.k)

    @classmethod
    def from_model(cls, model) -> SparseGraph:
        """The graph of a ``PottsModel`` / ``NAESATModel`` (TypeError for any other model)."""
        family = family_of(model)
        n = int(model.n)
        if family == "potts":
            edges = np.asarray(model.edges, dtype=np.int64)
            src = np.stack([edges[:, 0], edges[:, 1]], axis=1).ravel()
            dst = np.stack([edges[:, 1], edges[:, 0]], axis=1).ravel()
            E = src.size
            partner = np.arange(E, dtype=np.int64) ^ 1
            flip = np.zeros(E, dtype=bool)
            K, k, out_node, in_node = int(model.q), 2, src, dst
        else:
            clauses = np.asarray(model.clauses, dtype=np.int64)
            out_node = in_node = clauses.ravel()
            partner = np.arange(out_node.size, dtype=np.int64)
            flip = (np.asarray(model.signs) < 0).ravel()
            K, k = 2, int(model.k)
        degree = np.bincount(in_node, minlength=n)
        t = torch.as_tensor
        return cls(family, n, K, float(model.beta), t(degree, dtype=torch.int64), t(out_node, dtype=torch.int64),
                   t(in_node, dtype=torch.int64), t(partner, dtype=torch.int64), t(flip, dtype=torch.bool), k)

    @staticmethod
    def union(graphs: Sequence[SparseGraph]) -> SparseGraph:
        """The disjoint union of graphs of one family, K, beta (and k): variables and edges concatenated."""
        graphs = list(graphs)
        if not graphs:
            raise ValueError("graphs must hold at least one SparseGraph")
        g0 = graphs[0]
        for g in graphs[1:]:
            if (g.family, g.K, g.beta, g.k) != (g0.family, g0.K, g0.beta, g0.k):
                raise ValueError("graphs must share family, K, beta and k to be joined")
        node_off = np.cumsum([0] + [g.n for g in graphs[:-1]])
        edge_off = np.cumsum([0] + [g.n_edges for g in graphs[:-1]])
        cat = torch.cat
        return SparseGraph(g0.family, int(sum(g.n for g in graphs)), g0.K, g0.beta, cat([g.degree for g in graphs]),
                           cat([g.out_node + int(o) for g, o in zip(graphs, node_off, strict=True)]),
                           cat([g.in_node + int(o) for g, o in zip(graphs, node_off, strict=True)]),
                           cat([g.partner + int(o) for g, o in zip(graphs, edge_off, strict=True)]),
                           cat([g.flip for g in graphs]), g0.k)


# ----------------------------------------------------------------------------------------------------------------
# the network
# ----------------------------------------------------------------------------------------------------------------
class _Equivariant(nn.Module):
    """C(f, s)_a = w · relu(U h_a + P mean_b h_b + c), h_a = relu(V f_a + S s + b); w = 0 at start (module doc).

    V and S are one linear map of the concatenation (f_a, s) (one matrix product instead of two and a broadcast).
    """

    def __init__(self, n_value: int, n_scalar: int, hidden: int, gen: torch.Generator, dtype):
        super().__init__()
        self.value_in = _uniform_linear(n_value + n_scalar, hidden, gen, dtype)
        self.mix = _uniform_linear(hidden, hidden, gen, dtype)
        self.pool = _uniform_linear(hidden, hidden, gen, dtype)
        self.out = nn.Parameter(torch.zeros(hidden, dtype=dtype))

    def forward(self, f: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """f (..., K, F), s (..., S) -> (..., K)."""
        x = torch.cat([f, s[..., None, :].expand(f.shape[:-1] + s.shape[-1:])], dim=-1)
        h = torch.relu(self.value_in(x))
        pooled = torch.nn.functional.linear(h.mean(dim=-2, keepdim=True), self.pool.weight, self.pool.bias)
        g = torch.relu(self.mix(h) + pooled)
        return g @ self.out


@dataclass
class MPOutput:
    """What ``SparseMessagePassing.run`` returns for B rows.

    log_marginals : (B, n, K).  contradiction : (B,) bool (beta = inf only; always False otherwise).
    residual : (B,) max |m_new - m_old| over the messages of the last layer (probabilities, undamped update).
    messages : (B, E, K) final log-messages (to continue from with ``run(..., messages=...)``).
    """

    log_marginals: torch.Tensor
    contradiction: torch.Tensor
    residual: torch.Tensor
    messages: torch.Tensor


class SparseMessagePassing(NetworkModule):
    r"""L learned BP layers on the factor graph of a sparse Potts / NAE-SAT instance (module docstring).

    Parameters
    ----------
    family : "potts" or "naesat".  n_values : K (q for Potts, must be 2 for NAE-SAT).
    beta : inverse temperature of the model family (inf allowed); every graph given must have this beta.
    n_layers : L (>= 1).  hidden : width H of the per-layer maps (>= 1).
    damping : d in [0, 1) (module docstring; as ``BPDenoiser``'s damping).
    passes : P (>= 1), how many times a forward pass applies the L layers, continuing the messages: training
        (the loss reads ``forward``) and, by default, ``run`` and ``MessagePassingDenoiser`` unroll P L
        iterations with the same L learned layers (weights shared across passes).  With damping, P > 1 lets the
        network follow BP to its fixed point where BP converges slowly (small revealed fractions near c_KS),
        and training sees the iteration the sampler runs (module docstring, "Passes").
    use_graph : False gives the *ablation* without messages: b_i = softmax(log psi_i + R(features_i)), the
        network sees its own variable only (a mutant for tests and benchmarks).
    time_embedding, n_frequencies, t_scale : the features phi(t) of the Gaussian path time (``TimeFeatures``).
    seed : initialisation seed (CPU generator).  dtype : torch.float32 (default) or torch.float64.

    Build it for a model with :meth:`for_model`.  ``forward(graph, field, revealed, t)`` returns the log-marginals
    (B, n, K); :meth:`run` also returns contradictions, residuals and the messages.
    """

    def __init__(self, family: str, n_values: int, beta: float, n_layers: int = 10, hidden: int = 16, *,
                 damping: float = 0.0, passes: int = 1, use_graph: bool = True, time_embedding: str = "log",
                 n_frequencies: int = 2,
                 t_scale: float = 100.0, seed: int = 0, dtype: torch.dtype = torch.float32):
        super().__init__()
        if family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
        K = check_positive_int("n_values", n_values, 2)
        if family == "naesat" and K != 2:
            raise ValueError(f"n_values must be 2 for family 'naesat', got {K}")
        self.family = family
        self.K = K
        self.beta = _check_beta(beta)
        self.n_layers = check_positive_int("n_layers", n_layers, 1)
        hidden = check_positive_int("hidden", hidden, 1)
        if isinstance(damping, bool) or not isinstance(damping, numbers.Real) or not 0.0 <= float(damping) < 1.0:
            raise ValueError(f"damping must be a real number in [0, 1), got {damping!r}")
        self.damping = float(damping)
        self.passes = check_positive_int("passes", passes, 1)
        if not isinstance(use_graph, bool):
            raise TypeError(f"use_graph must be a bool, got {type(use_graph).__name__}")
        self.use_graph = use_graph
        seed = check_positive_int("seed", seed, 0)
        dtype = _check_dtype(dtype)
        self.time = TimeFeatures(time_embedding, n_frequencies, t_scale)
        n_scalar = 1 + self.time.dim
        gen = torch.Generator(device="cpu").manual_seed(seed)
        self.layers = nn.ModuleList(_Equivariant(4, n_scalar, hidden, gen, dtype) for _ in range(self.n_layers))
        self.readout = _Equivariant(2, n_scalar, hidden, gen, dtype)
        ew = 0.0 if math.isinf(self.beta) else math.exp(-self.beta)
        self.ew = ew
        self.register_buffer("weights", torch.ones(K, K, dtype=dtype) - (1.0 - ew) * torch.eye(K, dtype=dtype),
                             persistent=False)
        self.hparams = {"family": family, "n_values": K, "beta": self.beta, "n_layers": self.n_layers,
                        "hidden": hidden, "damping": self.damping, "use_graph": use_graph,
                        "time_embedding": time_embedding, "n_frequencies": self.time.n_frequencies,
                        "t_scale": self.time.t_scale, "seed": seed}
        if self.passes != 1:  # recorded only when set, so that earlier networks keep their description
            self.hparams["passes"] = self.passes

    @classmethod
    def for_model(cls, model, **kwargs) -> SparseMessagePassing:
        """A network for ``model``'s family, K and beta (kwargs: the other constructor arguments)."""
        family = family_of(model)
        K = int(model.q) if family == "potts" else 2
        return cls(family, K, float(model.beta), **kwargs)

    # -- bookkeeping ------------------------------------------------------------------------------------------
    @staticmethod
    def parameter_count(n_layers: int, hidden: int, n_time_features: int) -> int:
        """The formula of the module docstring."""
        H, S = hidden, 1 + n_time_features

        def block(F: int) -> int:
            return (F + S) * H + 2 * H * H + 4 * H

        return n_layers * block(4) + block(2)


    def describe(self) -> dict:
        return {"name": "SparseMessagePassing", **self.hparams, "n_parameters": self.n_parameters}

    def fits(self, graph: SparseGraph) -> None:
        """ValueError naming ``graph`` unless it is of this network's family, K and beta."""
        if not isinstance(graph, SparseGraph):
            raise TypeError(f"graph must be a SparseGraph, got {type(graph).__name__}")
        if graph.family != self.family or graph.K != self.K:
            raise ValueError(f"graph is a {graph.family} graph with K = {graph.K}, but the network was built for "
                             f"{self.family} with K = {self.K}")
        if graph.beta != self.beta:
            raise ValueError(f"graph has beta = {graph.beta} but the network was built for beta = {self.beta}")

    # -- inputs ---------------------------------------------------------------------------------------------------
    def _inputs(self, graph: SparseGraph, field, revealed, t):
        self.fits(graph)
        dev, dt = self.device, self.dtype
        n, K = graph.n, self.K
        if revealed is None and field is None:
            raise ValueError("field and revealed: give at least one (the batch size comes from them)")
        B = None
        if field is not None:
            if not isinstance(field, torch.Tensor):
                raise TypeError(f"field must be a torch.Tensor, got {type(field).__name__}")
            if field.ndim != 3 or field.shape[1:] != (n, K):
                raise ValueError(f"field must have shape (B, n, K) = (B, {n}, {K}), got {tuple(field.shape)}")
            if not bool(torch.all(torch.isfinite(field))):
                raise ValueError("field must be finite")
            B = field.shape[0]
        if revealed is not None:
            if not isinstance(revealed, torch.Tensor):
                raise TypeError(f"revealed must be a torch.Tensor, got {type(revealed).__name__}")
            if revealed.dtype.is_floating_point or revealed.dtype == torch.bool:
                raise TypeError(f"revealed must hold integer value indices (-1 = free), got {revealed.dtype}")
            if revealed.ndim != 2 or revealed.shape[1] != n or (B is not None and revealed.shape[0] != B):
                raise ValueError(f"revealed must have shape (B, n) = ({'B' if B is None else B}, {n}), "
                                 f"got {tuple(revealed.shape)}")
            if revealed.numel() and (int(revealed.min()) < -1 or int(revealed.max()) >= K):
                raise ValueError(f"revealed entries must be -1 (free) or value indices in [0, {K - 1}]")
            B = revealed.shape[0]
        field = torch.zeros(B, n, K, dtype=dt, device=dev) if field is None else field.to(device=dev, dtype=dt)
        revealed = (torch.full((B, n), -1, dtype=torch.int64, device=dev) if revealed is None
                    else revealed.to(device=dev, dtype=torch.int64))
        t = torch.zeros((), dtype=dt) if t is None else torch.as_tensor(t, dtype=dt)
        if not bool(torch.all(torch.isfinite(t))) or bool(torch.any(t < 0)):
            raise ValueError("t must be finite and >= 0")
        if t.ndim == 0:
            t = t.expand(B, n)
        elif t.ndim == 1 and t.shape[0] == B:
            t = t[:, None].expand(B, n)
        elif t.shape != (B, n):
            raise ValueError(f"t must be a scalar, (B,) = ({B},) or (B, n) = ({B}, {n}), got {tuple(t.shape)}")
        return graph.to(dev), field, revealed, t.to(device=dev)

    # -- the layers ---------------------------------------------------------------------------------------------
    def _incoming(self, graph: SparseGraph, lm: torch.Tensor, swap: torch.Tensor | None) -> torch.Tensor:
        """inc_e (E, B, K) from the variable-to-factor log-messages lm (E, B, K) (module docstring); ``swap``
        (E, B, 2) is the gather index from the variable to the literal frame (NAE-SAT; an involution)."""
        if graph.family == "potts":
            inc = torch.log(torch.exp(lm) @ self.weights)
        else:
            lit = lm.gather(-1, swap)  # literal frame: index 0 = L false, 1 = L true
            E, B, _ = lit.shape
            per = lit.reshape(E // graph.k, graph.k, B, 2)
            cav = (per.sum(dim=1, keepdim=True) - per).clamp_max(0.0).reshape(E, B, 2)
            # index 1 (L = +1) uses log T = cav[..., 1]; index 0 (L = -1) uses log F = cav[..., 0]
            val = self.ew + (1.0 - self.ew) * (-torch.expm1(cav))
            inc = torch.log(val.clamp_min(math.exp(LOG_FLOOR))).gather(-1, swap)
        return inc.clamp_min(LOG_FLOOR)

    def _log_psi(self, field: torch.Tensor, revealed: torch.Tensor) -> torch.Tensor:
        lp = (field - field.amax(dim=-1, keepdim=True)).clamp_min(LOG_FLOOR)
        shown = revealed >= 0
        delta = torch.full_like(lp, LOG_FLOOR).scatter(-1, revealed.clamp_min(0)[..., None], 0.0)
        return torch.where(shown[..., None], delta, lp)

    def run(self, graph: SparseGraph, field: torch.Tensor | None = None, revealed: torch.Tensor | None = None,
            t=None, *, passes: int | None = None, messages: torch.Tensor | None = None) -> MPOutput:
        """The network on B rows of one (union) graph (module docstring).

        field : (B, n, K) log node factors (None: 0).  revealed : (B, n) value indices, -1 = free (None: all free).
        t : Gaussian path time, scalar, (B,) or (B, n) (None: 0).  passes : apply the L layers this many times
        (>= 1; None: the network's ``passes``), each pass continuing the messages of the previous one.
        messages : (B, E, K) start messages
        (None: uniform, -log K).
        """
        passes = self.passes if passes is None else check_positive_int("passes", passes, 1)
        graph, field, revealed, t = self._inputs(graph, field, revealed, t)
        B, n, K = field.shape
        E = graph.n_edges
        if messages is not None and (not isinstance(messages, torch.Tensor) or messages.shape != (B, E, K)):
            raise ValueError(f"messages must be a tensor of shape (B, E, K) = ({B}, {E}, {K})")
        # internally node-major (n, B, K) and edge-major (E, B, K): gathers and scatters move whole B K rows
        log_psi = self._log_psi(field, revealed).transpose(0, 1).contiguous()
        rev_n = revealed.T
        free = rev_n < 0
        deg = torch.log1p(graph.degree.to(field.dtype))[:, None, None].expand(n, B, 1)
        scal = torch.cat([deg, self.time(t.T.reshape(-1)).reshape(n, B, -1)], dim=-1)  # (n, B, S)
        psi_p = torch.exp(_log_normalise(log_psi))
        if messages is None:
            lm = torch.full((E, B, K), -math.log(K), dtype=field.dtype, device=field.device)
        else:
            lm = messages.to(device=field.device, dtype=field.dtype).transpose(0, 1).contiguous()
        residual = torch.zeros(B, dtype=field.dtype, device=field.device)
        contradiction = torch.zeros(B, dtype=torch.bool, device=field.device)
        if not self.use_graph:
            logits = log_psi + self.readout(torch.stack([psi_p, psi_p], dim=-1), scal)
            return MPOutput(self._final(logits, rev_n).transpose(0, 1), contradiction, residual, lm.transpose(0, 1))
        out, inn = graph.out_node, graph.in_node
        part = graph.partner if graph.family == "potts" else None  # NAE-SAT: e's own clause message
        swap = None
        if graph.family == "naesat":
            swap = torch.stack([graph.flip, ~graph.flip], dim=-1).to(torch.int64)[:, None].expand(E, B, 2)
        free_e = free[out][..., None]
        s_e = scal[out]
        psi_e = psi_p[out]
        lpsi_e = log_psi[out]
        d = self.damping
        for p in range(passes):
            for k, layer in enumerate(self.layers):
                inc = self._incoming(graph, lm, swap)
                back = inc if part is None else inc[part]
                A = log_psi.index_add(0, inn, inc)
                cav = _log_normalise(A[out] - back)
                old = torch.exp(lm)
                f = torch.stack([torch.exp(cav), torch.exp(back), psi_e, old], dim=-1)
                # a revealed sender sends its exact delta whatever it hears (BP's psi_i is an exact delta there)
                log_new = torch.where(free_e, _log_normalise(cav + layer(f, s_e)), lpsi_e)
                if p == passes - 1 and k == self.n_layers - 1 and E:
                    residual = (torch.exp(log_new) - old).abs().amax(dim=(0, 2)).detach()
                if d > 0:
                    log_new = torch.logaddexp(log_new + math.log1p(-d), lm + math.log(d))
                lm = log_new.clamp_min(LOG_FLOOR)
        inc = self._incoming(graph, lm, swap)
        A = log_psi.index_add(0, inn, inc)
        f = torch.stack([torch.exp(_log_normalise(A)), psi_p], dim=-1)
        logits = A + self.readout(f, scal)
        if math.isinf(self.beta):
            support = A - log_psi
            best = torch.where(free, support.amax(dim=-1), support.gather(-1, rev_n.clamp_min(0)[..., None])[..., 0])
            contradiction = (best < ZERO_FLAG).any(dim=0)
        return MPOutput(self._final(logits, rev_n).transpose(0, 1), contradiction, residual, lm.transpose(0, 1))

    @staticmethod
    def _final(logits: torch.Tensor, revealed: torch.Tensor) -> torch.Tensor:
        """log-softmax of the readout logits; the exact one-hot (log 1 = 0, log 0 = LOG_FLOOR) at revealed variables."""
        lp = _log_normalise(logits).clamp_min(LOG_FLOOR)
        delta = torch.full_like(lp, LOG_FLOOR).scatter(-1, revealed.clamp_min(0)[..., None], 0.0)
        return torch.where((revealed >= 0)[..., None], delta, lp)

    def forward(self, graph: SparseGraph, field: torch.Tensor | None = None, revealed: torch.Tensor | None = None,
                t=None) -> torch.Tensor:
        """Log-marginals (B, n, K) (``run(...).log_marginals``)."""
        return self.run(graph, field, revealed, t).log_marginals

    # -- behind the Denoiser protocol ------------------------------------------------------------------------------
    def factory(self, **kwargs) -> Callable[[PottsModel | NAESATModel], MessagePassingDenoiser]:
        """A callable ``model -> MessagePassingDenoiser(self, model, **kwargs)`` (the drivers' denoiser spec)."""

        def make(model) -> MessagePassingDenoiser:
            return MessagePassingDenoiser(self, model, **kwargs)

        make.__name__ = "MessagePassingDenoiser"
        return make


def site_field(family: str, y: np.ndarray | torch.Tensor):
    """The log node factors (B, n, K) of a Gaussian-channel observation y in the drivers' site representation:
    y itself (one-hot Potts, (B, n, q)), or (-y, +y) for NAE-SAT spins (y (B, n))."""
    if family == "potts":
        return y
    if isinstance(y, torch.Tensor):
        return torch.stack([-y, y], dim=-1)
    return np.stack([-y, y], axis=-1)


class MessagePassingDenoiser(Denoiser):
    r"""A ``SparseMessagePassing`` network behind the ``Denoiser`` protocol on one sparse instance.

    Answers both channels: revealed variables (``Autoregressive``) and the Gaussian side field y at time t
    (``StochasticLocalization`` / ``StochasticInterpolant``; y in the drivers' representation: (B, n, q) one-hot
    for Potts, (B, n) spins for NAE-SAT).  Returns marginals (B, n, K) and means (one-hot means for Potts,
    E[x] for NAE-SAT).  A network evaluation has a fixed depth, so ``converged`` is True unless ``tol`` is
    given, in which case a row is converged when the last layer moved its messages by less than ``tol``
    (``residual``); ``iterations`` is passes · L per row.  With ``max_passes`` (and ``tol``) a row whose residual
    is still >= tol after ``passes`` passes gets further single passes, each continuing its messages, until its
    residual falls below tol or it has had ``max_passes`` passes: the depth adapts to the query, as BP's
    iteration count does (many near an algorithmic threshold, few late in a decimation).  Rows stop
    independently, so a row's answer does not depend on the other rows of its batch.  At beta = inf a row whose
    revealed values leave a
    free variable without an allowed value raises ``ContradictionError`` (as ``BPDenoiser``), unless
    ``contradictions="ignore"``.

    Parameters
    ----------
    network : the ``SparseMessagePassing`` (moved to ``device``).  model : a ``PottsModel`` / ``NAESATModel`` of the
        network's family, K and beta.  passes : applications of the L layers per query (>= 1; None, the
        default: the network's own ``passes``, the unrolling it was trained with).
    tol : None, or the residual tolerance (> 0) below which a row counts as converged.
    max_passes : None (default: exactly ``passes`` passes per query), or the most passes a query may take
        (>= passes; needs ``tol``).
    contradictions : "raise" (default) or "ignore".  device : "auto" (CUDA when present), "cpu", "cuda[:k]".
    batch_size : rows per forward pass (>= 1).
    """

    def __init__(self, network: SparseMessagePassing, model, *, passes: int | None = None, tol: float | None = None,
                 max_passes: int | None = None, contradictions: str = "raise", device="auto", batch_size: int = 256):
        if not isinstance(network, SparseMessagePassing):
            raise TypeError(f"network must be a SparseMessagePassing, got {type(network).__name__}")
        family_of(model)
        self.graph_cpu = SparseGraph.from_model(model)
        try:
            network.fits(self.graph_cpu)
        except ValueError as exc:
            raise ValueError(f"model: {exc}") from None
        self.model = model
        self.network = network
        self.passes = network.passes if passes is None else check_positive_int("passes", passes, 1)
        if tol is not None and (isinstance(tol, bool) or not isinstance(tol, numbers.Real)
                                or not (math.isfinite(tol) and tol > 0)):
            raise ValueError(f"tol must be None or a finite real > 0, got {tol!r}")
        self.tol = None if tol is None else float(tol)
        if max_passes is not None:
            max_passes = check_positive_int("max_passes", max_passes, self.passes)
            if self.tol is None:
                raise ValueError("max_passes needs tol (the residual below which a query stops early)")
        self.max_passes = max_passes
        if contradictions not in ("raise", "ignore"):
            raise ValueError(f"contradictions must be 'raise' or 'ignore', got {contradictions!r}")
        self.contradictions = contradictions
        self.device = pick_device(device)
        self.batch_size = check_positive_int("batch_size", batch_size, 1)
        self.network.to(self.device)
        self.graph = self.graph_cpu.to(self.device)
        self.n_evaluations = 0
        self.n_rows = 0
        self.n_row_passes = 0  # passes summed over the rows answered (n_row_passes / n_rows: mean passes per row)

    @classmethod
    def factory(cls, network: SparseMessagePassing, **kwargs) -> Callable:
        """A callable ``model -> MessagePassingDenoiser(network, model, **kwargs)``."""
        return network.factory(**kwargs)

    def describe(self) -> dict:
        return {"name": "MessagePassingDenoiser", "network": "SparseMessagePassing",
                "n_layers": self.network.n_layers, "n_parameters": self.network.n_parameters, "passes": self.passes,
                "tol": self.tol, "contradictions": self.contradictions, "device": str(self.device),
                **({} if self.max_passes is None else {"max_passes": self.max_passes})}

    def _posterior(self, y: np.ndarray, t: np.ndarray, revealed: np.ndarray) -> DenoiserOutput:
        net = self.network
        B = revealed.shape[0]
        field = site_field(net.family, y)
        margs, resid, done = [], [], []
        was_training = net.training
        net.eval()
        try:
            with torch.no_grad():
                for lo in range(0, B, self.batch_size):
                    hi = min(B, lo + self.batch_size)
                    out, n_passes = self._run(torch.as_tensor(field[lo:hi], dtype=net.dtype),
                                              torch.as_tensor(revealed[lo:hi]),
                                              torch.as_tensor(t[lo:hi], dtype=net.dtype))
                    done.append(n_passes)
                    bad = out.contradiction.cpu().numpy()
                    if self.contradictions == "raise" and bad.any():
                        row = lo + int(np.flatnonzero(bad)[0])
                        raise ContradictionError(
                            f"MessagePassingDenoiser: contradiction in batch row {row}: the revealed values and the "
                            f"constraints (beta = {net.beta}) leave a variable without an allowed value", row)
                    margs.append(torch.exp(out.log_marginals).double().cpu().numpy())
                    resid.append(out.residual.double().cpu().numpy())
        finally:
            net.train(was_training)
        self.n_rows += B
        self.n_row_passes += int(np.concatenate(done).sum())
        marg = np.concatenate(margs)
        marg /= marg.sum(axis=-1, keepdims=True)
        residual = np.concatenate(resid)
        converged = np.ones(B, dtype=bool) if self.tol is None else residual < self.tol
        mean = marg if net.family == "potts" else marg[..., 1] - marg[..., 0]
        return DenoiserOutput(mean=mean, marginals=marg, converged=converged,
                              iterations=np.concatenate(done) * net.n_layers, residual=residual)

    def _run(self, field: torch.Tensor, revealed: torch.Tensor, t: torch.Tensor) -> tuple[MPOutput, np.ndarray]:
        """``passes`` passes on these rows, then (``max_passes``) single passes on the rows still moving by
        ``tol`` or more; returns the output and the passes taken per row."""
        net = self.network
        out = net.run(self.graph, field, revealed, t, passes=self.passes)
        self.n_evaluations += 1
        n_passes = np.full(field.shape[0], self.passes, dtype=np.int64)
        if self.max_passes is None or self.max_passes == self.passes:
            return out, n_passes
        lm, con, res, msg = (out.log_marginals.clone(), out.contradiction.clone(), out.residual.clone(),
                             out.messages.clone())
        active = torch.nonzero(res >= self.tol).flatten().cpu()
        for _ in range(self.max_passes - self.passes):
            if active.numel() == 0:
                break
            a = active.to(field.device)
            o = net.run(self.graph, field[a], revealed[a], t[a], passes=1, messages=msg[a])
            self.n_evaluations += 1
            lm[a], con[a], res[a], msg[a] = o.log_marginals, o.contradiction, o.residual, o.messages
            n_passes[active.numpy()] += 1
            active = active[(o.residual >= self.tol).cpu()]
        return MPOutput(lm, con, res, msg), n_passes
