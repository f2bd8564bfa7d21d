"""No module of tutor imports itself back through others (the layers themselves are import-linter contracts)."""

from __future__ import annotations

import grimp


def import_cycles(package: str) -> list[set[str]]:
    """The sets of modules that import each other in a circle (strongly connected components), imports under
    `if TYPE_CHECKING:` left out: they are annotations, not a module loading another."""
    graph = grimp.build_graph(package, exclude_type_checking_imports=True, cache_dir=None)
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[set[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm; tutor is a few dozen modules deep at most
        order[module] = low[module] = len(order)
        stack.append(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in order:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], order[imported])
        if low[module] == order[module]:
            component = {stack.pop()}
            while module not in component:
                component.add(stack.pop())
            if len(component) > 1:
                cycles.append(component)

    for module in sorted(graph.modules):
        if module not in order:
            visit(module)
    return cycles


def test_no_module_imports_itself_back() -> None:
    assert import_cycles("tutor") == []


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch) -> None:
    package = tmp_path / "circle"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from circle import b\n")
    (package / "b.py").write_text("from circle import c\n")
    (package / "c.py").write_text("import circle.a\n")
    (package / "d.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import circle.a\n")
    (package / "e.py").write_text("import circle.d\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("circle") == [{"circle.a", "circle.b", "circle.c"}]
