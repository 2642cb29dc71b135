"""Talking to Chroma: client settings, and a lost server connection turned into an error that names the address."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from filelock import FileLock, Timeout

from ..models.source import default_cache_dir

from ..errors import InvalidInputError, ModelMismatchError, StoreError, StoreLockedError, StoreUnavailableError


def telemetry_off_settings():
    """Chroma client settings with anonymised telemetry off (used for every client this package creates)."""
    import chromadb

    return chromadb.Settings(anonymized_telemetry=False, allow_reset=False)


def is_connection_error(exc: BaseException) -> bool:
    chain, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    names = {type(e).__name__ for e in chain}
    if names & {"ConnectError", "ConnectTimeout", "ReadError", "ReadTimeout", "RemoteProtocolError", "WriteError",
                "ConnectionError", "ConnectionRefusedError", "ConnectionResetError", "NetworkError", "PoolTimeout"}:
        return True
    return any("could not connect" in str(e).lower() or "connection refused" in str(e).lower() for e in chain)


@contextlib.contextmanager
def connection_guard(address: str, remote: bool, action: str) -> Iterator[None]:
    """Turns a lost server connection into a :class:`StoreUnavailableError` naming the address."""
    try:
        yield
    except (InvalidInputError, ModelMismatchError, StoreError):
        raise
    except Exception as exc:
        if remote and is_connection_error(exc):
            raise StoreUnavailableError(
                f"the Chroma server at {address} is not reachable while {action} ({type(exc).__name__}). "
                f"Start it (`chroma run --path FOLDER --host HOST --port PORT`) or check host= and port=."
            ) from exc
        raise


def server_client(host: str, port: int, *, ssl: bool = False, headers: Mapping[str, str] | None = None):
    """A client of the Chroma server at ``host:port`` (checked with a heartbeat), and its address."""
    import chromadb

    address = f"{'https' if ssl else 'http'}://{host}:{port}"
    with connection_guard(address, True, "connecting"):
        client = chromadb.HttpClient(host=host, port=port, ssl=ssl, headers=dict(headers or {}),
                                     settings=telemetry_off_settings())
        client.heartbeat()
    return client, address


def embedded_client(folder: Path):
    """An embedded (persistent) Chroma client on ``folder``; hold :func:`lock_folder` first."""
    import chromadb

    return chromadb.PersistentClient(path=str(folder), settings=telemetry_off_settings())


def lock_folder(folder: Path, timeout: float) -> FileLock:
    """Takes the one-writer lock of an embedded store folder (Chroma's embedded mode is not multi-process safe).

    Raises:
        StoreLockedError: another process (or store object) holds it after ``timeout`` seconds.
    """
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / ".medembed-writer.lock"))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise StoreLockedError(
            f"the store folder {folder} is open elsewhere (another process, or another store object "
            f"not yet closed). Chroma's embedded mode is not safe "
            f"for several processes; wait for it to finish (lock_timeout=...), or run a Chroma server "
            f"(`chroma run --path {folder} --port 8000`) and open MedEmbedChromaStore(host='localhost', "
            f"port=8000) in every process."
        ) from None
    return lock


def default_lexical_folder(address: str) -> Path:
    """Where a server-mode store keeps its lexical index: the package cache, one folder per server."""
    safe = "".join(ch if ch.isalnum() or ch in ".-" else "_" for ch in address.split("://", 1)[-1])
    return default_cache_dir() / "lexical" / safe


