"""punie_datagen: build the training set from real tool runs, the foundation set and extras."""

from punie_datagen.example import Example, Message, Rejection
from punie_datagen.jsonl import DatasetFileError
from punie_datagen.manifest import Manifest
from punie_datagen.options import DatagenOptions
from punie_datagen.pipeline import Reporter, build_dataset

__all__ = [
    "DatagenOptions",
    "DatasetFileError",
    "Example",
    "Manifest",
    "Message",
    "Rejection",
    "Reporter",
    "build_dataset",
]
