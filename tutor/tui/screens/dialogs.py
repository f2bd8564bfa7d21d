"""Small screens: the share code, a yes/no confirmation, and "enlarge the terminal"."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Static


class ShareCodeScreen(ModalScreen[None]):
    """The share code in large type, for a teacher to read out or copy."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="share-close"),
        Binding("c", "copy", "Copy", id="share-copy"),
    ]

    def __init__(self, code: str, opens_with: str) -> None:
        super().__init__()
        self.code = code
        self.opens_with = opens_with

    def compose(self) -> ComposeResult:
        with Vertical(id="share-dialog", classes="dialog"):
            yield Static("Share code — the exact moment on screen", classes="dialog-title")
            yield Static(self.code, id="share-code")
            yield Static(f"Open it with:\n  {self.opens_with}", id="share-usage")
            yield Static("c copies it to the clipboard · escape closes", classes="dialog-hint")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.code)
        self.notify("Share code copied to the clipboard (if the terminal allows it).")


class ConfirmScreen(ModalScreen[bool]):
    """A question answered yes or no; escape means no."""

    BINDINGS = [
        Binding("escape", "answer(False)", "No", id="confirm-no"),
        Binding("y", "answer(True)", "Yes", id="confirm-yes"),
        Binding("n", "answer(False)", "No", show=False, id="confirm-n"),
    ]

    def __init__(self, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Static(self.question, id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.yes} (y)", variant="error", id="confirm-yes")
                yield Button("Cancel (n)", variant="primary", id="confirm-cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm-cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class TooSmallScreen(Screen[None]):
    """Shown instead of a squeezed layout while the terminal is below the minimum size."""

    def __init__(self, min_width: int, min_height: int) -> None:
        super().__init__()
        self.min_width = min_width
        self.min_height = min_height

    def compose(self) -> ComposeResult:
        yield Static(self._message(self.app.size.width, self.app.size.height), id="too-small")

    def _message(self, width: int, height: int) -> str:
        return f"Enlarge the terminal to at least {self.min_width}x{self.min_height} (now {width}x{height}).\nq quits."

    def on_resize(self, event: events.Resize) -> None:
        self.query_one("#too-small", Static).update(self._message(event.size.width, event.size.height))
