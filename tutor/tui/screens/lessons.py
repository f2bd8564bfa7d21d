"""The lesson list: every lesson with ✓ when complete, where the learner stopped, broken files."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from tutor.tui.widgets.footer import KeyFooter

if TYPE_CHECKING:
    from tutor.course import Lesson
    from tutor.tui.app import TutorApp

DONE = "✓"
RESUME = "▸"


class LessonListScreen(Screen[None]):
    """Choose a lesson: enter or a click opens it.

    It has the app load the course in a thread, prepares its lessons and tells the app (messages up:
    CoursePrepared, LessonChosen); it redraws when the app's `loaded`, `load_error` and `course_prepared`
    change (state down).
    """

    app: TutorApp

    class CoursePrepared(Message):
        """Every lesson's numbers are computed."""

    class LessonChosen(Message):
        def __init__(self, lesson_id: str) -> None:
            super().__init__()
            self.lesson_id = lesson_id

    # Enter in the moment before the list is filled (0.1-0.3 s after the first paint) is kept, not lost:
    # a returning learner presses it at once to continue where they stopped.
    BINDINGS = [
        Binding("enter", "open_when_filled", show=False, priority=True),
        # A sandbox left with escape comes back with escape (issue 14: a teacher's run was thrown away).
        Binding("escape", "back_to_sandbox", "Sandbox", id="lessons-sandbox"),
    ]

    _filled = False
    _open_when_filled = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_when_filled":
            return not self._filled  # once filled, enter goes to the list as usual
        if action == "back_to_sandbox":
            return self.app.kept_sandbox is not None
        return True

    def action_back_to_sandbox(self) -> None:
        self.app.action_sandbox()

    def action_open_when_filled(self) -> None:
        self._open_when_filled = True
        self.query_one("#lessons-resume", Static).update("Loading the lessons… enter opens the first (or your last) lesson then.")

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="lessons-body"):
            yield Static("Lessons", id="lessons-title")
            yield OptionList(id="lesson-options")
            yield Static("Loading the lessons…", id="lessons-resume", markup=False)  # it quotes a lesson's title
            yield Static("", id="lessons-sandbox")
            yield Static("", id="lessons-problems")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._show_kept_sandbox()
        self.watch(self.app, "course_prepared", lambda _: self.refresh_lessons(), init=False)
        if not self.app.loaded:
            self.watch(self.app, "loaded", lambda _: self._loaded(), init=False)
            self.watch(self.app, "load_error", self._load_failed, init=False)
            # Paint first, then load (numpy and the lesson files) in a thread.
            self.call_after_refresh(self.app.load_in_background)
            return
        self.refresh_lessons()
        if not self.app.course_prepared:
            self._start_preparing()

    def _load_failed(self, reason: str | None) -> None:
        if reason:
            self.query_one("#lessons-resume", Static).update(reason)

    def _loaded(self) -> None:
        self.refresh_lessons()
        self._start_preparing()
        if self._open_when_filled and not self.app.start_lesson:
            self._open_when_filled = False
            self.query_one(OptionList).action_select()  # the highlighted one: the last lesson, or the first

    def _start_preparing(self) -> None:
        # Every lesson's numbers (engine runs) off the UI thread: opening a lesson is then instant.
        self.run_worker(self._prepare, thread=True, exit_on_error=False, name="prepare-lessons")

    def _prepare(self) -> None:
        from tutor.course import prepare

        prepare(self.app.course)
        self.post_message(self.CoursePrepared())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "prepare-lessons":
            return
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            from tutor.crash import one_line

            self.query_one("#lessons-resume", Static).update(one_line(event.worker.error))

    def on_screen_resume(self) -> None:
        self._show_kept_sandbox()
        self.refresh_bindings()  # escape's "Sandbox" comes and goes with the kept sandbox
        if self.app.loaded:
            self.refresh_lessons()

    def _show_kept_sandbox(self) -> None:
        kept = self.app.kept_sandbox
        line = self.query_one("#lessons-sandbox", Static)
        line.display = kept is not None
        if kept is not None:
            runs = ", ".join(run.optimizer.label for run in kept.runs)
            line.update(
                f"The sandbox is kept at update {kept.step} ({runs}): escape, or ctrl+p Open the sandbox, goes back to it."
            )

    def refresh_lessons(self) -> None:
        """Redraw the list from the course and the learner's progress."""
        course, progress = self.app.course, self.app.progress
        self._filled = True
        done = sum(progress.is_complete(lesson.id) for lesson in course.lessons)
        self.query_one("#lessons-title", Static).update(f"Lessons — {done} of {len(course.lessons)} complete")
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(self._label(lesson), id=lesson.id) for lesson in course.lessons])
        last = course.lesson(progress.last_lesson) if progress.last_lesson else None
        resume = self.query_one("#lessons-resume", Static)
        lessons = course.lessons
        if lessons and done == len(lessons):
            options.highlighted = lessons.index(last) if last is not None else 0
            resume.update(
                f"All {done} lessons complete. Enter opens one again; ctrl+p, Open the sandbox, to try your own settings."
            )
        elif last is not None and progress.is_complete(last.id):
            # Finished: the cursor goes on to the next lesson not complete (after it, else from the start).
            here = lessons.index(last)
            following = next(lesson for lesson in lessons[here + 1 :] + lessons[:here] if not progress.is_complete(lesson.id))
            options.highlighted = lessons.index(following)
            resume.update(f"✓ “{last.title}” is complete. Next: “{following.title}”; enter opens it.")
        elif last is not None:
            options.highlighted = lessons.index(last)
            step = progress.position(last.id)
            where = f", at update {step}" if step else ""
            resume.update(f"{RESUME} You stopped in “{last.title}”{where}. Enter continues.")
        else:
            options.highlighted = 0 if course.lessons else None
            resume.update("Start with the first lesson: enter opens it.")
        if not course.lessons:
            resume.update("No lesson could be loaded; see the problems below.")
        # Placeholders are filled when a lesson is prepared; their failures count as problems too.
        found = list(course.problems)
        if self.app.course_prepared:
            from tutor.course import fill

            found += [problem for lesson in course.lessons for problem in fill(lesson).problems]
        problems = self.query_one("#lessons-problems", Static)
        problems.display = bool(found)
        if found:
            report = Text("Lesson files with problems (the other lessons still open):\n", style="bold")
            for problem in found:
                report.append(f"  {problem}\n", style="")
            report.rstrip()
            problems.update(report)

    def _label(self, lesson: Lesson) -> Text:
        progress = self.app.progress
        label = Text()
        label.append(f" {DONE} " if progress.is_complete(lesson.id) else "   ", style="bold green")
        label.append(f"{lesson.order:>2}. ", style="dim")
        label.append(lesson.title)
        # check_ids, not checks: the checks' answers are computed only when the lesson is prepared.
        passed = sum(progress.has_passed(lesson.id, check_id) for check_id in lesson.check_ids)
        if passed and not progress.is_complete(lesson.id):
            label.append(f"  {passed}/{len(lesson.check_ids)} checks", style="dim")
        if lesson.id == progress.last_lesson:
            label.append(f"  {RESUME} you stopped here", style="italic")
        return label

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.post_message(self.LessonChosen(event.option.id))
