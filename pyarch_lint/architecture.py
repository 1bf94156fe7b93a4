"""PA501 `import-cycle` and PA502 `layer-violation`: rules over the import graph of the project's
first-party modules, built from every file's facts (`facts`) without importing anything.

Module names come from paths: a file's path below the deepest source root it is under
(`[tool.pyarch-lint.architecture] source-roots`, default the project root and `src/`), `/` made
`.`, `__init__` dropped; where that has a part that is no identifier (`django-5.2/`), the
package tree names it (see `module_names`). An import becomes an edge as import-linter's graph
(grimp) draws it: relative imports are resolved against the importing module (a package's
`__init__` is the package itself), and `from pkg import name` is an edge to `pkg.name` when
that is a module of the project, else to `pkg` (the longest prefix that is a module). Imports of
other packages are edges to their dotted name (`from sqlalchemy.orm import Session` ->
`sqlalchemy.orm`), which only contracts look at.

Everything is sorted before it is walked, so the findings are the same whatever the order of
the files (and so under any `--jobs`).
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from pyarch_lint.checks.options import ArchitectureOptions, Contract
from pyarch_lint.config import Settings
from pyarch_lint.facts import FileFacts, Import
from pyarch_lint.findings import Severity
from pyarch_lint.project import ProjectFinding, ProjectRule, ProjectWarning

# -- modules and edges -------------------------------------------------------------------------


def module_names(paths: Iterable[str], source_roots: Sequence[str]) -> dict[str, str]:
    """The module name of each `.py` file of `paths` (relative to the project root,
    `/`-separated; absolute outside it), by path: its path below the deepest source root it is
    under; where that has a part that is no identifier (`django-5.2/django/db.py` below the
    root, or a path outside the root), its name as a package tree gives it, the folders above
    it that hold an `__init__.py` (`django.db`). Where two files name one module, the first in
    path order wins."""
    prefixes = sorted({_prefix(root) for root in source_roots}, key=len, reverse=True)
    ordered = sorted(path for path in paths if path.endswith(".py"))
    packages = {path.rpartition("/")[0] for path in ordered if path.endswith("/__init__.py")}
    names: dict[str, str] = {}
    taken: set[str] = set()
    for path in ordered:
        prefix = next((p for p in prefixes if path.startswith(p)), "")
        parts = path[len(prefix) : -len(".py")].split("/")
        if not all(part.isidentifier() for part in parts):
            parts = _package_parts(path, packages)
        if parts[-1:] == ["__init__"]:
            parts.pop()
        if not parts or not all(part.isidentifier() for part in parts):
            continue
        name = ".".join(parts)
        if name not in taken:
            taken.add(name)
            names[path] = name
    return names


def _package_parts(path: str, packages: Collection[str]) -> list[str]:
    """`a/b/c.py` -> [b, c] when `a/b` is a package and `a` is not."""
    folder, _, file = path.rpartition("/")
    parts = [file.removesuffix(".py")]
    while folder in packages:
        folder, _, name = folder.rpartition("/")
        parts.append(name)
    return parts[::-1]


def _prefix(root: str) -> str:
    """`src` -> `src/`; `.` and `./` -> `` (the project root)."""
    parts = [part for part in root.replace("\\", "/").split("/") if part not in ("", ".")]
    return "".join(f"{part}/" for part in parts)


class Edge(NamedTuple):
    """One import of one module by another (or of another package, `external`)."""

    importer: str
    imported: str
    path: str  # the importer's file
    statement: Import  # where it is, and how it runs
    external: bool

    @property
    def line(self) -> int:
        return self.statement.line

    def finding(self, message: str) -> ProjectFinding:
        """A finding at this import: from its keyword to the end of `import` (`from ..a
        import`), or of the first module's name (`import a.b`)."""
        found = self.statement
        if found.name is None:
            width = len(f"import {found.module}")
        else:
            width = len(f"from {'.' * found.level}{found.module} import")
        column = found.column
        return ProjectFinding(self.path, found.line, column, found.line, column + width, message)


