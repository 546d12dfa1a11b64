"""Training: one loop for every model kind (``loop``), the configurations it runs (``config``) and
checkpoints that cannot execute code (``checkpoints``)."""

from bioplast.training.config import SPIKING_MODELS, SpikingConfig, TrainConfig, model_for
from bioplast.training.loop import RECORD_COLUMNS, load_records, records_problem, train

__all__ = [
    "train",
    "TrainConfig",
    "SpikingConfig",
    "SPIKING_MODELS",
    "RECORD_COLUMNS",
    "load_records",
    "records_problem",
    "model_for",
]
