r"""Belief-propagation denoiser for sparse models: Potts / colouring and NAE-SAT (docs/physics.md §1, §3).

BP computes the (Bethe) marginals of the tilted and conditioned posterior of ``samplers.denoisers.base``,

    mu_{y,t,R}(x) ∝ exp(-beta E(x)) · exp(<y, x> - t |x|^2 / 2) · 1[x_i = r_i for i in R],

on the model's graph, exactly when the graph is a tree and asymptotically on sparse random graphs in
the replica-symmetric phase.  References: M. Mézard & A. Montanari, *Information, Physics and
Computation* (OUP 2009), ch. 14 (BP equations and the Bethe free entropy); L. Zdeborová & F. Krzakala,
"Phase transitions in the coloring of random graphs", PRE 76, 031131 (2007) (BP for colouring);
L. Dall'Asta, A. Ramezanpour & R. Zecchina, "Entropy landscape and non-Gibbs solutions in constraint
satisfaction problems", Phys. Rev. E 77 (2008), arXiv:0801.2890 (BP for hypergraph bicolouring).

Node factors
------------
Each variable carries a node factor psi_i(x) from the side channel and the erasure channel.  The
Gaussian channel's ``-t |x|^2 / 2`` is constant (|x|^2 = 1 per variable for a one-hot Potts colour and
for x = ±1), so it only shifts the free entropy by -t/2 per variable:

* Potts (x_i = colour c, one-hot):   psi_i(c) = exp(y[i, c]);
* NAE-SAT (x_i = ±1):                psi_i(x) = exp(y_i x);
* a revealed variable (alphabet index r_i; NAE-SAT index 0 is x = -1 and 1 is x = +1, Potts the
  colour) has psi_i(x) = exp(<y_i, x>) 1[x = A[r_i]]: its field is kept only at the revealed value.

Numerically psi_i is stored divided by its largest entry (whose log is added back to the free entropy);
entries below e^-600 relative to the largest are raised to e^-600 so that a strong field never creates
an exact zero, i.e. a spurious hard constraint (such a value carries weight < 1e-260 relative to the
preferred one, far below double precision, unless the constraints force it).

Potts / colouring BP (pairwise model, w(c, d) = exp(-beta 1[c = d]), w = 1 - 1[c = d] at beta = inf)
------------------------------------------------------------------------------------------------------
Messages live on directed edges; ``m[k]`` for the CSR slot k of row i (neighbour j = indices[k]) is
m_{i->j}, and the message j -> i sits in the reverse slot ``rev[k]``.  With e = exp(-beta),

    h_{j->i}(c) = sum_d w(c, d) m_{j->i}(d) = sum_{d != c} m_{j->i}(d) + e · m_{j->i}(c),
    m_{i->j}(c) ∝ psi_i(c) prod_{l in di \ j} h_{l->i}(c),                                      (1)

normalised to sum 1.  h is computed from prefix/suffix sums over colours (never as 1 - m(c), which
loses all digits when m is nearly a point mass), and the leave-one-out products in (1) from prefix and
suffix products over the neighbours (no division, so exact zeros at beta = inf are harmless).
Marginals: b_i(c) ∝ psi_i(c) prod_{l in di} h_{l->i}(c).  Bethe free entropy (MM eq. 14.27 written with
variable-to-variable messages):

    Phi = sum_i log Z_i - sum_{(ij) in E} log Z_ij,
    Z_i = sum_c psi_i(c) prod_{l in di} h_{l->i}(c),     Z_ij = sum_c m_{i->j}(c) h_{j->i}(c).

Kernel layout and fast path (Potts)
-----------------------------------
The stored messages keep the outgoing layout above (``msg[k]`` = m_{i->j}; this is what ``warm_start``
keeps).  Beside them the kernel keeps an *incoming* table of the h's, ``hin[k] = h_{j->i}`` for the CSR
slot k of row i, i.e. hin[k] = h(msg[rev[k]]): it is filled once at the start (reading msg in order and
writing hin[rev[k]], rev being an involution; from the uniform start every row is h(1/q, ..., 1/q) and
both tables are written in order), and whenever variable i writes m_{i->j} into msg[k] it
also writes h_{i->j} (from the stored, damped message, with the same prefix / suffix sums) into
hin[rev[k]].  So the update of variable i reads its d incoming rows contiguously from hin[indptr[i]:] and
the old messages contiguously from msg[indptr[i]:], and only the d h rows it writes are scattered (they
are prefetched a few variables ahead on large graphs).  h is evaluated once per write instead of once per
read, from the very same numbers, so nothing changes.  The leave-one-out products of (1) are first
formed plainly, out[l, c] = psi_i(c) prod_{l' < l} h_{l'}(c) · prod_{l' > l} h_{l'}(c) with row sums
z_l; when every out[l, c] >= 1e-290 and every z_l <= 1e9 no factor can be an exact zero, no product
underflowed and no normalised entry out[l, c] / z_l (>= 1e-299) can reach the floor, so this equals what
the careful routine (structural-zero counting, log domain, floor) returns, bit for bit; otherwise (a zero,
an underflow, a NaN) the node is redone by the careful routine.  The colour loops are specialised per q
(q is a compile-time constant), and the summary reuses hin and the log h of the node term for the edge
terms; it skips only calls whose value is exact (log psi_i(c) = +0 when psi_i(c) = 1, i.e. everywhere
without a field, and e^0 = 1 for the largest term of each normaliser); what remains is one log per h
entry, per message entry of an edge and per normaliser, and one exp per other term.  Gauss-Seidel order,
damping, residual and all floating-point operations are those written above.  The message array and the
h table depend only on the graph, so a denoiser keeps them from one query to the next (no allocation and
no fresh memory pages per query); the node factors are formed by one pass (row maxima and clipped gaps)
and numpy's exp, skipped when there is no field (every gap 0, e^0 = 1).

NAE-SAT BP (factor graph; clause a over variables i_1..i_k with literal signs s_{a,r})
-------------------------------------------------------------------------------------
The literal of variable i in clause a is L = s_{a,i} x_i; the clause weight is
w_a = exp(-beta 1[all k literals equal]).  Variable-to-clause messages m_{i->a}(x) and clause-to-
variable messages mhat_{a->i}(x) are pairs (P(x = -1), P(x = +1)).  For the k - 1 other variables j of
clause a write t_j = m_{j->a}(L_j = +1), f_j = m_{j->a}(L_j = -1), and

    T = prod_j t_j  (all others true),  F = prod_j f_j  (all others false),  N = 1 - T - F  (mixed),

with N accumulated as N <- N (t + f) + T f + F t (a sum of non-negative terms: no cancellation).  Then

    mhat_{a->i}(L_i = +1) ∝ e · T + N + F,      mhat_{a->i}(L_i = -1) ∝ e · F + N + T,            (2)
    m_{i->a}(x) ∝ psi_i(x) prod_{b in di \ a} mhat_{b->i}(x),                                      (3)

(at beta = inf a literal is forbidden only when all the others surely take its value).  Bethe free
entropy (MM eq. 14.27):

    Phi = sum_i log Z_i + sum_a log Z_a - sum_{(i,a)} log Z_{ia},
    Z_i = sum_x psi_i(x) prod_{a in di} mhat_{a->i}(x),
    Z_a = e (T_a + F_a) + N_a  (T, F, N over all k literals of a, with the messages m_{i->a}),
    Z_{ia} = sum_x m_{i->a}(x) mhat_{a->i}(x).

Free entropy reported
---------------------
``DenoiserOutput.free_entropy`` is the Bethe approximation of the *absolute* log normaliser per variable
in the model's counting measure,

    free_entropy = Phi / n - t / 2  ≈  (1/n) log sum_x exp(-beta E(x) + <y, x> - t |x|^2 / 2) 1[x_R = r_R],

exact on trees.  (``ExactDenoiser`` reports the same quantity minus the model's own log Z / n; the two
compare after subtracting BP's value at y = 0, t = 0, nothing revealed, or adding ``exact().log_Z / n``.)

Schedule, damping, convergence
------------------------------
One iteration visits the variables in index order and replaces all outgoing messages of each variable
at once (Gauss-Seidel: later variables already see the new messages; for NAE-SAT the clause messages
into a variable are recomputed from the current variable messages just before).  With damping d the
stored message is (1 - d) m_new + d m_old.  The residual of an iteration is the largest
|m_new - m_old| over all messages and entries, with m_new the undamped update (so it measures the
distance to a fixed point whatever d); BP has converged when the residual is below ``tol``, and stops
unconverged (``converged`` False, the base class warns) after ``max_iter`` iterations.  At beta = inf,
undamped BP from a random start can oscillate between colour assignments on loopy graphs (e.g. planted
q = 3 colouring at c = 6, n = 20000); damping 0.3-0.5 (or ``init="planted"``) makes it converge.

Exact zeros, underflow and contradictions (hard constraints, beta = inf)
------------------------------------------------------------------------
Exact zeros in messages are *structural*: a revealed variable's delta, a neighbour whose message is a
point mass at beta = inf, or a clause whose other literals are all surely equal.  In exact arithmetic
these are the only zeros and each is a sound deduction (the value is impossible in every configuration
of positive weight), because initial messages are strictly positive.  Products of many small numbers
can also underflow, which would create unsound zeros (and spurious contradictions): a leave-one-out
product is therefore recomputed in the log domain whenever an entry without a structural zero falls
below 1e-290, and such entries are floored at 1e-300 after normalisation (far below double precision
relative to the message's largest entry).  If a message, a marginal or a Bethe term then has no positive
entry, the revealed values and hard constraints admit no configuration at all; BP raises ``ValueError``
naming the batch row and the variable (or clause) instead of returning NaN.  The Bethe terms of the free
entropy are evaluated in the log domain.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from llvmlite import binding as llvm_binding
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from spinglass._validate import SeedLike, make_rng, seed_repr
from spinglass.sparse import NAESATModel, PottsModel

from .base import ContradictionError, Denoiser, DenoiserOutput

#: Largest log-ratio between the node-factor entries of one variable (see module docstring).
FIELD_CLIP = 600.0
#: Weight of the planted value in the ``init="planted"`` messages (the rest spread uniformly).
PLANTED_INIT_WEIGHT = 0.99
#: Mixing with the uniform message applied to warm-start messages (keeps them strictly positive).
WARM_START_MIX = 1e-9
#: Non-structural message entries are floored here (see module docstring).
_FLOOR = 1e-300
_UNDERFLOW = 1e-290
_INIT_CHOICES = ("uniform", "planted", "random")
#: Potts BP prefetches the scattered h rows it is about to write this many variables ahead
#: (``_PREFETCH_AHEAD_FILL`` messages ahead when the table is first filled), when the h table has at least
#: ``_PREFETCH_MIN_ENTRIES`` entries (8 MiB; below that it sits in cache and prefetching only costs
#: instructions).
_PREFETCH_AHEAD = 3
_PREFETCH_AHEAD_FILL = 16
_PREFETCH_MIN_ENTRIES = 1 << 20


# ----------------------------------------------------------------------------------------------------
# numba kernels
# ----------------------------------------------------------------------------------------------------
def _prefetch_intrinsic_name() -> str:
    """``llvm.prefetch`` is overloaded on the pointer type: "p0" with opaque pointers (LLVM >= 15), "p0i8"
    with the typed pointers of older LLVM (numba < 0.61)."""
    return "llvm.prefetch.p0" if llvm_binding.llvm_version_info[0] >= 15 else "llvm.prefetch.p0i8"


_PREFETCH_INTRINSIC = _prefetch_intrinsic_name()


@intrinsic
def _prefetch_for_write(typingctx, arr, row, col):
    """Hint the CPU to fetch the cache line of ``arr[row, col]`` for writing (LLVM ``llvm.prefetch``).

    Only a hint: no effect on results.  ``arr`` is a 2-d array, ``row`` and ``col`` in-bounds integers.
    """
    if not (isinstance(arr, types.Array) and arr.ndim == 2 and isinstance(row, types.Integer)
            and isinstance(col, types.Integer)):
        return None
    sig = types.void(arr, row, col)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        inds = [context.cast(builder, args[1], signature.args[1], types.intp),
                context.cast(builder, args[2], signature.args[2], types.intp)]
        ptr = cgutils.get_item_pointer2(context, builder, data=ary.data, shape=cgutils.unpack_tuple(builder, ary.shape),
                                        strides=cgutils.unpack_tuple(builder, ary.strides), layout=aryty.layout,
                                        inds=inds, wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, _PREFETCH_INTRINSIC)
        # rw = 1 (write), locality = 3 (keep in all cache levels), cache type = 1 (data)
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(1), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True, inline="always")
def _cavity_products(psi, i, H, d, q, pre, suf, zc, out):
    """out[l, c] ∝ psi[i, c] prod_{l' != l} H[l', c] for l < d, rows normalised to sum 1.

    Entries that are zero only through underflow (no exact zero among their factors) are computed in the
    log domain and floored at ``_FLOOR``; exact zeros (structural: a factor is exactly 0) stay 0.
    Returns False when some row has no positive entry (a contradiction).
    """
    for c in range(q):
        zc[c] = 1 if psi[i, c] == 0.0 else 0
    for l in range(d):
        for c in range(q):
            if H[l, c] == 0.0:
                zc[c] += 1
    # fast path: plain prefix / suffix products (every factor is <= 1, so products only decrease and an
    # entry >= _UNDERFLOW certifies that no intermediate product underflowed)
    for c in range(q):
        pre[0, c] = psi[i, c]
    for l in range(1, d):
        for c in range(q):
            pre[l, c] = pre[l - 1, c] * H[l - 1, c]
    for c in range(q):
        suf[c] = 1.0
    fast = True
    for l in range(d - 1, -1, -1):
        for c in range(q):
            v = pre[l, c] * suf[c]
            out[l, c] = v
            if v < _UNDERFLOW and zc[c] == (1 if H[l, c] == 0.0 else 0):
                fast = False
            suf[c] *= H[l, c]
    if not fast:
        # log domain: pre[l, c] = log psi_c + sum_{l' < l} log H[l', c]; suf = running suffix sum
        for c in range(q):
            pre[0, c] = np.log(psi[i, c]) if psi[i, c] > 0.0 else -np.inf
        for l in range(1, d):
            for c in range(q):
                h = H[l - 1, c]
                pre[l, c] = pre[l - 1, c] + (np.log(h) if h > 0.0 else -np.inf)
        for c in range(q):
            suf[c] = 0.0
        for l in range(d - 1, -1, -1):
            mx = -np.inf
            for c in range(q):
                v = pre[l, c] + suf[c]
                out[l, c] = v
                if v > mx:
                    mx = v
            if mx == -np.inf:
                return False
            for c in range(q):
                v = out[l, c]
                out[l, c] = np.exp(v - mx) if v > -np.inf else 0.0
                h = H[l, c]
                suf[c] += np.log(h) if h > 0.0 else -np.inf
    for l in range(d):
        z = 0.0
        for c in range(q):
            z += out[l, c]
        if not z > 0.0:
            return False
        inv = 1.0 / z
        for c in range(q):
            v = out[l, c] * inv
            if v < _FLOOR and zc[c] == (1 if H[l, c] == 0.0 else 0):
                v = _FLOOR
            out[l, c] = v
    return True


@njit(cache=True, inline="always")
def _log_node(psi, i, H, d, q, b):
    """b[c] = normalised psi[i, c] prod_{l < d} H[l, c]; returns log of the normaliser (-inf: contradiction)."""
    mx = -np.inf
    for c in range(q):
        v = np.log(psi[i, c]) if psi[i, c] > 0.0 else -np.inf
        for l in range(d):
            h = H[l, c]
            v += np.log(h) if h > 0.0 else -np.inf
        b[c] = v
        if v > mx:
            mx = v
    if mx == -np.inf:
        return -np.inf
    z = 0.0
    for c in range(q):
        v = b[c]
        b[c] = np.exp(v - mx) if v > -np.inf else 0.0
        z += b[c]
    for c in range(q):
        b[c] /= z
    return mx + np.log(z)


@njit(cache=True, inline="always")
def _potts_h(msg, kin, ew, q, left, H, l):
    """H[l, c] = sum_{d != c} msg[kin, d] + ew msg[kin, c] (prefix / suffix sums: no cancellation)."""
    acc = 0.0
    for c in range(q):
        left[c] = acc
        acc += msg[kin, c]
    acc = 0.0
    for c in range(q - 1, -1, -1):
        m = msg[kin, c]
        H[l, c] = left[c] + acc + ew * m
        acc += m


@njit(cache=True)
def _potts_fill_h_table(msg, rev, hin, ew, qt):
    """hin[rev[k]] = h(msg[k]) for every CSR slot k: the incoming-layout table of ``_potts_bp_iterate``.

    Reads msg in order and writes the scattered rows hin[rev[k]] (rev is an involution), prefetched
    ``_PREFETCH_AHEAD_FILL`` messages ahead on large graphs.  ``qt`` as in ``_potts_bp_iterate``.
    """
    q = len(qt)
    left = np.empty(q)
    n_msg = msg.shape[0]
    prefetch = n_msg * q >= _PREFETCH_MIN_ENTRIES
    for k in range(n_msg):
        if prefetch and k + _PREFETCH_AHEAD_FILL < n_msg:
            p = rev[k + _PREFETCH_AHEAD_FILL]
            _prefetch_for_write(hin, p, 0)
            _prefetch_for_write(hin, p, q - 1)
        _potts_h(msg, k, ew, q, left, hin, rev[k])


@njit(cache=True)
def _potts_uniform_start(msg, hin, ew, qt):
    """The ``init="uniform"`` start: msg[k, c] = 1/q and hin[k] = h(msg[k]) for every slot k.

    Every message is the same row, so the h table is that row's h everywhere (what
    ``_potts_fill_h_table`` would write, from the same numbers) and both arrays are written in order.
    """
    q = len(qt)
    if msg.shape[0] == 0:
        return
    left = np.empty(q)
    u = 1.0 / q
    for c in range(q):
        msg[0, c] = u
    _potts_h(msg, 0, ew, q, left, hin, 0)
    for k in range(1, msg.shape[0]):
        for c in range(q):
            msg[k, c] = u
            hin[k, c] = hin[0, c]


@njit(cache=True)
def _potts_bp_iterate(indptr, rev, psi, msg, hin, ew, damping, tol, max_iter, trace, qt):
    """Gauss-Seidel BP sweeps (eq. 1) on the CSR graph; msg (2|E|, q) and hin (2|E|, q) updated in place.

    ``msg[k]`` is m_{i->j} (outgoing layout, CSR slot k of row i); ``hin`` is the incoming-layout table
    hin[k] = h_{j->i} = h(msg[rev[k]]), which the caller fills beforehand (``_potts_fill_h_table`` or
    ``_potts_uniform_start``) and which is kept so whenever a message is written.  ``qt`` is any tuple of
    length q: it makes q a compile-time constant (one specialisation per q, so the colour loops are
    unrolled / vectorised).  See "Kernel layout" in the module docstring.
    Returns (iterations, residual, bad): bad = -1, or the variable at which a message had no positive
    entry (contradiction).
    """
    n = psi.shape[0]
    q = len(qt)
    maxdeg = 1
    for i in range(n):
        d = indptr[i + 1] - indptr[i]
        if d > maxdeg:
            maxdeg = d
    H = np.empty((maxdeg, q))
    pre = np.empty((maxdeg, q))
    out = np.empty((maxdeg, q))
    zs = np.empty(maxdeg)
    suf = np.empty(q)
    left = np.empty(q)
    zc = np.empty(q, dtype=np.int64)
    prefetch = msg.shape[0] * q >= _PREFETCH_MIN_ENTRIES
    keep = 1.0 - damping
    residual = np.inf
    it = 0
    while it < max_iter:
        residual = 0.0
        for i in range(n):
            if prefetch and i + _PREFETCH_AHEAD < n:
                # the rows that variable i + _PREFETCH_AHEAD will write (first and last entry: a row can
                # straddle two cache lines)
                for kk in range(indptr[i + _PREFETCH_AHEAD], indptr[i + _PREFETCH_AHEAD + 1]):
                    p = rev[kk]
                    _prefetch_for_write(hin, p, 0)
                    _prefetch_for_write(hin, p, q - 1)
            start = indptr[i]
            d = indptr[i + 1] - start
            if d == 0:
                continue
            # fast path: plain prefix / suffix products of the contiguous incoming rows hin[start:start+d],
            # valid (identical to _cavity_products) when every entry is >= _UNDERFLOW and every row sum
            # is <= 1e9 (then no normalised entry is below 1e-299, so none is floored)
            for c in range(q):
                out[0, c] = psi[i, c]
            for l in range(1, d):
                for c in range(q):
                    out[l, c] = out[l - 1, c] * hin[start + l - 1, c]
            for c in range(q):
                suf[c] = 1.0
            ok = True
            for l in range(d - 1, -1, -1):
                z = 0.0
                for c in range(q):
                    v = out[l, c] * suf[c]
                    out[l, c] = v
                    ok &= v >= _UNDERFLOW
                    z += v
                    suf[c] *= hin[start + l, c]
                ok &= z <= 1e9
                zs[l] = z
            if not ok:  # an exact zero, a (possible) underflow or a NaN: the careful routine
                for l in range(d):
                    for c in range(q):
                        H[l, c] = hin[start + l, c]
                if not _cavity_products(psi, i, H, d, q, pre, suf, zc, out):
                    return it, residual, i
                for l in range(d):
                    zs[l] = 1.0  # rows already normalised; v * 1.0 == v exactly
            for l in range(d):
                k = start + l
                inv = 1.0 / zs[l]
                for c in range(q):
                    v = out[l, c] * inv
                    old = msg[k, c]
                    diff = abs(v - old)
                    if diff > residual:
                        residual = diff
                    msg[k, c] = keep * v + damping * old
                _potts_h(msg, k, ew, q, left, hin, rev[k])  # h_{i->j}, read by j as its incoming row
        trace[it] = residual
        it += 1
        if residual < tol:
            break
    return it, residual, -1


@njit(cache=True)
def _potts_bp_summary(indptr, indices, psi, offset, msg, hin, marg):
    """Marginals (written to marg (n, q)) and the Bethe log Z of the messages; returns (logZ, bad).

    hin[k] = h(msg[rev[k]]) as left by ``_potts_bp_iterate``.  Per variable i (log domain, as
    ``_log_node``): v_c = log psi_i(c) + sum_l log h_{l->i}(c), mx = max_c v_c, b_i(c) = e^{v_c - mx} / z
    with z = sum_c e^{v_c - mx}, and log Z_i = mx + log z; per edge (ij), i < j, from the log h of the
    node term: log Z_ij = mx + log sum_c e^{log m_{i->j}(c) + log h_{j->i}(c) - mx}.  Two exact shortcuts
    leave every bit as the plain formulas give it: log psi_i(c) = 0 when psi_i(c) = 1 (log 1 = +0 exactly;
    without a field every entry is 1) and e^{v - mx} = 1 for the entries with v = mx (e^0 = 1 exactly).
    """
    n, q = psi.shape
    maxdeg = 1
    for i in range(n):
        d = indptr[i + 1] - indptr[i]
        if d > maxdeg:
            maxdeg = d
    LH = np.empty((maxdeg, q))
    b = np.empty(q)
    log_z = 0.0
    for i in range(n):
        start = indptr[i]
        d = indptr[i + 1] - start
        # b[c] = normalised psi[i, c] prod_l H[l, c] in the log domain (as ``_log_node``), keeping log H
        mx = -np.inf
        for c in range(q):
            p = psi[i, c]
            v = 0.0 if p == 1.0 else (np.log(p) if p > 0.0 else -np.inf)
            for l in range(d):
                h = hin[start + l, c]
                lh = np.log(h) if h > 0.0 else -np.inf
                LH[l, c] = lh
                v += lh
            b[c] = v
            if v > mx:
                mx = v
        if mx == -np.inf:
            return 0.0, i
        z = 0.0
        for c in range(q):
            v = b[c]
            b[c] = 1.0 if v == mx else (np.exp(v - mx) if v > -np.inf else 0.0)
            z += b[c]
        for c in range(q):
            marg[i, c] = b[c] / z
        log_z += mx + np.log(z) + offset[i]
        # edge terms Z_ij = sum_c m_{i->j}(c) h_{j->i}(c), each undirected edge once (smaller endpoint)
        for l in range(d):
            k = start + l
            if indices[k] < i:
                continue
            mx = -np.inf
            for c in range(q):
                m = msg[k, c]
                lh = LH[l, c]
                v = np.log(m) + lh if (m > 0.0 and lh > -np.inf) else -np.inf
                b[c] = v
                if v > mx:
                    mx = v
            if mx == -np.inf:
                return 0.0, i
            z = 0.0
            for c in range(q):
                v = b[c]
                if v == mx:
                    z += 1.0
                elif v > -np.inf:
                    z += np.exp(v - mx)
            log_z -= mx + np.log(z)
    return log_z, -1


@njit(cache=True, inline="always")
def nae_clause_fold(T, F, N, pt, pf):
    """One more literal in the running sums of a NAE clause's product over its literals.

    With t_j = P(literal j true), f_j = P(literal j false): T = prod_j t_j (all true), F = prod_j f_j (all
    false) and N = the weight of the mixed patterns, sum over patterns with at least one true and one false
    literal; adding literal (pt, pf) gives N' = N (pt + pf) + T pf + F pt, T' = T pt, F' = F pf.  The
    caller starts from (T, F, N) = (t_1, f_1, 0).  Shared by BP (``samplers.denoisers.bp``) and the cavity
    population dynamics (``analysis.theory.population_naesat``).
    """
    return T * pt, F * pf, N * (pt + pf) + T * pf + F * pt


@njit(cache=True, inline="always")
def _naesat_c2v(lit, v2c, ew, a, r, k):
    """Clause-to-variable message (eq. 2) of clause a to its slot r: returns (P(x = -1), P(x = +1)).

    Entries that are not exact (structural) zeros are floored at ``_FLOOR``; (-1, -1) on a contradiction.
    """
    T = 1.0
    F = 1.0
    N = 0.0
    first = True
    any_t = False
    any_f = False
    for r2 in range(k):
        if r2 == r:
            continue
        e2 = a * k + r2
        if lit[a, r2] > 0:
            pt = v2c[e2, 1]
            pf = v2c[e2, 0]
        else:
            pt = v2c[e2, 0]
            pf = v2c[e2, 1]
        if pt > 0.0:
            any_t = True
        if pf > 0.0:
            any_f = True
        if first:
            T = pt
            F = pf
            first = False
        else:
            T, F, N = nae_clause_fold(T, F, N, pt, pf)
    wp = ew * T + N + F  # literal of slot r true: forbidden only if all others true
    wm = ew * F + N + T
    z = wp + wm
    if not z > 0.0:
        return -1.0, -1.0
    wp /= z
    wm /= z
    if wp < _FLOOR and (ew > 0.0 or any_f):
        wp = _FLOOR
    if wm < _FLOOR and (ew > 0.0 or any_t):
        wm = _FLOOR
    if lit[a, r] > 0:
        return wm, wp
    return wp, wm


@njit(cache=True)
def _naesat_bp_iterate(lit, vptr, vedge, psi, v2c, ew, damping, tol, max_iter, trace):
    """Gauss-Seidel BP sweeps (eqs. 2-3); edge e = a k + r is slot r of clause a; v2c (M k, 2) in place.

    ``lit[a, r]`` is the literal sign; ``vedge[vptr[i]:vptr[i+1]]`` are the edges of variable i.
    Returns (iterations, residual, bad) as ``_potts_bp_iterate``.
    """
    n = psi.shape[0]
    k = lit.shape[1]
    maxdeg = 1
    for i in range(n):
        d = vptr[i + 1] - vptr[i]
        if d > maxdeg:
            maxdeg = d
    H = np.empty((maxdeg, 2))
    pre = np.empty((maxdeg, 2))
    out = np.empty((maxdeg, 2))
    suf = np.empty(2)
    zc = np.empty(2, dtype=np.int64)
    residual = np.inf
    it = 0
    while it < max_iter:
        residual = 0.0
        for i in range(n):
            start = vptr[i]
            d = vptr[i + 1] - start
            if d == 0:
                continue
            for l in range(d):
                e = vedge[start + l]
                a = e // k
                c0, c1 = _naesat_c2v(lit, v2c, ew, a, e - a * k, k)
                if c0 < 0.0:
                    return it, residual, i
                H[l, 0] = c0
                H[l, 1] = c1
            if not _cavity_products(psi, i, H, d, 2, pre, suf, zc, out):
                return it, residual, i
            for l in range(d):
                e = vedge[start + l]
                for c in range(2):
                    v = out[l, c]
                    old = v2c[e, c]
                    diff = abs(v - old)
                    if diff > residual:
                        residual = diff
                    v2c[e, c] = (1.0 - damping) * v + damping * old
        trace[it] = residual
        it += 1
        if residual < tol:
            break
    return it, residual, -1


@njit(cache=True)
def _naesat_bp_summary(lit, vptr, vedge, psi, offset, v2c, ew, marg):
    """Clause messages from v2c, marginals (marg (n, 2)) and the Bethe log Z; returns (logZ, bad).

    bad = -1, a variable index, or -2 - a for clause a (Z_a or Z_ia not positive).
    """
    n = psi.shape[0]
    M, k = lit.shape
    c2v = np.empty((M * k, 2))
    log_z = 0.0
    for a in range(M):
        T = 1.0
        F = 1.0
        N = 0.0
        first = True
        for r2 in range(k):
            e2 = a * k + r2
            if lit[a, r2] > 0:
                pt = v2c[e2, 1]
                pf = v2c[e2, 0]
            else:
                pt = v2c[e2, 0]
                pf = v2c[e2, 1]
            if first:
                T = pt
                F = pf
                first = False
            else:
                T, F, N = nae_clause_fold(T, F, N, pt, pf)
        za = ew * (T + F) + N
        if not za > 0.0:
            return 0.0, -2 - a
        log_z += np.log(za)
        for r in range(k):
            e = a * k + r
            c0, c1 = _naesat_c2v(lit, v2c, ew, a, r, k)
            if c0 < 0.0:
                return 0.0, -2 - a
            c2v[e, 0] = c0
            c2v[e, 1] = c1
            t0 = np.log(v2c[e, 0]) + np.log(c0) if (v2c[e, 0] > 0.0 and c0 > 0.0) else -np.inf
            t1 = np.log(v2c[e, 1]) + np.log(c1) if (v2c[e, 1] > 0.0 and c1 > 0.0) else -np.inf
            mx = t0 if t0 > t1 else t1
            if mx == -np.inf:
                return 0.0, -2 - a
            log_z -= mx + np.log((np.exp(t0 - mx) if t0 > -np.inf else 0.0)
                                 + (np.exp(t1 - mx) if t1 > -np.inf else 0.0))
    maxdeg = 1
    for i in range(n):
        d = vptr[i + 1] - vptr[i]
        if d > maxdeg:
            maxdeg = d
    H = np.empty((maxdeg, 2))
    b = np.empty(2)
    for i in range(n):
        start = vptr[i]
        d = vptr[i + 1] - start
        for l in range(d):
            e = vedge[start + l]
            H[l, 0] = c2v[e, 0]
            H[l, 1] = c2v[e, 1]
        lz = _log_node(psi, i, H, d, 2, b)
        if lz == -np.inf:
            return 0.0, i
        marg[i, 0] = b[0]
        marg[i, 1] = b[1]
        log_z += lz + offset[i]
    return log_z, -1


@njit(cache=True)
def _clipped_logit_gaps(logits, gaps, top):
    """top[i] = max_c logits[i, c] and gaps[i, c] = max(logits[i, c] - top[i], -FIELD_CLIP) (the logs of the
    node factors psi_i(c) before the erasure channel); returns True when every gap is 0 (no field)."""
    n, K = logits.shape
    flat = True
    for i in range(n):
        t = logits[i, 0]
        for c in range(1, K):
            if logits[i, c] > t:
                t = logits[i, c]
        top[i] = t
        for c in range(K):
            g = logits[i, c] - t
            if g < -FIELD_CLIP:
                g = -FIELD_CLIP
            gaps[i, c] = g
            flat &= g == 0.0
    return flat


# ----------------------------------------------------------------------------------------------------
# the denoiser
# ----------------------------------------------------------------------------------------------------
def _check_damping(damping) -> float:
    if isinstance(damping, bool) or not isinstance(damping, numbers.Real):
        raise TypeError(f"damping must be a real number, got {type(damping).__name__}")
    damping = float(damping)
    if not 0.0 <= damping < 1.0:
        raise ValueError(f"damping must be in [0, 1), got {damping}")
    return damping


class BPDenoiser(Denoiser):
    r"""Belief propagation for ``PottsModel`` (colouring / antiferromagnetic Potts) and ``NAESATModel``.

    Parameters
    ----------
    model : a ``PottsModel`` (e.g. ``PlantedColoring``) or ``NAESATModel`` (e.g. ``PlantedNAESAT``); any
        other type raises ``TypeError``.  ``model.beta`` (inf allowed) is read at every query.
    damping : d in [0, 1); stored messages are (1 - d) · update + d · old.
    tol : convergence threshold (> 0) on the residual max |update - old| of one iteration.
    max_iter : iteration cap (>= 1); rows that reach it are reported with ``converged`` False.
    init : initial messages: ``"uniform"`` (the paramagnetic point — a fixed point of the symmetric model
        without field, so use ``"random"`` to break the colour / sign symmetry), ``"random"`` (i.i.d.
        uniform(0, 1) entries, normalised) or ``"planted"`` (weight ``PLANTED_INIT_WEIGHT`` on the
        planted value, the rest uniform; needs ``model.planted``).
    seed : int or Generator for the random initial messages (one draw per batch row and query).
    warm_start : start each query from the messages the previous query ended with (same batch size),
        mixed with the uniform message by ``WARM_START_MIX``; useful along a denoising path.

    The message equations, the Bethe free entropy and the treatment of beta = inf are in the module
    docstring.  ``posterior`` returns ``DenoiserOutput`` with ``marginals`` (B, n, K) (K = q for Potts,
    K = 2 for NAE-SAT, index 0 = x = -1), ``mean`` (B, n, q) one-hot means (Potts) or (B, n) E[x_i]
    (NAE-SAT), ``free_entropy`` (B,) = Phi_Bethe / n - t / 2 (absolute, see module docstring), and
    ``trace["residual"]`` (B, T) per-iteration residuals (NaN after a row stopped).

    The denoiser keeps its work arrays between queries: 2 · 2|E| · q doubles for Potts (messages and the h
    table), M k · 2 for NAE-SAT.
    """

    def __init__(self, model, damping: float = 0.0, tol: float = 1e-10, max_iter: int = 1000,
                 init: str = "uniform", seed: SeedLike = None, warm_start: bool = False):
        if not isinstance(model, PottsModel | NAESATModel):
            raise TypeError(f"BPDenoiser needs a PottsModel or NAESATModel, got {type(model).__name__}")
        self.model = model
        self.damping = _check_damping(damping)
        if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not (math.isfinite(tol) and tol > 0):
            raise ValueError(f"tol must be a finite real > 0, got {tol!r}")
        self.tol = float(tol)
        if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
            raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
        self.max_iter = int(max_iter)
        if init not in _INIT_CHOICES:
            raise ValueError(f"init must be one of {_INIT_CHOICES}, got {init!r}")
        if init == "planted" and model.planted is None:
            raise ValueError("init='planted' needs a model with a planted configuration (model.planted is None)")
        self.init = init
        if not isinstance(warm_start, bool):
            raise TypeError("warm_start must be a bool")
        self.warm_start = warm_start
        self._seed = seed
        self._rng = self._own_rng = make_rng(seed)
        self._last_messages: np.ndarray | None = None
        self._spare_work_arrays: list[tuple[np.ndarray, np.ndarray | None]] = []
        self._potts = isinstance(model, PottsModel)
        if self._potts:
            adj = model.adjacency
            self._indptr = np.asarray(adj.indptr, dtype=np.int64)
            self._indices = np.asarray(adj.indices, dtype=np.int64)
            rows = np.repeat(np.arange(model.n, dtype=np.int64), np.diff(self._indptr))
            keys = rows * model.n + self._indices  # sorted: CSR rows in order, columns sorted
            self._rev = np.searchsorted(keys, self._indices * model.n + rows).astype(np.int64)
            self._n_messages = len(self._indices)
            self._msg_width = model.q
        else:
            M, k = model.clauses.shape
            self._lit = np.ascontiguousarray(model.signs, dtype=np.int8)
            flat = np.asarray(model.clauses, dtype=np.int64).ravel()
            order = np.argsort(flat, kind="stable")
            self._vedge = order.astype(np.int64)
            self._vptr = np.concatenate([[0], np.cumsum(np.bincount(flat, minlength=model.n))]).astype(np.int64)
            self._n_messages = M * k
            self._msg_width = 2

    def reset(self, rng: np.random.Generator | None = None) -> None:
        """Drop the messages kept for ``warm_start``: the next query starts from ``init``; with ``rng`` (a
        sampler's run generator) the ``"random"`` initial messages are drawn from it from now on."""
        self._last_messages = None
        self._rng = rng if rng is not None else self._own_rng

    def describe(self) -> dict:
        return {"name": "BPDenoiser", "damping": self.damping, "tol": self.tol, "max_iter": self.max_iter,
                "init": self.init, "seed": seed_repr(self._seed), "warm_start": self.warm_start}

    # -- work arrays ------------------------------------------------------------------------------------
    def _take_work_arrays(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(msg, hin): the message array (2|E|, q) or (M k, 2) and, for Potts, the h table of the kernels.

        Both only depend on the graph's size, so they are kept from one query to the next (no allocation
        and no fresh pages per query); a query takes them off the object while it runs and hands them
        back with ``_give_back_work_arrays``, so that a query running at the same time (another thread)
        allocates its own instead of sharing them.  Their contents never outlive a query.
        """
        try:
            return self._spare_work_arrays.pop()
        except IndexError:
            shape = (self._n_messages, self._msg_width)
            return np.empty(shape), (np.empty(shape) if self._potts else None)

    def _give_back_work_arrays(self, arrays: tuple[np.ndarray, np.ndarray | None]) -> None:
        if not self._spare_work_arrays:
            self._spare_work_arrays.append(arrays)

    def __getstate__(self) -> dict:
        # a copy or pickle (e.g. for a worker process) does not carry the scratch arrays
        state = self.__dict__.copy()
        state["_spare_work_arrays"] = []
        return state

    # -- node factors ----------------------------------------------------------------------------------
    def _node_factors(self, y_row: np.ndarray, rev_row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """psi (n, K) with largest entry 1 and offset (n,) = log of the divided-out factor."""
        n = self.model.n
        if self._potts:
            logits = np.ascontiguousarray(y_row)
        else:
            logits = np.stack([-y_row, y_row], axis=1)
        psi = np.empty(logits.shape)
        offset = np.empty(n)
        if _clipped_logit_gaps(logits, psi, offset):
            psi.fill(1.0)  # every gap is 0 and e^0 = 1 exactly: no need to call exp
        else:
            np.exp(psi, out=psi)  # numpy's exp, as it always was (numba's libm exp can differ in the last bit)
        shown = np.flatnonzero(rev_row >= 0)
        if shown.size:
            r = rev_row[shown]
            psi[shown] = 0.0
            psi[shown, r] = 1.0
            offset[shown] = logits[shown, r]
        return psi, offset

    # -- messages --------------------------------------------------------------------------------------
    def _has_warm_messages(self, batch: int) -> bool:
        return self.warm_start and self._last_messages is not None and self._last_messages.shape[0] == batch

    def _initial_messages(self, row: int, batch: int, out: np.ndarray | None = None) -> np.ndarray:
        """The starting messages (2|E|, q) or (M k, 2) of batch row ``row``, written into ``out`` if given."""
        K = self._msg_width
        E = self._n_messages
        if out is None:
            out = np.empty((E, K))
        if self._has_warm_messages(batch):
            np.multiply(self._last_messages[row], 1.0 - WARM_START_MIX, out=out)
            np.add(out, WARM_START_MIX / K, out=out)
            return out
        if self.init == "uniform":
            out.fill(1.0 / K)
            return out
        if self.init == "random":
            m = self._rng.random((E, K)) + 1e-3
            np.divide(m, m.sum(axis=1, keepdims=True), out=out)
            return out
        # planted: the sender's planted value
        planted = np.asarray(self.model.planted)
        if self._potts:
            sender = np.repeat(np.arange(self.model.n), np.diff(self._indptr))
            idx = planted[sender].astype(np.int64)
        else:
            idx = (planted[np.asarray(self.model.clauses).ravel()] > 0).astype(np.int64)
        out.fill((1.0 - PLANTED_INIT_WEIGHT) / (K - 1))
        out[np.arange(E), idx] = PLANTED_INIT_WEIGHT
        return out

    def _posterior(self, y: np.ndarray, t: np.ndarray, revealed: np.ndarray) -> DenoiserOutput:
        model = self.model
        B, n = revealed.shape
        K = self._msg_width
        beta = float(model.beta)
        ew = 0.0 if math.isinf(beta) else math.exp(-beta)
        qt = (0.0,) * K
        marg = np.empty((B, n, K))
        fe = np.empty(B)
        iters = np.zeros(B, dtype=np.int64)
        resid = np.empty(B)
        trace = np.full((B, self.max_iter), np.nan)
        last = np.empty((B, self._n_messages, K)) if self.warm_start else None
        work = self._take_work_arrays()
        msg, hin = work
        try:
            for b in range(B):
                psi, offset = self._node_factors(y[b], revealed[b])
                if self._potts:
                    if self.init == "uniform" and not self._has_warm_messages(B):
                        _potts_uniform_start(msg, hin, ew, qt)
                    else:
                        self._initial_messages(b, B, out=msg)
                        _potts_fill_h_table(msg, self._rev, hin, ew, qt)
                    it, res, bad = _potts_bp_iterate(self._indptr, self._rev, psi, msg, hin, ew, self.damping,
                                                     self.tol, self.max_iter, trace[b], qt)
                    self._raise_if_bad(bad, b, "variable")
                    log_z, bad = _potts_bp_summary(self._indptr, self._indices, psi, offset, msg, hin, marg[b])
                else:
                    self._initial_messages(b, B, out=msg)
                    it, res, bad = _naesat_bp_iterate(self._lit, self._vptr, self._vedge, psi, msg, ew, self.damping,
                                                      self.tol, self.max_iter, trace[b])
                    self._raise_if_bad(bad, b, "variable")
                    log_z, bad = _naesat_bp_summary(self._lit, self._vptr, self._vedge, psi, offset, msg, ew, marg[b])
                self._raise_if_bad(bad, b, "variable")
                fe[b] = log_z / n - 0.5 * t[b]
                iters[b] = it
                resid[b] = res
                if last is not None:
                    last[b] = msg
        finally:
            self._give_back_work_arrays(work)
        self._last_messages = last
        converged = resid < self.tol
        used = int(iters.max()) if B else 0
        mean = marg if self._potts else marg[..., 1] - marg[..., 0]
        return DenoiserOutput(mean=mean, marginals=marg, converged=converged, iterations=iters, residual=resid,
                              free_entropy=fe, trace={"residual": trace[:, :used]})

    def _raise_if_bad(self, bad: int, row: int, what: str) -> None:
        if bad == -1:
            return
        where = f"clause {-2 - bad}" if bad <= -2 else f"{what} {bad}"
        beta = self.model.beta
        raise ContradictionError(f"BPDenoiser: contradiction in batch row {row} at {where}: the revealed values and "
                                 f"the constraints (beta = {beta}) leave no configuration of positive weight", row)


__all__ = ["BPDenoiser", "FIELD_CLIP", "PLANTED_INIT_WEIGHT", "WARM_START_MIX"]
