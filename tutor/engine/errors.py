"""Errors the engine raises for descriptions it cannot build (a module of its own so every problem module can use it)."""

from __future__ import annotations


class ProblemError(ValueError):
    """A problem description that cannot be built; the message says why."""
