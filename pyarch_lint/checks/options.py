"""The rules' options: one frozen dataclass per `[tool.pyarch-lint.<SECTION>]` table.

Their fields, kebab-cased, are the table's keys, their defaults the documented defaults, and each
field's metadata "help" the line that `init`, `--show-settings` and `pyarch-lint rule` show for
its key (the rule documents say more). They live apart from the rules because configuration is
read in every run, while LibCST is imported only when a file is actually analysed (a cached run
never needs it).
"""

from __future__ import annotations

import re
from dataclasses import Field, dataclass, field, fields
from typing import Any, ClassVar, Literal

import pathspec

_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


@dataclass(frozen=True, slots=True)
class StructureOptions:
    """`[tool.pyarch-lint.structure]`: the limits of PA101, PA102 and PA103."""

    SECTION: ClassVar[str] = "structure"
    max_nesting_depth: int = field(
        default=4,
        metadata={"help": "PA101: the deepest allowed nesting; a block deeper is reported."},
    )
    max_complexity: int = field(
        default=10, metadata={"help": "PA102: the highest allowed McCabe complexity of a function."}
    )
    max_parameters: int = field(
        default=6,
        metadata={
            "help": "PA103: the most positional parameters a function may take, not counting a "
            "method's receiver, `*args`, `**kwargs` and dummy names."
        },
    )
    count_keyword_only: bool = field(
        default=False,
        metadata={"help": "PA103: count keyword-only parameters too (as pylint's R0913 does)."},
    )
    entry_point_decorators: tuple[str, ...] = field(
        default=(
            "click.command",
            "click.group",
            "click.option",
            "click.argument",
            "pytest.fixture",
            "*.command",
        ),
        metadata={
            "help": "PA103: functions with one of these decorators are not checked, since a "
            "framework passes their parameters; dotted names resolved through the imports, "
            "`*.name` for any `@<object>.name` (`@app.command()` of a typer app or click group)."
        },
    )

    def __post_init__(self) -> None:
        for option in fields(self):
            value = getattr(self, option.name)
            if isinstance(value, int) and not isinstance(value, bool) and value < 0:
                raise ValueError(f"`{option.name.replace('_', '-')}` must be 0 or more")
        for name in self.entry_point_decorators:
            if not _DOTTED_NAME.fullmatch(name.removeprefix("*.")):
                raise ValueError(
                    f"{name!r} is not a decorator name (expected e.g. `click.command`, or "
                    "`*.command` for any object's `command`)"
                )


@dataclass(frozen=True, slots=True)
class AnnotationOptions:
    """`[tool.pyarch-lint.annotations]`: which functions the type-hint rules leave alone."""

    SECTION: ClassVar[str] = "annotations"
    ignore_private: bool = field(
        default=False,
        metadata={
            "help": "PA201, PA202: skip functions whose name starts with `_`, dunder methods "
            "such as `__init__` excepted."
        },
    )
    mypy_init_return: bool = field(
        default=True,
        metadata={
            "help": "PA202: an `__init__` with at least one annotated parameter needs no return "
            "annotation."
        },
    )
    suppress_dummy_args: bool = field(
        default=False,
        metadata={"help": "PA201: do not report parameters with dummy names (`_`, `_unused`)."},
    )
    ignore_fully_untyped: bool = field(
        default=True,
        metadata={
            "help": "PA201, PA202, PA204: skip functions with no hint at all (once a function has "
            "one, all are required) and report a module without any once (PA204); false "
            "reports every parameter and return everywhere."
        },
    )
    ignore_pytest_parameters: bool = field(
        default=True,
        metadata={
            "help": "PA201: skip the parameters pytest fills in: those of `test*` functions "
            "(module level or in `Test*` classes) and of `@pytest.fixture` functions."
        },
    )
    ignore_nested: bool = field(
        default=False,
        metadata={
            "help": "PA201, PA202: skip functions defined inside another function (methods of a "
            "class defined there included)."
        },
    )


