"""A synchronous client for one language server process, built on pygls's asyncio client.

pygls's ``LanguageClient`` runs on an asyncio loop; here that loop lives in a dedicated
background thread and every request is a blocking call with a timeout, so the synchronous
tools (and the sandbox that calls them) never see asyncio. One ``LspSession`` per
workspace owns the server: started on first use, reused by every later call, shut down
(``shutdown`` + ``exit``, then killed if it lingers) when the workspace closes.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import concurrent.futures
import contextlib
import os
import shlex
import shutil
import sys
import threading
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient
from pygls.protocol import default_converter

from punie_lsp.files import SourceFiles
from punie_tools import timelimits
from punie_tools.child_env import child_env

if TYPE_CHECKING:
    import cattrs

T = TypeVar("T")

DEFAULT_COMMAND = ("ty", "server")
COMMAND_ENV = "PUNIE_LSP_SERVER"
TIMEOUT_ENV = "PUNIE_LSP_TIMEOUT"
DEFAULT_TIMEOUT = 30.0
STOP_GRACE = 3.0
_NOTIFICATIONS = (
    lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS,
    lsp.WINDOW_LOG_MESSAGE,
    lsp.WINDOW_SHOW_MESSAGE,
    lsp.PROGRESS,
    lsp.TELEMETRY_EVENT,
)


class LspError(Exception):
    """The language server could not answer; the message is what the tool reports."""


def server_command() -> list[str]:
    """The server command line (``PUNIE_LSP_SERVER`` or ``ty server``), executable resolved.

    The interpreter's own bin directory is searched before PATH so the ``ty`` installed
    with the project is found even when the virtual environment is not activated.
    """
    words = shlex.split(os.environ.get(COMMAND_ENV, "")) or list(DEFAULT_COMMAND)
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    program = shutil.which(words[0], path=search)
    if program is None:
        raise LspError(
            f"language server {words[0]!r} not found on PATH (install it, or set "
            f"{COMMAND_ENV} to a server command such as 'ty server')"
        )
    return [program, *words[1:]]


def request_timeout() -> float:
    """Seconds one request may take (``PUNIE_LSP_TIMEOUT``, default 30; scaled by the host)."""
    try:
        value = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT))
    except ValueError:
        value = DEFAULT_TIMEOUT
    return timelimits.seconds(value if value > 0 else DEFAULT_TIMEOUT)


def _converter() -> cattrs.Converter:
    """pygls's converter, tolerant of server capabilities we never use.

    ty announces a notebook selector without ``notebook`` that lsprotocol 2025 refuses to
    structure, which would make ``initialize`` fail; notebooks are irrelevant here.
    """
    converter = default_converter()
    base = converter.get_structure_hook(lsp.ServerCapabilities)

    def structure(obj: Any, cls: type) -> lsp.ServerCapabilities:
        if isinstance(obj, dict):
            obj = {k: v for k, v in obj.items() if k != "notebookDocumentSync"}
        return base(obj, cls)

    converter.register_structure_hook(lsp.ServerCapabilities, structure)
    return converter


class LspClient:
    """One running language server for one workspace root, with blocking requests."""

    def __init__(self, root: Path, command: Sequence[str], timeout: float) -> None:
        self.root = root
        self.command = list(command)
        self.timeout = timeout
        self.encoding = "utf-16"
        self.files = SourceFiles(root)
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        self._client = LanguageClient("punie-tools", "0.1", converter_factory=_converter)
        for method in _NOTIFICATIONS:
            self._client.feature(method)(_ignore)
        self._client.feature(lsp.WINDOW_WORK_DONE_PROGRESS_CREATE)(_ignore)
        self._process: asyncio.subprocess.Process | None = None
        self._closed = False
        self._unresponsive = False
        self._owner = os.getpid()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"punie-lsp:{root.name}", daemon=True
        )
        self._thread.start()
        atexit.register(self.close)
        try:
            self._call(self._start(), timeout, "starting the language server")
        except BaseException:
            self.close()
            raise

    @property
    def pid(self) -> int | None:
        """The server's process id (None before it started)."""
        return self._process.pid if self._process is not None else None

    @property
    def alive(self) -> bool:
        """Whether the server process is still running."""
        return not self._closed and self._process is not None and self._process.returncode is None

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float, what: str) -> T:
        """Run a coroutine on the client's loop and wait for it, at most ``timeout`` s."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            self._unresponsive = True
            timelimits.hit(f"the language server took longer than {timeout:g} s for {what}")
            raise LspError(
                f"the language server did not answer {what} within {timeout:g} s"
            ) from None
        except LspError:
            raise
        except Exception as exc:
            detail = str(exc) or type(exc).__name__
            if self._process is not None and self._process.returncode is not None:
                detail = f"the server exited with code {self._process.returncode}"
                if self._stderr:
                    detail += f": {self._stderr[-1]}"
            raise LspError(f"language server error while {what}: {detail}") from None

    async def _start(self) -> None:
        try:
            await self._client.start_io(*self.command, cwd=str(self.root), env=child_env())
        except OSError as exc:
            raise LspError(f"cannot start language server {self.command[0]!r}: {exc}") from None
        # pygls keeps the process it spawned only here; the pid is needed to kill and check it.
        self._process = self._client._server
        if self._process is not None and self._process.stderr is not None:
            self._loop.create_task(self._drain(self._process.stderr))
        params = lsp.InitializeParams(
            process_id=os.getpid(),
            root_uri=self.root.as_uri(),
            root_path=str(self.root),
            workspace_folders=[lsp.WorkspaceFolder(uri=self.root.as_uri(), name=self.root.name)],
            capabilities=lsp.ClientCapabilities(
                general=lsp.GeneralClientCapabilities(
                    position_encodings=[
                        lsp.PositionEncodingKind.Utf32,
                        lsp.PositionEncodingKind.Utf16,
                    ]
                ),
                text_document=lsp.TextDocumentClientCapabilities(
                    document_symbol=lsp.DocumentSymbolClientCapabilities(
                        hierarchical_document_symbol_support=True
                    ),
                    hover=lsp.HoverClientCapabilities(
                        content_format=[lsp.MarkupKind.Markdown, lsp.MarkupKind.PlainText]
                    ),
                ),
                workspace=lsp.WorkspaceClientCapabilities(
                    did_change_watched_files=lsp.DidChangeWatchedFilesClientCapabilities(
                        dynamic_registration=False
                    )
                ),
            ),
        )
        result = await self._client.initialize_async(params)
        caps = result.capabilities
        missing = [
            name
            for name, provided in (
                ("definition", caps.definition_provider),
                ("references", caps.references_provider),
                ("hover", caps.hover_provider),
                ("documentSymbol", caps.document_symbol_provider),
                ("workspace/symbol", caps.workspace_symbol_provider),
            )
            if not provided
        ]
        if missing:
            raise LspError(f"language server {self.command[0]!r} lacks {', '.join(missing)}")
        if caps.position_encoding is not None:
            self.encoding = str(getattr(caps.position_encoding, "value", caps.position_encoding))
        self._client.initialized(lsp.InitializedParams())
        self.files.snapshot()

    async def _drain(self, stream: asyncio.StreamReader) -> None:
        """Read the server's stderr so a chatty server never blocks on a full pipe."""
        while line := await stream.readline():
            self._stderr.append(line.decode("utf-8", "replace").rstrip())

    def request(self, method: str, params: Any, path: Path | None = None) -> Any:
        """Send one request (after syncing changed files) and return its result."""
        if not self.alive:
            raise LspError("the language server is not running")
        self._call(self._sync(path), self.timeout, "a file sync")
        return self._call(self._send(method, params), self.timeout, method)

    async def _send(self, method: str, params: Any) -> Any:
        return await self._client.protocol.send_request_async(method, params)

    async def _sync(self, path: Path | None) -> None:
        """Tell the server about files opened for this query or changed on disk since."""
        opened, changed, events = self.files.refresh(path)
        for doc in opened:
            self._client.text_document_did_open(
                lsp.DidOpenTextDocumentParams(
                    lsp.TextDocumentItem(
                        uri=doc.path.as_uri(),
                        language_id="python",
                        version=doc.version,
                        text=doc.text,
                    )
                )
            )
        for doc in changed:
            self._client.text_document_did_change(
                lsp.DidChangeTextDocumentParams(
                    text_document=lsp.VersionedTextDocumentIdentifier(
                        uri=doc.path.as_uri(), version=doc.version
                    ),
                    content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=doc.text)],
                )
            )
        if events:
            self._client.workspace_did_change_watched_files(
                lsp.DidChangeWatchedFilesParams(
                    changes=[lsp.FileEvent(uri=p.as_uri(), type=kind) for p, kind in events]
                )
            )

    def close(self) -> None:
        """Shut the server down (shutdown, exit, then kill) and stop the loop thread."""
        if self._closed or os.getpid() != self._owner:
            # A forked child must not stop (or kill) its parent's server.
            return
        self._closed = True
        atexit.unregister(self.close)
        if self._loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self._stop(), self._loop)
            with contextlib.suppress(Exception):
                future.result(STOP_GRACE * 3)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(STOP_GRACE)
        process = self._process
        if process is not None and process.returncode is None:
            # The loop could not reap it: kill synchronously as a last resort.
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, 9)
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(process.pid, 0)
        if not self._thread.is_alive():
            self._loop.close()

    async def _stop(self) -> None:
        process = self._process
        if process is not None and process.returncode is None:
            if not self._unresponsive:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._client.shutdown_async(None), STOP_GRACE)
                with contextlib.suppress(Exception):
                    self._client.exit(None)
            try:
                await asyncio.wait_for(process.wait(), 0.01 if self._unresponsive else STOP_GRACE)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(process.wait(), STOP_GRACE)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._client.stop(), STOP_GRACE)
        for task in asyncio.all_tasks(self._loop):
            if task is not asyncio.current_task():
                task.cancel()


def _ignore(*_args: object) -> None:
    """Accept a server notification or request that the tools have no use for."""


class LspSession:
    """The workspace's language server: started on first use, restarted only if it died."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._client: LspClient | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def pid(self) -> int | None:
        """The current server's process id, or None if none is running."""
        client = self._client
        return client.pid if client is not None and client.alive else None

    def client(self) -> LspClient:
        """The running client, starting the server if it is not running yet."""
        with self._lock:
            if self._closed:
                raise LspError("the workspace was closed")
            if self._client is None or not self._client.alive:
                if self._client is not None:
                    self._client.close()
                self._client = None
                self._client = LspClient(self.root, server_command(), request_timeout())
            return self._client

    def close(self) -> None:
        """Stop the server, if one is running."""
        with self._lock:
            self._closed = True
            client, self._client = self._client, None
        if client is not None:
            client.close()
