"""A lesson: its Markdown text and checks beside its step visualizer.

The checks sit at the end of the text, where the reader arrives after reading. Passing a
check is recorded at once; the visualizer's step is remembered (saved after a short pause,
so holding `space` does not write the file dozens of times a second).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Input, Markdown, Static
from textual.widgets.markdown import MarkdownFence

from tutor.course import ScriptStep, fill
from tutor.engine.phases import Phase
from tutor.engine.run import MAX_STEPS
from tutor.tui.widgets.footer import KeyFooter
from tutor.tui.widgets.visualizer import Visualizer
from tutor.views.tour import ScriptRuns, flat_index, stop_phases

if TYPE_CHECKING:
    from tutor.course import Check, Lesson
    from tutor.tui.app import TutorApp

# Wrong answers after which a check's held-back text is shown anyway (the hint has had its chances).
REVEAL_AFTER_TRIES = 3
# Seconds without a step before the position is written to disk.
SAVE_DELAY = 1.0
# From this many columns the text goes beside the visualizer, below them above it.
WIDE = 110
# `t` cycles through these: both panes, the text alone, the visualizer alone (small terminals, projectors).
LAYOUTS = ("", "-text-only", "-visualizer-only")


class LessonFence(MarkdownFence):
    """A code block: one without a language is plain text. (Textual would have Pygments try each of its
    lexers to guess one: about 20 ms a block, several times over as a lesson opens.)"""

    @classmethod
    def highlight(cls, code: str, language: str, ansi: bool = False, dark: bool = False) -> Content:
        return super().highlight(code, language or "text", ansi, dark)


class LessonMarkdown(Markdown):
    """A lesson's Markdown. Given `rest`, the text it shows first is only the part that fills the screen:
    `rest` is parsed and mounted below it (mount_rest) right after the first frame (styling and laying out every block of a
    long lesson before that frame took about as long as the rest of opening it)."""

    BLOCKS = {**Markdown.BLOCKS, "fence": LessonFence, "code_block": LessonFence}

    def __init__(self, markdown: str, *, rest: str = "", **options: Any) -> None:
        super().__init__(markdown, parser_factory=lesson_parser, **options)
        self._rest = rest

    async def mount_rest(self) -> None:
        """Parse and mount the text's rest below what is shown (the screen calls it after the first frame)."""
        rest, self._rest = self._rest, ""
        if not rest:
            return
        whole_again = False
        async with self.lock:  # taken once the first part's blocks are mounted
            head = self.source
            try:
                blocks = list(self._parse_markdown(lesson_parser().parse(rest)))
            except AttributeError:  # another Textual's internals: the whole text again, by the public way (below)
                whole_again = True
            else:
                offset = len(head.splitlines())
                for block in blocks:  # each block's lines in the whole text (a block's `source`)
                    start, end = block.source_range
                    block.source_range = (start + offset, end + offset)
                self._markdown = head + rest
                await self.mount_all(blocks)
        if whole_again:
            await self.update(head + rest)


def lesson_parser() -> MarkdownIt:
    """Textual's Markdown parser ("gfm-like": CommonMark, tables, strikethrough) without linkify: bare addresses
    stay text. Linkify's first parse compiled its patterns, ~15 ms before a lesson's first frame; lessons
    write their links as [text](url) or <url>, which are links either way."""
    return MarkdownIt("gfm-like").disable("linkify")


def first_screen(text: str, rows: int, width: int) -> int:
    """Where `text` may be cut so that its first part fills `rows` rows `width` wide: the offset of the first
    block boundary past them (a line that starts a heading or a plain paragraph after a blank line, outside code
    fences), or len(text) when there is none, or the text has link definitions (a link may point at one below) or
    HTML blocks that may hold blank lines (a comment, <pre>, <script>, <style>, <textarea>)."""
    if _LINK_DEFINITION.search(text) or _HTML_WITH_BLANK_LINES.search(text):
        return len(text)
    filled, offset, fence, blank = 0, 0, "", False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if fence:
            fence = "" if stripped.startswith(fence) else fence
        elif stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        elif blank and filled >= rows and (line[:1].isalpha() or line.startswith("#")):
            return offset
        filled += 1 + len(stripped) // max(width, 1)
        blank = not stripped and not fence
        offset += len(line)
    return len(text)


_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:", re.MULTILINE)
_HTML_WITH_BLANK_LINES = re.compile(r"<!--|<(pre|script|style|textarea)\b", re.IGNORECASE)


