"""regiocode: a scheduled data warehouse for the neo-industrial development of regions."""

__version__ = "0.1.0"