@dataclass(frozen=True, slots=True)
class AsyncOptions:
    """`[tool.pyarch-lint.async]`, shared by PA401-PA406."""

    SECTION: ClassVar[str] = "async"

    extend_blocking_calls: dict[str, str] = field(
        default_factory=dict,
        metadata={
            "help": "PA401: more blocking callables, by fully qualified dotted name, each with "
            'the alternative to show in the message ("" for the generic advice).'
        },
    )
    allowed_blocking_calls: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "PA401, PA402: dotted names never reported; a name also allows everything "
            'below it (`"subprocess"` allows `subprocess.run`).'
        },
    )

    def __post_init__(self) -> None:
        for name in (*self.extend_blocking_calls, *self.allowed_blocking_calls):
            if not _DOTTED_NAME.fullmatch(name):
                raise ValueError(
                    f"{name!r} is not a dotted name (expected e.g. `mylib.client.fetch`, "
                    "or `builtins.input` for a builtin)"
                )


@dataclass(frozen=True, slots=True)
class OutboundOptions:
    """`[tool.pyarch-lint.outbound]`: what PA601 checks beyond requests, urllib and httpx."""

    SECTION: ClassVar[str] = "outbound"

    check_aiohttp: bool = field(
        default=False,
        metadata={
            "help": "PA601: also report `aiohttp.ClientSession(...)` and `aiohttp.request(...)` "
            "without `timeout=` (aiohttp's default gives up after five minutes)."
        },
    )


@dataclass(frozen=True, slots=True)
class OperationsOptions:
    """`[tool.pyarch-lint.operations]`, shared by the PA6xx rules."""

    SECTION: ClassVar[str] = "operations"

    extend_sql_sinks: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "PA602: more calls whose first argument is SQL: `.name` for a method of any "
            "receiver (`.run_query`), or a fully qualified function (`mylib.db.raw`)."
        },
    )
    sql_constant_hints: bool = field(
        default=True,
        metadata={
            "help": "PA602: also report SQL whose only interpolated values are module-level "
            "string constants (table or column names), with a hint to compose identifiers "
            "with the driver instead."
        },
    )
    print_allowed: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "PA606: modules where `print()` is the intended output, by dotted name "
            "(`mypkg.cli` also allows `mypkg.cli.*`), matched against the file's path from "
            "any folder down (`src/mypkg/cli.py` is `mypkg.cli`)."
        },
    )

    def __post_init__(self) -> None:
        for sink in self.extend_sql_sinks:
            if not _DOTTED_NAME.fullmatch(sink.removeprefix(".")):
                raise ValueError(
                    f"`extend-sql-sinks`: {sink!r} is not a sink (expected `.method` or a "
                    "dotted function name such as `mylib.db.raw`)"
                )
        for module in self.print_allowed:
            if not _DOTTED_NAME.fullmatch(module):
                raise ValueError(
                    f"`print-allowed`: {module!r} is not a dotted module name (e.g. `mypkg.cli`)"
                )

    def allows_print_in(self, path: str) -> bool:
        """Is the file at `path` (`/`-separated) an entry point, where printing is its job:
        `__main__.py`, `setup.py`, `noxfile.py`, `manage.py`, a test (`test_*.py`, `*_test.py`,
        `conftest.py`, a `tests`/`test` folder), a script (in `scripts`, `bin`, `examples` or
        `docs`), or a module in `print-allowed`?"""
        parts = path.split("/")
        name = parts[-1]
        if name in _ENTRY_POINT_FILES or name.startswith("test_"):
            return True
        if name.removesuffix(".pyi").removesuffix(".py").endswith("_test"):
            return True
        if _ENTRY_POINT_FOLDERS.intersection(parts[:-1]):
            return True
        if not self.print_allowed:
            return False
        stem = name.partition(".")[0]
        segments = [*parts[:-1]] if stem == "__init__" else [*parts[:-1], stem]
        dotted = "." + ".".join(segments) + "."
        return any(f".{module}." in dotted for module in self.print_allowed)


# Files that are run, never imported by an application.
_ENTRY_POINT_FILES = frozenset(
    {"__main__.py", "conftest.py", "setup.py", "noxfile.py", "manage.py"}
)
# Folders whose files are run rather than imported by an application: tests, scripts, examples
# and documentation code, whose output is what they print.
_ENTRY_POINT_FOLDERS = frozenset({"tests", "test", "scripts", "bin", "examples", "docs"})


@dataclass(frozen=True, slots=True)
class NoqaOptions:
    """`[tool.pyarch-lint.noqa]`: what PA004 judges."""

    SECTION: ClassVar[str] = "noqa"
    check_bare: bool = field(
        default=False,
        metadata={
            "help": "PA004: also report a bare noqa comment that hides none of our findings "
            "(other tools read it too)."
        },
    )


# Where pytest and unittest code lives, as gitignore-style patterns: test modules read the
# environment and keep module state on purpose, and a test class is no design to judge.
TEST_MODULES = ("tests/", "test/", "test_*.py", "*_test.py", "tests.py", "conftest.py")


@dataclass(frozen=True, slots=True)
class EnvironmentOptions:
    """`[tool.pyarch-lint.environment]`: where PA503 lets code read the environment."""

    SECTION: ClassVar[str] = "environment"
    config_modules: tuple[str, ...] = field(
        default=(
            "settings.py",
            "settings/",
            "*_settings.py",
            "settings_*.py",
            "config.py",
            "config/",
            "configs/",
            "*_config.py",
            "config_*.py",
            "conf.py",
            "*.conf.py",
            "conf/",
            "configuration.py",
            "env.py",
            "__main__.py",
            "manage.py",
            "cli.py",
            "**/management/commands/",
            "setup.py",
            "noxfile.py",
            *TEST_MODULES,
            "scripts/",
            "bin/",
        ),
        metadata={
            "help": "PA503: gitignore-style patterns (relative to the project root) of the "
            "modules where reading the environment is their job: settings and config modules, "
            "entry points, tests and scripts. Setting the key replaces the defaults."
        },
    )
    extend_config_modules: tuple[str, ...] = field(
        default=(),
        metadata={"help": "PA503: more configuration-module patterns, on top of the defaults."},
    )
    allowed_variables: tuple[str, ...] = field(
        default=(
            "NO_COLOR",
            "FORCE_COLOR",
            "CLICOLOR",
            "CLICOLOR_FORCE",
            "TERM",
            "COLORTERM",
            "COLUMNS",
            "LINES",
            "PATH",
            "PATHEXT",
            "HOME",
            "USERPROFILE",
            "USER",
            "USERNAME",
            "LOGNAME",
            "SHELL",
            "EDITOR",
            "VISUAL",
            "PAGER",
            "PWD",
            "TMPDIR",
            "TEMP",
            "TMP",
            "LANG",
            "LANGUAGE",
            "LC_ALL",
            "LC_CTYPE",
            "TZ",
            "APPDATA",
            "LOCALAPPDATA",
            "SYSTEMROOT",
            "COMSPEC",
            "XDG_CONFIG_HOME",
            "XDG_CACHE_HOME",
            "XDG_DATA_HOME",
            "XDG_STATE_HOME",
            "XDG_RUNTIME_DIR",
            "DISPLAY",
            "CI",
            "VIRTUAL_ENV",
            "PYTHONPATH",
        ),
        metadata={
            "help": "PA503: variables any module may read: the terminal's, the user's and the "
            "platform's (`NO_COLOR`, `PATH`, `HOME`, ...). Setting the key replaces the defaults."
        },
    )

    def __post_init__(self) -> None:
        for pattern in (*self.config_modules, *self.extend_config_modules):
            _check_gitignore_pattern(pattern)


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """`[tool.pyarch-lint.clients]`: what PA504 counts as a heavy client."""

    SECTION: ClassVar[str] = "clients"
    extend_clients: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "PA504: more client classes or factories, by fully qualified dotted name "
            '(`"stripe.StripeClient"`), on top of the built-in ones.'
        },
    )

    def __post_init__(self) -> None:
        for name in self.extend_clients:
            if not _DOTTED_NAME.fullmatch(name) or "." not in name:
                raise ValueError(
                    f"{name!r} is not a qualified dotted name (expected e.g. `mylib.ApiClient`)"
                )


@dataclass(frozen=True, slots=True)
class ClassOptions:
    """`[tool.pyarch-lint.classes]`: when PA505 calls a class large."""

    SECTION: ClassVar[str] = "classes"
    min_methods: int = field(
        default=15,
        metadata={"help": "PA505: a class defining at least this many methods is large."},
    )
    min_attributes: int = field(
        default=12,
        metadata={
            "help": "PA505: a class whose `__init__` assigns at least this many instance "
            "attributes (`self.x = ...`) is large."
        },
    )

    def __post_init__(self) -> None:
        for option in fields(self):
            if getattr(self, option.name) < 1:
                raise ValueError(f"`{option.name.replace('_', '-')}` must be 1 or more")


@dataclass(frozen=True, slots=True)
class ModuleStateOptions:
    """`[tool.pyarch-lint.module-state]`: which module-level names PA506 leaves alone."""

    SECTION: ClassVar[str] = "module-state"
    registries: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "PA506: module-level names that are registries, filled by functions on "
            'purpose; shell-style patterns allowed (`"*_REGISTRY"`).'
        },
    )


def _check_gitignore_pattern(pattern: str) -> None:
    try:
        pathspec.PathSpec.from_lines("gitignore", [pattern])
    except ValueError as error:  # `!` alone, a lone trailing backslash
        raise ValueError(f"{pattern!r} is not a gitignore pattern ({error})") from None


# A module expression of a contract, as import-linter writes them: dotted names where a whole
# part may be `*` (one name) or `**` (one or more names).
_MODULE_EXPRESSION = re.compile(r"(?:\w+|\*{1,2})(?:\.(?:\w+|\*{1,2}))*")
# A layer: one module, or siblings separated by `|` (independent) or `:` (they may import each
# other); each may be wrapped in parentheses (optional: absent in a container is fine).
_LAYER_ITEM = re.compile(r"\(?\w+(?:\.\w+)*\)?")

ContractType = Literal["layers", "forbidden", "independence"]
# The keys each type of contract takes besides those all take.
_CONTRACT_KEYS: dict[str, tuple[str, ...]] = {
    "layers": ("layers", "containers"),
    "forbidden": ("source_modules", "forbidden_modules"),
    "independence": ("modules",),
}


def _check_expression(key: str, expression: str, wildcards: bool = True) -> None:
    if (
        not _MODULE_EXPRESSION.fullmatch(expression)
        or ".**.**" in f".{expression}"
        or (not wildcards and "*" in expression)
    ):
        kind = "a module name or pattern" if wildcards else "a module name"
        raise ValueError(
            f"`{key}`: {expression!r} is not {kind} (expected e.g. `app.domain`"
            + (", `app.*` or `app.**.models`)" if wildcards else ")")
        )


