"""bioplast.dynamics.spiking.engine."""
