"""The layering of the house, held by the import graph (stdlib ``ast``; nothing is imported to check it).

The allowed arrows are written once, in :data:`LAYERS`: a module may import modules of its own layer or of
a layer listed before it, never one listed after it.  Every ``import`` statement counts, at module level
or inside a function (moving an import into a function does not change the dependency); only imports under
``if TYPE_CHECKING:`` are skipped, since they never run.  Besides the layers, the module graph has no
circle.  ``docs/architecture.md`` explains the layers.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("spinglass", "samplers", "analysis")

#: Layers from the bottom up: (name, module prefixes).  A module imports only its own layer and those above
#: it in this list; the longest matching prefix decides a module's layer.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("models", ("spinglass",)),
    ("samplers", ("samplers",)),
    ("theory", ("analysis", "analysis.theory")),
    ("measures", ("analysis.measures",)),
    ("experiments", ("analysis.experiments",)),
    ("reproduction", ("analysis.reproduction",)),
    ("command line", ("analysis.cli",)),
)


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the three packages under ``root``."""
    out = {}
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _imports(tree: ast.AST):
    """Every Import / ImportFrom node, skipping ``if TYPE_CHECKING:`` bodies."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if _type_checking_block(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the project modules it imports (``from pkg import mod`` points at ``pkg.mod``)."""
    files = module_files(root)
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_pkg = path.name == "__init__.py"
        deps: set[str] = set()
        for node in _imports(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = name.split(".") if is_pkg else name.split(".")[:-1]
                    base = base[:len(base) - (node.level - 1)]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                targets = []
                for alias in node.names:
                    sub = f"{module}.{alias.name}"
                    targets.append(sub if sub in files else module)
            for target in targets:
                while target and target not in files and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target in files and target != name:
                    deps.add(target)
        graph[name] = deps
    return graph


def layer_of(module: str) -> int:
    best, best_len = None, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best_len:
                best, best_len = i, len(p)
    if best is None:
        raise AssertionError(f"{module} belongs to no layer of LAYERS")
    return best


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """'a (layer) imports b (higher layer)' for every arrow against the layering."""
    out = []
    for a, deps in sorted(graph.items()):
        for b in sorted(deps):
            la, lb = layer_of(a), layer_of(b)
            if lb > la:
                out.append(f"{a} ({LAYERS[la][0]}) imports {b} ({LAYERS[lb][0]})")
    return out


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_every_module_has_a_layer():
    for name in module_files(ROOT):
        layer_of(name)


def test_no_lower_layer_imports_a_higher_one():
    assert layer_violations(import_graph()) == []


def test_no_import_circles():
    assert import_cycles(import_graph()) == []


def test_graph_sees_the_real_arrows():
    g = import_graph()
    assert "analysis.theory.state_evolution" in g["analysis.measures.trajectories"]
    assert "analysis.experiments.registry" in g["analysis.experiments.sweep_samplers"]
    assert "spinglass.exact" in g["spinglass.base"]          # a function-level import would count too
    assert "samplers.mcmc.adapter_base" in g["samplers.mcmc.lattice_adapter"]


@pytest.fixture
def tree_copy(tmp_path):
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def test_a_planted_upward_import_inside_a_function_is_caught(tree_copy):
    _append(tree_copy / "samplers" / "samples.py",
            "\n\ndef _planted():\n    from analysis.theory.state_evolution import StateEvolution\n"
            "    return StateEvolution\n")
    found = layer_violations(import_graph(tree_copy))
    assert found == ["samplers.samples (samplers) imports analysis.theory.state_evolution (theory)"]


def test_a_planted_circle_is_caught(tree_copy):
    _append(tree_copy / "spinglass" / "priors.py", "\nfrom spinglass import base  # noqa\n")
    cycles = import_cycles(import_graph(tree_copy))
    assert any({"spinglass.priors", "spinglass.base"} <= set(c) for c in cycles)


def test_type_checking_imports_are_not_arrows(tree_copy):
    _append(tree_copy / "spinglass" / "priors.py",
            "\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import analysis.cli  # noqa\n")
    assert layer_violations(import_graph(tree_copy)) == []


def test_every_module_is_placed_in_the_architecture_map():
    """docs/architecture.md lists every module of the three packages (one line each in its tree)."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    missing = [str(p.relative_to(ROOT)) for p in module_files(ROOT).values()
               if p.name != "__init__.py" and p.name not in text]
    assert missing == []
