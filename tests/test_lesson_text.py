"""A lesson's text opens in two parts (the first screen of it before the first frame, the rest just after):
the text on screen at the end is block for block the text given whole, and the cut never splits a block."""

from __future__ import annotations

from pathlib import Path

import pytest
from pilot_helpers import until_lesson_open
from textual.app import App, ComposeResult
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownBlock

from tutor.course import fill, load_course
from tutor.tui.app import make_app
from tutor.tui.screens.lesson import LessonMarkdown, first_screen

COURSE = load_course()


def blocks(markdown: Markdown) -> list[tuple[str, str | None, str]]:
    """Each block: its kind, its lines of the source, and the text it shows (nested blocks' too)."""
    return [(type(block).__name__, block.source, str(block.render())) for block in markdown.query(MarkdownBlock)]


class Whole(App[None]):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield LessonMarkdown(self.text, id="whole")


async def whole_blocks(text: str, size: tuple[int, int]) -> list[tuple[str, str | None, str]]:
    app = Whole(text)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        return blocks(app.query_one("#whole", Markdown))


async def opened_blocks(lesson_id: str, size: tuple[int, int], tmp_path: Path) -> tuple[list, Markdown]:
    app = make_app(start_lesson=lesson_id, progress_path=tmp_path / "progress.json")
    async with app.run_test(size=size) as pilot:
        screen = await until_lesson_open(pilot)
        markdown = screen.query_one("#lesson-markdown", LessonMarkdown)
        for _ in range(200):  # the rest is mounted after the first frame
            await pilot.pause()
            if not markdown._rest and markdown.source == fill(COURSE.lesson(lesson_id)).text:
                break
        await pilot.pause()
        return blocks(markdown), markdown


@pytest.mark.parametrize(
    ("lesson_id", "size"),
    [(lesson.id, (120, 40)) for lesson in COURSE.lessons] + [("beyond", (80, 24)), ("minibatches", (80, 24))],
)
async def test_the_text_shown_in_two_parts_is_the_text_given_whole(lesson_id: str, size: tuple[int, int], tmp_path: Path) -> None:
    text = fill(COURSE.lesson(lesson_id)).text
    shown, markdown = await opened_blocks(lesson_id, size, tmp_path)
    assert markdown.source == text
    assert shown == await whole_blocks(text, size)


def test_every_shipped_lesson_is_cut_at_120x40_and_the_first_part_fills_the_pane() -> None:
    """The cut is where the mechanism above is tried: every lesson's text is longer than one screen."""
    for lesson in COURSE.lessons:
        text = fill(lesson).text
        cut = first_screen(text, 40, 44)
        assert 0 < cut < len(text), lesson.id
        assert len(text[:cut].splitlines()) >= 40 * 0.5, lesson.id  # blank lines count one row, wrapped lines more


@pytest.mark.parametrize(
    ("text", "rows", "expected"),
    [
        ("a\n\nb\n\nc\n", 1, len("a\n\n")),  # the first boundary past one row: before the paragraph b
        ("a\n\nb\n\nc\n", 3, len("a\n\nb\n\n")),
        ("a\n\n# H\n\nc\n", 2, len("a\n\n")),  # before a heading
        ("a\n\n- item\n\n- item\n\nc\n", 2, len("a\n\n- item\n\n- item\n\n")),  # never between a list's items
        ("a\n\n1. one\n\n2. two\n", 2, len("a\n\n1. one\n\n2. two\n")),  # nor an ordered list's: no cut at all
        ("```\nx\n\ny\n\nz\n```\n\nw\n", 1, len("```\nx\n\ny\n\nz\n```\n\n")),  # never inside a code fence
        ("~~~\n\nq\n~~~\n", 1, len("~~~\n\nq\n~~~\n")),
        ("a\n\n    code\n\nb\n", 2, len("a\n\n    code\n\n")),  # an indented block is not a start
        ("a [x][1]\n\nb\n\n[1]: https://example.org\n", 1, len("a [x][1]\n\nb\n\n[1]: https://example.org\n")),
        ("one paragraph\nof two lines\n", 1, len("one paragraph\nof two lines\n")),
        ("a\n\n<!--\n\nhidden\n-->\n\nb\n", 1, len("a\n\n<!--\n\nhidden\n-->\n\nb\n")),  # nor in an HTML block
        ("a\n\n<PRE>\n\nkept\n</PRE>\n", 1, len("a\n\n<PRE>\n\nkept\n</PRE>\n")),
        ("", 10, 0),
    ],
)
def test_first_screen_cuts_only_between_blocks(text: str, rows: int, expected: int) -> None:
    assert first_screen(text, rows, 80) == expected


def test_first_screen_counts_wrapped_lines() -> None:
    long = "w" * 200  # 3 rows at width 80 (1 + 200 // 80)
    text = f"{long}\n\nb\n\nc\n"
    assert first_screen(text, 3, 80) == len(f"{long}\n\n")
    assert first_screen(text, 3, 400) == len(f"{long}\n\nb\n\n")


def test_the_lessons_parser_reads_every_shipped_text_as_textuals_does_but_leaves_bare_addresses_as_text() -> None:
    """Without linkify (its first parse cost ~15 ms of opening a lesson) the shipped texts, checks and explanations
    parse to the same tokens as with Textual's default "gfm-like" parser."""
    from markdown_it import MarkdownIt

    from tutor.tui.screens.lesson import lesson_parser

    def tokens(parser: MarkdownIt, text: str) -> list:
        return [(t.type, t.content, [(c.type, c.content) for c in t.children or []]) for t in parser.parse(text)]

    for lesson in COURSE.lessons:
        filled = fill(lesson)
        for text in [filled.text, *(check.reveal or "" for check in filled.checks)]:
            assert tokens(lesson_parser(), text) == tokens(MarkdownIt("gfm-like"), text), lesson.id
    linked = "see <https://example.org> and [this](https://example.org/x) or https://example.org/bare\n"
    links = [c.attrs.get("href") for t in lesson_parser().parse(linked) for c in t.children or [] if c.type == "link_open"]
    assert links == ["https://example.org", "https://example.org/x"]
