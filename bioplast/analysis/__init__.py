"""bioplast.analysis."""
