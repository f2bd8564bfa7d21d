"""The command palette's tutor commands (ctrl+p), next to Textual's own (theme, keys, quit).

Each command calls one public method of TutorApp, so a key and a command do the same thing.
Commands that need a visualizer (share code, hide/show panels) appear only when one is on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, NamedTuple, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

if TYPE_CHECKING:
    from textual.screen import Screen

    from tutor.tui.app import TutorApp


class Command(NamedTuple):
    name: str
    help: str
    run: Callable[[], object]


def tutor_commands(app: TutorApp, screen: Screen) -> list[Command]:
    """The commands that apply to the screen under the palette."""
    commands = [
        Command("Open the sandbox", "The step visualizer on the seed's matrix problem, RMSprop", app.action_sandbox),
        Command(
            "Compare mode",
            "Gradient descent, RMSprop and RMSprop with momentum stepping together",
            app.action_compare,
        ),
        Command("Switch theme", "Choose one of Textual's themes or the high-contrast one", app.action_change_theme),
        Command(
            "High contrast off" if app.high_contrast else "High contrast on",
            "Black and white with strong accents, for a projector",
            app.action_toggle_high_contrast,
        ),
        Command("Lesson list", "Back to the lessons", app.action_lesson_list),
        Command("Help", "Every key, and what the panels mean", app.action_help),
        Command("Reset progress", "Forget completed lessons and where you stopped (asks first)", app.action_reset_progress),
    ]
    if app.loaded:  # never load the course just to fill the palette
        for lesson in app.course.lessons:
            commands.append(
                # The palette reads its names as markup: a lesson's title is shown as written.
                Command(f"Lesson {lesson.order}: {escape(lesson.title)}", "Open this lesson", partial(app.open_lesson, lesson.id))
            )
    visualizer = app.visualizer_on_screen(screen)
    if visualizer is not None:
        commands.append(Command("Show share code", "A short code for the exact moment on screen", app.action_share))
        for panel in app.panel_names():
            hidden = panel in visualizer.hidden
            commands.append(
                Command(
                    f"{'Show' if hidden else 'Hide'} panel: {panel}",
                    "Hide or show a part of the visualizer (for a demo)",
                    partial(app.toggle_panel, panel),
                )
            )
    return commands


class TutorCommands(Provider):
    """Palette provider for tutor's commands."""

    def _commands(self) -> list[Command]:
        return tutor_commands(cast("TutorApp", self.app), self.screen)  # the provider is TutorApp's alone

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.name, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(score, matcher.highlight(command.name), command.run, help=command.help)
