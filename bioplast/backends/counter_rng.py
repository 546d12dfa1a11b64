r"""Counter-based random numbers: one stream, the same on every backend.

A draw is a pure function of ``(key, index)``: element ``i`` of a draw under
key ``(k₀, k₁)`` is built from ``h = mix(mix(i + k₀) ⊕ k₁)`` (32-bit
arithmetic), where ``mix`` is the ``lowbias32`` integer hash (C. Wellons,
"Prospecting for hash functions", 2018: xor-shift/multiply rounds, a
bijection of 32-bit words with low avalanche bias).  Counter-based generators
in this sense are those of Salmon et al. 2011 ("Parallel random numbers: as
easy as 1, 2, 3", SC'11): no generator state to carry, any element computable
on its own, so a fused numba loop, a numpy expression and a torch kernel
(CPU or CUDA) produce the same numbers, and a checkpoint stores the key, not
a generator.

* **uniform**: ``p = (h >> 8) / 2²⁴`` on ``[0, 1)`` (24 bits, a float32
  mantissa): ``P(p < f) = ⌈2²⁴ f⌉ / 2²⁴``, so stochastic rounding with it is
  unbiased to ``2⁻²⁴``.
* **normal**: ``ξ = Φ⁻¹(p)`` with ``p = (m + ½)/2²³``, ``m = h >> 9``, by
  P. J. Acklam's rational approximation of the normal quantile (relative
  error below 1.2·10⁻⁹; "An algorithm for computing the inverse normal
  cumulative distribution function", 2003).  The central region
  (``0.02425 ≤ p ≤ 0.97575``, 95 % of draws, no logarithm: it vectorises)
  and the tails are evaluated in float64 and rounded to the array's dtype; the tails' logarithm is
  :func:`portable_log` and its square root :func:`tail_sqrt`, made of IEEE operations only, so every
  backend draws the same bits.  ``p`` never reaches 0 or 1: the
  draws are a normal truncated at ±5.3σ, a tail mass of 1.2·10⁻⁷.

Which region a draw falls in is decided on the integer ``m``
(:data:`TAIL_LOW`, :data:`TAIL_HIGH`), so every backend agrees on it.
"""

from __future__ import annotations

import numpy as np

MASK32 = 0xFFFFFFFF
MIX_MULTIPLIERS = (0x7FEB352D, 0x846CA68B)
_GOLDEN = 0x9E3779B9

# Acklam's coefficients: central numerator A, denominator B; tail numerator C, denominator D
ACKLAM_A = (
    -3.969683028665376e01,
    2.209460984245205e02,
    -2.759285104469687e02,
    1.383577518672690e02,
    -3.066479806614716e01,
    2.506628277459239e00,
)
ACKLAM_B = (
    -5.447609879822406e01,
    1.615858368580409e02,
    -1.556989798598866e02,
    6.680131188771972e01,
    -1.328068155288572e01,
)
ACKLAM_C = (
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838e00,
    -2.549732539343734e00,
    4.374664141464968e00,
    2.938163982698783e00,
)
ACKLAM_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
NORMAL_BITS = 23
HALF = 1 << (NORMAL_BITS - 1)
# m < TAIL_LOW ⇔ p < 0.02425, m ≥ TAIL_HIGH ⇔ p > 0.97575 (p = (m + ½)/2²³; symmetric: TAIL_HIGH = 2²³ − TAIL_LOW)
TAIL_LOW = int(np.ceil(0.02425 * 2**NORMAL_BITS - 0.5))
TAIL_HIGH = 2**NORMAL_BITS - TAIL_LOW
# portable_log: ln 2, √½ and the atanh series' coefficients 1/(2k + 1), k = 0 … 10
LN2 = 0.6931471805599453
SQRT_HALF = 0.7071067811865476
LOG_TERMS = tuple(1.0 / (2 * k + 1) for k in range(11))
SQRT_ITERATIONS = 5


# the salt of the reads of weight matrix m is READ_SALT + m (rate layers, EP's layers, spiking
# projections alike); salts below it are the device stages' own (bioplast.hardware.transforms)
READ_SALT = 16


