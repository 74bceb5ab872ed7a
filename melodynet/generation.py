"""Turning a primer into a melody: choose the primer, predict, compare with the original."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from melodynet.errors import MelodynetError
from melodynet.evaluation import matches
from melodynet.sampling import Sampling
from melodynet.song import Note, Song


@dataclass
class Generated:
    song: Song
    primer_length: int
    matches: int | None = None
    """Generated notes equal to the reference song's notes in the same position."""
    compared: int = 0
    reference: str = ""


def _pick_song(songs: list[Song], name: str | None) -> Song:
    if name is None:
        return songs[0]
    for song in songs:
        if name in (song.name, song.title, song.path):
            return song
    raise MelodynetError(
        f"--song {name!r} is not a training song of this model; choose one of: "
        + ", ".join(s.name for s in songs)
    )


def resolve_primer(
    trained, primer: str | None, song_name: str | None
) -> tuple[list[Note], Song | None]:
    """The primer notes, and the training song they come from (None if they come from none)."""
    from melodynet.tinynotation import parse_notes

    songs = trained.songs
    if primer is None:
        primer = str(trained.config.window)
    if primer.strip().isdigit():
        song = _pick_song(songs, song_name)
        count = int(primer)
        if not 1 <= count <= len(song):
            raise MelodynetError(
                f"--seed {count}: the primer must be 1 to {len(song)} notes of {song.name} "
                f"({len(song)} notes)"
            )
        return song.notes[:count], song
    if Path(primer).suffix and Path(primer).is_file():
        from melodynet.songio import read_songs

        notes = read_songs([primer], warn=lambda _: None)[0].notes  # a whole file as primer
    else:
        notes, _ = parse_notes(primer, where="--seed")
    candidates = [_pick_song(songs, song_name)] if song_name else songs
    source = next((s for s in candidates if s.notes[: len(notes)] == notes), None)
    return notes, source


def generate_song(
    trained, primer: str | None, length: int | None, mode: str, song_name: str | None
) -> Generated:
    return generate_songs(trained, primer, length, mode, song_name)[0]


def generate_songs(
    trained,
    primer: str | None,
    length: int | None,
    mode: str,
    song_name: str | None,
    count: int = 1,
    sampling: Sampling | None = None,
    beam: int | None = None,
) -> list[Generated]:
    """``count`` melodies from one primer, generated as one batch (distinct when sampled)."""
    notes, source = resolve_primer(trained, primer, song_name)
    codec, predictor = trained.codec, trained.predictor
    primer_classes = codec.classes(notes, "--seed")
    reference = source or _pick_song(trained.songs, song_name)
    if count < 1:
        raise MelodynetError(f"--num-outputs must be at least 1, not {count}")
    if length is None:
        length = len(reference) - len(notes)
        if length <= 0:
            raise MelodynetError(
                f"the primer is as long as {reference.name}; say how many notes to add "
                "with --length N"
            )
    if length < 0:
        raise MelodynetError(f"--length must be 0 or more, not {length}")

    if mode == "one-step":
        if source is None:
            raise MelodynetError(
                "--mode one-step feeds the training song's true notes, so --seed must be a "
                "count or the opening notes of a training song"
            )
        if sampling is not None and not sampling.greedy:
            raise MelodynetError("--temperature, --top-k and --top-p apply to --mode full")
        if len(notes) + length > len(source):
            raise MelodynetError(
                f"--mode one-step: {source.name} has {len(source)} notes, so at most "
                f"{len(source) - len(notes)} can follow a {len(notes)}-note primer"
            )
        truth = codec.classes(source.notes[: len(notes) + length], source.path)
        streams = np.repeat(predictor.one_step(truth, start=len(notes))[None], count, axis=0)
    elif beam is not None:
        if count != 1 or (sampling is not None and not sampling.greedy):
            raise MelodynetError(
                "--beam-size finds the one likeliest melody; it does not "
                "combine with --num-outputs or sampling"
            )
        streams = predictor.beam_search(primer_classes, length, beam)[None]
    else:
        streams = predictor.continue_song(primer_classes, length, count, sampling)

    base = source or reference
    results = []
    if source is not None:
        truth = codec.classes(source.notes[len(notes) : len(notes) + length], source.path)
    for predicted in streams:
        song = Song(
            notes=notes + codec.notes(predicted),
            title=f"{base.title or base.name} (melodynet {trained.meta.model})",
            tempo=base.tempo,
            time_signature=base.time_signature,
            key=base.key,
            source=f"generated by melodynet from {trained.directory}",
        )
        result = Generated(song, len(notes))
        if source is not None:
            result.matches = matches(np.asarray(predicted), truth)
            result.compared = len(truth)
            result.reference = source.name
        results.append(result)
    return results