@dataclass(frozen=True, slots=True)
class Graph:
    """The project's modules (and the packages above them, which exist as folders even without
    an `__init__.py`), and every import of one, in the order of (importer, line, column)."""

    modules: frozenset[str]  # those with a file
    known: frozenset[str]  # with every package above them
    edges: tuple[Edge, ...]

    def exists(self, name: str) -> bool:
        return name in self.known


def build_graph(facts: Mapping[str, FileFacts], names: Mapping[str, str]) -> Graph:
    modules = frozenset(names.values())
    known = frozenset(
        ".".join(parts[:end])
        for parts in (m.split(".") for m in modules)
        for end in range(1, len(parts) + 1)
    )
    roots = frozenset(name.split(".")[0] for name in modules)
    edges: list[Edge] = []
    for path, module in sorted(names.items(), key=lambda item: item[1]):
        package = path.endswith("__init__.py")
        for found in facts[path].imports:
            base = absolute_import(found, module, package=package)
            if base is None:
                continue
            if base.partition(".")[0] not in roots:
                if not found.level:  # a relative import outside the project: nothing to say
                    edges.append(Edge(module, base, path, found, external=True))
                continue
            full = base if found.name is None or found.name == "*" else f"{base}.{found.name}"
            imported = _longest_module(full, modules)
            if imported is not None and imported != module:
                edges.append(Edge(module, imported, path, found, external=False))
    edges.sort(key=lambda e: (e.importer, e.statement.line, e.statement.column, e.imported))
    return Graph(modules, known, tuple(edges))


def absolute_import(found: Import, module: str, *, package: bool) -> str | None:
    """The absolute dotted name `found` imports from (`from ..a import b` in `p.q.m` -> `p.a`);
    None when a relative import climbs above the top-level package."""
    if not found.level:
        return found.module
    parts = module.split(".") if package else module.split(".")[:-1]
    up = found.level - 1
    if up > len(parts):
        return None
    parts = parts[: len(parts) - up]
    if found.module:
        parts.append(found.module)
    return ".".join(parts) or None


def _longest_module(name: str, modules: frozenset[str]) -> str | None:
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def _within(module: str, package: str) -> bool:
    """Is `module` the package (or module) `package`, or below it?"""
    return module == package or module.startswith(package + ".")


def _graph_of(facts: Mapping[str, FileFacts], options: ArchitectureOptions) -> Graph:
    return build_graph(facts, module_names(facts, options.source_roots))


# -- PA501: import cycles ----------------------------------------------------------------------


def _init_reexport(edge: Edge) -> bool:
    """A package's `__init__` importing one of its own submodules."""
    return edge.path.endswith("__init__.py") and edge.imported.startswith(edge.importer + ".")


def runtime_edges(graph: Graph, options: ArchitectureOptions) -> dict[str, dict[str, Edge]]:
    """importer -> imported -> the first import of it, for the imports that run when the
    importer loads: never under `if TYPE_CHECKING:`; inside functions only when the options say
    so; a package's `__init__` importing its own submodules not when they say not. Nor
    `import pkg` or `import pkg._speedups` (a compiled submodule, no file of the project) in a
    module of `pkg`: the package is loading already, and nothing is read from it."""
    graph_edges: dict[str, dict[str, Edge]] = {}
    for edge in graph.edges:
        found = edge.statement
        if edge.external or found.type_checking:
            continue
        if found.name is None and edge.importer.startswith(edge.imported + "."):
            continue
        if found.in_function and not options.cycles_count_function_imports:
            continue
        if options.cycles_ignore_init_imports and _init_reexport(edge):
            continue
        graph_edges.setdefault(edge.importer, {}).setdefault(edge.imported, edge)
    return graph_edges


