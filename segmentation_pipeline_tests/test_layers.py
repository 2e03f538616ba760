"""The layers of the package: pure domain code, SQL, sources, the warehouse runner, thin assets, entry points."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "segmentation_pipeline"
SHARED_DEFS = {"defs", "defs.resources", "defs.partitions", "defs.helpers", "defs.automation"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Modules of the package a file imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("segmentation_pipeline"):
            base = node.module.removeprefix("segmentation_pipeline").lstrip(".")
            for alias in node.names:
                candidate = f"{base}.{alias.name}" if base else alias.name
                found.add(candidate if (PACKAGE / (candidate.replace(".", "/") + ".py")).exists() else base)
        elif isinstance(node, ast.Import):
            found |= {
                a.name.removeprefix("segmentation_pipeline.")
                for a in node.names
                if a.name.startswith("segmentation_pipeline.")
            }
    return found - {""}


def third_party_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
    return found


def layer(module: str) -> int:
    """Lower layers never import higher ones."""
    if module == "settings":
        return 0
    if module.startswith(("domain", "dashboard")):  # the dashboard renders frames; it reads no warehouse
        return 1
    if module.startswith("sql"):
        return 2
    if module.startswith("sources"):
        return 3
    if module == "warehouse":
        return 4
    if module.startswith("serving"):
        return 5
    if module in SHARED_DEFS:
        return 6
    if module.startswith("defs."):
        return 7
    return 8  # definitions, run, benchmark


FILES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {module: imports_of(path) for module, path in FILES.items()}


def test_no_domain_module_imports_dagster():
    offenders = [m for m, path in FILES.items() if m.startswith("domain") and "dagster" in third_party_imports(path)]
    assert offenders == []


def test_no_asset_module_imports_another_asset_module():
    asset_modules = {m for m in GRAPH if m.startswith("defs.") and m not in SHARED_DEFS}
    offenders = {m: sorted(GRAPH[m] & asset_modules - {m}) for m in asset_modules if GRAPH[m] & asset_modules - {m}}
    assert offenders == {}


def test_no_module_imports_a_higher_layer():
    upward = {m: sorted(i for i in imported if layer(i) > layer(m)) for m, imported in GRAPH.items()}
    assert {m: i for m, i in upward.items() if i} == {}


def test_the_import_graph_has_no_cycle():
    visiting, done, cycles = set(), set(), []

    def visit(module: str, path: list[str]) -> None:
        if module in visiting:
            cycles.append(path[path.index(module) :] + [module])
            return
        if module in done or module not in GRAPH:
            return
        visiting.add(module)
        for imported in sorted(GRAPH[module]):
            visit(imported, [*path, module])
        visiting.discard(module)
        done.add(module)

    for module in sorted(GRAPH):
        visit(module, [])
    assert cycles == []


SCIPY_MODELS = {
    "domain.clv.bgnbd",
    "domain.clv.pareto_nbd",
    "domain.clv.gamma_gamma",
    "domain.clv.fitting",
    "domain.recommend.similarity",
    "domain.recommend.evaluation",
}
"""The lifetime-value models are SciPy's special functions and optimiser through and through, and the recommender
SciPy's sparse matrices: they import it at module level, and so do the modules built on them; the code location
still loads none of them (test_definitions)."""


def loads_a_scipy_model(module: str) -> bool:
    return module in SCIPY_MODELS or any(loads_a_scipy_model(m) for m in GRAPH.get(module, ()))


@pytest.mark.parametrize("heavy", ["dagster", "sklearn", "scipy", "great_expectations"])
def test_importing_the_domain_loads_no_heavy_library(heavy):
    modules = sorted(m for m in GRAPH if m.startswith("domain") and not (heavy == "scipy" and loads_a_scipy_model(m)))
    code = f"import sys, {', '.join('segmentation_pipeline.' + m for m in modules)}; print({heavy!r} in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent)
    assert run.stdout.strip() == "False"


def test_the_layer_rules_can_fail():
    """The checks above see real imports: the asset modules import the shared ones and the domain."""
    assert "defs.helpers" in GRAPH["defs.segments.rfm"] and "domain.segments.rfm" in GRAPH["defs.segments.rfm"]
    assert layer("defs.segments.rfm") > layer("domain.segments.rfm")
