"""The code's import graph, read with `ast` from the source files: no module imports
itself back through others, and each layer imports only what it may (docs/ARCHITECTURE.md,
"Rules that keep it easy to change").

Every `import` counts, at the top of a module or inside a function: a lazy import hides a
cycle, it does not break it. The one exception is an import under `if TYPE_CHECKING:`
(never run; it only names a type for mypy).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "storage")
# The platforms' SDKs: only an adapter speaks to its platform.
SDKS = ("slack_bolt", "slack_sdk", "botbuilder", "botframework")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in _import_nodes_in(child))
            continue
        yield from _import_nodes_in(node)


def _import_nodes_in(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _import_nodes(node)


def _imported(name: str, path: Path) -> set[str]:
    """Every module `name` imports: dotted names, ours or not (`slack_bolt.async_app`)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            # `from bot.handlers import signup` imports the module bot.handlers.signup.
            submodule = f"{base}.{alias.name}"
            found.add(submodule if submodule in MODULES else base)
    return found


GRAPH = {name: _imported(name, path) for name, path in MODULES.items()}


def _ours(targets: set[str]) -> set[str]:
    return {target for target in targets if target in MODULES}


def _cycles() -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(_ours(GRAPH[module]) - {module}):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return groups


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _breaches(importers: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _within(module, importers)
        for target in targets
        if any(_within(target, prefix) for prefix in forbidden)
    )


def test_the_graph_sees_the_imports_it_should() -> None:
    # The reader itself: a relative, a package-level and a lazy import are all found.
    assert "bot.core.context" in GRAPH["bot.core.dispatch"]
    assert "bot.handlers.signup" in GRAPH["bot.router"]
    assert any(_within(target, "slack_bolt") for target in GRAPH["bot.adapters.slack.app"])
    assert len(MODULES) > 150


def test_no_module_imports_itself_back_through_others() -> None:
    assert _cycles() == []


def test_a_cycle_would_be_found() -> None:
    # The detector on a graph with a cycle hidden behind a third module.
    saved = {name: set(targets) for name, targets in GRAPH.items()}
    try:
        GRAPH["bot.core.parsing"].add("bot.router")
        assert any("bot.core.parsing" in group and "bot.router" in group for group in _cycles())
    finally:
        GRAPH.clear()
        GRAPH.update(saved)


@pytest.mark.parametrize(
    ("importers", "forbidden", "why"),
    [
        ("storage", ("bot",), "storage knows nothing of the bot that uses it"),
        (
            "bot.handlers",
            ("bot.adapters", "bot.jobs", *SDKS),
            "handlers are platform-neutral; jobs call them, not the other way round",
        ),
        (
            "bot.core",
            ("bot.adapters", "bot.handlers", "bot.router", "aiohttp", *SDKS),
            "the core routes what it is given and knows no platform",
        ),
        ("bot.steering", ("bot.adapters", "bot.handlers", *SDKS), "figures read storage only"),
        (
            "bot.adapters",
            ("bot.handlers", "bot.router"),
            "an adapter turns payloads into neutral events; the router's tables name handlers",
        ),
    ],
)
def test_each_layer_imports_only_what_it_may(
    importers: str, forbidden: tuple[str, ...], why: str
) -> None:
    assert _breaches(importers, forbidden) == [], why


def test_only_adapters_import_a_platform_sdk() -> None:
    breaches = [
        breach for breach in _breaches("bot", SDKS) if not breach.startswith("bot.adapters.")
    ]
    assert breaches == []
