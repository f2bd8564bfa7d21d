"""Small dialogs of the visualizer: edit the hyperparameters, jump N steps.

Each returns a checked value or None (cancelled). A bad value is refused inline with the
reason the engine's own check gives, and the dialog stays open: nothing is lost.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tutor.engine import HyperparameterError, Hyperparameters
from tutor.views.format import hyper

JUMP_LIMIT = 10_000

MEANINGS = {
    "lr": "learning rate",
    "decay": "share of v kept each step",
    "eps": "guards the division when v is 0",
    "mu": "share of the last move kept (momentum)",
}


class EditScreen(ModalScreen[Hyperparameters | None]):
    """Edit lr/decay/eps/mu; enter applies them from the current step, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, hp: Hyperparameters, names: list[str], step: int) -> None:
        super().__init__()
        self.hp = hp
        self.names = names or list(Hyperparameters.NAMES)
        self.step = step

    def compose(self) -> ComposeResult:
        with Vertical(id="edit-dialog", classes="dialog"):
            yield Label(f"Hyperparameters from step {self.step} on", classes="dialog-title")
            for name in self.names:
                with Horizontal(classes="edit-row"):
                    yield Label(f"{name:>5}", classes="edit-name")
                    yield Input(hyper(getattr(self.hp, name)), id=f"edit-{name}", classes="edit-input")
                    yield Label(MEANINGS[name], classes="edit-meaning")
            yield Static("", id="edit-error", classes="dialog-error")
            yield Label("enter: apply   tab: next field   escape: cancel", classes="dialog-hint")

    def validated(self) -> Hyperparameters:
        """The values typed, checked one by one; HyperparameterError names the first bad one."""
        hp = self.hp
        for name in self.names:
            hp = hp.with_value(name, self.query_one(f"#edit-{name}", Input).value)
        return hp

    def on_input_changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("edit-")
        try:
            self.hp.with_value(name, event.value)
        except HyperparameterError as error:
            event.input.add_class("-refused")
            self.query_one("#edit-error", Static).update(str(error))
        else:
            event.input.remove_class("-refused")
            self.query_one("#edit-error", Static).update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            hp = self.validated()
        except HyperparameterError as error:
            self.query_one("#edit-error", Static).update(f"Not applied: {error}")
            return
        self.dismiss(hp)

    def action_cancel(self) -> None:
        self.dismiss(None)


def parse_jump(text: str, step: int = 0) -> int:
    """Steps to jump from `step`: a whole number up to JUMP_LIMIT forward, or back as far as step 0
    (negative); else ValueError with the reason."""
    text = text.strip()
    try:
        steps = int(text)
    except ValueError:
        raise ValueError(f"type a whole number of steps such as 100 (or -20 to go back), not {text!r}") from None
    if steps == 0 or not -step <= steps <= JUMP_LIMIT:
        back = f", or back up to {step}" if step else ""
        raise ValueError(f"jump forward 1 to {JUMP_LIMIT} steps{back}, not {steps}")
    return steps


class JumpScreen(ModalScreen[int | None]):
    """Ask how many steps to jump, forward or (negative) back."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step

    def compose(self) -> ComposeResult:
        with Vertical(id="jump-dialog", classes="dialog"):
            yield Label(f"Jump from step {self.step} by how many steps? (-20 goes back 20)", classes="dialog-title")
            yield Input("100", id="jump-steps")
            yield Static("", id="jump-error", classes="dialog-error")
            yield Label("enter: jump   escape: cancel", classes="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            steps = parse_jump(event.value, self.step)
        except ValueError as error:
            self.query_one("#jump-error", Static).update(str(error))
            return
        self.dismiss(steps)

    def action_cancel(self) -> None:
        self.dismiss(None)
