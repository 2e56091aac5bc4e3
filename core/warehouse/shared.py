"""The embedded warehouse shared with local processes while `bot` or `console` holds it.

DuckDB admits one process per file, so the process that holds the embedded warehouse also
serves it over Snowflake's own protocol (fakesnow's server routes) on 127.0.0.1, on
sessions opened on its *own* in-process DuckDB database: each session is one more DuckDB
connection to the same files, as thread-safe as the holder's own. It writes the port and a
random secret to `SHARE_FILE` under the home (mode 0600, removed on exit). A second process
that finds the files locked and that file written by the lock's holder connects through the
real Snowflake connector (SnowflakeWarehouse), with the secret as its password.
"""

from __future__ import annotations

import contextlib
import gzip
import hmac
import importlib
import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import WarehouseError, WarehouseLocked
from core.warehouse.base import DATABASE, SCHEMA, Warehouse
from core.warehouse.snowflake import SnowflakeWarehouse

if TYPE_CHECKING:
    from fakesnow.instance import FakeSnow
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse

SHARE_FILE = "warehouse-server.json"
START_TIMEOUT = 10.0
LOGIN_TIMEOUT = 10  # seconds the connector keeps trying to log in to a holder that went away
# The connector's network_timeout: how long one statement may take, retries included (without
# it the connector retries a holder that has gone away for ever). Before each statement the
# share file is checked, so a command notices a stopped holder at once, not after this.
STATEMENT_TIMEOUT = 120
# fakesnow's routes this server keeps: queries and session upkeep; its login is replaced (it
# checks no password and may open any file) and its stage upload is left out.
SERVED_PATHS = {"/session", "/session/heartbeat", "/queries/v1/query-request", "/queries/v1/abort-request"}


