"""The asyncio rules' catalogue: which callables block, and what to use instead. Data only.

Every key is a fully qualified dotted name, as the rules resolve it through imports
(`from time import sleep as nap; nap()` is `time.sleep`); builtins are `builtins.<name>`. The
value is the alternative shown in the finding's message. `rules/PA401-blocking-call-in-async.md`
lists the same table; a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType


def _group(names: Iterable[str], alternative: str) -> dict[str, str]:
    return dict.fromkeys(names, alternative)


def _under(module: str, names: str) -> list[str]:
    return [f"{module}.{name}" for name in names.split()]


_SLEEP = "`await asyncio.sleep(...)`"
_HTTP = "an async HTTP client: `httpx.AsyncClient` or `aiohttp.ClientSession`"
_HTTPX = "`httpx.AsyncClient` (`async with httpx.AsyncClient() as client: await client.get(...)`)"
_PROCESS = "`await asyncio.create_subprocess_exec(...)` (or `anyio.run_process`)"
_WAIT = "`await process.wait()` on an `asyncio.subprocess.Process`, or `asyncio.to_thread`"
_CONNECT = "`await asyncio.open_connection(...)`"
_DNS = "`await asyncio.get_running_loop().getaddrinfo(...)`"
_NAMEINFO = "`await asyncio.get_running_loop().getnameinfo(...)`"
_INPUT = "`await asyncio.to_thread(input, ...)` (or read stdin with a `StreamReader`)"
_THREAD = "`await asyncio.to_thread(...)`"
_HTTPX2 = (
    "`httpx2.AsyncClient` (`async with httpx2.AsyncClient() as client: await client.get(...)`)"
)
_FILE = "`await asyncio.to_thread(...)`, `anyio.open_file`/`anyio.Path`, or aiofiles"

# PA401 blocking-call-in-async.
BLOCKING_CALLS: Mapping[str, str] = MappingProxyType(
    {
        "time.sleep": _SLEEP,
        "builtins.input": _INPUT,
        **_group(
            _under("requests", "get post put patch delete head options request Session session"),
            _HTTP,
        ),
        "requests.sessions.Session": _HTTP,
        **_group(_under("urllib.request", "urlopen urlretrieve"), _HTTP),
        **_group(_under("http.client", "HTTPConnection HTTPSConnection"), _HTTP),
        **_group(_under("httpx", "get post put patch delete head options request stream"), _HTTPX),
        "httpx.Client": "`httpx.AsyncClient`",
        **_group(
            _under("httpx2", "get post put patch delete head options request stream"), _HTTPX2
        ),
        "httpx2.Client": "`httpx2.AsyncClient`",
        **_group(
            _under(
                "urllib3",
                "PoolManager ProxyManager HTTPConnectionPool HTTPSConnectionPool "
                "connection_from_url request",
            ),
            _HTTP,
        ),
        **_group(
            _under("subprocess", "run call check_call check_output getoutput getstatusoutput"),
            _PROCESS,
        ),
        "subprocess.Popen": _PROCESS,
        "os.system": "`await asyncio.create_subprocess_shell(...)`",
        "os.popen": "`await asyncio.create_subprocess_shell(..., stdout=PIPE)`",
        # A file object over a descriptor: reading it blocks like `open()`'s (PA402).
        "os.fdopen": _FILE,
        **_group(_under("os", "wait wait3 wait4 waitid waitpid"), _WAIT),
        **_group(
            _under(
                "os",
                "spawnl spawnle spawnlp spawnlpe spawnv spawnve spawnvp spawnvpe "
                "posix_spawn posix_spawnp",
            ),
            _PROCESS,
        ),
        "socket.create_connection": _CONNECT,
        **_group(
            _under("socket", "getaddrinfo gethostbyname gethostbyname_ex gethostbyaddr getfqdn"),
            _DNS,
        ),
        "socket.getnameinfo": _NAMEINFO,
        "sqlite3.connect": "`aiosqlite.connect(...)` or `asyncio.to_thread`",
        "psycopg2.connect": "`await psycopg.AsyncConnection.connect(...)` or asyncpg",
        "psycopg.connect": "`await psycopg.AsyncConnection.connect(...)`",
        "psycopg.Connection.connect": "`await psycopg.AsyncConnection.connect(...)`",
        **_group(
            [*_under("pymysql", "connect Connect"), *_under("MySQLdb", "connect Connect")],
            "`await aiomysql.connect(...)` or `asyncmy.connect(...)`",
        ),
        "mysql.connector.connect": "`await aiomysql.connect(...)` or `asyncmy.connect(...)`",
        **_group(
            [
                *_under("redis", "Redis StrictRedis from_url"),
                *_under("redis.Redis", "from_url"),
                *_under("redis.StrictRedis", "from_url"),
                "redis.client.Redis",
            ],
            "`redis.asyncio.Redis`",
        ),
        **_group(
            ["pymongo.MongoClient", "pymongo.mongo_client.MongoClient"],
            "`pymongo.AsyncMongoClient` or motor's `AsyncIOMotorClient`",
        ),
        **_group(_under("smtplib", "SMTP SMTP_SSL"), "`aiosmtplib.SMTP`"),
        **_group(_under("ftplib", "FTP FTP_TLS"), "aioftp's `Client`, or `asyncio.to_thread`"),
    }
)


@dataclass(frozen=True, slots=True)
class Client:
    """A sync client class: its methods that wait for the network or the disk, and what to use
    instead."""

    methods: frozenset[str]
    alternative: str


def _client(methods: str, alternative: str) -> Client:
    return Client(frozenset(methods.split()), alternative)


_HTTP_METHODS = "request get post put patch delete head options send"
_POOL = _client("request urlopen request_encode_url request_encode_body", _HTTP)
_SMTP = _client(
    "connect login starttls ehlo helo sendmail send_message quit noop verify", "`aiosmtplib.SMTP`"
)
_FTP = _client(
    "connect login cwd nlst dir mlsd retrbinary retrlines storbinary storlines quit",
    "aioftp's `Client`, or `asyncio.to_thread`",
)

# PA401 on method calls: the clients whose instances block on every request, by class, checked
# when the receiver visibly is one (built in the coroutine, a parameter annotated with the
# class, `self.x` assigned one in any method, a module-level client).
BLOCKING_CLIENTS: Mapping[str, Client] = MappingProxyType(
    {
        "requests.Session": _client(_HTTP_METHODS, _HTTP),
        "httpx.Client": _client(_HTTP_METHODS + " stream", "`httpx.AsyncClient`"),
        "httpx2.Client": _client(_HTTP_METHODS + " stream", "`httpx2.AsyncClient`"),
        **dict.fromkeys(
            _under("urllib3", "PoolManager ProxyManager HTTPConnectionPool HTTPSConnectionPool"),
            _POOL,
        ),
        **dict.fromkeys(
            _under("http.client", "HTTPConnection HTTPSConnection"),
            _client("request getresponse connect endheaders send", _HTTP),
        ),
        **dict.fromkeys(_under("smtplib", "SMTP SMTP_SSL"), _SMTP),
        **dict.fromkeys(_under("ftplib", "FTP FTP_TLS"), _FTP),
        "sqlite3.Connection": _client(
            "execute executemany executescript commit rollback backup",
            "`aiosqlite.connect(...)` or `asyncio.to_thread`",
        ),
        "redis.Redis": _client(
            "get set delete exists expire incr decr mget mset hget hset hgetall hdel lpush rpush "
            "lpop rpop blpop brpop lrange sadd srem smembers publish keys scan ping "
            "execute_command",
            "`redis.asyncio.Redis`",
        ),
    }
)

# Other names of those classes, and calls that return an instance of one (the constructors
# themselves need no entry: calling a class gives an instance).
CLIENT_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "requests.session": "requests.Session",
        "requests.sessions.Session": "requests.Session",
        "requests.sessions.session": "requests.Session",
        "urllib3.poolmanager.PoolManager": "urllib3.PoolManager",
        "urllib3.connection_from_url": "urllib3.HTTPConnectionPool",
        "urllib3.PoolManager.connection_from_url": "urllib3.HTTPConnectionPool",
        **dict.fromkeys(
            ["redis.StrictRedis", "redis.client.Redis", "redis.client.StrictRedis"], "redis.Redis"
        ),
        **dict.fromkeys(
            _under("redis", "from_url Redis.from_url StrictRedis.from_url"), "redis.Redis"
        ),
        "sqlite3.connect": "sqlite3.Connection",
    }
)

# What calls of known names give (`class_of`'s results): the aliases above, and entering a
# client (`with requests.Session() as s`, `async with httpx.AsyncClient() as c`) gives itself.
CLIENT_RESULTS: Mapping[str, str] = MappingProxyType(
    {
        **CLIENT_ALIASES,
        **{
            f"{cls}.__enter__": cls
            for cls in [
                *BLOCKING_CLIENTS,
                "httpx.AsyncClient",
                "httpx2.AsyncClient",
                "aiohttp.ClientSession",
            ]
        },
    }
)

# PA402 blocking-file-io-in-async: functions that open a file, and `pathlib.Path` methods that
# read or write one (checked when the receiver is visibly a Path).
BLOCKING_FILE_CALLS: Mapping[str, str] = MappingProxyType(
    {
        **_group(["builtins.open", "io.open", "io.open_code", "codecs.open"], _FILE),
        **_group(["gzip.open", "bz2.open", "lzma.open"], _FILE),
        **_group(
            _under("pathlib.Path", "open read_text read_bytes write_text write_bytes"),
            "`await anyio.Path(...).read_text()` and friends, or `asyncio.to_thread`",
        ),
    }
)

# Classes whose instances are concrete paths (what "visibly a Path" means), the classmethods
# and methods that return another one, and the attribute that does.
PATH_CLASSES = frozenset({"pathlib.Path", "pathlib.PosixPath", "pathlib.WindowsPath"})
PATH_FACTORIES = frozenset(f"{cls}.{method}" for cls in PATH_CLASSES for method in ("home", "cwd"))
PATH_RETURNING_METHODS = frozenset(
    {"resolve", "absolute", "expanduser", "joinpath", "with_name", "with_stem", "with_suffix"}
    | {"relative_to"}
)
PATH_ATTRIBUTES = frozenset({"parent"})

# PA403 and PA404: what produces an event loop, and what a loop is annotated as.
_GET_LOOP = "get_running_loop get_event_loop new_event_loop"
LOOP_FACTORIES = frozenset(
    [*_under("asyncio", _GET_LOOP), *_under("asyncio.events", _GET_LOOP), "uvloop.new_event_loop"]
)
LOOP_CLASSES = frozenset(
    {"asyncio.AbstractEventLoop", "asyncio.BaseEventLoop", "asyncio.events.AbstractEventLoop"}
    | {"uvloop.Loop"}
)

# PA403 dangling-task: functions whose returned task the loop holds only weakly.
TASK_FACTORIES = frozenset(
    module + "." + function
    for module in ("asyncio", "asyncio.tasks")
    for function in ("create_task", "ensure_future")
)

# PA404 nested-event-loop: functions that start an event loop and run it to completion.
LOOP_RUNNERS = frozenset(
    ["asyncio.run", "asyncio.runners.run", "anyio.run", "trio.run", "uvloop.run"]
)

# Alternative shown for a user-added entry (`extend-blocking-calls`) given without one.
DEFAULT_ALTERNATIVE = _THREAD + " or an async library"

# PA405 sync-lock-in-async: thread locks, whose waiting blocks the whole event loop. A name
# called to make one (the multiprocessing factories, `_thread.allocate_lock`) gives its class.
THREAD_LOCKS = frozenset(
    _under("threading", "Lock RLock Semaphore BoundedSemaphore Condition")
    + _under("multiprocessing", "Lock RLock Semaphore BoundedSemaphore Condition")
    + ["_thread.LockType", "_thread.lock", "_thread.RLock"]
)
THREAD_LOCK_RESULTS: Mapping[str, str] = MappingProxyType(
    {"_thread.allocate_lock": "_thread.LockType", "_thread.allocate": "_thread.LockType"}
)

# PA406 swallowed-cancellation: the exceptions that cancel a task. Unlike
# `concurrent.futures.CancelledError` (an `Exception` since Python 3.8) they must propagate.
CANCELLATION = frozenset(
    {"asyncio.CancelledError", "asyncio.exceptions.CancelledError", "trio.Cancelled"}
)
# Waits on tasks that end as their tasks do: awaiting one on a cancelled task raises its
# CancelledError, the expected outcome.
TASK_WAITERS = frozenset(
    f"{module}.{name}"
    for module in ("asyncio", "asyncio.tasks")
    for name in ("wait_for", "gather", "shield")
)
# A call whose result is the cancellation class of the running framework.
CANCELLATION_FACTORIES = frozenset({"anyio.get_cancelled_exc_class"})
