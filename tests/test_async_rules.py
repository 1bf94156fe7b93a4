"""PA401-PA404: options, the catalogue, and name-resolution edge cases the fixtures do not show."""

from __future__ import annotations

import re
import textwrap

import pytest

from pyarch_lint.catalogue import load_catalogue
from pyarch_lint.checks.blocking_calls import BLOCKING_CALLS
from pyarch_lint.config import ConfigError, settings_from_toml
from pyarch_lint.engine import check_source
from pyarch_lint.findings import Finding, Severity


def _findings(code: str, source: str, config: str = "") -> list[Finding]:
    settings = settings_from_toml(f'select = ["{code}"]\n{config}')
    found = check_source(textwrap.dedent(source).encode(), "example.py", settings)
    return [f for f in found if f.code == code]


def _lines(code: str, source: str, config: str = "") -> list[int]:
    return [f.line for f in _findings(code, source, config)]


# --- options -----------------------------------------------------------------------------------

EXTENDED = """\
import boto3
from legacy import fetch_all


async def sync_bucket():
    boto3.client("s3")
    fetch_all()
"""


def test_extend_blocking_calls_adds_names_with_their_alternative() -> None:
    assert _lines("PA401", EXTENDED) == []
    config = (
        '[async]\nextend-blocking-calls = { "boto3.client" = "aioboto3", "legacy.fetch_all" = "" }'
    )
    found = _findings("PA401", EXTENDED, config)
    assert [f.line for f in found] == [6, 7]
    assert found[0].message.endswith("use aioboto3")
    assert "asyncio.to_thread" in found[1].message  # the generic advice for an empty text


SLEEPY = """\
import subprocess
import time


async def tick():
    time.sleep(1)
    subprocess.run(["true"])
    input()
"""


def test_allowed_blocking_calls_removes_exact_names() -> None:
    assert _lines("PA401", SLEEPY) == [6, 7, 8]
    config = '[async]\nallowed-blocking-calls = ["time.sleep", "builtins.input"]'
    assert _lines("PA401", SLEEPY, config) == [7]


def test_allowed_blocking_calls_removes_a_module_on_dotted_boundaries_only() -> None:
    assert _lines("PA401", SLEEPY, '[async]\nallowed-blocking-calls = ["subprocess"]') == [6, 8]
    assert _lines("PA401", SLEEPY, '[async]\nallowed-blocking-calls = ["sub", "time.sl"]') == [
        6,
        7,
        8,
    ]


def test_allowed_blocking_calls_wins_over_extend() -> None:
    config = (
        '[async]\nextend-blocking-calls = { "boto3.client" = "" }\n'
        'allowed-blocking-calls = ["boto3"]'
    )
    assert _lines("PA401", EXTENDED, config) == []


FILES = """\
from pathlib import Path


async def load(name):
    open(name)
    Path(name).read_text()
    Path(name).write_text("x")
"""


def test_allowed_blocking_calls_applies_to_file_io() -> None:
    assert _lines("PA402", FILES) == [5, 6, 7]
    config = '[async]\nallowed-blocking-calls = ["builtins.open", "pathlib.Path.read_text"]'
    assert _lines("PA402", FILES, config) == [7]
    assert _lines("PA402", FILES, '[async]\nallowed-blocking-calls = ["pathlib.Path"]') == [5]


@pytest.mark.parametrize("name", ["time..sleep", "requests.get()", "", "my lib.fetch"])
@pytest.mark.parametrize("key", ["allowed-blocking-calls", "extend-blocking-calls"])
def test_a_name_that_is_not_dotted_is_a_configuration_error(key: str, name: str) -> None:
    value = f'["{name}"]' if key.startswith("allowed") else f'{{ "{name}" = "" }}'
    with pytest.raises(ConfigError, match="not a dotted name"):
        settings_from_toml(f"[async]\n{key} = {value}")


# --- the catalogue -----------------------------------------------------------------------------

# Everything issue 3 asks for, spelled out (the `*` families expanded).
REQUIRED = [
    "time.sleep",
    "requests.get",
    "requests.post",
    "requests.put",
    "requests.patch",
    "requests.delete",
    "requests.head",
    "requests.options",
    "requests.request",
    "requests.Session",
    "urllib.request.urlopen",
    "http.client.HTTPConnection",
    "http.client.HTTPSConnection",
    "httpx.get",
    "httpx.post",
    "httpx.put",
    "httpx.patch",
    "httpx.delete",
    "httpx.head",
    "httpx.options",
    "httpx.request",
    "httpx.Client",
    "urllib3.PoolManager",
    "urllib3.request",
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
    "subprocess.Popen",
    "os.system",
    "os.popen",
    "os.wait",
    "os.wait3",
    "os.wait4",
    "os.waitid",
    "os.waitpid",
    "os.spawnl",
    "os.spawnle",
    "os.spawnlp",
    "os.spawnlpe",
    "os.spawnv",
    "os.spawnve",
    "os.spawnvp",
    "os.spawnvpe",
    "os.posix_spawn",
    "os.posix_spawnp",
    "socket.create_connection",
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyname_ex",
    "builtins.input",
    "sqlite3.connect",
    "psycopg2.connect",
    "psycopg.connect",
    "pymysql.connect",
    "MySQLdb.connect",
    "redis.Redis",
    "redis.StrictRedis",
    "pymongo.MongoClient",
    "smtplib.SMTP",
    "ftplib.FTP",
]


