"""dlprep: deep-learning interview prep you can run."""

__version__ = "0.1.0"
