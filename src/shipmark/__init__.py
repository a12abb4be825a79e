"""shipmark: record what a CI pipeline ships."""

__version__ = "0.1.0"
