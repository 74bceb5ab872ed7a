import math

import pytest

from melodynet.evaluation.stats import (
    collection_stats,
    compare,
    format_comparison,
    pitch_class_entropy,
    repeated_note_rate,
    scale_consistency,
    song_stats,
)
from melodynet.songs.song import Note, Song


def _song(*pitches) -> Song:
    return Song([Note(p, 1) for p in pitches])


def test_one_song_by_hand():
    # C D E C (rest) C (rest) C
    song = _song(60, 62, 64, 60, None, 60, None)
    stats = song_stats(song)
    assert stats["pitch_range"] == 4
    assert stats["n_pitches_used"] == 3
    assert stats["n_pitch_classes_used"] == 3
    # pitch classes C:3 D:1 E:1 of 5 notes (rests are not notes)
    expected = -(0.6 * math.log2(0.6) + 2 * 0.2 * math.log2(0.2))
    assert stats["pitch_class_entropy"] == pytest.approx(expected)  # 1.3710
    assert stats["scale_consistency"] == 1.0
    # consecutive notes, rests skipped: C-D, D-E, E-C, C-C -> one repeat of four
    assert stats["repeated_note_rate"] == 0.25


def test_octaves_share_a_pitch_class():
    song = _song(48, 60, 72, 67)
    stats = song_stats(song)
    assert stats["pitch_range"] == 24
    assert stats["n_pitches_used"] == 4
    assert stats["n_pitch_classes_used"] == 2
    assert stats["pitch_class_entropy"] == pytest.approx(
        -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    )
    assert stats["repeated_note_rate"] == 0.0


def test_chromatic_scale():
    song = _song(*range(60, 72))
    assert pitch_class_entropy(song) == pytest.approx(math.log2(12))
    assert scale_consistency(song) == pytest.approx(7 / 12)  # any diatonic scale holds 7 of 12


def test_scale_consistency_takes_the_best_scale():
    # C D E F# : all in G major (and E minor), not in C major
    assert scale_consistency(_song(60, 62, 64, 66)) == 1.0
    # C C# D: at most two of three in any major or natural minor scale
    assert scale_consistency(_song(60, 61, 62)) == pytest.approx(2 / 3)


def test_songs_without_notes_have_no_values():
    rests = Song([Note(None, 1)])
    stats = song_stats(rests)
    assert all(math.isnan(v) for v in stats.values())
    assert math.isnan(repeated_note_rate(_song(60)))
    assert pitch_class_entropy(_song(60)) == 0.0


def test_collection_mean_and_std():
    songs = [_song(60, 64), _song(60, 72), Song([Note(None, 1)])]
    summary = collection_stats(songs)["pitch_range"]
    assert summary.songs == 2  # the rest-only song has no range
    assert summary.mean == 8.0 and summary.std == 4.0


def test_compare_generated_with_training():
    training = [_song(60, 64), _song(60, 72)]  # ranges 4 and 12: mean 8, std 4
    generated = [_song(60, 76)]  # range 16
    rows = {r.metric: r for r in compare(generated, training)}
    assert rows["pitch_range"].difference == 8.0
    assert rows["pitch_range"].z == 2.0
    data = rows["pitch_range"].to_json()
    assert data["generated"]["mean"] == 16.0 and data["training"]["std"] == 4.0
    table = format_comparison(list(rows.values()))
    assert "pitch_range" in table and "repeated_note_rate" in table
