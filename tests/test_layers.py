"""Import structure of src/glucosim: no module depends on itself through others.

Imports are read with ``ast`` (nothing is executed), including the ones inside
functions: a lazy import hides a cycle from Python but not from the reader.
Imports under ``if TYPE_CHECKING:`` are annotations only and are skipped.
"""

import ast
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "src" / "glucosim"


def module_name(path: Path, root: Path = PACKAGE_DIR) -> str:
    parts = (root.name, *path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_modules(source: str, this: str, is_package: bool, known: set[str]) -> set[str]:
    """Modules of ``known`` that ``source`` (module ``this``) imports, anywhere in its body."""
    found: set[str] = set()

    def resolve(base: str, names: list[str]) -> None:
        for name in names:  # `from a.b import c`: c may be a module or a name defined in a.b
            candidate = f"{base}.{name}"
            found.add(candidate if candidate in known else base)

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                package = this if is_package else this.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{node.module}" if node.module else package
            else:
                base = node.module or ""
            resolve(base, [alias.name for alias in node.names])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return {name for name in found if name in known and name != this}


def import_graph(root: Path = PACKAGE_DIR) -> dict[str, set[str]]:
    paths = {module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    known = set(paths)
    return {
        name: imported_modules(path.read_text(), name, path.name == "__init__.py", known)
        for name, path in paths.items()
    }


def import_cycles(graph: dict[str, set[str]]) -> list[tuple[list[str], list[str]]]:
    """(members, one shortest cycle) of each group of modules that import each other (Tarjan, then BFS)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            connect(node)

    cycles = []
    for component in components:
        start = min(component)
        previous = {start: None}
        frontier = [start]
        closing = None
        while frontier and closing is None:
            next_frontier = []
            for node in frontier:
                for target in sorted(graph[node] & component):
                    if target == start:
                        closing = node
                        break
                    if target not in previous:
                        previous[target] = node
                        next_frontier.append(target)
                if closing is not None:
                    break
            frontier = next_frontier
        path = [closing]
        while path[-1] != start:
            path.append(previous[path[-1]])
        cycles.append((sorted(component), [*reversed(path), start]))
    return cycles


def test_no_import_cycles_among_glucosim_modules():
    cycles = import_cycles(import_graph())
    shown = "\n".join(f"  {' -> '.join(cycle)}  (group: {', '.join(members)})" for members, cycle in cycles)
    assert not cycles, f"import cycles in src/glucosim (each module imports the next, lazily or not):\n{shown}"


@pytest.fixture
def toy_package(tmp_path):
    root = tmp_path / "toy"
    (root / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "a.py": "from toy.sub import b\n",
        "sub/__init__.py": "",
        "sub/b.py": "def f():\n    from . import c\n",
        "sub/c.py": "import toy.a\n",
        "d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import toy.a\nimport toy.sub.b\n",
    }
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def test_cycle_finder_sees_lazy_and_relative_imports_and_skips_type_checking(toy_package):
    graph = import_graph(toy_package)
    assert graph["toy.sub.b"] == {"toy.sub.c"}  # relative, inside a function
    assert graph["toy.d"] == {"toy.sub.b"}  # the TYPE_CHECKING import is not a dependency
    cycle = ["toy.a", "toy.sub.b", "toy.sub.c", "toy.a"]
    assert import_cycles(graph) == [(sorted(cycle[:3]), cycle)]
