"""bioplast.experiments."""
