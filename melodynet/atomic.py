"""Write files and directories whole or not at all: temporary name, then rename."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from melodynet.errors import OutputError


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix); rename it over ``path`` on success."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.stem}.", suffix=f".part{path.suffix}", dir=path.parent or "."
        )
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({_reason(exc)})") from exc
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({_reason(exc)})") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def check_target(path: Path) -> None:
    """Fail early, before any work, when no file can be written at ``path``."""
    path = Path(path)
    if not path.parent.is_dir():
        raise OutputError(f"{path}: directory {path.parent} does not exist")
    if path.is_dir():
        raise OutputError(f"{path}: is a directory")


def write_text(path: Path, text: str) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


@contextlib.contextmanager
def atomic_dir(path: Path, replace: bool = False) -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; move it to ``path`` on success.

    With ``replace``, an existing directory is swapped out only after the new
    one is complete.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent))
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({_reason(exc)})") from exc
    old: Path | None = None
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        if path.exists() and not replace:
            raise OutputError(f"{path}: already exists (written meanwhile?); not replaced")
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / path.name)
        os.rename(tmp, path)
    except OSError as exc:
        if old is not None and not path.exists():
            os.replace(old / path.name, path)
        raise OutputError(f"{path}: cannot write ({_reason(exc)})") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
