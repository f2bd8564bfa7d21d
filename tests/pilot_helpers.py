"""Waits shared by the Pilot tests: wait for what a test asserts, never for a fixed time."""

from __future__ import annotations

from typing import Any


async def until_lesson_open(pilot: Any, limit: int = 2000) -> Any:
    """Wait until the app shows a lesson (`start_lesson`: it opens once the course has loaded in its thread, which
    starts after the first paint, so `workers.wait_for_complete()` alone can return before the worker exists)."""
    from tutor.tui.screens.lesson import LessonScreen

    for _ in range(limit):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if isinstance(pilot.app.screen, LessonScreen):
            return pilot.app.screen
        await pilot.pause(0.01)
    raise AssertionError(f"no lesson opened: the app shows {type(pilot.app.screen).__name__}")