# What a number answer can hold (tutor.course.checks.read_number): digits, signs, exponents, arithmetic.
NUMBER_CHARACTERS = frozenset("0123456789.eE+-*/^() \u2212\u00d7")


def answer_characters(check: Check) -> frozenset[str]:
    """The characters an answer to `check` can hold: a number's, or a choice's number and its text (either case)."""
    if check.kind == "number":
        return NUMBER_CHARACTERS
    text = "".join(check.choices)
    return frozenset("0123456789 " + text.lower() + text.upper())


class AnswerBox(Input):
    """A check's answer box. It types only what an answer can hold: any other key (q, ? and t in a number
    box) stays the lesson's and the app's key, as everywhere else, and the footer shows it."""

    def __init__(self, *, typed: frozenset[str], placeholder: str) -> None:
        super().__init__(placeholder=placeholder, classes="check-input")
        self.typed = typed

    def check_consume_key(self, key: str, character: str | None) -> bool:
        # Textual leaves the bindings of the keys a focused widget consumes out of the footer and the key chain.
        return character is not None and character in self.typed

    async def _on_key(self, event: events.Key) -> None:
        # Textual calls each class's _on_key in turn: Input's (which types it) is skipped once the default is
        # prevented, and the key goes on to the screen's and the app's bindings.
        if event.is_printable and not self.check_consume_key(event.key, event.character):
            event.prevent_default()


class CheckCard(Vertical):
    """One question: prompt, choices, an answer box and the verdict."""

    # Escape leaves the answer box (to the text), not the lesson: the footer says so while the box has the keys.
    BINDINGS = [Binding("escape", "leave_box", "Leave box")]

    class Passed(Message):
        def __init__(self, check: Check) -> None:
            super().__init__()
            self.check = check

    class Answered(Message):
        """An answer was graded (right or wrong): the tour's stops that wait for this check may open."""

        def __init__(self, check: Check) -> None:
            super().__init__()
            self.check = check

    def __init__(self, check: Check, number: int, passed: bool) -> None:
        super().__init__(classes="check-card", id=f"check-{check.id}")
        self.check = check
        self.number = number
        self.passed = passed
        self.tries = 0

    def compose(self) -> ComposeResult:
        mark = "✓ " if self.passed else ""
        yield Static(f"{mark}Check {self.number}. {self.check.prompt}", classes="check-prompt", markup=False)
        if self.check.kind == "choice":
            choices = "\n".join(f"  {n}. {choice}" for n, choice in enumerate(self.check.choices, 1))
            yield Static(choices, classes="check-choices", markup=False)
        placeholder = "its number or its text, then enter" if self.check.kind == "choice" else "a number, then enter"
        yield AnswerBox(typed=answer_characters(self.check), placeholder=placeholder)
        feedback = Static("", classes="check-feedback", markup=False)
        if self.passed:
            feedback.update(f"Passed. {self.check.explanation}".strip())
            self.add_class("-right")
        yield feedback
        if self.check.reveal and self.passed:  # the lesson's text that gives the answer away, once it is answered
            yield self._reveal()

    def _reveal(self) -> Markdown:
        # Built when shown, not hidden beforehand: a lesson opens the faster (the race's three took ~0.4 s to style).
        return LessonMarkdown(self.check.reveal, classes="check-reveal", open_links=False)

    def action_leave_box(self) -> None:
        self.screen.query_one("#lesson-text").focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        verdict = self.check.grade(event.value)
        feedback = self.query_one(".check-feedback", Static)
        feedback.update(verdict.message)
        self.call_after_refresh(feedback.scroll_visible, animate=False)  # the verdict can land below the view
        self.set_class(verdict.malformed, "-malformed")
        self.set_class(not verdict.malformed and not verdict.correct, "-wrong")
        self.set_class(verdict.correct, "-right")
        if verdict.malformed:
            return
        self.tries += 1
        if verdict.correct and not self.passed:
            self.passed = True
            self.query_one(".check-prompt", Static).update(f"✓ Check {self.number}. {self.check.prompt}")
            self.post_message(self.Passed(self.check))
        if self.check.reveal and self.answered and not self.query(".check-reveal"):
            self.mount(self._reveal())
        self.post_message(self.Answered(self.check))

    @property
    def answered(self) -> bool:
        """Passed, or tried often enough that what waits for the check is shown anyway."""
        return self.passed or self.tries >= REVEAL_AFTER_TRIES


