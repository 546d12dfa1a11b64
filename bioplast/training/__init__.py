"""bioplast.training."""
