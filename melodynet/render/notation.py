"""A song as a music21 score ready to engrave: key signature, spelling, clef, ids and colours."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from melodynet.errors import MelodynetError, one_line
from melodynet.songs.song import Song

# The two spellings of each black key, with their place on the line of fifths (C = 0).
_BLACK = {
    1: (("C#", 7), ("D-", -5)),
    3: (("D#", 9), ("E-", -3)),
    6: (("F#", 6), ("G-", -6)),
    8: (("G#", 8), ("A-", -4)),
    10: (("A#", 10), ("B-", -2)),
}
_WHITE = {0: "C", 2: "D", 4: "E", 5: "F", 7: "G", 9: "A", 11: "B"}


def key_of(song: Song):
    """The song's key as a music21 Key ('G major', 'a minor', 'D dorian'), or None."""
    from music21 import key

    words = song.key.replace("♭", "-").replace("♯", "#").split()
    if not words:
        return None
    tonic = words[0]
    if len(tonic) == 2 and tonic[1] == "b":
        tonic = tonic[0] + "-"  # "Bb" -> "B-"
    mode = words[1].lower() if len(words) > 1 else ("minor" if tonic.islower() else "major")
    try:
        return key.Key(tonic, mode)
    except Exception:  # an unknown key name only costs the key signature
        return None


def key_name(song: Song) -> str:
    """'G major', 'B♭ minor', 'D dorian'; '' when the song has no readable key."""
    k = key_of(song)
    if k is None:
        return ""
    tonic = k.tonic.name.replace("-", "♭").replace("#", "♯")
    return f"{tonic[0].upper()}{tonic[1:]} {k.mode}"


def spell(midi: int, sharps: int) -> str:
    """The pitch name music21 should print, e.g. 'F#4' in G major and 'G-4' in D-flat major.

    Black keys take the spelling nearest the key on the line of fifths, leaning
    to sharps (raised sixths and sevenths, secondary leading tones), so C major
    gets C#, E-, F#, G#, B-, and F major gets C# but A-.
    """
    pc, octave = midi % 12, midi // 12 - 1
    if pc in _WHITE:
        return f"{_WHITE[pc]}{octave}"
    centre = sharps + 2.5
    (sharp, sharp_fifths), (flat, flat_fifths) = _BLACK[pc]
    name = sharp if abs(sharp_fifths - centre) <= abs(flat_fifths - centre) else flat
    return f"{name}{octave}"


def tempo_text(bpm: float) -> str:
    return str(int(bpm)) if float(bpm).is_integer() else f"{bpm:.1f}"


def engraving_score(
    song: Song,
    tempo: float | None = None,
    colors: Mapping[int, str] | None = None,
    id_prefix: str = "n",
):
    """A music21 Score of the song, in measures, with a key signature and spelled pitches.

    Written note ``i`` gets the id ``{id_prefix}{i}`` (and ``{id_prefix}{i}-2``,
    ``-3``... for the tied pieces it splits into at barlines), which MusicXML,
    verovio and the SVG keep; ``colors`` maps note indices to CSS colours.
    """
    from music21 import clef, metadata, meter, note, pitch, stream
    from music21 import tempo as m21tempo

    k = key_of(song)
    sharps = k.sharps if k is not None else 0
    bpm = tempo or song.tempo
    part = stream.Part()
    for i, n in enumerate(song.notes):
        if n.pitch is None:
            element = note.Rest(quarterLength=n.duration)
        else:
            element = note.Note(pitch.Pitch(spell(n.pitch, sharps)), quarterLength=n.duration)
        element.id = f"{id_prefix}{i}"
        color = (colors or {}).get(i)
        if color:
            element.style.color = color
        part.append(element)
    try:
        part.insert(0, clef.bestClef(part, recurse=True) if part.pitches else clef.TrebleClef())
        part.insert(0, meter.TimeSignature(song.time_signature))
        if k is not None:
            part.insert(0, k)
        mark = m21tempo.MetronomeMark(number=float(tempo_text(bpm)))
        part.insert(0, mark)
        measured = part.makeNotation()
    except Exception as exc:  # music21 raises many types for what it cannot notate
        raise MelodynetError(f"cannot engrave {song.name}: {one_line(exc)}") from exc
    seen: dict[str, int] = {}
    for element in measured.recurse().notesAndRests:
        base = str(element.id)
        seen[base] = seen.get(base, 0) + 1
        if seen[base] > 1:
            element.id = f"{base}-{seen[base]}"
    score = stream.Score()
    score.metadata = metadata.Metadata(title=song.title or song.name)
    score.insert(0, measured)
    return score


def musicxml(
    song: Song,
    tempo: float | None = None,
    colors: Mapping[int, str] | None = None,
    id_prefix: str = "n",
) -> str:
    """The engraving score as MusicXML text."""
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    score = engraving_score(song, tempo, colors, id_prefix)
    try:
        text = GeneralObjectExporter(score).parse().decode("utf-8")
    except Exception as exc:
        raise MelodynetError(f"cannot engrave {song.name}: {one_line(exc)}") from exc
    # music21 names itself the composer when there is none
    return text.replace('<creator type="composer">Music21</creator>', "")


def write_mxl(
    song: Song,
    path: str | Path,
    tempo: float | None = None,
    colors: Mapping[int, str] | None = None,
    id_prefix: str = "n",
) -> None:
    """The MusicXML of ``musicxml`` as a compressed ``.mxl`` file at ``path`` (zipped by
    music21, with the container file readers look for)."""
    import shutil
    import tempfile

    from music21.musicxml.archiveTools import compressXML

    text = musicxml(song, tempo, colors, id_prefix)
    with tempfile.TemporaryDirectory(prefix="melodynet-mxl-") as tmp:
        xml = Path(tmp) / "score.musicxml"
        xml.write_text(text, encoding="utf-8")
        compressXML(xml, deleteOriginal=True, silent=True)
        shutil.move(xml.with_suffix(".mxl"), path)
