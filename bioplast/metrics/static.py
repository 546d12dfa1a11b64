r"""NeuroBench's static metrics — what a model holds — and its footprint at the substrate's weight format.

With ``S`` the arrays the model keeps (parameters, and buffers such as learned thresholds) and ``M``
the weight matrices its connections apply (Yik et al., Nat. Commun. 16:1545, 2025; ``neurobench`` 2.3):

* ``Footprint`` (bytes, as NeuroBench counts it): ``Σ_{a∈S} size(a) · itemsize(a)`` at the precision
  the simulation stores them in;
* ``FootprintBits``: ``Σ_{a∈S} size(a) · bits(a)``, where an array on the substrate's devices takes
  the substrate's weight format (:func:`weight_bits`: 8 bits a weight on an 8-bit synapse, two 6-bit
  rows on BrainScaleS-2's paired rows) and every other array its simulated width — the footprint a
  sub-byte or ternary weight format really has, which NeuroBench's bytes cannot show;
* ``ParameterCount``: ``Σ size(a)`` over the parameters in ``S`` (buffers are not parameters);
* ``ConnectionSparsity``: ``Σ_{W∈M} nnz₀(W) / Σ_{W∈M} size(W)``, ``nnz₀`` counting zero weights.
  A projection that stores one shared weight (one-to-one, all-but-self) applies the matrix it
  stands for, so its implied zeros count (as they would in the ``nn.Linear`` NeuroBench would need
  to hold it).  NeuroBench rounds this ratio to 4 decimals; bioplast reports it unrounded.
"""

from __future__ import annotations

from typing import NamedTuple

from bioplast.errors import ConfigError


class Stored(NamedTuple):
    """An array the model keeps: ``size`` entries of ``itemsize`` bytes; ``parameter`` (``False``: a
    buffer, e.g. an adaptive threshold); ``on_devices``: held by the substrate's synapses."""

    name: str
    size: int
    itemsize: int
    parameter: bool = True
    on_devices: bool = False


class Matrix(NamedTuple):
    """A connection's weight matrix as the network applies it: ``entries`` weights, ``zeros`` of them 0."""

    name: str
    entries: int
    zeros: int


class Structure(NamedTuple):
    """What a model holds: its stored arrays, its connection matrices and the substrate's weight
    format (``weight_bits`` a weight, described by ``weight_format``)."""

    stored: list
    matrices: list
    weight_bits: int
    weight_format: str


def weight_bits(profile, simulated_bits: int) -> tuple[int, str]:
    """``(bits a synaptic weight takes, a description)`` on substrate ``profile`` (a
    :class:`~bioplast.hardware.profile.DeviceProfile`, or ``None`` for float weights) whose weights the
    simulation stores in ``simulated_bits``: the profile's ``bits``, doubled for a signed weight on
    two devices (paired rows, a differential pair); the simulated width when the profile has no
    digital weight format (float weights, analog conductances)."""
    if isinstance(simulated_bits, bool) or not isinstance(simulated_bits, int) or simulated_bits < 1:
        raise ConfigError(f"simulated_bits must be a positive integer, got {simulated_bits!r}")
    bits = None if profile is None else profile.bits
    if bits is None:
        analog = profile is not None and profile.bounds != "none"
        kind = "analog conductances, counted at" if analog else "floating point,"
        return simulated_bits, f"{kind} {simulated_bits}-bit as simulated"
    if profile.row_signs == "paired":
        return 2 * bits, f"2 × {bits}-bit rows (a signed weight on an excitatory and an inhibitory row)"
    if profile.differential:
        return 2 * bits, f"2 × {bits}-bit devices (differential pair)"
    return bits, f"{bits}-bit"


def static_metrics(structure: Structure) -> dict:
    """``Footprint``, ``FootprintBits``, ``ParameterCount`` and ``ConnectionSparsity`` (module docstring)."""
    entries = sum(m.entries for m in structure.matrices)
    return {
        "Footprint": sum(a.size * a.itemsize for a in structure.stored),
        "FootprintBits": sum(
            a.size * (structure.weight_bits if a.on_devices else 8 * a.itemsize) for a in structure.stored
        ),
        "ParameterCount": sum(a.size for a in structure.stored if a.parameter),
        "ConnectionSparsity": sum(m.zeros for m in structure.matrices) / entries if entries else 0.0,
    }
