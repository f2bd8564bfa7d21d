"""Small dialogs of the visualizer: edit the hyperparameters, jump N steps, compute many steps.

Each returns a checked value or None (cancelled); the computing dialog returns the step reached.
A bad value is refused inline with the reason the engine's own check gives, and the dialog
stays open: nothing is lost.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, ProgressBar, Static
from textual.worker import Worker, WorkerState

from tutor.engine import HyperparameterError, Hyperparameters, Record, Run
from tutor.views.format import hyper

JUMP_LIMIT = 10_000

MEANINGS = {
    "lr": "learning rate",
    "decay": "share of v kept each update",
    "eps": "guards the division when v is 0",
    "mu": "share of the last move kept (momentum)",
    "lr_halving": "updates to halve the lr (0: constant)",
}


class EditScreen(ModalScreen[Hyperparameters | None]):
    """Edit lr/decay/eps/mu; enter applies them from the current step, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, hp: Hyperparameters, names: list[str], step: int, runs: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.hp = hp
        self.names = names or list(Hyperparameters.NAMES)
        self.step = step
        self.runs = runs  # the labels of the runs the values go to, when there are several (compare mode)

    def compose(self) -> ComposeResult:
        with Vertical(id="edit-dialog", classes="dialog"):
            # The runs by the labels the controls bar and the chart give them; wrapped, never cut (issue 14)
            runs = f", for every run: {', '.join(self.runs[:-1])} and {self.runs[-1]}" if len(self.runs) > 1 else ""
            yield Static(f"Hyperparameters from update {self.step} on{runs}", classes="dialog-title", markup=False)
            for name in self.names:
                with Horizontal(classes="edit-row"):
                    yield Label(f"{name:>10}", classes="edit-name", markup=False)
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
        raise ValueError(f"type a whole number of updates such as 100 (or -20 to go back), not {text!r}") from None
    if steps == 0 or not -step <= steps <= JUMP_LIMIT:
        back = f", or back up to {step}" if step else ""
        raise ValueError(f"jump forward 1 to {JUMP_LIMIT} updates{back}, not {steps}")
    return steps


class JumpScreen(ModalScreen[int | None]):
    """Ask how many updates to jump, forward or (negative) back."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step

    def compose(self) -> ComposeResult:
        with Vertical(id="jump-dialog", classes="dialog"):
            yield Label(f"Jump from update {self.step} by how many updates? (-20 goes back 20)", classes="dialog-title")
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


class ComputingScreen(ModalScreen[int]):
    """Compute the runs' steps up to `target` in a thread, with a progress bar; escape stops early.

    Returns the step every run has reached (`target`, or less when stopped). The records are made
    in the thread and handed to the runs on the app's thread, so the screen below never sees a run
    change under it.
    """

    BINDINGS = [Binding("escape", "stop", "Stop here")]
    BATCH = 500  # steps per hand-over (~15 ms of work): the bar moves smoothly, the hand-overs cost little

    def __init__(self, runs: list[Run], target: int) -> None:
        super().__init__()
        self.runs, self.target = runs, target
        self.missing = sum(run.updates_to(target) for run in runs)
        self._stop = False

    def compose(self) -> ComposeResult:
        with Vertical(id="computing-dialog", classes="dialog"):
            runs = f" for {len(self.runs)} runs" if len(self.runs) > 1 else ""
            # The jump's own length, per run (one update ahead may be computed already: `missing` is the bar's work).
            jump = sum(max(0, self.target - run.step) for run in self.runs)
            work = f"{jump:,} update{'s' if jump != 1 else ''}{' in all' if runs else ''}"
            yield Label(f"Computing up to update {self.target}{runs} ({work})…", classes="dialog-title")
            yield ProgressBar(total=self.missing, show_eta=False, id="computing-progress")
            yield Label("escape: stop here (the updates computed so far are kept)", classes="dialog-hint")

    def on_mount(self) -> None:
        self.run_worker(self._compute, thread=True, exit_on_error=False, name="compute-steps")

    def on_unmount(self) -> None:
        self._stop = True  # the app is closing (Ctrl-C, q): the thread ends at its next batch

    def _compute(self) -> None:
        """A batch of each run in turn, so the runs advance together (escape stops them near one step).
        An engine fault stops its run there; the others go on to that step, then the fault is raised."""
        lasts = [run.records[-1] for run in self.runs]
        limit, fault = self.target, None
        while not self._stop and any(last.step < limit for last in lasts):
            for index, run in enumerate(self.runs):
                batch: list[Record] = []
                try:
                    for _ in range(min(self.BATCH, limit - lasts[index].step)):
                        lasts[index] = run.next_record(lasts[index])
                        batch.append(lasts[index])
                except Exception as error:  # noqa: BLE001 (reported once the others have caught up)
                    fault, limit = fault or error, lasts[index].step
                finally:  # on an error too: every step computed is kept
                    if batch:
                        self.app.call_from_thread(self._hand_over, run, batch)
        if fault is not None:
            raise fault

    def _hand_over(self, run: Run, batch: list[Record]) -> None:
        run.append_computed(batch)
        self.query_one(ProgressBar).advance(len(batch))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state == WorkerState.ERROR and error is not None:  # the steps so far are kept; the app goes on
            from tutor.crash import fault_notice

            self.app.notify(fault_notice(error, "Computing stopped"), severity="error")
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self.dismiss(min(self.target, *(len(run.records) - 1 for run in self.runs)))

    def action_stop(self) -> None:
        self._stop = True
        self.query_one(".dialog-title", Label).update("Stopping…")
