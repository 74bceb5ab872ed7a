"""WAV audio: FluidSynth with a General MIDI SoundFont when installed, else the built-in synth.

Either way the file is 16-bit mono PCM (44.1 kHz unless asked otherwise),
exactly as long as the song at its tempo, its last 20 ms faded out and its
peak at -1 dBFS. ``MELODYNET_SYNTH`` chooses: ``auto`` (the default:
FluidSynth when it and a SoundFont are found), ``fluidsynth`` or ``builtin``.
``MELODYNET_SOUNDFONT`` names the SoundFont (.sf2/.sf3) to use.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

from melodynet.errors import MelodynetError, warn
from melodynet.hookspecs import WriteOptions
from melodynet.render import synth
from melodynet.songs.song import Song

SYNTH_ENV = "MELODYNET_SYNTH"
SOUNDFONT_ENV = "MELODYNET_SOUNDFONT"
# Where Debian, Ubuntu, Fedora and Arch put General MIDI SoundFonts, best first.
SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",  # Debian/Ubuntu fluid-soundfont-gm
    "/usr/share/soundfonts/FluidR3_GM.sf2",  # Fedora, Arch
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf2/TimGM6mb.sf2",  # Debian/Ubuntu timgm6mb-soundfont
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/sounds/sf3/default-GM.sf3",
    "/usr/share/sounds/sf3/MuseScore_General.sf3",
)
INSTALL_HINT = "apt-get install fluidsynth fluid-soundfont-gm"
TIMEOUT = 300


def soundfont() -> Path | None:
    """The General MIDI SoundFont to play with: $MELODYNET_SOUNDFONT, else a standard one."""
    chosen = os.environ.get(SOUNDFONT_ENV)
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_file():
            raise MelodynetError(f"{SOUNDFONT_ENV}={chosen}: no such SoundFont file")
        return path
    return next((Path(p) for p in SOUNDFONTS if Path(p).is_file()), None)


def engine() -> str:
    """'fluidsynth' or 'builtin', as $MELODYNET_SYNTH and the installed programs allow."""
    wanted = os.environ.get(SYNTH_ENV, "auto").strip().lower() or "auto"
    if wanted not in ("auto", "fluidsynth", "builtin"):
        raise MelodynetError(
            f"{SYNTH_ENV}={wanted}: choose auto, fluidsynth or builtin (the synthesizer for .wav)"
        )
    if wanted == "builtin":
        return "builtin"
    found = shutil.which("fluidsynth") is not None and soundfont() is not None
    if wanted == "fluidsynth" and not found:
        raise MelodynetError(
            f"{SYNTH_ENV}=fluidsynth, but FluidSynth or a General MIDI SoundFont is missing: "
            f"{INSTALL_HINT} (or set {SYNTH_ENV}=builtin)"
        )
    return "fluidsynth" if found else "builtin"


def _fluidsynth(song: Song, options: WriteOptions, rate: int):
    """Samples from FluidSynth, mixed to mono, cut or padded to the song's length."""
    import numpy as np

    from melodynet.songs.midi import write_midi

    font = soundfont()
    assert font is not None
    with tempfile.TemporaryDirectory(prefix="melodynet-fluidsynth-") as tmp:
        midi, rendered = Path(tmp) / "song.mid", Path(tmp) / "song.wav"
        write_midi(song, midi, options.tempo, options.instrument)
        command = [
            shutil.which("fluidsynth") or "fluidsynth",
            "-n",  # no MIDI input
            "-i",  # no shell
            "-q",
            "-g",
            "0.5",
            "-r",
            str(rate),
            "-T",
            "wav",
            "-O",
            "s16",
            "-F",
            str(rendered),
            str(font),
            str(midi),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"cannot run fluidsynth ({exc})") from exc
        if done.returncode != 0 or not rendered.is_file():
            lines = (done.stderr or done.stdout).strip().splitlines()
            raise RuntimeError(lines[-1] if lines else f"exit status {done.returncode}")
        with wave.open(str(rendered), "rb") as w:
            channels, width, got_rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            frames = w.readframes(w.getnframes())
    if width != 2 or got_rate != rate:
        raise RuntimeError(f"unexpected output: {width * 8}-bit at {got_rate} Hz")
    data = np.frombuffer(frames, dtype="<i2").astype(np.float64) / 32768.0
    data = data.reshape(-1, channels).mean(axis=1)
    total = round(synth.seconds(song, options.tempo) * rate)
    out = np.zeros(total)
    out[: min(total, len(data))] = data[:total]
    return synth.finish(out, rate)


def samples(song: Song, options: WriteOptions | None = None, rate: int = synth.RATE):
    """Mono float samples of the song, from FluidSynth or the built-in synthesizer."""
    options = options or WriteOptions()
    if engine() == "fluidsynth":
        try:
            return _fluidsynth(song, options, rate)
        except RuntimeError as exc:
            warn(f"fluidsynth failed ({exc}); using the built-in synthesizer")
    return synth.synthesize(song, options.tempo, options.instrument, rate)


def _pcm(data) -> bytes:
    import numpy as np

    return (np.clip(data, -1.0, 1.0) * 32767).round().astype("<i2").tobytes()


def _write(target, data, rate: int) -> None:
    with wave.open(target, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(_pcm(data))


def write_wav(
    song: Song, path: Path, options: WriteOptions | None = None, rate: int = synth.RATE
) -> None:
    _write(str(path), samples(song, options, rate), rate)


def wav_bytes(song: Song, options: WriteOptions | None = None, rate: int = synth.RATE) -> bytes:
    """A whole WAV file in memory (for the report's audio players)."""
    buffer = io.BytesIO()
    _write(buffer, samples(song, options, rate), rate)
    return buffer.getvalue()
