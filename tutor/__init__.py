"""tutor: see what RMSprop does inside, one step at a time."""

__version__ = "0.1.0"
