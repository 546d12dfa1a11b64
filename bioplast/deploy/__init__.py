"""Deploy: networks to chips and files — a spiking network's synapses on a substrate (``placement``),
rate networks converted to spiking ones (``conversion``), NIR export and import (``nir``)."""

from bioplast.deploy.placement import on_substrate

__all__ = ["on_substrate"]
