"""Turning a primer into melodies: choose the primer, predict, compare with the original.

Each generated Song records in ``extra`` how it came about: ``primer`` (notes given), and
when the primer is the opening of a training song, ``reference`` (that song), ``compared``
(notes compared) and ``matches`` (generated notes equal to the song's in position).

The user's own primer (notes, a file, a Song) for a model trained in the common key is
moved into that key, continued and moved back with the melody (``generation/primer.py``):
into the key asked for, else into the primer's own key, which ``extra['primer_key']``
names (and ``song.key`` is), with ``extra['primer_moved']`` the semitones the primer was
moved by. A primer note the model does not know is an error naming it and the nearest
note it knows; ``quantize`` moves each such note there instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from melodynet.errors import OptionError
from melodynet.generation.sampling import Sampling
from melodynet.positions import Meter, ticks
from melodynet.songs.song import Note, Song

if TYPE_CHECKING:
    from melodynet.evaluation.mix import MixOptions
    from melodynet.generation.constraints import Constraints

MODES = ("full", "one-step")
Primer = int | str | Path | Song | Sequence[Note] | None


def pick_song(songs: Sequence[Song], name: str | None) -> Song:
    """The training song called ``name`` (its name, title or path); the first if None."""
    if name is None:
        return songs[0]
    for song in songs:
        if name in (song.name, song.title, song.path):
            return song
    raise OptionError(
        f"song {name!r} is not a training song of this model; choose one of: "
        + ", ".join(s.name for s in songs),
        option="song",
    )


def resolve_primer(
    model, primer: Primer, song_name: str | None
) -> tuple[list[Note], Song | None, Song | None]:
    """The primer notes, the training song they open (None if they open none), and the
    song the user's primer came as (a file, a Song, tinyNotation that gives a time
    signature; else None), whose title, tempo and time signature the melody takes.

    ``primer``: a count of leading notes of the training song, tinyNotation text, a path
    to a song file, a Song or a list of notes; None is the model's window.
    """
    from melodynet.songs.files import read_songs
    from melodynet.songs.tinynotation import parse_notes

    songs = model.songs
    if primer is None:
        primer = model.config.window
    if isinstance(primer, str) and primer.strip().isdigit():
        primer = int(primer)
    if isinstance(primer, bool):
        raise OptionError(f"primer must be a count, notes or a song, not {primer!r}", "primer")
    if isinstance(primer, int):
        song = pick_song(songs, song_name)
        if not 1 <= primer <= len(song):
            raise OptionError(
                f"primer {primer}: the primer must be 1 to {len(song)} notes of {song.name} "
                f"({len(song)} notes)",
                option="primer",
            )
        return song.notes[:primer], song, None
    given = None
    if isinstance(primer, Song):
        notes, given = list(primer.notes), primer
    elif isinstance(primer, Path) or (
        isinstance(primer, str) and Path(primer).suffix and Path(primer).is_file()
    ):
        given = read_songs([primer], warn=lambda _: None)[0]  # a whole file as primer
        notes = given.notes
    elif isinstance(primer, str):
        notes, signature = parse_notes(primer, where="primer")
        given = Song(notes, tempo=0, time_signature=signature) if signature else None
    else:
        notes = list(primer)
        if not notes or not all(isinstance(n, Note) for n in notes):
            raise OptionError("primer must be a count, notes or a song", option="primer")
    candidates = [pick_song(songs, song_name)] if song_name else songs
    source = next((s for s in candidates if s.notes[: len(notes)] == notes), None)
    return notes, source, None if source is not None else given


def _meter(song: Song | None) -> Meter | None:
    """The meter a model with bar inputs counts the primer's bars in: the song the primer
    opens or came as; None (the model's default) for bare notes."""
    return None if song is None else Meter.of_song(song)


def _mixing(model, options: MixOptions):
    """The model's network mixed with the PPM models of ``options`` (built once per model
    and mix: the long-term models count every training song)."""
    from melodynet.generation.constraints import joint_notes
    from melodynet.generation.mixing import GenerationMix

    built = model.__dict__.setdefault("_mixes", {})
    if options not in built:
        notes = joint_notes(model.codec)
        built[options] = GenerationMix(notes, model.codec.sizes, model.songs, options)
    return built[options]


def _tonic(source: Song | None, given: Song | None, notes: list[Note], moved: int) -> int | None:
    """The tonic a mix's degree models count from: the key the training song the primer
    opens declares, else the key the user's song declares (moved with the primer), else
    the key of the primer's notes (Krumhansl-Schmuckler)."""
    from melodynet.evaluation.viewpoints import declared_tonic
    from melodynet.songs.keys import detect_key

    for song, shift in ((source, 0), (given, moved)):
        tonic = None if song is None else declared_tonic(song)
        if tonic is not None:
            return (tonic + shift) % 12
    found = detect_key(notes)
    return None if found is None else found[0]


def _as_given(reference: Song, given: Song | None) -> Song:
    """The song the melody takes its title, tempo and time signature from: the user's
    primer's where it came with them, else the training song's."""
    if given is None:
        return reference
    title = given.title or (given.name if given.path else reference.title)
    tempo = given.tempo or reference.tempo  # tinyNotation gives none
    return replace(reference, title=title, tempo=tempo, time_signature=given.time_signature)


def generate_songs(
    model,
    primer: Primer = None,
    length: int | None = None,
    mode: str = "full",
    song_name: str | None = None,
    count: int = 1,
    sampling: Sampling | None = None,
    beam: int | None = None,
    constraints: Constraints | None = None,
    quantize: bool = False,
    mix: MixOptions | None = None,
) -> list[Song]:
    """``count`` melodies from one primer, generated as one batch (distinct when sampled).

    Each song's ``extra`` says how it came about (see the module's docstring) and
    ``longest_copy``: the most notes in a row (in any transposition) it shares with a
    training song, outside the primer."""
    from melodynet.generation import primer as primers

    if mode not in MODES:
        raise OptionError(f"mode must be full or one-step, not {mode!r}", option="mode")
    if not isinstance(count, int) or count < 1:
        raise OptionError(f"num_outputs must be at least 1, not {count}", option="num_outputs")
    if length is not None and length < 0:
        raise OptionError(f"length must be 0 or more, not {length}", option="length")
    primers.check_quantize(quantize)
    notes, source, given = resolve_primer(model, primer, song_name)
    codec = model.codec
    reference = _as_given(source or pick_song(model.songs, song_name), given)
    own_key = primers.primer_key(model, notes, source, constraints)
    if constraints is not None and constraints.active:
        return _constrained(
            model,
            notes,
            source,
            reference,
            length,
            mode,
            count,
            sampling,
            beam,
            constraints,
            own_key,
            quantize,
            mix,
        )
    predictor = model.predictor.with_meter(_meter(source or given))
    moved = 0
    if own_key is not None:  # the user's primer, for a model in the common key
        moved = primers.into_model_key(model, notes, primers.common_key_shift(own_key))
        notes = primers.move_into(notes, moved)
    into = primers.shifted(own_key, moved).name if own_key is not None else ""
    notes = primers.fit_primer(model, notes, quantize, moved, into)
    primer_classes = codec.classes(notes, "primer")
    if mix is not None and mix.active:
        if mode == "one-step":
            raise OptionError("mix applies to mode full", option="mix")
        tonic = _tonic(source, given, notes, moved)
        meter = _meter(source or given) or Meter.of(reference.time_signature)
        predictor = predictor.with_mix(_mixing(model, mix).with_key(tonic, meter))
    if length is None:
        length = len(reference) - len(notes)
        if length <= 0:
            raise OptionError(
                f"the primer is as long as {reference.name}; say how many notes to add with length",
                option="length",
            )

    if mode == "one-step":
        if source is None:
            raise OptionError(
                "mode one-step feeds the training song's true notes, so the primer must be a "
                "count or the opening notes of a training song",
                option="mode",
            )
        if sampling is not None and not sampling.greedy:
            raise OptionError(
                "temperature, top_k and top_p apply to mode full", option="temperature"
            )
        if len(notes) + length > len(source):
            raise OptionError(
                f"mode one-step: {source.name} has {len(source)} notes, so at most "
                f"{len(source) - len(notes)} can follow a {len(notes)}-note primer",
                option="mode",
            )
        truth = codec.classes(source.notes[: len(notes) + length], source.path)
        streams = np.repeat(predictor.one_step(truth, start=len(notes))[None], count, axis=0)
    elif beam is not None:
        if count != 1 or (sampling is not None and not sampling.greedy):
            raise OptionError(
                "beam_size finds the one likeliest melody; it does not "
                "combine with num_outputs or sampling",
                option="beam_size",
            )
        streams = predictor.beam_search(primer_classes, length, beam)[None]
    else:
        streams = predictor.continue_song(primer_classes, length, count, sampling)

    songs = [_song(model, notes, source, reference, codec.notes(p)) for p in streams]
    return [primers.moved_back(song, -moved, own_key, moved) for song in songs]


def _song(
    model,
    primer: list[Note],
    source,
    reference: Song,
    generated: list[Note],
    pickup: str | None = None,
    **fields,
):
    """The generated Song, with what ``extra`` says of it; ``pickup`` (quarter notes) is
    the opening partial bar's, by default that of the training song the primer opens."""
    from melodynet.generation.constraints import longest_shared_run

    base = source or reference
    notes = primer + generated
    extra = {"primer": str(len(primer))}
    if pickup is None and source is not None:
        pickup = source.extra.get("pickup")
    if pickup:
        extra["pickup"] = pickup
    if source is not None:
        truth = source.notes[len(primer) : len(notes)]
        extra.update(
            reference=source.name,
            compared=str(len(truth)),
            matches=str(sum(a == b for a, b in zip(generated, truth, strict=False))),
        )
    extra["longest_copy"] = str(longest_shared_run(notes, model.songs, start=len(primer)))
    song = Song(
        notes=notes,
        title=f"{base.title or base.name} (melodynet {model.meta.model})",
        tempo=base.tempo,
        time_signature=base.time_signature,
        key=base.key,
        source=f"generated by melodynet from {model.directory or 'a model in memory'}",
        extra=extra,
    )
    for name, value in fields.items():
        setattr(song, name, value)
    return song


def _constrained(
    model, notes, source, reference, length, mode, count, sampling, beam, c, own_key, quantize, mix
):
    """Melodies that satisfy the constraints ``c`` by construction, checked all the same.

    ``own_key``: the key of the user's primer when no key is asked for (primer.primer_key),
    planned as a key that keeps every pitch (chromatic): the primer moves into the model's
    key and the melody moves back, the range staying where the user put it."""
    from melodynet.generation import primer as primers
    from melodynet.generation.constrained import Decoder
    from melodynet.generation.constraints import in_common_key, joint_notes, plan, violations
    from melodynet.songs.preprocess import transpose

    if mode != "full":
        raise OptionError("the constraints apply to mode full", option="mode")
    if c.bars is not None and length is not None:
        raise OptionError("length and bars both say how long: give one", option="length")
    if beam is not None and (count != 1 or (sampling is not None and not sampling.greedy)):
        raise OptionError(
            "beam_size finds the one likeliest melody; it does not combine with num_outputs "
            "or sampling",
            option="beam_size",
        )
    if c.bars is None and length is None:
        length = len(reference) - len(notes)
    if own_key is not None and (c.end or c.chromatic):
        own_key = None  # they need a key asked for: plan says so
    wanted = c if own_key is None else replace(c, key=own_key.name, chromatic=True)
    resolved = plan(wanted, model, reference.time_signature)
    moved, back = 0, resolved.transpose
    if source is None and wanted.key is not None and in_common_key(model.songs):
        # the user's notes, in the key asked for (or their own): into the model's key
        moved = primers.into_model_key(model, notes, -resolved.transpose, c.range is None)
        notes = primers.move_into(notes, moved)
        back = -moved
    into = resolved.key.name if resolved.key is not None else ""
    notes = primers.fit_primer(model, notes, quantize, moved, into)
    primer_classes = model.codec.classes(notes, "primer")
    units = [int(n.duration / resolved.unit) for n in notes]
    if any(Fraction(u) * resolved.unit != n.duration for u, n in zip(units, notes, strict=True)):
        raise OptionError("primer: a note is not on the durations the model knows", "primer")
    meter = _meter(source) or Meter.of(reference.time_signature)
    if resolved.bar is not None:
        meter = Meter(ticks(resolved.bar * resolved.unit), ticks(resolved.pickup * resolved.unit))
    predictor = model.predictor.with_meter(meter)
    if mix is not None and mix.active:
        tonic = resolved.key.tonic if resolved.key is not None else _tonic(source, None, notes, 0)
        predictor = predictor.with_mix(_mixing(model, mix).with_key(tonic, meter))
    decoder = Decoder(predictor, resolved, joint_notes(model.codec))
    found = decoder.decode(primer_classes, units, count, length, sampling, beam)
    pickup = None  # without bars: the primer's song's
    if c.bars is not None:
        pickup = str(resolved.pickup * resolved.unit) if resolved.pickup else ""
    songs = []
    for classes in found:
        song = _song(
            model,
            notes,
            source,
            reference,
            model.codec.notes(classes),
            pickup=pickup,
            time_signature=resolved.meter_text if c.bars is not None else reference.time_signature,
        )
        if back:
            song = transpose(song, back)
            song.extra.pop("transposed", None)
        problems = violations(song, wanted, resolved, len(notes))
        assert not problems, f"a constrained melody breaks its constraints: {problems}"
        if resolved.key is not None:
            from melodynet.generation.constraints import Key

            song.key = Key((resolved.key.tonic + resolved.transpose) % 12, resolved.key.mode).name
        songs.append(primers.moved_back(song, 0, own_key, moved))
    return songs
