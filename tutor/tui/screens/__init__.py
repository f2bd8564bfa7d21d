"""Screens: the big places of the app (lesson list, lesson, sandbox)."""
