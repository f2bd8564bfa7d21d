"""The help screen: every key and what the panels mean, rendered from help.md."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static

HELP_FILE = Path(__file__).resolve().parents[1] / "help.md"


class HelpScreen(ModalScreen[None]):
    """A scrollable Markdown page over the current screen; escape or ? closes it."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="help-close"),
        Binding("question_mark", "dismiss", "Close", show=False, id="help-close-again"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static("Help — escape closes", id="help-title")
            with VerticalScroll(id="help-scroll"):
                yield Markdown(HELP_FILE.read_text(encoding="utf-8"), id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()
