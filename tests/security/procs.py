"""What a process tree exposes, read from ``/proc``: listening sockets, umask, liveness.

Shared by the security tests and the embedded-Airflow integration test; no Airflow here.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}
_TCP_LISTEN = "0A"


@dataclass(frozen=True)
class Listener:
    pid: int
    address: str
    port: int


def _address(hex_address: str) -> tuple[str, int]:
    """``/proc/net/tcp{,6}`` ``local_address``: host-order 32-bit words, then the port."""
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    words = b"".join(struct.pack("<I", struct.unpack(">I", raw[i : i + 4])[0]) for i in range(0, len(raw), 4))
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, words), int(port, 16)


def _listening_inodes() -> dict[str, tuple[str, int]]:
    inodes: dict[str, tuple[str, int]] = {}
    for table in ("tcp", "tcp6"):
        path = Path("/proc/net") / table
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == _TCP_LISTEN:
                inodes[fields[9]] = _address(fields[1])
    return inodes


def listeners(pids: Iterable[int]) -> set[Listener]:
    """Every TCP socket in LISTEN state that one of ``pids`` holds open."""
    inodes = _listening_inodes()
    found: set[Listener] = set()
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = fd.readlink().name
            except OSError:
                continue
            if target.startswith("socket:[") and (inode := target[8:-1]) in inodes:
                address, port = inodes[inode]
                found.add(Listener(pid, address, port))
    return found


def umask(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        return None
    return None


def alive(pid: int) -> bool:
    """Running and not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZXx"


def port_is_free(port: int) -> bool:
    """Nothing listens on ``port``, on any interface (binding the wildcard would clash)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
        return True


def loose_modes(root: Path) -> list[str]:
    """Paths under ``root`` that anyone but the owner may read, write or enter."""
    loose = []
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            loose.append(f"{path.relative_to(root)} {oct(mode)}")
    return loose