def test_catalogue_covers_the_issue() -> None:
    assert sorted(set(REQUIRED) - set(BLOCKING_CALLS)) == []


def test_every_catalogue_entry_is_in_the_document() -> None:
    text = load_catalogue()["PA401"].text
    documented = set(re.findall(r"`([\w.]+)`", text))
    assert sorted(set(BLOCKING_CALLS) - documented) == []


@pytest.mark.parametrize("name", sorted(BLOCKING_CALLS))
def test_every_catalogue_entry_is_flagged_through_an_import(name: str) -> None:
    module, _, attribute = name.rpartition(".")
    if module == "builtins":
        call = f"{attribute}()"
        header = ""
    else:
        call = f"alias.{attribute}()"
        header = f"import {module} as alias"
    source = f"{header}\n\n\nasync def handler():\n    {call}\n"
    found = _findings("PA401", source)
    assert [f.line for f in found] == [5]
    assert BLOCKING_CALLS[name] in found[0].message


# --- resolution and scopes ---------------------------------------------------------------------


def test_message_names_the_call_as_written_and_as_resolved() -> None:
    source = """\
    from time import sleep as nap


    async def pause():
        nap(1)
    """
    (finding,) = _findings("PA401", source)
    assert "`nap()` (`time.sleep`)" in finding.message
    assert "asyncio.sleep" in finding.message
    assert (finding.line, finding.column, finding.severity) == (5, 5, Severity.ERROR)


def test_imports_below_and_inside_module_level_blocks_count() -> None:
    source = """\
    import sys


    async def handler(url):
        requests.get(url)
        check_output(["ls"])


    if sys.version_info >= (3, 8):
        import requests
    try:
        from subprocess import check_output
    except ImportError:
        check_output = None
    """
    assert _lines("PA401", source) == [5, 6]


def test_closure_parameter_hides_the_import() -> None:
    source = """\
    from time import sleep


    def make_handler(sleep):
        async def handler():
            sleep(1)

        return handler


    async def uses_module_name():
        sleep(1)
    """
    assert _lines("PA401", source) == [12]


def test_a_class_attribute_does_not_hide_the_import_from_its_methods() -> None:
    source = """\
    from time import sleep


    class Worker:
        sleep = staticmethod(print)

        async def run(self):
            sleep(1)
            self.sleep(1)
    """
    assert _lines("PA401", source) == [8]


def test_global_declaration_reaches_the_module_import() -> None:
    source = """\
    import requests


    async def fetch_once(url):
        global requests
        response = requests.get(url)
        requests = None  # one shot: a second call fails loudly
        return response


    async def local_name(url):
        response = requests.get(url)
        requests = None
        return response
    """
    assert _lines("PA401", source) == [6]


def test_one_line_bodies_open_and_close_scopes() -> None:
    source = """\
    import time


    async def pause(): time.sleep(1)


    async def outer():
        def helper(): time.sleep(1)
        time.sleep(2)
    """
    assert _lines("PA401", source) == [4, 9]


def test_defaults_and_decorators_of_a_nested_def_run_in_the_async_body() -> None:
    source = """\
    import functools
    import time


    async def outer():
        @functools.lru_cache(maxsize=time.sleep(0))
        def helper(delay=time.sleep(1)):
            time.sleep(delay)

        return helper
    """
    assert _lines("PA401", source) == [6, 7]


def test_comprehension_inside_a_lambda_is_not_the_async_body() -> None:
    source = """\
    import asyncio
    import time


    async def outer(items):
        await asyncio.to_thread(lambda: [time.sleep(i) for i in items])
        [time.sleep(i) for i in items]
    """
    assert _lines("PA401", source) == [7]


def test_async_def_nested_in_sync_code_is_checked() -> None:
    source = """\
    import time


    class Service:
        def handlers(self):
            class Handler:
                async def get(self):
                    time.sleep(1)

            return Handler
    """
    assert _lines("PA401", source) == [8]


