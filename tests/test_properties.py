"""Property-based tests: any melody survives tinyNotation and both encodings; any text either
parses or fails with a SongError."""

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from melodynet.codec import Codec
from melodynet.errors import SongError
from melodynet.network import features as one_hot
from melodynet.plugins import registry
from melodynet.songs.song import Note, Song
from melodynet.songs.tinynotation import format_song, parse_notes

PLAIN = [Fraction(4, d) * (2 - Fraction(1, 2**k)) for d in (1, 2, 4, 8, 16, 32) for k in (0, 1)]
TIED = [Fraction(5), Fraction(4, 3), Fraction(1, 3), Fraction(2, 3), Fraction(9, 4)]

pitches = st.integers(min_value=24, max_value=108)
notes = st.one_of(
    st.builds(Note, pitches, st.sampled_from(PLAIN + TIED)),
    st.builds(Note, st.none(), st.sampled_from(PLAIN)),
)
melodies = st.lists(notes, min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(melodies)
def test_any_melody_round_trips_through_tinynotation(melody):
    text = format_song(Song(melody))
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    parsed, _ = parse_notes(body)
    assert parsed == melody


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("abcdefgrABCDEFG#-'.~0123468/{}trip \n")), max_size=40)
)
def test_any_text_parses_or_fails_cleanly(text):
    try:
        parsed, _ = parse_notes(text)
    except SongError as err:
        assert "\n" not in err.message
    else:
        assert all(n.duration > 0 for n in parsed)


@settings(max_examples=60, deadline=None)
@given(st.lists(melodies, min_size=1, max_size=3), st.sampled_from(["single", "split"]))
def test_encodings_round_trip_every_training_note(songs, encoding):
    songs = [Song(m) for m in songs]
    codec = Codec.fit(registry().encoding(encoding), songs)
    for song in songs:
        classes = codec.classes(song.notes)
        assert codec.notes(classes) == song.notes
        features = one_hot(classes, codec.sizes).numpy()
        assert features.shape == (len(song), codec.feature_size)
        assert (features.sum(axis=1) == len(codec.heads)).all()
