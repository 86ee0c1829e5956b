"""Data-parallel training under `mlx.launch`: the rank group, sharding, sums, a lost rank.

`world()` is this process's place in the run. A process that `mlx.launch` did not start (no
`MLX_RANK`, `MLX_HOSTFILE`, `MLX_WORLD_SIZE` or MPI rank in its environment) is rank 0 of 1,
mlx's distributed backend is never initialised and the trainer takes exactly the path it
always took. A launched process calls `mx.distributed.init()`; with more than one rank:

- `shard(examples)`: this rank's share of an update's examples, every `size`-th one from its
  rank on. The update's examples are a function of seed + update (`punie_train.sampling`) and
  sorted by length within their window, so the shares are deterministic and alike in length;
- `all_sum(tree)`: gradients, losses and token counts summed over the ranks (each example is
  weighed by the GLOBAL update size, so the sum is the one-process gradient);
- `broadcast(tree)`: rank 0's arrays everywhere (its checkpoint on `--resume`);
- `Heartbeat`: every rank holds a TCP connection to rank 0 (its address from the ring
  hostfile, the port chosen by rank 0 and shared with an `all_sum`), pinging every
  `PING_S`. A connection that closes without a goodbye, or says nothing for
  `PUNIE_RANK_TIMEOUT` seconds (default 120), is a lost rank: rank 0 tells the others which
  one, every rank prints `rank K stopped ...` and a collective that failed raises `RankLost`
  naming it; a rank still blocked after `GRACE_S` exits with status 1 rather than hang
  (`faulthandler`'s watchdog thread, which needs no GIL).
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import attrs
import mlx.core as mx
from mlx.utils import tree_flatten, tree_map

T = TypeVar("T")
PING_S = 2.0
GRACE_S = 3.0
"""Seconds a rank that learned of a lost rank waits for its own error before exiting."""
LAUNCH_VARIABLES = ("MLX_RANK", "MLX_HOSTFILE", "MLX_WORLD_SIZE", "OMPI_COMM_WORLD_SIZE")


class DistributedError(RuntimeError):
    """A launched run that cannot go on (hostfile, batch, lost rank); the message says why."""


class RankLost(DistributedError):
    """Another rank stopped (died, or went silent) in the middle of the run."""


def launched() -> bool:
    """Whether a launcher (mlx.launch, mpirun) started this process as one of several."""
    return any(name in os.environ for name in LAUNCH_VARIABLES)


def rank0_address(path: str) -> str | None:
    """Rank 0's IP from the ring hostfile mlx.launch writes (`[["ip:port", ...], ...]`).

    None for the empty file mlx.launch writes when there is one host.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
        if not text.strip():
            return None
        hosts = json.loads(text)
        if isinstance(hosts, dict):  # mlx.launch's own hostfile format
            return str(hosts["hosts"][0]["ips"][0])
        first = hosts[0][0] if isinstance(hosts[0], list) else hosts[0]
        return str(first).rsplit(":", 1)[0]
    except (OSError, ValueError, LookupError, TypeError) as error:
        raise DistributedError(
            f"cannot read the hostfile MLX_HOSTFILE={path} (mlx.launch writes it from "
            f"--hostfile or --hosts): {type(error).__name__}: {error}"
        ) from None


class Heartbeat:
    """Each rank's connection to rank 0, watched by daemon threads; see the module docstring."""

    def __init__(self, rank: int, size: int, timeout: float) -> None:
        self.rank, self.size, self.timeout = rank, size, timeout
        self.lost: tuple[int, str] | None = None
        self.done = False
        self.event = threading.Event()
        self.peers: dict[int, socket.socket] = {}
        self.lock = threading.Lock()
        self.devnull: Any = None

    def start(self, group: Any, address: str) -> None:
        """Connect the ranks (an `all_sum` shares rank 0's port); start the watch threads."""
        server = None
        port = 0
        if self.rank == 0:
            server = socket.create_server(("", 0))
            port = server.getsockname()[1]
        shared = mx.distributed.all_sum(mx.array([port], dtype=mx.int32), group=group)
        port = int(cast(int, shared.item()))
        if server is not None:
            server.settimeout(60)
            for _ in range(self.size - 1):
                connection, _ = server.accept()
                stream = connection.makefile("r")
                peer = int(stream.readline())
                self.peers[peer] = connection
                self._watch(connection, stream, peer)
            server.close()
        else:
            connection = socket.create_connection((address, port), timeout=60)
            connection.sendall(f"{self.rank}\n".encode())
            self.peers[0] = connection
            self._watch(connection, connection.makefile("r"), 0)
        threading.Thread(target=self._ping, daemon=True, name="punie-ping").start()

    def _watch(self, connection: socket.socket, stream: Any, peer: int) -> None:
        connection.settimeout(self.timeout)
        thread = threading.Thread(
            target=self._read, args=(stream, peer), daemon=True, name=f"punie-watch-{peer}"
        )
        thread.start()

    def _send(self, peer: int, text: str) -> None:
        with self.lock, contextlib.suppress(OSError):  # its own watch thread reports it
            self.peers[peer].sendall(text.encode())

    def _ping(self) -> None:
        while not self.done:
            for peer in list(self.peers):
                self._send(peer, "ping\n")
            time.sleep(PING_S)

    def _read(self, stream: Any, peer: int) -> None:
        why = "closed its connection (the process ended or its machine went away)"
        try:
            for line in stream:
                word, _, rest = line.strip().partition(" ")
                if word == "bye":
                    return
                if word == "lost":  # rank 0 names the rank it lost
                    lost, _, reason = rest.partition(" ")
                    self.fail(int(lost), reason)
                    return
        except TimeoutError:
            why = f"sent nothing for {self.timeout:.0f} s"
        except OSError as error:
            why = f"lost its connection ({error})"
        self.fail(peer, why)

    def fail(self, peer: int, why: str) -> None:
        """Record that `peer` stopped, tell the others (rank 0), exit after a grace period."""
        if self.done or self.lost is not None:
            return
        self.lost = (peer, why)
        print(
            f"punie_train rank {self.rank}: rank {peer} stopped: {why}; stopping",
            file=sys.stderr,
            flush=True,
        )
        if self.rank == 0:
            for other in list(self.peers):
                if other != peer:
                    self._send(other, f"lost {peer} {why}\n")
        self.event.set()
        # faulthandler's watchdog is a C thread: it exits even if the main thread holds the GIL.
        self.devnull = open(os.devnull, "w")  # noqa: SIM115  (kept open for the watchdog)
        faulthandler.dump_traceback_later(GRACE_S, exit=True, file=self.devnull)

    def finish(self) -> None:
        """This rank is done with collectives: say goodbye and stop watching."""
        if self.done:
            return
        self.done = True
        for peer in list(self.peers):
            self._send(peer, "bye\n")