class LessonScreen(Screen[None]):
    """The lesson's text (scrollable) with its checks, and the visualizer it sets up."""

    app: TutorApp
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE, "-wide")]
    # Focused as the screen starts, before the first frame: focusing the text first (Textual's default) and
    # the visualizer after restyled every block of the text twice (~0.1 s of a lesson's first paint).
    AUTO_FOCUS = "#visualizer"
    BINDINGS = [
        Binding("t", "cycle_layout", "Layout", id="lesson-layout"),
        # The guided tour: the stops of the lesson's script, as `tutor --run-all` prints them. One footer key
        # names both ways (`f/F Tour`), so at 80 columns F is shown too and `b Back` still fits.
        Binding("f", "next_stop", "Tour", key_display="f/F", id="lesson-next-stop"),
        Binding("F", "previous_stop", "Stop back", show=False, id="lesson-previous-stop"),
    ]

    def __init__(self, lesson: Lesson) -> None:
        super().__init__()
        self.lesson = lesson
        self.filled = fill(lesson)  # prepared by the lesson list, usually: then instant
        self.tour = ScriptRuns(lesson)
        self.runs = self.tour.runs_for(ScriptStep(0, None, ""))  # the setup's runs: the tour's, until edited
        self.stop = -1  # the script step last shown by the tour (-1: none yet)
        self.stop_caption = ""  # its caption, without what the next stop waits for
        self._save_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        # The width's class before the first frame: set by Textual on the first resize, it restyled the whole text.
        self.add_class("-wide" if self.app.size.width >= WIDE else "-narrow")
        yield Header()
        with Horizontal(id="lesson-body"):
            with VerticalScroll(id="lesson-text"):
                text = self.filled.text
                cut = first_screen(text, self.app.size.height, self._text_width())
                yield LessonMarkdown(text[:cut], rest=text[cut:], id="lesson-markdown", open_links=False)
                if self.filled.checks:
                    with Vertical(id="checks"):
                        yield Static("Checks", id="checks-title")  # the cards come after the first paint
            yield Visualizer(self.runs, self.lesson.setup.view, frozenset(), id="visualizer")
        yield KeyFooter(compact=True)

    def _text_width(self) -> int:
        """About how wide the text's lines are: beside the visualizer 2/5 of the screen (tutor.tcss), else all of it."""
        width = self.app.size.width
        return (min(72, width * 2 // 5) if width >= WIDE else width) - 4

    def on_mount(self) -> None:
        self.call_after_refresh(self.query_one(LessonMarkdown).mount_rest)
        self.call_after_refresh(self._mount_checks)
        self.sub_title = self.lesson.title
        visualizer = self.query_one(Visualizer)
        for panel in visualizer.query("*"):  # one Tab stop for the visualizer: text -> checks -> visualizer
            panel.can_focus = False
        step = self.app.progress.position(self.lesson.id)
        if step:  # far ahead (up to the step cap), it is computed behind a progress bar, not before the first frame
            visualizer.go_to_step(step)
        else:
            self.app.progress.set_position(self.lesson.id, 0)  # this is where the learner is now

    def on_markdown_link_clicked(self, message: Markdown.LinkClicked) -> None:
        """A lesson's links open in the browser only if they are web pages: never file:// or an app action."""
        message.stop()
        if urlsplit(message.href).scheme in ("http", "https"):
            self.app.open_url(message.href)
        else:
            self.notify(f"Only web links open from a lesson, not {message.href}", severity="warning", markup=False)

    def _mount_checks(self) -> None:
        """The check cards, below the text: built once the text and the visualizer are on screen (a lesson
        opens the faster: styling the cards and their inputs took about as long as the text)."""
        progress = self.app.progress
        cards = [
            CheckCard(check, n, progress.has_passed(self.lesson.id, check.id)) for n, check in enumerate(self.filled.checks, 1)
        ]
        if cards:
            self.query_one("#checks", Vertical).mount_all(cards)

    def action_cycle_layout(self) -> None:
        """Both panes -> the text alone -> the visualizer alone -> both."""
        current = next((name for name in LAYOUTS if name and self.has_class(name)), "")
        following = LAYOUTS[(LAYOUTS.index(current) + 1) % len(LAYOUTS)]
        self.remove_class(*(name for name in LAYOUTS if name))
        if following:
            self.add_class(following)
        if following == "-text-only":
            self.query_one("#lesson-text").focus()
        else:
            self.query_one(Visualizer).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # None: the key is shown greyed, so the footer always names the tour. The footer's `f/F Tour` is f's:
        # greyed while the next stop waits for a check, or with no stop either way (at the last, f says F goes back).
        if action == "next_stop":
            if self.stop < len(self.filled.script) - 1:
                return True if self.stop_is_open(self.stop + 1) else None
            return True if self.stop > 0 else None  # the last stop: f says that F goes back
        if action == "previous_stop":
            return True if self.stop > 0 else None
        return True

    def stop_is_open(self, number: int) -> bool:
        """Whether the tour may show stop `number`: it waits for no check, or its check and every check before it
        are answered (or left out). A later check answered first must not open a stop that shows an earlier
        check's answer (the order `--run-all` prints them in)."""
        return self._first_unanswered_before(number) is None

    def _first_unanswered_before(self, number: int) -> int | None:
        """The number (1-based) of the first check stop `number` still waits for, or None."""
        after = self.filled.script[number].after
        ids = [check.id for check in self.filled.checks]
        if after is None or after not in ids:
            return None
        answered = {card.check.id for card in self.query(CheckCard) if card.answered}
        for n, check_id in enumerate(ids[: ids.index(after) + 1], 1):
            if check_id not in answered and not self.app.progress.has_passed(self.lesson.id, check_id):
                return n
        return None

    def _waiting_for(self) -> str:
        """What the caption adds when the next stop waits for a check not yet answered."""
        following = self.stop + 1
        if following >= len(self.filled.script):
            return ""
        number = self._first_unanswered_before(following)
        return "" if number is None else f" (the next stop waits for check {number})"

    def action_next_stop(self) -> None:
        if self.stop == len(self.filled.script) - 1:
            self.notify(f"The last stop of the tour ({self.stop + 1}/{self.stop + 1}): F goes back.", title="Tour")
            return
        self.go_to_stop(self.stop + 1)

    def action_previous_stop(self) -> None:
        self.go_to_stop(self.stop - 1)

    def go_to_stop(self, number: int) -> None:
        """Show the script's stop `number` (from 0) as `tutor --run-all` prints it: its problem and
        hyperparameters from step 0 (edits are left behind), its step, cursor and phase, and its note."""
        script = self.filled.script
        if not 0 <= number < len(script):
            return
        script_step = script[number]
        visualizer = self.query_one(Visualizer)
        runs = self.tour.runs_for(script_step)
        if any(run.edits() for run in runs):  # the learner edited them: the stop's numbers are the unedited run's
            self.tour.runs.clear()
            runs = self.tour.runs_for(script_step)
        step = min(script_step.step, MAX_STEPS)
        for run in runs:
            run.goto(step)
        cursor = flat_index(runs[0], script_step.inspect)
        phases: list[Phase] = []
        index = -1
        if script_step.phase:
            found = stop_phases(runs[0], script_step.phase, cursor if cursor is not None else visualizer.cursor)
            if found is not None:
                phases, index = found
        self.stop = number
        visualizer.go_to_stop(runs, step, cursor, phases, index)
        phase = f", phase {script_step.phase}" if script_step.phase else ""
        caption = f"Stop {number + 1}/{len(script)} (update {script_step.step}{phase}): {script_step.note}".rstrip(": ")
        self.stop_caption = caption
        visualizer.caption = caption + self._waiting_for()
        self.refresh_bindings()
        visualizer.focus()

    def on_visualizer_stepped(self, message: Visualizer.Stepped) -> None:
        progress = self.app.progress
        progress.set_position(self.lesson.id, message.step)
        if not self.filled.checks and message.step > 0 and not progress.is_complete(self.lesson.id):
            progress.complete(self.lesson.id)  # nothing to answer: stepping through it is the lesson
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(SAVE_DELAY, self.app.save_progress)

    def on_check_card_answered(self, message: CheckCard.Answered) -> None:
        if self.stop >= 0:
            self.query_one(Visualizer).caption = self.stop_caption + self._waiting_for()
        self.refresh_bindings()

    def on_check_card_passed(self, message: CheckCard.Passed) -> None:
        progress = self.app.progress
        progress.passed(self.lesson.id, message.check.id)
        if all(progress.has_passed(self.lesson.id, check.id) for check in self.filled.checks):
            if not progress.is_complete(self.lesson.id):
                progress.complete(self.lesson.id)
                # In the header, not a toast: a toast sat over the last check's explanation.
                self.sub_title = f"{self.lesson.title}  ✓ lesson complete"
        self.app.save_progress()

    def on_unmount(self) -> None:
        if self._save_timer is not None:
            self._save_timer.stop()
        self.app.save_progress()
