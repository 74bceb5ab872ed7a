"""Scores, audio and downloads of a song, made by melodynet's renderers and cached on disk.

The score is verovio's SVG (``melodynet.render.svg``, what ``Song._repr_html_`` and the
HTML report show), with the report's colours: the primer in blue, generated notes that
differ from the original song in red. The audio is the WAV the report embeds
(``render.audio.wav_bytes`` at the report's rate); downloads are ``Song.write`` by suffix.
Each is kept in ``DATA/cache`` under a hash of the song and what was asked, so a second
request costs a file read.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from pathlib import Path

import melodynet
from melodynet.studio.storage import Storage, new_id, slug

DOWNLOADS = {
    "mid": ("audio/midi", ".mid"),
    "musicxml": ("application/vnd.recordare.musicxml+xml", ".musicxml"),
    "abc": ("text/vnd.abc; charset=utf-8", ".abc"),
    "wav": ("audio/wav", ".wav"),
    "txt": ("text/plain; charset=utf-8", ".txt"),
}
"""Download formats: name -> (media type, suffix). ABC needs a writer plugin."""


def download_formats() -> list[str]:
    from melodynet.plugins import registry

    writers = registry().writers
    return [name for name, (_, suffix) in DOWNLOADS.items() if suffix in writers]


def engrave(song: melodynet.Song, colors: Mapping[int, str] | None = None) -> str:
    """The song as SVG sheet music (``render_svg`` works in any thread of the pool)."""
    from melodynet.render.svg import render_svg

    return render_svg(song, None, colors)


class Renders:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _key(self, song: melodynet.Song, what: str, extra: object = None) -> str:
        text = json.dumps([song.to_json(), what, extra], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def _cached(self, key: str, suffix: str, make) -> bytes:
        path = self.storage.area("cache") / f"{key}{suffix}"
        if path.is_file():
            return path.read_bytes()
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one render per song at a time; the others wait and read it
            if path.is_file():
                return path.read_bytes()
            data = make()
            tmp = self.storage.area("tmp") / f"{new_id()}{suffix}"
            tmp.write_bytes(data)
            tmp.replace(path)
        with self._guard:
            self._locks.pop(key, None)
        return data

    def score(self, song: melodynet.Song, colors: Mapping[int, str] | None = None) -> bytes:
        colors = {int(k): v for k, v in (colors or {}).items()}
        return self._cached(
            self._key(song, "svg", sorted(colors.items())),
            ".svg",
            lambda: engrave(song, colors or None).encode("utf-8"),
        )

    def audio(self, song: melodynet.Song) -> bytes:
        from melodynet.render.audio import wav_bytes
        from melodynet.render.report import AUDIO_RATE

        return self._cached(
            self._key(song, "audio"),
            ".wav",
            lambda: wav_bytes(song, melodynet.WriteOptions(), AUDIO_RATE),
        )

    def download(self, song: melodynet.Song, fmt: str) -> tuple[bytes, str, str]:
        """(the file, its media type, the name to save it under)."""
        media, suffix = DOWNLOADS[fmt]

        def make() -> bytes:
            tmp = self.storage.area("tmp") / f"{new_id()}{suffix}"
            try:
                song.write(tmp)
                return tmp.read_bytes()
            finally:
                tmp.unlink(missing_ok=True)

        data = self._cached(self._key(song, "download", fmt), suffix, make)
        return data, media, slug(Path(song.name).name) + suffix
