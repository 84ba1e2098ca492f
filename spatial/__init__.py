"""Shenzhen industrial land and factory space: the library behind the app and `spatial`."""

__version__ = "0.1.0"
