"""bioplast.backends.numba."""
