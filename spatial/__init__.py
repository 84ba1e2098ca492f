"""Shenzhen industrial land and factory space: the library behind the app and the `spatial` command."""

__version__ = "0.1.0"
