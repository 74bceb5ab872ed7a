"""The built-in synthesizer: additive harmonics with an envelope, in numpy.

Each General MIDI family (eight programs each) gets a timbre: the relative
levels of its harmonics, attack, decay, sustain and release. Plucked and
struck families (piano, guitar, bells) fade while held, and their upper
harmonics fade faster; bowed and blown families hold their level.
"""

from __future__ import annotations

from dataclasses import dataclass

from melodynet.songs.song import Song

RATE = 44100


@dataclass(frozen=True)
class Timbre:
    harmonics: tuple[float, ...]
    """Level of harmonic 1, 2, 3..."""
    attack: float
    """Seconds to full level."""
    decay: float
    """Seconds to fall from full level to ``sustain``; for ``struck`` timbres, the fade's
    time constant while the note is held."""
    sustain: float
    """Level held after the decay (0 to 1)."""
    release: float
    """Seconds to fade out after the note ends (the fade overlaps the next note)."""
    struck: bool = False


_SAW = tuple(1 / k for k in range(1, 11))
_STRINGS = Timbre((1, 0.5, 0.33, 0.25, 0.2, 0.16, 0.14, 0.12), 0.07, 0.1, 0.9, 0.15)
_PLUCKED = Timbre((1, 0.6, 0.4, 0.25, 0.15, 0.1), 0.004, 0.45, 0, 0.08, struck=True)
_PAD = Timbre((1, 0.5, 0.33, 0.25), 0.2, 0.3, 0.8, 0.3)

# General MIDI program // 8 -> timbre
FAMILIES: tuple[Timbre, ...] = (
    Timbre((1, 0.5, 0.3, 0.2, 0.12, 0.08, 0.05), 0.004, 0.7, 0, 0.08, struck=True),  # piano
    Timbre((1, 0, 0, 0.35, 0, 0, 0.15), 0.002, 0.5, 0, 0.15, struck=True),  # chromatic perc.
    Timbre((1, 0.7, 0.5, 0.35, 0.25, 0.2, 0.15, 0.1), 0.01, 0.05, 1.0, 0.05),  # organ
    _PLUCKED,  # guitar
    Timbre((1, 0.5, 0.25, 0.1), 0.005, 0.6, 0, 0.08, struck=True),  # bass
    _STRINGS,  # strings
    _STRINGS,  # ensemble
    Timbre((1, 0.8, 0.6, 0.45, 0.3, 0.2, 0.12), 0.04, 0.1, 0.85, 0.08),  # brass
    Timbre((1, 0.1, 0.5, 0.1, 0.3, 0.05, 0.2), 0.03, 0.1, 0.85, 0.06),  # reed
    Timbre((1, 0.15, 0.05), 0.05, 0.1, 0.9, 0.08),  # pipe
    Timbre(_SAW, 0.01, 0.1, 0.8, 0.05),  # synth lead
    _PAD,  # synth pad
    _PAD,  # synth effects
    _PLUCKED,  # ethnic
    Timbre((1, 0.3, 0.1), 0.002, 0.15, 0, 0.05, struck=True),  # percussive
    Timbre((1,), 0.01, 0.1, 0.8, 0.1),  # sound effects
)

FADE = 0.02  # seconds of fade-out at the very end, so the last note does not click
PEAK = 10 ** (-1 / 20)  # -1 dBFS


def timbre(program: int) -> Timbre:
    return FAMILIES[max(0, min(127, program)) // 8]


def seconds(song: Song, tempo: float | None = None) -> float:
    """How long the song lasts at ``tempo`` (default: its own), in seconds."""
    return float(song.quarter_length) * 60.0 / (tempo or song.tempo)


def _envelope(t, held: float, sound: Timbre):
    import numpy as np

    attack = np.clip(t / max(sound.attack, 1e-4), 0.0, 1.0)
    after = np.maximum(t - sound.attack, 0.0)
    if sound.struck:
        level = np.exp(-after / sound.decay)
    else:
        fall = np.clip(after / max(sound.decay, 1e-4), 0.0, 1.0)
        level = 1.0 - (1.0 - sound.sustain) * fall
    env = attack * level
    # release: from the level at the note's end down to zero
    past = np.clip((t - held) / max(sound.release, 1e-4), 0.0, 1.0)
    return env * (1.0 - past)


def synthesize(song: Song, tempo: float | None = None, program: int = 0, rate: int = RATE):
    """Mono float samples in [-1, 1], exactly as long as the song, peaking at -1 dBFS."""
    import numpy as np

    bpm = tempo or song.tempo
    per_quarter = 60.0 / bpm
    total = round(seconds(song, bpm) * rate)
    out = np.zeros(total, dtype=np.float64)
    sound = timbre(program)
    onset = 0.0
    for note in song.notes:
        length = float(note.duration) * per_quarter
        start = round(onset * rate)
        onset += length
        if note.pitch is None or start >= total:
            continue
        count = min(round((length + sound.release) * rate), total - start)
        t = np.arange(count) / rate
        env = _envelope(t, length, sound)
        frequency = 440.0 * 2 ** ((note.pitch - 69) / 12)
        wave = np.zeros(count)
        for k, level in enumerate(sound.harmonics, start=1):
            if level == 0 or k * frequency >= rate / 2:
                continue
            partial = level * np.sin(2 * np.pi * k * frequency * t)
            if sound.struck:  # upper harmonics die away sooner
                partial *= np.exp(-t * (k - 1) * 0.8 / sound.decay)
            wave += partial
        out[start : start + count] += wave * env
    return finish(out, rate)


def finish(samples, rate: int):
    """Fade the last ``FADE`` seconds out and scale the peak to -1 dBFS (silence stays silent)."""
    import numpy as np

    samples = np.asarray(samples, dtype=np.float64)
    fade = min(len(samples), round(FADE * rate))
    if fade:
        samples[-fade:] *= np.linspace(1.0, 0.0, fade)
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if peak > 0:
        samples *= PEAK / peak
    return samples