def test_noqa_suppresses_one_code() -> None:
    source = """\
    import time


    async def pause():
        time.sleep(1)  # noqa: PA401
        time.sleep(2)
    """
    assert _lines("PA401", source) == [6]


def test_path_kinds_follow_reassignment_and_refuse_mixed_bindings() -> None:
    source = """\
    from pathlib import Path


    async def load(path: Path, other, name):
        path = path.expanduser()
        path.read_text()
        other = Path(name) if name else other
        other.read_text()
        mixed = Path(name)
        if name:
            mixed = make_remote_path(name)
        mixed.read_text()
    """
    assert _lines("PA402", source) == [6]


def test_string_and_union_annotations_mark_a_path() -> None:
    source = """\
    import pathlib
    from typing import Optional, Union


    async def save(a: "pathlib.Path", b: Union[pathlib.Path, None], c: "Optional[str]", d: int):
        a.write_text("x")
        b.write_text("x")
        c.write_text("x")
        d.write_text("x")
    """
    assert _lines("PA402", source) == [6, 7]


def test_dangling_task_anywhere_but_not_on_a_task_group() -> None:
    source = """\
    import asyncio


    def on_message(loop: asyncio.AbstractEventLoop, group: asyncio.TaskGroup, coro):
        loop.create_task(coro)
        group.create_task(coro)
        runner = asyncio.new_event_loop()
        runner.create_task(coro)


    asyncio.create_task(main())
    """
    found = _findings("PA403", source)
    assert [f.line for f in found] == [5, 8, 11]
    assert found[0].severity is Severity.WARNING
    assert found[0].column == 5  # the statement, not just the call


def test_nested_event_loop_only_in_the_async_body() -> None:
    source = """\
    import asyncio


    async def refresh(loop):
        loop.run_until_complete(work())
        loop.run_forever()
        server.run_forever()

        def in_thread():
            asyncio.run(work())

        await asyncio.to_thread(in_thread)
    """
    assert _lines("PA404", source) == [5, 6]


def test_loop_with_and_except_targets_hide_imports() -> None:
    source = """\
    import time

    import httpx
    import requests


    async def crawl(urls, clocks):
        async with httpx.AsyncClient() as requests:
            await requests.get(urls[0])
        for time in clocks:
            time.sleep(1)


    async def retry(url):
        try:
            requests.get(url)
        except OSError as requests:
            print(requests)


    async def plain(url):
        requests.get(url)
    """
    assert _lines("PA401", source) == [22]


def test_self_attributes_assigned_a_path_or_a_loop_in_another_method() -> None:
    source = """\
    import asyncio
    from pathlib import Path


    class Store:
        def __init__(self, root, settings):
            self.root = Path(root)
            self.settings = settings
            self.runner = asyncio.new_event_loop()

        async def load(self):
            self.root.read_text()
            self.settings.read_text()
            self.runner.run_forever()
    """
    assert _lines("PA402", source) == [12]
    assert _lines("PA404", source) == [14]


def test_an_outbound_option_of_the_wrong_type_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="check-aiohttp"):
        settings_from_toml('[outbound]\ncheck-aiohttp = "yes"')


# --- PA405-PA406 and PA601 beyond the fixtures -------------------------------------------------


def test_a_bare_except_swallowing_a_cancellation_is_also_bare_and_broad() -> None:
    source = """\
    async def ping(send):
        try:
            await send()
        except:
            pass
    """
    settings = settings_from_toml('select = ["PA3", "PA4"]')
    found = check_source(textwrap.dedent(source).encode(), "example.py", settings)
    assert sorted((f.code, f.line) for f in found) == [("PA301", 4), ("PA302", 4), ("PA406", 4)]


def test_logging_satisfies_pa302_but_not_pa406() -> None:
    source = """\
    import logging

    async def ping(send):
        try:
            await send()
        except BaseException:
            logging.exception("ping failed")
    """
    settings = settings_from_toml('select = ["PA302", "PA406"]')
    found = check_source(textwrap.dedent(source).encode(), "example.py", settings)
    assert [(f.code, f.line) for f in found] == [("PA406", 6)]


def test_a_requests_call_in_a_coroutine_is_both_blocking_and_without_timeout() -> None:
    source = """\
    import requests

    async def fetch(url):
        return requests.get(url)
    """
    settings = settings_from_toml('select = ["PA401", "PA601"]')
    found = check_source(textwrap.dedent(source).encode(), "example.py", settings)
    assert sorted(f.code for f in found) == ["PA401", "PA601"]


def test_a_client_from_a_relative_import_or_a_project_factory_is_not_guessed() -> None:
    source = """\
    from .http import Session, make_session

    async def fetch(session: Session, url):
        make_session().get(url)
        session.get(url)
    """
    assert _lines("PA401", source) == []
    assert _lines("PA601", source) == []
