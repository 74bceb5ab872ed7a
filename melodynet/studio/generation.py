"""Generating from a bundle: the page's request as ``Model.generate``'s arguments, the
melodies kept under ``DATA/results`` with what the score marks (primer, wrong notes) and
what generating remarked (melodynet's warnings: the primer notes ``quantize`` moved).

Runs in a worker thread (the routes call it through the thread pool); the model comes from
the ``ModelCache`` and is used under its lock.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import melodynet
from melodynet.errors import OptionError
from melodynet.studio import surprise
from melodynet.studio.jobs import _coerce
from melodynet.studio.messages import WARNINGS
from melodynet.studio.models import PRETRAINED, ModelCache, display_name
from melodynet.studio.storage import Storage, new_id

TYPES: dict[str, type] = {
    "length": int,
    "num_outputs": int,
    "random_seed": int,
    "temperature": float,
    "top_k": int,
    "top_p": float,
    "beam_size": int,
    "chromatic": bool,
    "quantize": bool,
    "bars": int,
    "no_copy": int,
    "key": str,
    "meter": str,
    "pickup": str,
    "range": str,
    "end": str,
    "form": str,
    "mode": str,
    "song": str,
    "mix": str,
}
"""Model.generate's options the page may set, with their types."""
LIMITS = {"num_outputs": 16, "length": 2000, "bars": 256, "beam_size": 64}
"""Upper bounds a local page has no reason to pass (each a request that would run long)."""
MAX_PRIMER_TEXT = 5_000


def generate_options(request: dict) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for key, value in request.items():
        if key in ("model", "primer", "primer_song"):
            continue
        if key not in TYPES:
            raise OptionError(f"unknown generate option {key!r}", option="options")
        kind = TYPES[key]
        if kind is str:
            if value is None or str(value).strip() == "":
                continue
            options[key] = str(value).strip()[:200]
        else:
            coerced = _coerce(key, kind, value)
            if coerced is not None:
                options[key] = coerced
    for key, most in LIMITS.items():
        if key in options and options[key] > most:
            raise OptionError(f"{key} must be at most {most} here, not {options[key]}", key)
    for switch in ("chromatic", "quantize"):
        if options.get(switch) is False:
            options.pop(switch)
    return options


def primer_of(request: dict, library) -> int | melodynet.Song | None:
    """A count of the training song's notes, tinyNotation text (read here, never taken as
    a path), or the first notes of a song from the library."""
    primer = request.get("primer")
    song_ref = request.get("primer_song")
    if song_ref:
        song = library.song(str(song_ref))
        count = _coerce("primer", int, primer) if primer not in (None, "") else len(song)
        if count < 1:
            raise OptionError(f"primer must be at least 1 note, not {count}", option="primer")
        return melodynet.Song(
            notes=song.notes[:count],
            title=song.title,
            key=song.key,
            time_signature=song.time_signature,
            tempo=song.tempo,
        )
    if primer is None or primer == "":
        return None
    if isinstance(primer, int | float) or (isinstance(primer, str) and primer.strip().isdigit()):
        return _coerce("primer", int, primer)
    text = str(primer)
    if len(text) > MAX_PRIMER_TEXT:
        raise OptionError(f"primer: at most {MAX_PRIMER_TEXT} characters of notes", "primer")
    return melodynet.Song.from_text(text, title="primer")


def _surprise(model, song) -> list[float | None] | None:
    """Each note's information content, or None where the model cannot say (a primer
    with a note outside its vocabulary)."""
    try:
        return surprise.information_content(model, song)
    except melodynet.MelodynetError:
        return None


def _mean(bits: list[float | None] | None) -> float | None:
    known = [b for b in bits or [] if b is not None]
    return round(sum(known) / len(known), 3) if known else None


class Generator:
    def __init__(self, storage: Storage, library, models: ModelCache) -> None:
        self.storage = storage
        self.library = library
        self.models = models

    def generate(self, request: dict) -> list[dict]:
        from melodynet.render.report import PRIMER, WRONG, Comparison

        name = str(request.get("model", ""))
        options = generate_options(request)
        primer = primer_of(request, self.library)
        model, lock = self.models.get(name)
        with lock:
            with WARNINGS, warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", melodynet.MelodynetWarning)
                made = model.generate(primer, **options)
            remarks = [
                str(w.message) for w in caught if issubclass(w.category, melodynet.MelodynetWarning)
            ]
            songs = made if isinstance(made, list) else [made]
            surprises = [_surprise(model, song) for song in songs]
        shown = display_name(name)
        results = []
        for k, (song, bits) in enumerate(zip(songs, surprises, strict=True)):
            extra = song.extra
            primer_length = int(extra.get("primer", 0) or 0)
            compared = int(extra.get("compared", 0) or 0)
            wrong: list[int] = []
            if compared and extra.get("reference"):
                original = next((s for s in model.songs if s.name == extra["reference"]), None)
                if original is not None:
                    wrong = Comparison(original, song, primer_length, compared).wrong
            colors = {i: PRIMER for i in range(primer_length)}
            colors.update({i: WRONG for i in wrong})
            if not song.title or song.title == "primer":
                song.title = f"{shown} #{k + 1}" if len(songs) > 1 else shown
            record = {
                "id": new_id(),
                "created": time.time(),
                "model": name,
                "model_name": shown,
                "pretrained": name.startswith(PRETRAINED),
                "request": {k: v for k, v in request.items() if k != "model"},
                "options": options,
                "song": song.to_json(),
                "tiny": song.tiny(),
                "notes": len(song),
                "extra": dict(extra),
                "primer_length": primer_length,
                "compared": compared,
                "matches": int(extra["matches"]) if "matches" in extra else None,
                "reference": extra.get("reference"),
                "longest_copy": extra.get("longest_copy"),
                "wrong": wrong,
                "colors": {str(i): c for i, c in colors.items()},
                "surprise": bits,
                "surprise_colors": {str(i): c for i, c in surprise.colors(bits or []).items()},
                "mean_surprise": _mean(bits),
                "remarks": remarks,
            }
            self.storage.write_json(
                self.storage.inside("results", record["id"], suffix=".json"), record
            )
            results.append(record)
        return results

    def recent(self, limit: int = 30) -> list[dict]:
        return self.storage.records("results")[-limit:][::-1]

    def remove(self, result_id: str) -> None:
        """Delete a generated melody (its record; the cached renders are kept by content
        and may serve an identical melody)."""
        self.storage.existing("results", result_id, suffix=".json").unlink(missing_ok=True)
