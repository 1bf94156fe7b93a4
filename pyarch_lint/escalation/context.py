"""The project around a flagged file, as the model sees it beside the file: the public outline of
each first-party module the file imports (classes, signatures with their annotations, the first
line of each docstring; never a body), the modules that import it, and the project-wide findings
of other files that involve it (an import cycle through it, reported where it closes).

Who imports what comes from the facts analysis already gathered; the outline of an imported
module is read from its file when a request needs it (so the analysis of every file, the cold
run's hot path, pays nothing for outlines: only the few modules flagged files import are
parsed, once a run, with the standard library's `ast`). All of it in a fixed order, cut at
`llm.context-tokens`: the same project gives the same text, so the critique's cache key changes
exactly when what the file is shown of a neighbour changes. The text is raw here; `prompt`
redacts it like the file and fences it as data.

A module's name is its dotted path inside its package: the folders above the file that hold an
`__init__.py` among the linted files (`src/shop/orders/repo.py` under `src/shop/__init__.py`
and `src/shop/orders/__init__.py` is `shop.orders.repo`), its stem alone outside any package.
Two files with the same name (two top-level `setup.py`) are no module of the project: an
outline of the wrong one is worse than none.
"""

from __future__ import annotations

import ast
import functools
import os
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from pyarch_lint.architecture import absolute_import
from pyarch_lint.escalation.prompt import CHARS_PER_TOKEN, decode_source
from pyarch_lint.facts import FileFacts, Import
from pyarch_lint.files import read_regular
from pyarch_lint.findings import Finding

# Project-wide rules (PA5xx) report a finding in one file of what they found; the others it
# involves see it here.
_PROJECT_FAMILY = "PA5"
_MAX_IMPORTERS = 30  # named; past that, counted
_CUT = "... the rest omitted: over llm.context-tokens = {budget}"


@dataclass(frozen=True, slots=True)
class Project:
    """What a run knows of the project around its flagged files, by display path."""

    root: Path  # the project root, which guidance globs are relative to
    locations: Mapping[str, Path]  # every linted file
    facts: Mapping[str, FileFacts]  # every linted file's
    findings: Sequence[Finding]  # the run's, the project rules' among them
    modules: Mapping[str, str]  # module name -> display path (unambiguous names only)
    names: Mapping[str, str]  # display path -> module name
    importers: Mapping[str, tuple[str, ...]]  # display path -> the modules importing it, sorted
    imported: Mapping[str, tuple[str, ...]]  # display path -> the project modules it imports
    # display path -> what the architecture contracts ask of its module, a line per contract
    contracts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # display path -> its outline, made when first needed: each module is read once a run
    outlines: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def relative(self, path: str) -> str:
        """The file shown as `path`, relative to the project root, `/`-separated (as
        per-file-ignores and guidance globs match it)."""
        location = os.path.abspath(self.locations[path])
        return os.path.relpath(location, os.path.abspath(self.root)).replace(os.sep, "/")


def project_of(
    root: Path,
    files: Mapping[str, tuple[Path, FileFacts]],
    findings: Sequence[Finding],
    contracts: Mapping[str, tuple[str, ...]] | None = None,
) -> Project:
    """The project at `root` of `files` (display path -> the file and its facts), the run's
    findings, and what the architecture contracts ask of each file (by display path)."""
    locations = {path: location for path, (location, _facts) in files.items()}
    facts = {path: known for path, (_location, known) in files.items()}
    names = _module_names(locations)
    counts = Counter(names.values())
    modules = {module: path for path, module in sorted(names.items()) if counts[module] == 1}
    unique = {path: module for module, path in modules.items()}
    imported: dict[str, tuple[str, ...]] = {}
    importers: dict[str, set[str]] = {}
    for path, module in sorted(unique.items()):
        if path not in facts:
            continue
        package = os.path.basename(locations[path]).startswith("__init__.")
        targets = _targets(facts[path].imports, module, package, modules)
        imported[path] = targets
        for target in targets:
            importers.setdefault(modules[target], set()).add(module)
    return Project(
        root,
        locations,
        facts,
        findings,
        modules,
        unique,
        {path: tuple(sorted(found)) for path, found in importers.items()},
        imported,
        contracts or {},
    )


def context_of(path: str, project: Project, budget: int) -> str:
    """The context of the file shown as `path`, in at most `budget` tokens; "" when there is
    nothing to say about it or no budget."""
    limit = budget * CHARS_PER_TOKEN
    lines: list[str] = []
    size = -1  # no line break before the first line
    for line in _lines(path, project):  # lazily: an outline past the budget is never read
        size += len(line) + 1
        if size > limit:
            break
        lines.append(line)
    else:
        return "\n".join(lines)
    cut = _CUT.format(budget=budget)
    while lines and len("\n".join([*lines, cut])) > limit:
        lines.pop()
    return "\n".join([*lines, cut]) if lines else ""


def _lines(path: str, project: Project) -> Iterator[str]:
    """The context's lines, the most telling first (what is cut comes last)."""
    module = project.names.get(path)
    if module is None:
        return
    places = project.contracts.get(path, ())
    if places:
        yield "The project's architecture contracts that bind this module:"
        yield from (f"  {place}" for place in places)
    involving = [
        f
        for f in project.findings
        if f.code.startswith(_PROJECT_FAMILY) and f.path != path and _mentions(f.message, module)
    ]
    if involving:
        yield "Project-wide findings in other files that involve this module:"
        for finding in involving:
            where = project.names.get(finding.path, finding.path)
            yield f"  {finding.code} {finding.name} in {where}: {' '.join(finding.message.split())}"
    importers = project.importers.get(path, ())
    if importers:
        named = ", ".join(importers[:_MAX_IMPORTERS])
        more = len(importers) - _MAX_IMPORTERS
        yield f"Imported by: {named}" + (f" and {more} more" if more > 0 else "")
    targets = project.imported.get(path, ())
    if targets:
        yield f"This module ({module}) imports these modules of the project; their public outline:"
    for target in targets:
        yield from _outline(target, project)