def mix32(x: int) -> int:
    """``lowbias32`` on a Python int (key derivation; the array forms live with each backend)."""
    x &= MASK32
    x ^= x >> 16
    x = (x * MIX_MULTIPLIERS[0]) & MASK32
    x ^= x >> 15
    x = (x * MIX_MULTIPLIERS[1]) & MASK32
    return x ^ (x >> 16)


def stream_key(seed: int, step: int, salt: int) -> tuple:
    """``(k₀, k₁)`` of the draw number ``step`` of stream ``salt`` under ``seed`` (all non-negative ints)."""
    # both words depend on every input, so the pairing of elements changes from draw to draw
    a = mix32(int(seed) ^ mix32(int(seed) >> 32) ^ (int(salt) * _GOLDEN))
    b = mix32(int(step) ^ mix32(int(step) >> 32) ^ a)
    return mix32(b + _GOLDEN), mix32(b ^ a ^ ((int(salt) + 1) * _GOLDEN))


def stream_keys(seed: int, steps, salt: int):
    """``(k₀[T], k₁[T])`` (uint32) of :func:`stream_key` ``(seed, s, salt)`` for each ``s`` of ``steps``:
    the keys of a run of draws at once, for a compiled loop that makes one draw per step."""
    a = np.uint32(mix32(int(seed) ^ mix32(int(seed) >> 32) ^ (int(salt) * _GOLDEN)))
    s = np.asarray(steps, dtype=np.uint64)
    b = _mix_array((s & np.uint64(MASK32)).astype(np.uint32) ^ _mix_array((s >> np.uint64(32)).astype(np.uint32)) ^ a)
    return (_mix_array(b + np.uint32(_GOLDEN)), _mix_array(b ^ a ^ np.uint32(((int(salt) + 1) * _GOLDEN) & MASK32)))


def row_scaled_normal(k, key: tuple, std, n: int):
    """``ζ · std[:, None]`` with ``ζ[B, n] ~ N(0, I)`` the counter-based draw ``key`` on backend ``k``:
    one independent error per row and column whose size each row sets (every read-noise model)."""
    return k.counter_normal(key, (int(std.shape[0]), int(n))) * std[:, None]


def bits_numpy(key: tuple, n: int):
    """``h[i]`` for ``i < n`` as uint32 (numpy's uint32 arithmetic wraps mod 2³²)."""
    if n > 2**32:
        raise ValueError(f"a counter-based draw holds at most 2**32 elements, asked for {n}")
    k0, k1 = (np.uint32(k) for k in key)
    x = np.arange(n, dtype=np.uint32) + k0
    return _mix_array(_mix_array(x) ^ k1)


INT32_COUNTERS = 2**31  # draws shorter than this mix their words in int32 on torch


def _signed32(c: int) -> int:
    """A 32-bit word as the int32 with the same bits."""
    c &= MASK32
    return c - (1 << 32) if c >= 1 << 31 else c


def bits_torch(torch, key: tuple, n: int, device):
    """``h[i]`` as int64 tensors on ``device`` (values in ``[0, 2³²)``).  The words are mixed in int32:
    two's-complement products, sums and xors have the low 32 bits of the unsigned ones, and the
    right shifts are made logical by masking off the sign's copies (torch has no uint32
    arithmetic on every device); beyond 2³¹ elements the counter does not fit int32 and the
    words are mixed in int64, with 32-bit products split into 16-bit halves."""
    if n > 2**32:
        raise ValueError(f"a counter-based draw holds at most 2**32 elements, asked for {n}")
    if n < INT32_COUNTERS:
        x = torch.arange(n, dtype=torch.int32, device=device) + _signed32(int(key[0]))
        return _mix_int32(_mix_int32(x) ^ _signed32(int(key[1]))).to(torch.int64) & MASK32

    def mul32(x, c):
        return (x * (c & 0xFFFF) + (((x * (c >> 16)) & 0xFFFF) << 16)) & MASK32

    def mix(x):
        x = x ^ (x >> 16)
        x = mul32(x, MIX_MULTIPLIERS[0])
        x = x ^ (x >> 15)
        x = mul32(x, MIX_MULTIPLIERS[1])
        return x ^ (x >> 16)

    x = (torch.arange(n, dtype=torch.int64, device=device) + int(key[0])) & MASK32
    return mix(mix(x) ^ int(key[1]))


