"""Dynamics: how networks compute their activity (feed-forward, relaxation, spiking)."""
from .activations import ACTIVATIONS, activation, derivative
from .feedforward import MLPParams, forward, init_mlp
from .network import Population, Projection, SpikeSource, SpikingNetwork
from .neurons import LIF, CondLIF, from_snntorch
from .relaxation import EPNet, Nudge, relax
from .spiking import simulate

__all__ = ["ACTIVATIONS", "activation", "derivative", "MLPParams", "forward", "init_mlp", "EPNet", "Nudge", "relax",
           "SpikingNetwork", "SpikeSource", "Population", "Projection", "LIF", "CondLIF", "from_snntorch",
           "simulate"]