def _mentions(message: str, module: str) -> bool:
    """Does a finding's message name `module` as a whole dotted name (not `shop.order` in
    `shop.orders`)?"""
    start = message.find(module)
    while start >= 0:
        end = start + len(module)
        before = message[start - 1] if start else " "
        after = message[end] if end < len(message) else " "
        if not (_name_char(before) or before == ".") and not (_name_char(after) or after == "."):
            return True
        start = message.find(module, end)
    return False


def _name_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _outline(module: str, project: Project) -> tuple[str, ...]:
    """The public outline of a module of the project, read and parsed when first asked for
    (only the modules flagged files import are: the cold run pays nothing for outlines)."""
    path = project.modules[module]
    known = project.outlines.get(path)
    if known is None:
        known = project.outlines[path] = tuple(_outline_lines(module, project.locations[path]))
    return known


def _outline_lines(module: str, location: Path) -> Iterator[str]:
    try:
        tree = ast.parse(decode_source(read_regular(location, _MODULE_LIMIT)))
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        yield f"module {module}  # not outlined: unreadable, too large or not Python"
        return
    yield f"module {module}{_doc(tree)}"
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and _public(node.name):
            bases = f"({', '.join(_flat(base) for base in node.bases)})" if node.bases else ""
            yield f"  class {node.name}{bases}{_doc(node)}"
            for method in node.body:
                if isinstance(method, _DEF) and (_public(method.name) or method.name == "__init__"):
                    yield f"    {_signature(method)}{_doc(method)}"
        elif isinstance(node, _DEF) and _public(node.name):
            yield f"  {_signature(node)}{_doc(node)}"


_DEF = (ast.FunctionDef, ast.AsyncFunctionDef)
_MODULE_LIMIT = 4 * 1024 * 1024  # bytes: past this, a module is generated code, not outlined


def _public(name: str) -> bool:
    return not name.startswith("_")


def _doc(node: ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """`  # ` and the first line of the node's docstring, at most _DOC_LIMIT characters."""
    first = node.body[0] if node.body else None
    if not (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return ""
    line = next((text.strip() for text in first.value.value.splitlines() if text.strip()), "")
    return f"  # {line[:_DOC_LIMIT]}" if line else ""


_DOC_LIMIT = 200  # characters: a summary line, not the prose after it


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """`def name(a: int, /, b: str = ..., *args: int, c: bool, **kw: str) -> R`: annotations as
    Python writes them back (`ast.unparse`), defaults as `...`."""
    arguments = node.args
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults = [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)
    parts = [_parameter(a, d is not None) for a, d in zip(positional, defaults, strict=True)]
    if arguments.posonlyargs:
        parts.insert(len(arguments.posonlyargs), "/")
    if arguments.vararg is not None:
        parts.append("*" + _parameter(arguments.vararg, False))
    elif arguments.kwonlyargs:
        parts.append("*")
    for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        parts.append(_parameter(argument, default is not None))
    if arguments.kwarg is not None:
        parts.append("**" + _parameter(arguments.kwarg, False))
    returns = f" -> {_flat(node.returns)}" if node.returns is not None else ""
    keyword = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    return f"{keyword} {node.name}({', '.join(parts)}){returns}"


def _parameter(argument: ast.arg, has_default: bool) -> str:
    text = argument.arg
    if argument.annotation is not None:
        text += f": {_flat(argument.annotation)}"
    if has_default:
        text += " = ..." if argument.annotation is not None else "=..."
    return text


def _flat(node: ast.expr) -> str:
    """An annotation or a base, on one line."""
    return " ".join(ast.unparse(node).split())


def _module_names(locations: Mapping[str, Path]) -> dict[str, str]:
    """Each file's module name, by display path."""
    absolute = {path: os.path.abspath(location) for path, location in locations.items()}
    files = set(absolute.values())
    names: dict[str, str] = {}
    for path, location in absolute.items():
        folder, name = os.path.split(location)
        stem = os.path.splitext(name)[0]
        parts = [] if stem == "__init__" else [stem]
        while os.path.join(folder, "__init__.py") in files:
            folder, package = os.path.split(folder)
            parts.append(package)
        if parts and all(part.isidentifier() for part in parts):
            names[path] = ".".join(reversed(parts))
    return names


def _targets(
    imports: Sequence[Import], module: str, package: bool, modules: Mapping[str, str]
) -> tuple[str, ...]:
    """The project's modules that `imports` (of `module`, a package's `__init__` when
    `package`) name, each once, in the order first imported; never the module itself."""
    found: dict[str, None] = {}
    for imported in sorted(imports, key=lambda i: (i.line, i.column)):
        target = absolute_import(imported, module, package=package)
        if target is None:
            continue
        submodule = f"{target}.{imported.name}" if target and imported.name else None
        for candidate in (submodule, target):
            if candidate is not None and candidate in modules:
                if candidate != module:
                    found.setdefault(candidate)
                break
    return tuple(found)


def guidance_for(path: str, guidance: Mapping[str, str]) -> tuple[str, ...]:
    """The guidance texts whose glob matches `path` (from the project root), in table order."""
    return tuple(text for glob, text in guidance.items() if _glob(glob).match_file(path))


@functools.cache
def _glob(pattern: str) -> pathspec.PathSpec[pathspec.Pattern]:
    return pathspec.PathSpec.from_lines("gitignore", [pattern])
