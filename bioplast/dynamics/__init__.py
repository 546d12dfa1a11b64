"""Dynamics: how networks compute their activity (feed-forward, relaxation, spiking)."""
from .activations import ACTIVATIONS, activation, derivative
from .feedforward import MLPParams, forward, init_mlp
from .relaxation import EPNet, Nudge, relax

__all__ = ["ACTIVATIONS", "activation", "derivative", "MLPParams", "forward", "init_mlp", "EPNet", "Nudge", "relax"]
