"""bioplast.models."""
