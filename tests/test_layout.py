"""The shape of the code that keeps each rule in one obvious room."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
MAX_MODULE_LINES = 300


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_module_of_the_app_is_over_300_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in APP.rglob("*.py")
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_services_import_nothing_of_pyramid():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            n for n in _imports(path) if n.split(".")[0] == "pyramid"
        )
        for path in (APP / "services").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_no_controller_reaches_the_rate_limiter():
    """Limits are rules of the services; a controller only turns RateLimited into 429."""
    for path in (APP / "controllers").rglob("*.py"):
        text = path.read_text()
        assert "rate_limits" not in text and "rate_limiter" not in text, path.name


# The layers of the app, lowest first: a module imports only from its own layer or the
# ones below. Inside app/services, each domain is a package and the kernel is below them.
LAYERS = [
    {"app.translation", "app.logs", "app.metrics"},
    {"app.settings", "app.i18n"},
    {"app.models"},
    {"app.services"},
    {"app.mail", "app.operations"},
    # The JSON API's rules and schemas (app.api) are its face's view models.
    {"app.web", "app.templating", "app.viewmodels", "app.api"},
    {"app.security"},
    {"app.controllers"},
    {"app", "app.routes", "app.wiring", "app.scripts"},
]
MAX_LOOSE_MODULES = 8


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _app_modules() -> dict[str, Path]:
    return {_module_name(path): path for path in APP.rglob("*.py")}


def _app_imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The app's modules this one imports (a name imported from a package counts as the
    module of that name when there is one, else as the package)."""
    found = set()
    for name in _imports(path):
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name.startswith("app"):
            found.add(name)
    return found


def _layer(module: str) -> int:
    best = None
    for index, members in enumerate(LAYERS):
        for prefix in members:
            inside = module == prefix or module.startswith(prefix + ".")
            if inside and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    assert best is not None, f"{module} is in no layer"
    return best[0]


def test_at_most_eight_loose_modules_sit_in_the_app_package() -> None:
    loose = sorted(p.name for p in APP.glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= MAX_LOOSE_MODULES, loose


def test_the_services_are_packages_of_one_domain_each() -> None:
    domains = sorted(p.name for p in (APP / "services").iterdir() if (p / "__init__.py").exists())
    assert len(domains) >= 5
    loose = sorted(p.name for p in (APP / "services").glob("*.py") if p.name != "__init__.py")
    assert loose == ["composition.py"]


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    modules = _app_modules()
    upward = {
        f"{module} -> {target}"
        for module, path in modules.items()
        for target in _app_imports(path, modules)
        if target != "app" and _layer(target) > _layer(module)
    }
    assert upward == set()


def test_the_service_domains_import_the_kernel_and_never_the_other_way() -> None:
    modules = _app_modules()
    upward = {
        f"{module} -> {target}"
        for module, path in modules.items()
        if module.startswith("app.services.kernel")
        for target in _app_imports(path, modules)
        if target.startswith("app.services") and not target.startswith("app.services.kernel")
    }
    assert upward == set()


def _domain(module: str) -> str:
    return ".".join(module.split(".")[:3])


def test_no_circle_between_the_service_domains() -> None:
    """A domain may use another's rules, but two domains never need each other."""
    modules = _app_modules()
    edges: dict[str, set[str]] = {}
    for module, path in modules.items():
        if module.startswith("app.services.") and module != "app.services.composition":
            for target in _app_imports(path, modules):
                if target.startswith("app.services.") and _domain(target) != _domain(module):
                    edges.setdefault(_domain(module), set()).add(_domain(target))
    assert _circles(edges) == []


def test_no_circle_between_modules_of_the_app() -> None:
    modules = _app_modules()
    edges = {
        module: {t for t in _app_imports(path, modules) if t != module and t in modules}
        for module, path in modules.items()
    }
    # A package's __init__ importing its own modules is not a circle of meaning.
    for module in edges:
        edges[module] = {t for t in edges[module] if not module.startswith(t + ".")}
    assert _circles(edges) == []


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups
