"""PA501 (import cycles) and PA502 (architecture contracts) over the import graph that every
file's facts give: module names from paths, edges as import-linter draws them, the cycles and
the contracts, their configuration, and the same findings whatever the order of the files."""

from __future__ import annotations

import ast
import random
import re
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, invoke

from pyarch_lint import api
from pyarch_lint.architecture import (
    build_graph,
    contract_findings,
    import_cycles,
    module_names,
    strongly_connected,
)
from pyarch_lint.checks.options import ArchitectureOptions
from pyarch_lint.config import ConfigError, settings_from_toml
from pyarch_lint.facts import FileFacts, facts_of
from pyarch_lint.files import split_lines

PROJECTS = FIXTURES / "architecture"
_MARKER = re.compile(r"#.*\b(PA5\d\d)\b(?:\s+@(\d+):(.*))?")


def facts(files: dict[str, str]) -> dict[str, FileFacts]:
    return {path: facts_of(ast.parse(text), split_lines(text)) for path, text in files.items()}


def marked(project: Path) -> dict[tuple[str, int, str], tuple[int, str] | None]:
    """The lines marked `# PA5xx`, each with the column and message a marker pins
    (`# PA501 @1: import cycle: ...`), if it does."""
    found: dict[tuple[str, int, str], tuple[int, str] | None] = {}
    for path in sorted(project.rglob("*.py")):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if match := _MARKER.search(line):
                exact = (int(match[2]), match[3].strip()) if match[2] else None
                found[(path.relative_to(project).as_posix(), number, match[1])] = exact
    return found


def lint(project: Path, *paths: str, jobs: int = 1) -> api.Checked:
    options = api.LintOptions(
        paths=tuple(Path(p) for p in paths), jobs=jobs, cache=False, escalate=False
    )
    return api.check(api.plan(options))


def test_each_project_rule_has_a_marker_that_pins_a_column_and_message() -> None:
    pinned = {
        code
        for project in PROJECTS.iterdir()
        if project.is_dir()
        for (_, _, code), exact in marked(project).items()
        if exact is not None
    }
    assert pinned == {"PA501", "PA502"}


