"""Widgets: thin Textual wrappers around tutor.views renderables."""