@dataclass(frozen=True, slots=True)
class Contract:
    """One `[[tool.pyarch-lint.architecture.contracts]]` table (PA502), in import-linter's
    vocabulary. The keys of the other types of contract are None."""

    name: str = ""
    type: ContractType = "layers"
    layers: tuple[str, ...] | None = None  # high to low
    containers: tuple[str, ...] | None = None
    source_modules: tuple[str, ...] | None = None
    forbidden_modules: tuple[str, ...] | None = None
    modules: tuple[str, ...] | None = None
    ignore_imports: tuple[str, ...] = ()
    hint: str = ""
    transitive: bool | None = None  # None: the architecture table's `transitive`

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("`name` is required: a contract is reported by its name")
        self._check_keys()
        for layer in self.layers or ():
            _check_layer(layer)
        for key in ("containers", "source_modules", "forbidden_modules", "modules"):
            for expression in getattr(self, key) or ():
                _check_expression(key.replace("_", "-"), expression)
        for entry in self.ignore_imports:
            importer, arrow, imported = entry.partition("->")
            if not arrow:
                raise ValueError(
                    f"`ignore-imports`: {entry!r} is not an import "
                    "(expected `importer -> imported`)"
                )
            _check_expression("ignore-imports", importer.strip())
            _check_expression("ignore-imports", imported.strip())

    def _check_keys(self) -> None:
        """Its type's keys are given (`containers` is optional), no other type's."""
        wanted = _CONTRACT_KEYS[self.type]
        for key in ("layers", "containers", "source_modules", "forbidden_modules", "modules"):
            given = getattr(self, key)
            kebab = key.replace("_", "-")
            if given is not None and key not in wanted:
                takes = " and ".join(f"`{k.replace('_', '-')}`" for k in wanted)
                raise ValueError(f"`{kebab}`: a {self.type} contract takes {takes}, not `{kebab}`")
            if key == "containers":
                continue
            if given is None and key in wanted:
                raise ValueError(f"`{kebab}` is required in a {self.type} contract")
            if given is not None and not given:
                raise ValueError(f"`{kebab}` must name at least one module")


def _check_layer(layer: str) -> None:
    if "|" in layer and ":" in layer:
        raise ValueError(f"`layers`: {layer!r} mixes `|` and `:`; use one separator")
    for item in re.split(r"[|:]", layer):
        if not _LAYER_ITEM.fullmatch(item.strip()):
            raise ValueError(
                f"`layers`: {layer!r} is not a layer (expected a module name, or siblings "
                "`a | b` (independent) or `a : b`, each optionally in `( )`)"
            )


@dataclass(frozen=True, slots=True)
class ArchitectureOptions:
    """`[tool.pyarch-lint.architecture]`: how files map to modules, and the options of PA501
    (import cycles) and PA502 (contracts)."""

    SECTION: ClassVar[str] = "architecture"
    source_roots: tuple[str, ...] = field(
        default=(".", "src"),
        metadata={
            "help": "PA501, PA502: folders, relative to the project root, that module names "
            "start from (`src/app/db.py` is `app.db`); a file takes the deepest root it is under."
        },
    )
    cycles_count_function_imports: bool = field(
        default=False,
        metadata={
            "help": "PA501: imports inside a function (run when it is called, not when the "
            "module loads) count as edges of a cycle."
        },
    )
    cycles_ignore_init_imports: bool = field(
        default=False,
        metadata={
            "help": "PA501: a package's `__init__` importing its own submodules (re-exports) is "
            "no edge of a cycle."
        },
    )
    exclude_type_checking_imports: bool = field(
        default=False,
        metadata={
            "help": "PA502: imports under `if TYPE_CHECKING:` break no contract (as "
            "import-linter's option of that name; PA501 never counts them)."
        },
    )
    transitive: bool = field(
        default=False,
        metadata={
            "help": "PA502: a contract's default for its own `transitive`: also report an import "
            "that reaches a forbidden module through other modules, with the chain."
        },
    )
    contracts: tuple[Contract, ...] = field(
        default=(),
        metadata={
            "help": "PA502: the contracts, each a `[[tool.pyarch-lint.architecture.contracts]]` "
            "table with `name`, `type` (layers, forbidden, independence) and its keys."
        },
    )

    def __post_init__(self) -> None:
        for root in self.source_roots:
            parts = root.replace("\\", "/").split("/")
            if root.startswith("/") or ".." in parts or not root:
                raise ValueError(
                    f"`source-roots`: {root!r} is not a folder inside the project (expected a "
                    'relative path such as "src" or ".")'
                )


def option_help(option: Field[Any]) -> str:
    """What a key does, in one line ("" when an options class does not say)."""
    text: str = option.metadata.get("help", "")
    return text