def strongly_connected(successors: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node, each sorted, in sorted order
    (Kosaraju's algorithm, without recursion: a chain of imports may be thousands deep)."""
    predecessors: dict[str, list[str]] = {}
    for node, afters in successors.items():
        for after in afters:
            predecessors.setdefault(after, []).append(node)
    assigned: set[str] = set()
    found = []
    for root in reversed(_finishing_order(successors)):
        if root in assigned:
            continue
        assigned.add(root)
        component = [root]
        for node in component:  # grows as it goes: everything that reaches root, unassigned
            for before in predecessors.get(node, ()):
                if before not in assigned:
                    assigned.add(before)
                    component.append(before)
        if len(component) > 1:
            found.append(sorted(component))
    return sorted(found)


def _finishing_order(successors: Mapping[str, Sequence[str]]) -> list[str]:
    """Every node, in the order a depth-first search from the sorted nodes finishes them."""
    order: list[str] = []
    seen: set[str] = set()
    for root in sorted(successors):
        if root in seen:
            continue
        seen.add(root)
        work: list[tuple[str, Iterator[str]]] = [(root, iter(successors[root]))]
        while work:
            node, pending = work[-1]
            after = next((n for n in pending if n not in seen), None)
            if after is None:
                work.pop()
                order.append(node)
            else:
                seen.add(after)
                work.append((after, iter(successors.get(after, ()))))
    return order


def shortest_path(
    successors: Mapping[str, Sequence[str]], start: str, goal: str, inside: Callable[[str], bool]
) -> list[str] | None:
    """The shortest path from `start` to `goal` through nodes `inside` allows (breadth first,
    successors in their sorted order: the first of equally short paths in that order)."""
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = [node]
            while (step := previous[path[-1]]) is not None:
                path.append(step)
            return path[::-1]
        for after in successors.get(node, ()):
            if after not in previous and inside(after):
                previous[after] = node
                queue.append(after)
    return None


def import_cycles(
    facts: Mapping[str, FileFacts], options: ArchitectureOptions
) -> list[ProjectFinding]:
    """One finding per import cycle (strongly connected component), at the import the rule
    nominates to break it (see `nominate`), with the shortest cycle through that import."""
    graph_edges = runtime_edges(_graph_of(facts, options), options)
    successors = {importer: sorted(targets) for importer, targets in graph_edges.items()}
    importers: dict[str, list[str]] = {}
    for importer, targets in successors.items():
        for imported in targets:
            importers.setdefault(imported, []).append(importer)
    findings = []
    for component in strongly_connected(successors):
        members = frozenset(component)
        inner = [
            graph_edges[importer][imported]
            for importer in component
            for imported in successors.get(importer, ())
            if imported in members
        ]
        outside = {
            module: sum(importer not in members for importer in importers.get(module, ()))
            for module in component
        }
        edge = nominate(inner, outside)
        cycle = shortest_path(successors, edge.imported, edge.importer, members.__contains__)
        assert cycle is not None  # both ends are in one strongly connected component
        findings.append(_cycle_finding(edge, [edge.importer, *cycle], len(component)))
    return sorted(findings)


def nominate(edges: Sequence[Edge], importers: Mapping[str, int]) -> Edge:
    """The import of a cycle to break, among the `edges` inside its component: the one that
    most goes against the grain of the project, from a module many others import (a
    foundation) to one fewer import (built on top of it), `importers` counting for each module
    of the component the modules outside it that import it. A package's `__init__` importing
    its own submodule comes last (a re-export is how packages are built); ties go to the import
    of the module first in name order, then by the module first in name order (of `a` and `b`
    importing each other, `b`'s import of `a` closes the cycle)."""
    return min(
        edges,
        key=lambda e: (
            _init_reexport(e),
            importers.get(e.imported, 0) - importers.get(e.importer, 0),
            e.imported,
            e.importer,
        ),
    )


def _cycle_finding(edge: Edge, cycle: list[str], size: int) -> ProjectFinding:
    shown = " -> ".join(cycle)
    if size == len(cycle) - 1:
        extent = f"{size} modules"
    else:
        extent = f"the shortest through this import; {size} modules import each other in all"
    message = (
        f"import cycle: {shown} ({extent}); break it at this import: move what `{edge.importer}` "
        f"needs from `{edge.imported}` into a module both can import, or invert the dependency"
    )
    return edge.finding(message)


# -- PA502: contracts --------------------------------------------------------------------------


@functools.cache
def _pattern(expression: str) -> re.Pattern[str]:
    """import-linter's module expressions: `*` is one name, `**` one or more."""
    parts = []
    for part in expression.split("."):
        if part == "*":
            parts.append(r"[^.]+")
        elif part == "**":
            parts.append(r"[^.]+(?:\.[^.]+)*")
        else:
            parts.append(re.escape(part))
    return re.compile(r"\.".join(parts))


def expand(expression: str, graph: Graph) -> list[str]:
    """The modules (or packages) `expression` names, sorted."""
    if "*" not in expression:
        return [expression] if graph.exists(expression) else []
    pattern = _pattern(expression)
    return sorted(name for name in graph.known if pattern.fullmatch(name))


class Problem(NamedTuple):
    """Something in a contract that matches nothing in the project."""

    contract: int  # its index in `contracts`
    key: str
    value: str

    def describe(self, contract: Contract) -> str:
        what = "matches no import" if self.key == "ignore-imports" else "matches no module"
        return (
            f"architecture.contracts[{self.contract}] ({contract.name}): `{self.key}` entry "
            f"{self.value!r} {what} of the project"
        )


@dataclass(frozen=True, slots=True)
class _Checked:
    """A contract resolved against the project: who is bound by it, and its verdict on an
    import by one of them of a given module."""

    bound: Callable[[str], bool]  # may this module break the contract?
    verdict: Callable[[str, str, bool], str | None]  # (importer, imported, external) -> reason
    through: Callable[[str], bool]  # may a chain of imports pass through this module?


def contract_findings(
    facts: Mapping[str, FileFacts], options: ArchitectureOptions
) -> tuple[list[ProjectFinding], list[str]]:
    """The imports that break the contracts, each a finding at its line (one per line, the
    others broken there counted in its message), and what in the contracts matches nothing."""
    if not options.contracts:
        return [], []
    graph = _graph_of(facts, options)
    edges = [
        e
        for e in graph.edges
        if not (options.exclude_type_checking_imports and e.statement.type_checking)
    ]
    broken: dict[tuple[str, int], list[tuple[Edge, str]]] = {}  # by (path, line)
    problems: list[str] = []
    for number, contract in enumerate(options.contracts):
        missing: list[Problem] = []
        checked = _resolve(contract, number, graph, missing)
        kept, unmatched = _without_ignored(edges, contract)
        missing.extend(Problem(number, "ignore-imports", entry) for entry in unmatched)
        problems.extend(problem.describe(contract) for problem in missing)
        transitive = options.transitive if contract.transitive is None else contract.transitive
        for edge, text in _violations(checked, kept, transitive):
            hint = f" {contract.hint.strip()}" if contract.hint.strip() else ""
            explained = f"{text} (contract '{contract.name}').{hint}"
            broken.setdefault((edge.path, edge.line), []).append((edge, explained))
    findings = []
    for found in broken.values():
        edge, message = found[0]
        if len(found) > 1:
            message += f" ({len(found) - 1} more on this line)"
        findings.append(edge.finding(message))
    return sorted(findings), problems


def _without_ignored(edges: Sequence[Edge], contract: Contract) -> tuple[list[Edge], list[str]]:
    """The imports the contract's `ignore-imports` leave, and its entries that match none."""
    entries = []
    for entry in contract.ignore_imports:
        importer, _, imported = entry.partition("->")
        entries.append((entry, _pattern(importer.strip()), _pattern(imported.strip())))
    matched: set[str] = set()
    kept = []
    for edge in edges:
        hits = [
            entry
            for entry, importer, imported in entries
            if importer.fullmatch(edge.importer)
            and (
                imported.fullmatch(edge.imported)
                or (edge.external and imported.fullmatch(edge.imported.split(".")[0]))
            )
        ]
        matched.update(hits)
        if not hits:
            kept.append(edge)
    return kept, [entry for entry, _, _ in entries if entry not in matched]


def _resolve(contract: Contract, number: int, graph: Graph, missing: list[Problem]) -> _Checked:
    def modules(key: str, expressions: Sequence[str]) -> list[str]:
        """The modules `expressions` name, each one that names none noted as missing."""
        found = []
        for expression in expressions:
            names = expand(expression, graph)
            if not names:
                missing.append(Problem(number, key, expression))
            found.extend(names)
        return sorted(set(found))

    if contract.type == "layers":
        return _layers(contract, number, graph, missing, modules)
    if contract.type == "forbidden":
        return _forbidden(contract, graph, modules)
    return _independence(modules("modules", contract.modules or ()))


def _forbidden(
    contract: Contract, graph: Graph, modules: Callable[[str, Sequence[str]], list[str]]
) -> _Checked:
    sources = modules("source-modules", contract.source_modules or ())
    ours = {name.split(".")[0] for name in graph.modules}
    expressions = contract.forbidden_modules or ()
    forbidden = modules("forbidden-modules", [e for e in expressions if e.split(".")[0] in ours])
    # Other packages: matched by name, they have no file here.
    external = [e for e in expressions if e.split(".")[0] not in ours]

    def forbids(importer: str, imported: str, is_external: bool) -> str | None:
        targets = external if is_external else forbidden
        for source in sources:
            if not _within(importer, source):
                continue
            for target in targets:
                overlap = _within(source, target) or _within(target, source)
                if _within(imported, target) and not overlap:
                    return f"`{source}` must not import `{target}`"
        return None

    def bound(module: str) -> bool:
        return any(_within(module, source) for source in sources)

    return _Checked(bound, forbids, lambda module: not bound(module))


def _independence(independent: Sequence[str]) -> _Checked:
    def owner(module: str) -> str | None:
        owners = [name for name in independent if _within(module, name)]
        return max(owners, key=len) if owners else None

    def separates(importer: str, imported: str, is_external: bool) -> str | None:
        mine, theirs = owner(importer), None if is_external else owner(imported)
        if mine is None or theirs is None or _within(mine, theirs) or _within(theirs, mine):
            return None
        return f"`{mine}` and `{theirs}` must stay independent"

    return _Checked(lambda m: owner(m) is not None, separates, lambda m: owner(m) is None)


class _Layer(NamedTuple):
    container: str  # "" without containers
    level: int  # 0 the highest
    name: str  # the module
    independent: bool  # of its siblings on the same level


def _levels(contract: Contract) -> list[tuple[bool, list[tuple[str, bool]]]]:
    """Each entry of `layers`: whether its siblings are independent (`|`, not `:`), and each
    sibling's name and whether it is optional (in parentheses)."""
    levels = []
    for entry in contract.layers or ():
        items = [item.strip() for item in re.split(r"[|:]", entry)]
        levels.append((":" not in entry, [(i.strip("()"), i.startswith("(")) for i in items]))
    return levels


def _layers(
    contract: Contract,
    number: int,
    graph: Graph,
    missing: list[Problem],
    modules: Callable[[str, Sequence[str]], list[str]],
) -> _Checked:
    containers = modules("containers", contract.containers) if contract.containers else [""]
    layers: list[_Layer] = []
    for container in containers:
        for level, (independent, tails) in enumerate(_levels(contract)):
            for tail, optional in tails:
                name = f"{container}.{tail}" if container else tail
                if graph.exists(name):
                    layers.append(_Layer(container, level, name, independent))
                elif not optional:
                    missing.append(Problem(number, "layers", name))

    def layer_of(module: str) -> _Layer | None:
        owners = [layer for layer in layers if _within(module, layer.name)]
        return max(owners, key=lambda layer: len(layer.name)) if owners else None

    def judges(importer: str, imported: str, is_external: bool) -> str | None:
        return None if is_external else _layer_verdict(layer_of(importer), layer_of(imported))

    return _Checked(lambda m: layer_of(m) is not None, judges, lambda m: layer_of(m) is None)


def _layer_verdict(mine: _Layer | None, theirs: _Layer | None) -> str | None:
    """Why a module of layer `mine` may not import one of `theirs`, if it may not: a higher
    layer of the same container, or an independent sibling."""
    if mine is None or theirs is None or mine.container != theirs.container:
        return None
    if _within(mine.name, theirs.name) or _within(theirs.name, mine.name):
        return None
    if mine.level > theirs.level:
        return f"layer `{mine.name}` is below `{theirs.name}` and must not import it"
    if mine.level == theirs.level and mine.independent:
        return f"layers `{mine.name}` and `{theirs.name}` are independent siblings"
    return None


def _violations(
    checked: _Checked, edges: Sequence[Edge], transitive: bool
) -> Iterator[tuple[Edge, str]]:
    """Each import that breaks the contract, and how; with `transitive`, also each import that
    leads there through modules the contract does not bind, with the chain."""
    successors: dict[str, list[Edge]] = {}
    for edge in edges:
        successors.setdefault(edge.importer, []).append(edge)
    for edge in edges:
        if not checked.bound(edge.importer):
            continue
        reason = checked.verdict(edge.importer, edge.imported, edge.external)
        if reason is not None:
            yield edge, f"`{edge.importer}` imports `{edge.imported}`: {reason}"
        elif transitive and not edge.external and checked.through(edge.imported):
            reached = _chain(edge, successors, checked)
            if reached is not None:
                chain, reason = reached
                shown = " -> ".join(chain)
                yield edge, f"`{edge.importer}` imports `{chain[-1]}` through {shown}: {reason}"


def _chain(
    first: Edge, successors: Mapping[str, Sequence[Edge]], checked: _Checked
) -> tuple[list[str], str] | None:
    """The shortest chain of imports from `first`'s importer, through `first` and modules the
    contract does not bind, to a module it may not import, and why; None when there is none."""
    importer = first.importer
    previous: dict[str, str] = {first.imported: importer}
    queue = deque([first.imported])
    while queue:
        node = queue.popleft()
        for edge in successors.get(node, ()):
            if edge.imported in previous or edge.imported == importer:
                continue
            reason = checked.verdict(importer, edge.imported, edge.external)
            if reason is not None:
                chain = [edge.imported, node]
                while chain[-1] != importer:
                    chain.append(previous[chain[-1]])
                return chain[::-1], reason
            if not edge.external and checked.through(edge.imported):
                previous[edge.imported] = node
                queue.append(edge.imported)
    return None


def contract_places(
    facts: Mapping[str, FileFacts], options: ArchitectureOptions
) -> dict[str, tuple[str, ...]]:
    """What the contracts ask of each file's module (by the facts' paths), one line per
    contract that binds it: what a reviewer of the file should know of its place."""
    if not options.contracts:
        return {}
    graph = _graph_of(facts, options)
    names = module_names(facts, options.source_roots)
    places: dict[str, list[str]] = {}
    for number, contract in enumerate(options.contracts):
        checked = _resolve(contract, number, graph, [])
        hint = f" ({contract.hint.strip()})" if contract.hint.strip() else ""
        for path, module in names.items():
            if checked.bound(module):
                what = _place(contract, module)
                places.setdefault(path, []).append(f"contract '{contract.name}': {what}{hint}")
    return {path: tuple(lines) for path, lines in sorted(places.items())}


def _place(contract: Contract, module: str) -> str:
    if contract.type == "layers":
        layers = ", ".join(contract.layers or ())
        within = f" in each of {', '.join(contract.containers)}" if contract.containers else ""
        return (
            f"layers, high to low: {layers}{within}; `{module}` may import the layers below "
            "its own, never those above"
        )
    if contract.type == "forbidden":
        return f"`{module}` must not import {', '.join(contract.forbidden_modules or ())}"
    others = ", ".join(m for m in contract.modules or () if not _within(module, m))
    return f"`{module}` must stay independent of {others}"


# -- the rules ---------------------------------------------------------------------------------


def _options(settings: Settings) -> ArchitectureOptions:
    options = settings.rule_options.get(ArchitectureOptions, ArchitectureOptions())
    assert isinstance(options, ArchitectureOptions)
    return options


def _check_cycles(facts: Mapping[str, FileFacts], settings: Settings) -> list[ProjectFinding]:
    return import_cycles(facts, _options(settings))


def _check_contracts(
    facts: Mapping[str, FileFacts], settings: Settings
) -> list[ProjectFinding | ProjectWarning]:
    findings, problems = contract_findings(facts, _options(settings))
    return [*findings, *(ProjectWarning(problem) for problem in problems)]


IMPORT_CYCLE = ProjectRule(
    "PA501", "import-cycle", Severity.WARNING, _check_cycles, options=ArchitectureOptions
)
LAYER_VIOLATION = ProjectRule(
    "PA502", "layer-violation", Severity.WARNING, _check_contracts, options=ArchitectureOptions
)