@attrs.define
class World:
    """This process's rank among `size`; `group` and `heartbeat` only when launched."""

    rank: int = 0
    size: int = 1
    group: Any = None
    heartbeat: Heartbeat | None = None

    @property
    def single(self) -> bool:
        """One process: everything as without a launcher."""
        return self.size == 1

    @property
    def leader(self) -> bool:
        """Rank 0, the one that writes logs, checkpoints, adapters and the report."""
        return self.rank == 0

    def shard(self, items: Sequence[T]) -> list[T]:
        """This rank's share: every `size`-th item from `rank` on."""
        return list(items[self.rank :: self.size])

    def check_divides(self, global_batch: int, batch_size: int, accumulation: int) -> None:
        """A global batch that the ranks cannot share equally is an error."""
        if global_batch % self.size:
            raise DistributedError(
                f"the global batch of {global_batch} examples (batch_size {batch_size} x "
                f"grad_accumulation_steps {accumulation}) does not divide among {self.size} "
                f"ranks: make it a multiple of {self.size}"
            )

    def collect(self, *arrays: Any) -> None:
        """`mx.eval` of collective results; a failure caused by a lost rank names it."""
        try:
            mx.eval(*arrays)
        except RuntimeError as error:
            self.raise_lost(error)
            raise

    def raise_lost(self, error: BaseException | None = None) -> None:
        """Raise `RankLost` if the heartbeat knows (or learns within seconds) of a lost rank."""
        heartbeat = self.heartbeat
        if heartbeat is None:
            return
        heartbeat.event.wait(3.0 if error is not None else 0.0)
        if heartbeat.lost is not None:
            peer, why = heartbeat.lost
            raise RankLost(f"rank {peer} stopped: {why}") from error

    def all_sum(self, tree: Any) -> Any:
        """The tree of arrays summed over the ranks (evaluated).

        The leaves of each dtype travel as one flat buffer (one ring exchange, not one per
        LoRA matrix) and are cut back into their shapes; the sums are the same.
        """
        leaves = [leaf for _, leaf in cast(list[tuple[str, mx.array]], tree_flatten(tree))]
        by_dtype: dict[Any, list[int]] = {}
        for index, leaf in enumerate(leaves):
            by_dtype.setdefault(leaf.dtype, []).append(index)
        summed: list[Any] = [None] * len(leaves)
        for indices in by_dtype.values():
            flat = mx.concatenate([leaves[i].reshape(-1) for i in indices])
            total = mx.distributed.all_sum(flat, group=self.group)
            offset = 0
            for i in indices:
                leaf = leaves[i]
                summed[i] = total[offset : offset + leaf.size].reshape(leaf.shape)
                offset += leaf.size
        self.collect(summed)
        results = iter(summed)  # tree_map visits the leaves in tree_flatten's order
        return tree_map(lambda _: next(results), tree)

    def broadcast(self, tree: Any) -> Any:
        """Rank 0's arrays on every rank (the others send zeros; x + 0 is x exactly)."""
        return self.all_sum(tree if self.leader else tree_map(mx.zeros_like, tree))

    def finish(self) -> None:
        """No more collectives from this rank (the end of training)."""
        if self.heartbeat is not None:
            self.heartbeat.finish()


_WORLD: World | None = None


def world() -> World:
    """This process's `World`, initialised on first use (see the module docstring)."""
    global _WORLD
    if _WORLD is None:
        _WORLD = _join()
    return _WORLD


def _join() -> World:
    if not launched():
        return World()
    hostfile = os.environ.get("MLX_HOSTFILE")
    address = rank0_address(hostfile) if hostfile is not None else None
    if hostfile is not None and address is None:
        return World()  # mlx.launch with a single rank
    group = mx.distributed.init()
    if group.size() == 1:
        return World()
    heartbeat = None
    if address is not None:  # MPI without a ring hostfile: mpirun stops the job itself
        timeout = float(os.environ.get("PUNIE_RANK_TIMEOUT", "120"))
        heartbeat = Heartbeat(group.rank(), group.size(), timeout)
        heartbeat.start(group, address)
    return World(group.rank(), group.size(), group, heartbeat)
