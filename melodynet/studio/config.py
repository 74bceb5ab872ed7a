"""The studio's settings: where its data lives, its access token, the address it serves."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
UPLOAD_LIMIT = 10 * 1024 * 1024
"""The largest upload, in bytes (10 MB)."""
DATA_ENV = "MELODYNET_STUDIO_DATA"


def user_data_dir() -> Path:
    """The platform's directory for a user's application data."""
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    if sys.platform == "darwin":
        return home / "Library" / "Application Support"
    return Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")


def default_data_dir() -> Path:
    """$MELODYNET_STUDIO_DATA; else ``melodynet-studio`` in the user's data directory
    (``~/.local/share/melodynet-studio`` on Linux); else, where that cannot be created,
    ``./studio-data``."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    try:
        path = user_data_dir() / "melodynet-studio"
        path.mkdir(parents=True, exist_ok=True)
        return path
    except (OSError, RuntimeError):  # no home directory, read-only home...
        return Path("studio-data")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _wildcard(host: str) -> bool:
    return host in ("0.0.0.0", "::", "[::]", "")


def _own_names() -> set[str]:
    """This machine's name and addresses: what a browser elsewhere uses to reach a studio
    bound to every interface."""
    names = set()
    try:
        hostname = socket.gethostname()
        names |= {hostname.lower(), socket.getfqdn().lower()}
        for info in socket.getaddrinfo(hostname, None):
            names.add(str(info[4][0]).lower())
    except OSError:
        pass
    return names


def _with_port(name: str, port: int) -> str:
    name = name.lower()
    if ":" in name and not name.startswith("["):  # a bare IPv6 address
        name = f"[{name}]"
    return f"{name}:{port}"


@dataclass
class Settings:
    data: Path
    token: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    upload_limit: int = UPLOAD_LIMIT
    model_cache: int = 3
    """Loaded models kept warm (the least recently used is dropped beyond this)."""
    allowed_hosts: frozenset[str] = field(init=False)
    """``Host`` header values served: the bound address, localhost and 127.0.0.1, with the
    port (and the machine's names when bound to every interface)."""

    def __post_init__(self) -> None:
        self.data = Path(self.data).resolve()
        names = {self.host, "localhost", "127.0.0.1"}
        if self.host in ("::1", "[::1]"):
            names.add("::1")
        if _wildcard(self.host):
            names |= _own_names()
        self.allowed_hosts = frozenset(_with_port(n, self.port) for n in names if n)

    @property
    def url(self) -> str:
        """The address to open, with the token (as Jupyter prints it)."""
        host = "127.0.0.1" if _wildcard(self.host) else self.host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}/?token={self.token}"

    @property
    def cookie(self) -> str:
        """The cookie holding the token; one per port, so two studios do not collide."""
        return f"melodynet-studio-{self.port}"
