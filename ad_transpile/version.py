"""The version of ad-transpile, written into every generated file's header."""

__version__ = "0.1.0"