@pytest.mark.parametrize("name", sorted(p.name for p in PROJECTS.iterdir() if p.is_dir()))
def test_mini_projects_report_exactly_the_marked_imports(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = PROJECTS / name
    monkeypatch.chdir(project)
    checked = lint(project)
    expected = marked(project)
    found = {(f.path, f.line, f.code): (f.column, f.message) for f in checked.findings}
    assert sorted(found) == sorted(expected), "\n".join(
        f"{f.path}:{f.line}: {f.message}" for f in checked.findings
    )
    for place, exact in expected.items():
        assert exact is None or found[place] == exact
    assert checked.crashes == ()
    assert checked.warnings == ()


def test_module_names_follow_the_deepest_source_root_or_else_the_packages() -> None:
    paths = [
        "src/app/__init__.py",
        "src/app/db.py",
        "tools/run.py",
        "app/stub.pyi",
        "dist-1.0/lib/__init__.py",
        "dist-1.0/lib/core.py",
        "dist-1.0/setup.py",
        "my-scripts/not-a-module.py",
        "/elsewhere/pkg/__init__.py",
        "/elsewhere/pkg/x.py",
    ]
    assert module_names(paths, (".", "src")) == {
        "/elsewhere/pkg/__init__.py": "pkg",  # outside the project root: by its packages too
        "/elsewhere/pkg/x.py": "pkg.x",
        "dist-1.0/lib/__init__.py": "lib",
        "dist-1.0/lib/core.py": "lib.core",
        "dist-1.0/setup.py": "setup",
        "src/app/__init__.py": "app",
        "src/app/db.py": "app.db",
        "tools/run.py": "tools.run",
    }
    assert module_names(["lib/app/db.py"], ("lib",)) == {"lib/app/db.py": "app.db"}


def edges_of(files: dict[str, str]) -> list[tuple[str, str, int, bool]]:
    graph = build_graph(facts(files), module_names(files, (".",)))
    return [(e.importer, e.imported, e.line, e.external) for e in graph.edges]


def test_imports_become_edges_as_import_linter_draws_them() -> None:
    files = {
        "pkg/__init__.py": "from . import sub\nfrom .sub import thing\nVALUE = 1\n",
        "pkg/sub/__init__.py": "from .. import VALUE\nfrom ..other import f\nfrom . import leaf\n",
        "pkg/sub/leaf.py": "from ... import pkg\nfrom .. import leaf\nimport pkg.sub.leaf.attr\n",
        "pkg/other.py": "import os.path\nfrom sqlalchemy.orm import Session\nfrom pkg import *\n",
    }
    assert edges_of(files) == [
        ("pkg", "pkg.sub", 1, False),  # `from . import sub` in a package's __init__
        ("pkg", "pkg.sub", 2, False),  # `from .sub import thing`: thing is no module
        ("pkg.other", "os.path", 1, True),
        ("pkg.other", "sqlalchemy.orm", 2, True),
        ("pkg.other", "pkg", 3, False),
        ("pkg.sub", "pkg", 1, False),
        ("pkg.sub", "pkg.other", 2, False),
        ("pkg.sub", "pkg.sub.leaf", 3, False),
        # `from ... import pkg` climbs above the top-level package: no edge
        ("pkg.sub.leaf", "pkg", 2, False),  # `from .. import leaf`: pkg.leaf is no module
        # `import pkg.sub.leaf.attr` imports the module itself: no edge
    ]


def test_strongly_connected_components_without_recursion() -> None:
    chain = {f"m{i:05}": [f"m{(i + 1) % 5000:05}"] for i in range(5000)}  # one cycle, 5000 deep
    assert [len(c) for c in strongly_connected(chain)] == [5000]
    graph = {"a": ["b"], "b": ["a", "c"], "c": ["d"], "d": ["c"], "e": ["e"]}
    assert strongly_connected(graph) == [["a", "b"], ["c", "d"]]  # a self-import is no cycle


CYCLES = {
    "app/__init__.py": "",
    "app/models.py": "from app.services import notify\n",
    "app/services.py": "from app.models import Order\nfrom app import audit\n",
    "app/audit.py": "import app.models\n",
    "app/views.py": "from app import models\n",
    "app/admin.py": "from app.models import Order\n",
}


def test_one_finding_per_cycle_at_the_import_against_the_grain() -> None:
    [finding] = import_cycles(facts(CYCLES), ArchitectureOptions())
    # app.models is what the rest of the project builds on (views and admin import it): its
    # import of app.services is the one to break; the shortest cycle through it is shown.
    assert (finding.path, finding.line, finding.column, finding.end_column) == (
        "app/models.py",
        1,
        1,
        len("from app.services import") + 1,
    )
    assert finding.message.startswith(
        "import cycle: app.models -> app.services -> app.models (the shortest through this "
        "import; 3 modules import each other in all); "
    )


def test_findings_do_not_depend_on_the_order_of_the_files() -> None:
    files = {**CYCLES, **{f"app/m{i}.py": f"from app import m{(i + 1) % 7}\n" for i in range(7)}}
    expected = import_cycles(facts(files), ArchitectureOptions())
    assert len(expected) == 2
    for seed in range(5):
        shuffled = list(files.items())
        random.Random(seed).shuffle(shuffled)
        assert import_cycles(facts(dict(shuffled)), ArchitectureOptions()) == expected


def contracts(files: dict[str, str], toml: str) -> tuple[list[tuple[str, int]], list[str]]:
    settings = settings_from_toml(toml)
    found, problems = contract_findings(facts(files), settings.rule_options[ArchitectureOptions])
    return [(f.path, f.line) for f in found], problems


LAYERED = {
    "app/__init__.py": "",
    "app/api.py": "from app import service\n",
    "app/service.py": "from app import repo\nfrom app import api\n",
    "app/repo.py": "from app.api import x\nfrom app.service import y\n",
    "app/cli.py": "from app import repo\n",
    "other/api.py": "from app import api\n",
}


def test_layers_high_to_low_and_the_kinds_of_siblings() -> None:
    toml = '[[architecture.contracts]]\nname = "c"\ntype = "layers"\nlayers = [{}]\n'
    strict = toml.format('"app.api", "app.service", "app.repo"')
    assert contracts(LAYERED, strict) == (
        [("app/repo.py", 1), ("app/repo.py", 2), ("app/service.py", 2)],
        [],
    )
    # siblings separated by `:` may import each other, by `|` may not
    assert contracts(LAYERED, toml.format('"app.api", "app.service : app.repo"'))[0] == [
        ("app/repo.py", 1),
        ("app/service.py", 2),
    ]
    assert contracts(LAYERED, toml.format('"app.api", "app.service | app.repo"'))[0] == [
        ("app/repo.py", 1),
        ("app/repo.py", 2),
        ("app/service.py", 1),
        ("app/service.py", 2),
    ]
    # an optional layer may be absent; a required one is reported
    assert contracts(LAYERED, toml.format('"app.api", "(app.web)", "app.service"')) == (
        [("app/service.py", 2)],
        [],
    )
    assert contracts(LAYERED, toml.format('"app.api", "app.web"'))[1] == [
        "architecture.contracts[0] (c): `layers` entry 'app.web' matches no module of the project"
    ]


def test_containers_repeat_the_layers_and_keep_them_apart() -> None:
    files = {
        "shop/a/high.py": "from shop.a import low\n",
        "shop/a/low.py": "from shop.a import high\nfrom shop.b import high\n",
        "shop/b/high.py": "",
        "shop/b/low.py": "from shop.b.high import x\n",
    }
    toml = (
        '[[architecture.contracts]]\nname = "c"\ntype = "layers"\nlayers = ["high", "low"]\n'
        'containers = ["shop.*"]\n'
    )
    assert contracts(files, toml) == ([("shop/a/low.py", 1), ("shop/b/low.py", 1)], [])


def test_forbidden_modules_include_other_packages_and_spare_overlaps() -> None:
    files = {
        "app/domain/model.py": "import sqlalchemy\nfrom sqlalchemy.orm import Session\n"
        "import sqlalchemy_utils\nfrom app.domain import rules\nfrom app import web\n",
        "app/domain/rules.py": "",
        "app/web.py": "",
    }
    toml = (
        '[[architecture.contracts]]\nname = "c"\ntype = "forbidden"\n'
        'source-modules = ["app.domain"]\nforbidden-modules = ["sqlalchemy", "app.*"]\n'
    )
    # app.domain itself matches `app.*`: the domain may import itself, not app.web
    assert contracts(files, toml) == (
        [("app/domain/model.py", 1), ("app/domain/model.py", 2), ("app/domain/model.py", 5)],
        [],
    )


def test_independence_and_ignore_imports_with_wildcards() -> None:
    files = {
        "plugins/a/core.py": "from plugins.b import api\nfrom plugins.c.deep import x\n",
        "plugins/b/api.py": "from plugins.a.core import y\n",
        "plugins/c/deep/__init__.py": "",
    }
    toml = (
        '[[architecture.contracts]]\nname = "c"\ntype = "independence"\nmodules = ["plugins.*"]\n'
        "ignore-imports = [{}]\n"
    )
    assert contracts(files, toml.format('"plugins.*.core -> plugins.c.**"')) == (
        [("plugins/a/core.py", 1), ("plugins/b/api.py", 1)],
        [],
    )
    # `**` is one name or more, `*` exactly one; an entry names modules, not packages: plugins.a
    # imports nothing (plugins.a.core does)
    ignored = '"plugins.** -> plugins.*.api", "plugins.a -> plugins.b"'
    assert contracts(files, toml.format(ignored)) == (
        [("plugins/a/core.py", 2), ("plugins/b/api.py", 1)],
        [
            "architecture.contracts[0] (c): `ignore-imports` entry 'plugins.a -> plugins.b' "
            "matches no import of the project"
        ],
    )


def test_transitive_contracts_report_the_first_import_of_the_chain() -> None:
    files = {
        "app/low.py": "from app import util\nfrom app import high\n",
        "app/util.py": "from app import helpers\n",
        "app/helpers.py": "from app import high\n",
        "app/high.py": "",
    }
    toml = (
        '[[architecture.contracts]]\nname = "c"\ntype = "layers"\n'
        'layers = ["app.high", "app.low"]\n'
    )
    assert contracts(files, toml)[0] == [("app/low.py", 2)]
    settings = settings_from_toml(toml + "transitive = true\n")
    found, _ = contract_findings(facts(files), settings.rule_options[ArchitectureOptions])
    assert [(f.line, f.message) for f in found] == [
        (
            1,
            "`app.low` imports `app.high` through app.low -> app.util -> app.helpers -> "
            "app.high: layer `app.low` is below `app.high` and must not import it (contract 'c').",
        ),
        (
            2,
            "`app.low` imports `app.high`: layer `app.low` is below `app.high` and must not "
            "import it (contract 'c').",
        ),
    ]


@pytest.mark.parametrize(
    ("toml", "error"),
    [
        (
            '[[architecture.contracts]]\nname = "c"\ntype = "layers"\nlayers = "a"\n',
            "`architecture.contracts[0].layers` must be a list of strings, got 'a'",
        ),
        (
            '[[architecture.contracts]]\nname = "c"\ntype = "layer"\nlayers = ["a"]\n',
            "`architecture.contracts[0].type` must be 'layers' or 'forbidden' or 'independence'",
        ),
        (
            '[[architecture.contracts]]\nname = "c"\ntype = "layers"\nlayer = ["a"]\n',
            "unknown key `architecture.contracts[0].layer`",
        ),
        (
            '[[architecture.contracts]]\ntype = "layers"\nlayers = ["a"]\n',
            "`architecture.contracts[0]`: `name` is required",
        ),
        (
            '[[architecture.contracts]]\nname = "c"\ntype = "forbidden"\nsource-modules = ["a"]\n',
            "`architecture.contracts[0]`: `forbidden-modules` is required in a forbidden contract",
        ),
        (
            '[[architecture.contracts]]\nname = "c"\ntype = "independence"\nmodules = ["a"]\n'
            'layers = ["b"]\n',
            "`layers`: a independence contract takes `modules`, not `layers`",
        ),
        (
            '[[architecture.contracts]]\nname = "c"\ntype = "layers"\nlayers = ["a | b : c"]\n',
            "mixes `|` and `:`",
        ),
        (
            '[[architecture.contracts]]\nname = "c"\ntype = "independence"\nmodules = ["a.b*"]\n',
            "`modules`: 'a.b*' is not a module name or pattern",
        ),
        (
            '[[architecture.contracts]]\nname = "c"\ntype = "independence"\nmodules = ["a"]\n'
            'ignore-imports = ["a > b"]\n',
            "'a > b' is not an import",
        ),
        (
            "[architecture]\ncontracts = [1]\n",
            "`architecture.contracts` must be an array of tables",
        ),
        (
            '[architecture]\nsource-roots = ["../lib"]\n',
            "'../lib' is not a folder inside the project",
        ),
    ],
)
def test_a_bad_contract_is_a_configuration_error_naming_the_key(toml: str, error: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(error)):
        settings_from_toml(toml)


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The `cycles` mini project, in a folder of its own (the working folder)."""
    shutil.copytree(PROJECTS / "cycles", tmp_path / "shop-project")
    monkeypatch.chdir(tmp_path / "shop-project")
    return tmp_path / "shop-project"


def test_named_files_are_checked_against_the_whole_project(shop: Path) -> None:
    result = invoke("--no-llm", "--no-cache", "--format", "concise", "shop/tax.py", "shop/cart.py")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "shop/tax.py:1:1: PA501 import cycle: shop.tax -> shop.cart -> shop.pricing -> shop.tax "
        "(3 modules); break it at this import: move what `shop.tax` needs from `shop.cart` into "
        "a module both can import, or invert the dependency"
    ]
    assert invoke("--no-llm", "--no-cache", "shop/cart.py").exit_code == 0


def test_a_noqa_comment_on_the_reported_import_silences_it(shop: Path) -> None:
    (shop / "shop" / "tax.py").write_text("from shop.cart import Cart  # noqa: PA501\n", "utf-8")
    result = invoke("--no-llm", "--no-cache", "--format", "concise", ".")
    assert "shop/tax.py" not in result.stdout
    assert result.stdout.count("PA501") == 3


def test_the_same_findings_with_any_job_count_cold_or_warm(shop: Path) -> None:
    runs = [
        invoke("--no-llm", "--no-cache", "--jobs", "1", "--format", "json", "."),
        invoke("--no-llm", "--no-cache", "--jobs", "2", "--format", "json", "."),
        invoke("--no-llm", "--format", "json", "."),
        invoke("--no-llm", "--jobs", "2", "--format", "json", "."),  # from the cache
    ]
    assert len({run.stdout for run in runs}) == 1
    assert runs[0].stdout.count('"PA501"') == 4


def test_contract_entries_that_match_nothing_are_warnings(shop: Path) -> None:
    with (shop / "pyproject.toml").open("a", encoding="utf-8") as config:
        config.write(
            '\n[[tool.pyarch-lint.architecture.contracts]]\nname = "apart"\n'
            'type = "independence"\nmodules = ["shop.a", "shop.nowhere"]\n'
            'ignore-imports = ["shop.x -> shop.y"]\n'
        )
    result = invoke("--no-llm", "--no-cache", "--select", "PA502", ".")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[:2] == [
        "pyarch-lint: warning: PA502 (layer-violation): architecture.contracts[0] (apart): "
        "`modules` entry 'shop.nowhere' matches no module of the project",
        "pyarch-lint: warning: PA502 (layer-violation): architecture.contracts[0] (apart): "
        "`ignore-imports` entry 'shop.x -> shop.y' matches no import of the project",
    ]
    bad = (shop / "pyproject.toml").read_text("utf-8").replace('name = "apart"\n', "")
    (shop / "pyproject.toml").write_text(bad, encoding="utf-8")
    failed = invoke("--no-llm", "--no-cache", ".")
    assert failed.exit_code == 2
    assert "`architecture.contracts[0]`: `name` is required" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_a_plain_import_of_its_own_package_is_no_edge_of_a_cycle() -> None:
    files = {
        "pkg/__init__.py": "from pkg.core import run\n__version__ = '1'\n",
        "pkg/core.py": "import pkg\nimport pkg._speedups\n\n\ndef run():\n    pass\n",
    }
    # the package is loading already when its module runs, and nothing is read from it
    assert import_cycles(facts(files), ArchitectureOptions()) == []
    files["pkg/core.py"] += "from pkg import __version__\n"
    [finding] = import_cycles(facts(files), ArchitectureOptions())
    assert (finding.path, finding.line) == ("pkg/core.py", 7)
