"""Shenzhen industrial land and factory space: the library behind the app and `spatial`."""

from spatial.allocator import use_system_allocator

__version__ = "0.1.0"

use_system_allocator()