def _mix_int32(x):
    """``lowbias32`` on int32 tensors holding 32-bit words."""
    x = x ^ ((x >> 16) & 0xFFFF)
    x = x * _signed32(MIX_MULTIPLIERS[0])
    x = x ^ ((x >> 15) & 0x1FFFF)
    x = x * _signed32(MIX_MULTIPLIERS[1])
    return x ^ ((x >> 16) & 0xFFFF)


def _mix_array(x):
    x ^= x >> np.uint32(16)
    x *= np.uint32(MIX_MULTIPLIERS[0])
    x ^= x >> np.uint32(15)
    x *= np.uint32(MIX_MULTIPLIERS[1])
    x ^= x >> np.uint32(16)
    return x


def uniform_from_bits(xp, h, dtype):
    """``(h >> 8) / 2²⁴`` for numpy (uint32 ``h``) or torch (int64 ``h``)."""
    return _as(xp, h >> 8, dtype) * (1.0 / 2**24)


def normal_from_bits(xp, h, dtype):
    """``Φ⁻¹((m + ½)/2²³)``, ``m = h >> 9``, in float64, rounded to ``dtype`` (module docstring)."""
    m = h >> 9
    q = (_as(xp, m, "float64") - (HALF - 0.5)) * (1.0 / 2**NORMAL_BITS)
    r = q * q
    a, b = ACKLAM_A, ACKLAM_B
    num = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
    den = ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0
    out = num / den
    tails = (m < TAIL_LOW) | (m >= TAIL_HIGH)
    if bool(tails.any()):
        upper = m[tails] >= TAIL_HIGH
        low = xp.where(upper, (2**NORMAL_BITS - 1) - m[tails], m[tails])  # upper tail mirrored onto the lower
        value = lower_tail(xp, _as(xp, low, "float64"))
        out[tails] = xp.where(upper, -value, value)
    return _as(xp, out, dtype)


def portable_log(xp, p):
    """``log p`` for float64 ``p > 0`` from IEEE operations only, so numpy, numba and torch (any device)
    compute it bit for bit alike — a library's ``log`` may differ from another's in the last bit.

    ``p = m·2^e`` with ``m ∈ [√½, √2)`` (exact), ``s = (m − 1)/(m + 1)`` and
    ``log m = 2 atanh s = 2s Σ_k s^{2k}/(2k + 1)``: ``|s| ≤ 0.172``, so the :data:`LOG_TERMS` terms
    truncate below ``s^{22}/23 < 10⁻¹⁷`` and the result is good to a few ulp."""
    m, e = xp.frexp(p)
    low = m < SQRT_HALF
    m = xp.where(low, m * 2.0, m)
    e = _as(xp, e, "float64") - _as(xp, low, "float64")
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    poly = z * 0.0 + LOG_TERMS[-1]
    for c in LOG_TERMS[-2::-1]:
        poly = poly * z + c
    return e * LN2 + 2.0 * s * poly


def tail_sqrt(y):
    """``√y`` for the tails' ``y = −2 log p ∈ [7.4, 33.1]`` by :data:`SQRT_ITERATIONS` Newton steps
    ``q ← (q + y/q)/2`` from ``q₀ = y/8 + 2`` (relative error below 0.08 on that range, squared at
    every step: below 10⁻²⁰ after five), IEEE operations only: PyTorch's vectorised float64 ``sqrt`` on
    CPU is not correctly rounded, so a library ``sqrt`` would make torch's draws differ in the last bit."""
    q = y * 0.125 + 2.0
    for _ in range(SQRT_ITERATIONS):
        q = (q + y / q) * 0.5
    return q


def lower_tail(xp, low):
    """``Φ⁻¹(p) < 0`` for ``p = (low + ½)/2²³`` below 0.02425, in float64 (Acklam's tail form)."""
    p = (low + 0.5) * (1.0 / 2**NORMAL_BITS)
    q = tail_sqrt(-2.0 * portable_log(xp, p))
    c, d = ACKLAM_C, ACKLAM_D
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
        (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0
    )


def _as(xp, x, dtype):
    if xp is np:
        return x.astype(np.dtype(dtype))
    return x.to(getattr(xp, str(dtype)) if isinstance(dtype, str) else dtype)
