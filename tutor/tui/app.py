"""TutorApp: the lesson list, lessons, the sandbox, help, the command palette and themes.

The app owns keys that work everywhere, the course and the learner's progress; the screens
own their layout; the Visualizer widget owns stepping. Screens and the course load lazily,
so `tutor` paints its first screen about as fast as a bare Textual app.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.geometry import Size
from textual.markup import escape
from textual.reactive import reactive, var
from textual.worker import Worker, WorkerState

from tutor.tui.screens.dialogs import TooSmallScreen
from tutor.tui.themes import DEFAULT_THEME, HIGH_CONTRAST, THEMES, is_high_contrast

if TYPE_CHECKING:
    import socket

    from textual.screen import Screen

    from tutor.course import Course, Lesson
    from tutor.course.progress import Progress
    from tutor.engine import Run
    from tutor.tui.screens.lessons import LessonListScreen
    from tutor.tui.widgets.visualizer import Visualizer

HERE = Path(__file__).resolve().parent
# Below this the visualizer's grids cannot fit one beside the chart: we say so instead.
MIN_WIDTH = 60
MIN_HEIGHT = 20


@dataclass
class SandboxSetup:
    """What `tutor sandbox` opens: the runs, the view, hidden panels and the step to go to (a share code's)."""

    runs: list[Run]
    view: str = "matrix"
    hidden: frozenset[str] = frozenset()
    step: int = 0  # many steps are computed in the app, behind a progress bar, not before it starts
    cursor: int = 0
    selected: int = 0
    speed: int | None = None  # None: the visualizer's default


def _stylesheets() -> list[str | PurePath]:
    # visualizer.tcss belongs to the Visualizer widget; both style one app.
    return [HERE / name for name in ("tutor.tcss", "visualizer.tcss") if (HERE / name).exists()]


class TutorApp(App[None]):
    """Lessons on vanishing/exploding gradients and optimizers stepped one update at a time."""

    CSS_PATH = _stylesheets()
    TITLE = "tutor"
    SUB_TITLE = "why RMSprop exists"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        # Textual 8 copies text on ctrl+c; in tutor it quits, keeping progress.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit-ctrl-c"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("escape", "lesson_list", "Lessons", id="lesson-list"),
    ]

    high_contrast: reactive[bool] = reactive(False)
    """True while the high-contrast theme is on; the Visualizer draws its grids to match."""
    loaded: var[bool] = var(False)
    """True once the course and the progress are in memory (read in a thread: load_in_background)."""
    load_error: var[str | None] = var(None)
    """Why the course could not be read (the lesson list says it), or None."""
    course_prepared: var[bool] = var(False)
    """True once every lesson's numbers are computed (the lesson list does it in a thread)."""

    def __init__(
        self,
        lessons_dir: Path | None = None,
        progress_path: Path | None = None,
        sandbox: SandboxSetup | None = None,
        theme: str | None = None,
        start_lesson: str | None = None,
        course: Course | None = None,
        keep_values: bool = False,
        lesson: Lesson | None = None,
    ) -> None:
        super().__init__()
        # `tutor --lesson ID`: the first screen when the lesson or the course comes read, else opened once it loads
        self.start_lesson = start_lesson
        self._first_lesson = lesson  # read alone by the command line: the course loads after the first paint
        self.keep_values = keep_values  # lessons' numbers kept between runs (tutor.course.cache)
        self.lessons_dir = lessons_dir
        self.progress_path = progress_path
        self.sandbox = sandbox
        self._start_theme = theme
        self._theme_before_contrast = DEFAULT_THEME
        self._course: Course | None = course
        self._progress: Progress | None = None
        self._loading = False  # the course is being read in a thread
        self._started = False  # resize events can come before on_mount has pushed the first screen
        self.crash_message: str | None = None
        self._wakeup: tuple[socket.socket, socket.socket] | None = None  # see _wake_on_signals
        self._kept_sandbox: SandboxSetup | None = None  # the sandbox escape left (Open the sandbox reopens it)

    # --- start and stop -------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        # The first screen is the base of the stack (one screen less to draw before the first paint).
        if self.sandbox is not None:
            return self._sandbox_screen(self.sandbox)
        lesson = self._first_lesson
        if lesson is None and self.start_lesson and self._course is not None:
            lesson = self.lesson(self.start_lesson)
        if lesson is not None:  # escape puts the lesson list on top of it, as after `tutor sandbox`
            from tutor.tui.screens.lesson import LessonScreen

            self.start_lesson = None
            return LessonScreen(lesson)
        return self._lesson_list_screen()

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        if self._start_theme:
            self.theme = self._start_theme
        self._started = True
        self._check_size(self.size)
        if not self.is_headless:  # tests run many headless apps in one process: frozen objects would pile up
            self._wake_on_signals()
            self.call_after_refresh(self._freeze_start_up_objects)
        if self._first_lesson is not None:  # the rest of the course (the list, other files' problems) after the lesson paints
            self.call_after_refresh(self.load_in_background)

    def _wake_on_signals(self) -> None:
        """A signal wakes the event loop, whichever thread the kernel hands it to. Textual catches SIGWINCH with
        signal.signal, whose handler runs only once the main thread runs Python again: a resize the kernel gave
        to one of Textual's threads waited, with the loop asleep, for the next key (the "Enlarge the terminal"
        message stayed on an enlarged terminal: tests/test_terminal.py's tiny-terminal test failed under load)."""
        import signal
        import socket
        import threading

        if threading.current_thread() is not threading.main_thread():
            return
        reader, writer = socket.socketpair()
        reader.setblocking(False)
        writer.setblocking(False)
        previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        if previous != -1:  # the loop wakes already (textual-serve's driver set one): keep that one
            signal.set_wakeup_fd(previous)
            reader.close()
            writer.close()
            return
        asyncio.get_running_loop().add_reader(reader.fileno(), self._drain_wakeup, reader)
        self._wakeup = (reader, writer)

    @staticmethod
    def _drain_wakeup(reader: socket.socket) -> None:
        with contextlib.suppress(OSError):  # waking was the point; the signal numbers are Python's to handle
            reader.recv(4096)

    def on_unmount(self) -> None:
        if self._wakeup is not None:
            import signal

            reader, writer = self._wakeup
            signal.set_wakeup_fd(-1)
            asyncio.get_running_loop().remove_reader(reader.fileno())
            reader.close()
            writer.close()
            self._wakeup = None

    def _freeze_start_up_objects(self) -> None:
        """Move what start-up allocated out of the collector's reach: full collections that walk
        Textual's and numpy's long-lived objects were pausing key presses by up to ~130 ms.
        The command line pauses the collector until now (tutor.cli._collector_paused)."""
        import gc

        gc.freeze()  # start-up's few cyclic leftovers are frozen too: a full collection here would pause ~40 ms
        gc.enable()

    async def action_quit(self) -> None:
        self.save_progress()
        self.exit()

    def _fatal_error(self) -> None:
        """An unexpected error: the traceback goes to the crash log, and `crash_message` holds
        the one line the command line prints after the screen is restored (Textual would print
        the traceback, cropped to the terminal's width)."""
        from tutor.crash import one_line

        self.bell()
        error = self._exception
        self.crash_message = one_line(error) if error is not None else "tutor stopped on an unexpected error"
        self._close_messages_no_wait()

    # --- the course and the learner's progress ----------------------------------------

    def load(self) -> tuple[Course, Progress]:
        """Read the lessons, and the learner's progress if not read yet (slow: numpy and every lesson file; any thread)."""
        from tutor.course import load_course

        if self.keep_values:
            from tutor.course.cache import cache_dir
            from tutor.course.filler import keep_values_in

            keep_values_in(cache_dir())
        course = self._course or load_course(self.lessons_dir)  # `tutor --lesson ID` may hand its course over
        return course, self._progress or self._read_progress()

    def _read_progress(self) -> Progress:
        from tutor.course.progress import Progress

        return Progress.load(self.progress_path)

    def load_in_background(self) -> None:
        """Read the course (and the progress, if not read yet) in a thread, once: `loaded` turns True when it is in."""
        if self.loaded or self._loading:
            return
        self._loading = True
        self.run_worker(self._load_in_thread, thread=True, exit_on_error=False, name="load-lessons")

    def _load_in_thread(self) -> None:
        self.call_from_thread(self._take, *self.load())

    def _take(self, course: Course, progress: Progress) -> None:
        self._course, self._loading = course, False
        if self._progress is None:  # never a second copy: the one in memory may have news not yet saved
            self._take_progress(progress)
        self.loaded = True
        if self.start_lesson:  # `tutor --lesson ID`, opened once the course is in
            lesson_id, self.start_lesson = self.start_lesson, None
            self.open_lesson(lesson_id)

    def _take_progress(self, progress: Progress) -> None:
        self._progress = progress
        if progress.warning:  # a damaged file was moved aside: say so, start anyway
            self.notify(progress.warning, title="Progress", severity="warning", timeout=12)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name == "load-lessons" and event.state == WorkerState.ERROR and event.worker.error is not None:
            from tutor.crash import one_line

            self._loading = False
            self.load_error = one_line(event.worker.error)

    @property
    def course(self) -> Course:
        if self._course is None:
            self._take(*self.load())
        assert self._course is not None
        return self._course

    @property
    def progress(self) -> Progress:
        """The learner's progress, read on first use (a lesson opened first needs it before the course)."""
        if self._progress is None:
            self._take_progress(self._read_progress())
        assert self._progress is not None
        return self._progress

    def on_lesson_list_screen_course_prepared(self) -> None:
        self.course_prepared = True

    def on_lesson_list_screen_lesson_chosen(self, message: LessonListScreen.LessonChosen) -> None:
        self.open_lesson(message.lesson_id)

    def save_progress(self) -> None:
        """Write progress now; a disk that refuses is reported, never fatal."""
        if self._progress is not None and not self._progress.save():
            self.notify(self._progress.warning or "Progress could not be saved.", title="Progress", severity="error")

    def lesson(self, lesson_id: str) -> Lesson | None:
        return next((lesson for lesson in self.course.lessons if lesson.id == lesson_id), None)

    def open_lesson(self, lesson_id: str) -> None:
        from tutor.tui.screens.lesson import LessonScreen

        lesson = self.lesson(lesson_id)
        if lesson is not None:
            self.push_screen(LessonScreen(lesson))

    # --- screens -------------------------------------------------------------------

    def _lesson_list_screen(self) -> Screen:
        from tutor.tui.screens.lessons import LessonListScreen

        return LessonListScreen()

    @staticmethod
    def _sandbox_screen(setup: SandboxSetup) -> Screen:
        from tutor.tui.screens.sandbox import SandboxScreen

        return SandboxScreen(
            setup.runs,
            setup.view,
            setup.hidden,
            start_step=setup.step,
            cursor=setup.cursor,
            selected=setup.selected,
            speed=setup.speed,
        )

    def _push_sandbox(self, setup: SandboxSetup) -> None:
        self.push_screen(self._sandbox_screen(setup))

    def sandbox_runs(self, optimizers: tuple[str, ...] | None = None) -> SandboxSetup:
        """Runs on the problem and hyperparameters on screen (the seed's matrix if none)."""
        from tutor.engine import Hyperparameters, Run, make_problem

        visualizer = self.visualizer_on_screen()
        state = visualizer.state() if visualizer is not None else {}
        problem = make_problem(state.get("problem", {"kind": "matrix"}))
        hp = visualizer.run.hp if visualizer is not None else Hyperparameters()
        keys = optimizers or tuple(state.get("optimizers", ("rmsprop",)))
        return SandboxSetup([Run.create(problem, key, hp) for key in keys], problem.view)

    @property
    def kept_sandbox(self) -> SandboxSetup | None:
        """The sandbox the teacher left (escape, or a lesson opened over it), for coming back to it as it was."""
        return self._kept_sandbox

    def action_sandbox(self) -> None:
        """The sandbox as it was left (leaving keeps it), else the seed's matrix problem with RMSprop."""
        from tutor.engine import Run, make_problem

        kept, self._kept_sandbox = self._kept_sandbox, None
        if kept is not None:
            self._push_sandbox(kept)
            self.notify(f"The sandbox as you left it, at update {kept.step}: 0 starts again.", title="Sandbox")
            return
        self._push_sandbox(SandboxSetup([Run.create(make_problem({"kind": "matrix"}), "rmsprop")]))

    def _keep_sandbox(self, screens: list[Screen]) -> None:
        """The topmost sandbox among `screens` (about to close) is kept as its moment, for "Open the sandbox" and
        the lesson list's escape (issue 14: leaving threw a teacher's run away without asking)."""
        sandbox = next((screen for screen in reversed(screens) if type(screen).__name__ == "SandboxScreen"), None)
        visualizer = self.visualizer_on_screen(sandbox) if sandbox is not None else None
        if visualizer is None:
            return
        visualizer.running = False  # the first screen stays below the list: it must not step on unseen
        self._kept_sandbox = SandboxSetup(
            visualizer.runs,
            visualizer.view,
            visualizer.hidden,
            visualizer.step,
            visualizer.cursor,
            visualizer.selected,
            visualizer.speed,
        )

    def action_compare(self) -> None:
        from tutor.engine.optimizers import SEED_OPTIMIZERS

        self._push_sandbox(self.sandbox_runs(SEED_OPTIMIZERS))

    def action_lesson_list(self) -> None:
        """Back to the lesson list: close the screens above it, or open it (after `tutor sandbox` or `tutor
        --lesson` it goes on top of the first screen, which Textual cannot replace). A sandbox left is kept."""
        from tutor.tui.screens.lessons import LessonListScreen

        if isinstance(self.screen, LessonListScreen):
            return
        stack = self.screen_stack
        below = next((index for index in range(len(stack) - 1, -1, -1) if isinstance(stack[index], LessonListScreen)), 0)
        self._keep_sandbox(stack[below:])
        while len(self.screen_stack) > 1 and not isinstance(self.screen, LessonListScreen):
            self.pop_screen()
        if not isinstance(self.screen, LessonListScreen):
            self.push_screen(LessonListScreen())

    def action_help(self) -> None:
        from tutor.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # --- the visualizer on screen, the palette ---------------------------------------

    def visualizer_on_screen(self, screen: Screen | None = None) -> Visualizer | None:
        screen = screen or self.screen
        if not screen.query("Visualizer"):  # by type name first: the lesson list never imports the visualizer
            return None
        from tutor.tui.widgets.visualizer import Visualizer

        return screen.query_one(Visualizer)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette (ctrl+p): Textual's commands, tutor's, each lesson's, and the visualizer's on screen."""
        yield from super().get_system_commands(screen)
        yield SystemCommand("Open the sandbox", "The visualizer on the seed's matrix problem, RMSprop", self.action_sandbox)
        yield SystemCommand(
            "Compare mode", "Gradient descent, RMSprop and RMSprop with momentum, updated together", self.action_compare
        )
        yield SystemCommand(
            "High contrast off" if self.high_contrast else "High contrast on",
            "Black and white with strong accents, for a projector",
            self.action_toggle_high_contrast,
        )
        yield SystemCommand("Lesson list", "Back to the lessons", self.action_lesson_list)
        yield SystemCommand("Help", "Every key, and what the panels mean", self.action_help)
        yield SystemCommand(
            "Reset progress", "Forget completed lessons and where you stopped (asks first)", self.action_reset_progress
        )
        if self.loaded:  # never load the course just to fill the palette
            for lesson in self.course.lessons:
                # The palette reads its titles as markup: a lesson's title is shown as written.
                title = f"Lesson {lesson.order}: {escape(lesson.title)}"
                yield SystemCommand(title, "Open this lesson", partial(self.open_lesson, lesson.id))
        visualizer = self.visualizer_on_screen(screen)
        if visualizer is not None:
            yield from visualizer.system_commands()

    # --- themes ---------------------------------------------------------------------

    def watch_theme(self, theme: str) -> None:
        self.high_contrast = is_high_contrast(theme)

    def action_toggle_high_contrast(self) -> None:
        if self.high_contrast:
            self.theme = self._theme_before_contrast
        else:
            self._theme_before_contrast = self.theme
            self.theme = HIGH_CONTRAST

    # --- progress reset ---------------------------------------------------------------

    def action_reset_progress(self) -> None:
        from tutor.tui.screens.dialogs import ConfirmScreen

        def reset(confirmed: bool | None) -> None:
            if not confirmed:
                return
            self.progress.reset()
            self.save_progress()
            self.notify("Progress reset: no lesson is marked complete.", title="Progress")
            refresh = getattr(self.screen, "refresh_lessons", None)
            if refresh is not None:
                refresh()

        self.push_screen(
            ConfirmScreen("Forget all progress: completed lessons, passed checks and where you stopped?", "Reset"), reset
        )

    # --- terminal size ------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._check_size(event.size)

    def _check_size(self, size: Size) -> None:
        if not self._started:
            return
        too_small = size.width < MIN_WIDTH or size.height < MIN_HEIGHT
        showing = isinstance(self.screen, TooSmallScreen)
        if too_small and not showing:
            self.push_screen(TooSmallScreen(MIN_WIDTH, MIN_HEIGHT))
        elif showing and not too_small:
            self.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if isinstance(self.screen, TooSmallScreen):
            return action == "quit"
        if action == "lesson_list":
            from tutor.tui.screens.lessons import LessonListScreen

            return not isinstance(self.screen, LessonListScreen)
        return True


def make_app(
    lessons_dir: Path | None = None,
    progress_path: Path | None = None,
    sandbox: SandboxSetup | None = None,
    theme: str | None = None,
    start_lesson: str | None = None,
    course: Course | None = None,
    keep_values: bool = False,
    lesson: Lesson | None = None,
) -> TutorApp:
    """The app as `tutor` starts it; tests pass their own lesson folder and progress file."""
    return TutorApp(
        lessons_dir=lessons_dir,
        progress_path=progress_path,
        sandbox=sandbox,
        theme=theme,
        start_lesson=start_lesson,
        course=course,
        keep_values=keep_values,
        lesson=lesson,
    )
