"""A socket guard: fail any outbound connection of this Python process, localhost excepted.

The course runs offline: its tests and notebooks must never download anything. The
guard patches `socket.socket.connect` and `connect_ex` (`socket.create_connection`,
urllib3, httpx, requests and `ssl` all connect through them) so that connecting to any
address other than localhost (127.0.0.0/8, ::1, the name "localhost") or a Unix socket
raises `OutboundConnectionBlocked`, an `OSError` that HTTP clients report as a failed
connection, before a single packet leaves the machine.

Not covered: C code that makes its own sockets (ZMQ, which Jupyter kernels use to talk to
their clients over localhost, is one: it keeps working), name lookups (`getaddrinfo`) and
unconnected UDP `sendto`.

Installed by tests/conftest.py in the pytest process, and by tests/offline/sitecustomize.py
in every Python process started with tests/offline on PYTHONPATH (conftest puts it there,
so the notebook kernels of nbval and papermill get the guard too).
"""

from __future__ import annotations

import ipaddress
import socket

MESSAGE = "outbound connection to {host}:{port} blocked: the course runs offline (tests/offline)"
LOCAL_NAMES = ("localhost",)


class OutboundConnectionBlocked(OSError):
    """A connection to an address outside this machine was attempted while the guard is on."""


def is_local(family: int, address) -> bool:
    """True if connecting to `address` (as passed to `socket.connect`) stays on this machine.

    Internet addresses are local when they are loopback (127.0.0.0/8, ::1, ::ffff:127.x.x.x)
    or the name "localhost"; any other host name counts as outbound (it is not resolved, so
    the guard itself makes no DNS query). Families other than IPv4/IPv6 (Unix sockets,
    netlink) never leave the machine.
    """
    if family not in (socket.AF_INET, socket.AF_INET6):
        return True
    host = address[0]
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = host.split("%", 1)[0]  # an IPv6 scope id: "fe80::1%eth0"
    if host.lower().rstrip(".") in LOCAL_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def blocked(family: int, address) -> OutboundConnectionBlocked:
    """The error for a blocked connection, naming HOST:PORT."""
    host, port = address[0], address[1]
    if family == socket.AF_INET6 and ":" in str(host):
        host = f"[{host}]"
    return OutboundConnectionBlocked(MESSAGE.format(host=host, port=port))


_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex


def guarded_connect(self, address):
    if not is_local(self.family, address):
        raise blocked(self.family, address)
    return _original_connect(self, address)


def guarded_connect_ex(self, address):
    if not is_local(self.family, address):
        raise blocked(self.family, address)
    return _original_connect_ex(self, address)


def install() -> None:
    """Turn the guard on for this process (installing it twice is harmless)."""
    socket.socket.connect = guarded_connect
    socket.socket.connect_ex = guarded_connect_ex


def installed() -> bool:
    """True while the guard is on in this process."""
    return socket.socket.connect is guarded_connect and socket.socket.connect_ex is guarded_connect_ex
