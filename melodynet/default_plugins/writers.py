"""Built-in writers: MIDI through mido, tinyNotation text, MusicXML through music21."""

from pathlib import Path

from melodynet.hookspecs import WriteOptions, WriterSpec, hookimpl
from melodynet.song import Song

TICKS_PER_BEAT = 480


def write_midi(song: Song, path: Path, options: WriteOptions) -> None:
    """One track: tempo, time signature, program, then notes; rests are gaps."""
    import mido

    numerator, denominator = (int(x) for x in song.time_signature.split("/"))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=song.title or song.name, time=0))
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(options.tempo or song.tempo)))
    track.append(mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator))
    track.append(mido.Message("program_change", program=options.instrument, time=0))
    gap = 0
    for note in song.notes:
        ticks = round(note.duration * TICKS_PER_BEAT)
        if note.pitch is None:
            gap += ticks
            continue
        track.append(mido.Message("note_on", note=note.pitch, velocity=80, time=gap))
        track.append(mido.Message("note_off", note=note.pitch, velocity=0, time=ticks))
        gap = 0
    track.append(mido.MetaMessage("end_of_track", time=gap))
    midi = mido.MidiFile(ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(track)
    midi.save(str(path))


def write_text(song: Song, path: Path, options: WriteOptions) -> None:
    from melodynet.tinynotation import format_song

    path.write_text(format_song(song), encoding="utf-8")


def write_musicxml(song: Song, path: Path, options: WriteOptions) -> None:
    from melodynet.m21 import stream_from_song

    fmt = "mxl" if path.suffix.lower() == ".mxl" else "musicxml"
    stream_from_song(song, options.tempo).write(fmt, fp=str(path))


@hookimpl
def register_writers(register):
    register(WriterSpec("midi", (".mid", ".midi"), write_midi, "MIDI through mido"))
    register(WriterSpec("tinynotation", (".txt",), write_text, "tinyNotation text"))
    register(
        WriterSpec(
            "musicxml", (".musicxml", ".xml", ".mxl"), write_musicxml, "MusicXML through music21"
        )
    )