@dataclass(frozen=True)
class Endpoint:
    """Where the holder serves its warehouse: read from SHARE_FILE."""

    home: Path
    pid: int
    port: int
    secret: str = field(repr=False)

    def connect(self) -> Warehouse:
        """A connection through the real Snowflake connector to the holder's server."""
        try:
            return BorrowedWarehouse(self)
        except WarehouseError as exc:
            reason = str(exc).removeprefix("cannot connect to Snowflake: ")
            raise WarehouseError(
                f"cannot use the embedded warehouse that process {self.pid} holds and serves on port "
                f"{self.port}: {reason}"
            ) from exc

    def serving(self) -> bool:
        """The holder still serves here: its share file is unchanged and it is alive."""
        return _read(self.home) == self and _alive(self.pid)

    def check_serving(self) -> None:
        """Raise WarehouseError when the holder has stopped serving."""
        if not self.serving():
            raise WarehouseError(
                f"the `weekly-report bot` or `console` (pid {self.pid}) that served the embedded warehouse "
                "has stopped; run the command again"
            )

    def connection_options(self) -> dict[str, Any]:
        return {
            "user": "weekly-report",
            "password": self.secret,
            "account": "fakesnow",
            "host": "127.0.0.1",
            "port": self.port,
            "protocol": "http",
            "login_timeout": LOGIN_TIMEOUT,
            "network_timeout": STATEMENT_TIMEOUT,
            "session_parameters": {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
        }


class BorrowedWarehouse(SnowflakeWarehouse):
    """The holder's warehouse through the connector; each statement first checks that the
    holder still serves it, so a stopped holder is one clear error, not retries."""

    def __init__(self, endpoint: Endpoint) -> None:
        super().__init__(None, **endpoint.connection_options())
        self.endpoint = endpoint

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        self.endpoint.check_serving()
        return super().fetch(sql, params)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self.endpoint.check_serving()
        return super().execute(sql, params)

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
        self.endpoint.check_serving()
        return super().insert_rows(table, columns, rows)

    def close(self) -> None:
        """End the session; when the holder has gone, with one attempt instead of retries."""
        with self.lock:
            self._conn.close(retry=self.endpoint.serving())


def share_file(home: Path) -> Path:
    return Path(home) / SHARE_FILE


def endpoint_of(home: Path, locked: WarehouseLocked) -> Endpoint | None:
    """The holder's endpoint, if the process holding the lock is the one that wrote SHARE_FILE
    and is alive; None otherwise (no file, a stale file of a dead process, another holder)."""
    found = _read(home)
    if found is None:
        return None
    if locked.holder is not None and locked.holder != found.pid:
        return None
    return found if _alive(found.pid) else None


def _read(home: Path) -> Endpoint | None:
    try:
        data = json.loads(share_file(home).read_text())
        return Endpoint(Path(home), int(data["pid"]), int(data["port"]), str(data["secret"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True


class Sharing:
    """Serves a held embedded warehouse to local processes until `stop()`."""

    def __init__(self, fakesnow: FakeSnow, home: Path) -> None:
        import uvicorn

        self.home = Path(home)
        self._secret = secrets.token_urlsafe(32)
        self._tokens: set[str] = set()
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            _app(fakesnow, self._secret, self._tokens), log_level="warning", access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="warehouse-server", daemon=True
        )

    def start(self) -> Sharing:
        """Start serving and write SHARE_FILE (0600)."""
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            self.stop()
            raise WarehouseError(
                "cannot serve the embedded warehouse to local processes: its server did not start"
            )
        _write_private(share_file(self.home), {"pid": os.getpid(), "port": self.port, "secret": self._secret})
        return self

    def stop(self) -> None:
        """Remove SHARE_FILE (if it is this process's), stop the server, end its sessions."""
        _remove_if_ours(share_file(self.home))
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(START_TIMEOUT)
        self._socket.close()
        _end_sessions(self._tokens)


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Write JSON readable by this user only, replacing the file at once (never half-written)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out)
    os.replace(temporary, path)


def _remove_if_ours(path: Path) -> None:
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        if json.loads(path.read_text())["pid"] == os.getpid():
            path.unlink()


def _fakesnow_server() -> Any:
    """fakesnow's server module (`from fakesnow import server` may name its `server()` function)."""
    return importlib.import_module("fakesnow.server")


def _end_sessions(tokens: set[str]) -> None:
    server = _fakesnow_server()
    for token in list(tokens):
        server.sessions.pop(token, None)
    tokens.clear()


def _app(fakesnow: FakeSnow, secret: str, tokens: set[str]) -> Starlette:
    """fakesnow's query routes, behind a login that checks the secret and opens the session on
    the holder's own database."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.routing import Route

    server = _fakesnow_server()

    async def login(request: Request) -> JSONResponse:
        body = await request.body()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        data = json.loads(body).get("data") or {}
        if not hmac.compare_digest(str(data.get("PASSWORD") or "").encode(), secret.encode()):
            return _refusal("390100", "Incorrect username or password was specified.")
        token = secrets.token_urlsafe(32)
        server.sessions[token] = await run_in_threadpool(fakesnow.connect, DATABASE, SCHEMA)
        tokens.intersection_update(server.sessions)  # forget sessions the clients closed
        tokens.add(token)
        return _session(token)

    kept = [r for r in server.routes if isinstance(r, Route) and r.path in SERVED_PATHS]
    return Starlette(routes=[Route("/session/v1/login-request", login, methods=["POST"]), *kept])


def _refusal(code: str, message: str) -> JSONResponse:
    from starlette.responses import JSONResponse

    return JSONResponse({"data": None, "code": code, "message": message, "success": False})


def _session(token: str) -> JSONResponse:
    """A login answer as Snowflake gives it: the session token and the session's context."""
    from fakesnow.transforms import SERVER_VERSION
    from starlette.responses import JSONResponse

    return JSONResponse(
        {
            "data": {
                "token": token,
                "serverVersion": SERVER_VERSION,
                "parameters": [
                    {"name": "AUTOCOMMIT", "value": True},
                    # keep array bindings inline: this server takes no stage uploads
                    {"name": "CLIENT_STAGE_ARRAY_BINDING_THRESHOLD", "value": 0},
                ],
                "sessionInfo": {"databaseName": DATABASE, "schemaName": SCHEMA},
            },
            "success": True,
        }
    )
