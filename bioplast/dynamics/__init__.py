"""Dynamics: how networks compute their activity (feed-forward, relaxation, spiking)."""

from bioplast.dynamics.activations import ACTIVATIONS, activation, derivative
from bioplast.dynamics.feedforward import MLPParams, forward, init_mlp
from bioplast.dynamics.relaxation import EPNet, Nudge, relax
from bioplast.dynamics.spiking.engine import simulate
from bioplast.dynamics.spiking.network import Population, Projection, SpikeSource, SpikingNetwork
from bioplast.dynamics.spiking.neurons import LIF, CondLIF, from_snntorch

__all__ = [
    "ACTIVATIONS",
    "activation",
    "derivative",
    "MLPParams",
    "forward",
    "init_mlp",
    "EPNet",
    "Nudge",
    "relax",
    "SpikingNetwork",
    "SpikeSource",
    "Population",
    "Projection",
    "LIF",
    "CondLIF",
    "from_snntorch",
    "simulate",
]
