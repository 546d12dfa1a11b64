r"""The counting rules every metric shares, on backend arrays (numpy, numba's numpy, torch on any device).

They follow NeuroBench's (Yik et al., "The neurobench framework for benchmarking neuromorphic
computing algorithms and systems", Nat. Commun. 16:1545, 2025; the ``neurobench`` package, 2.3).
A connection layer called with inputs ``X[B, n_in]`` and weights ``W[n_out, n_in]`` costs

    effective = Σ_b Σ_i Σ_j [X_bj ≠ 0] [W_ij ≠ 0] = Σ_j nnz(X[:, j]) · nnz(W[:, j])
    dense     = B · n_out · n_in

synaptic operations.  A call whose inputs all lie in ``{−1, 0, 1}`` is *binary* (spikes): its
effective operations are accumulates (ACs); any other call's are multiply-accumulates (MACs).  Biases
are no synaptic operations.  The column form costs ``O(B n_in + n_out n_in)`` instead of a product.
"""

from __future__ import annotations


def nonzero(x) -> int:
    """``nnz(x)``: how many entries of ``x`` are not zero."""
    return int((x != 0).sum())


def size(x) -> int:
    """How many entries ``x`` has."""
    n = 1
    for d in x.shape:
        n *= int(d)
    return n


def is_binary(x) -> bool:
    """Whether every entry of ``x`` is −1, 0 or 1 (NeuroBench's test for spikes, applied per call)."""
    return bool(((x == 0) | (x == 1) | (x == -1)).all())


def column_fan_out(w):
    """``nnz(W[:, j])`` for every input ``j`` of ``W[n_out, n_in]``: the synapses an input reaches."""
    return (w != 0).sum(0)


def fan_out_operations(x, fan_out) -> int:
    """``Σ_j nnz(X[:, j]) · fan_out_j`` for inputs ``X[B, n_in]``: the effective operations of one call."""
    return int(((x != 0).sum(0) * fan_out).sum())


def changes(before, after) -> int:
    """How many entries differ between two states of the same shape (a membrane update that changed
    the membrane, in NeuroBench's count)."""
    return int((before != after).sum())
