"""sigtool: inspect TensorFlow SavedModels without importing TensorFlow."""

__version__ = "0.1.0"
