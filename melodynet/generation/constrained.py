"""Decoding under constraints: at each step the model's choices are masked to those that keep
every constraint satisfiable, over the joint classes of all heads (a note is one choice).

Greedy takes the likeliest allowed note, sampling draws among the allowed notes, beam search
keeps the likeliest partial melodies among allowed continuations. Streams fill the bars
note by note; repeated sections of a form are copied from their first occurrence (and fed
to the model, so it keeps listening); a stream that has filled its bars waits for the others.

Every stream's bookkeeping is a row of numpy arrays (``_Streams``), and every rule a table
computed once per plan (``_Rules``): what each joint class may follow with the time left in
its bar, and what each window of notes forbids under no-copy (looked up once per window,
then kept). A step costs the same few array operations for one stream or for hundreds.

Dead ends: only ``no_copy`` can leave a stream without a note (the bars are kept fillable
up front). A sampled stream then starts again from the primer; greedy decoding and beam
search go back to their latest choices and take the next likeliest ones instead (a bounded
depth-first search: ``BACKTRACK_DEPTH`` steps back, ``MAX_BACKTRACKS`` choices retaken,
``MAX_REDONE`` steps taken again), and fail with one line only when that search finds
nothing.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from melodynet.errors import MelodynetError
from melodynet.generation.constraints import Plan, _canonical, _code
from melodynet.generation.sampling import Sampling, choose
from melodynet.songs.song import Note

MAX_RESTARTS = 20
"""Fresh starts a sampled stream may take (per stream, on average) before giving up."""
MAX_BACKTRACKS = 2000
"""Earlier choices greedy decoding or beam search may retake, per melody, before giving up."""
MAX_REDONE = 4096
"""Steps greedy decoding or beam search may take again after going back, per melody."""
BACKTRACK_DEPTH = 512
"""How many steps back greedy decoding and beam search may go to retake a choice."""


class _Streams:
    """Every melody being written, one row per stream: its notes (joint classes, the primer
    first) and where each starts, how far it has got, whether it has filled its bars, the
    notes of a repeated section still to copy (``hist[qptr:qend]``), where each section
    letter was first written (``hist[sec_from:sec_to]``), its last notes as one number
    (``win``, for no-copy) and its beam score.

    ``hist`` and ``starts`` are only ever written past a row's ``length``, so a copy that
    shares them (``copy``) stays valid for as long as its own lengths say."""

    __slots__ = ("hist", "starts", "length", "pos", "done", "qptr", "qend", "sec_from")
    __slots__ += ("sec_to", "win", "score", "fed", "nfed")

    def __init__(self, first: list[int], starts: list[int], pos: int, width: int, letters: int):
        size = len(first) + 64
        self.hist = np.zeros((width, size), dtype=np.int64)
        self.hist[:, : len(first)] = first
        self.starts = np.zeros((width, size), dtype=np.int64)
        self.starts[:, : len(first)] = starts
        self.length = np.full(width, len(first), dtype=np.int64)
        self.pos = np.full(width, pos, dtype=np.int64)
        self.done = np.zeros(width, dtype=bool)
        self.qptr = np.zeros(width, dtype=np.int64)
        self.qend = np.zeros(width, dtype=np.int64)
        self.sec_from = np.full((width, letters), -1, dtype=np.int64)
        self.sec_to = np.full((width, letters), -1, dtype=np.int64)
        self.win = np.zeros(width, dtype=np.int64)
        self.score = np.zeros(width)
        self.fed = None  # the classes fed to a network that cannot be snapshot (replays)
        self.nfed = 0

    def copy(self) -> _Streams:
        other = object.__new__(_Streams)
        for name in self.__slots__:
            value = getattr(self, name)
            shared = name in ("hist", "starts", "fed", "nfed")
            setattr(other, name, value if shared else value.copy())
        return other

    def take(self, rows: np.ndarray) -> _Streams:
        """The streams ``rows`` (a beam's parents), as new arrays."""
        other = object.__new__(_Streams)
        for name in self.__slots__:
            value = getattr(self, name)
            setattr(other, name, value if name == "nfed" or value is None else value[rows])
        return other

    def room(self, length: int) -> None:
        """Make ``hist`` and ``starts`` hold at least ``length`` notes per stream."""
        size = self.hist.shape[1]
        if length > size:
            grow = max(length, 2 * size) - size
            self.hist = np.pad(self.hist, ((0, 0), (0, grow)))
            self.starts = np.pad(self.starts, ((0, 0), (0, grow)))

    ROW = ("length", "pos", "done", "qptr", "qend", "sec_from", "sec_to", "win", "score")

    def restart(self, rows: np.ndarray, base: _Streams, source=0) -> None:
        """Streams ``rows`` back to row ``source`` of ``base`` (``hist`` and ``starts`` as
        they are: their rows must still hold ``base``'s notes)."""
        for name in self.ROW:
            getattr(self, name)[rows] = getattr(base, name)[source]


_UNKNOWN = object()


class _Rules:
    """The constraints as tables over the joint classes, computed once per plan.

    Bars: ``masks[row_at[pos]]`` is what a stream at ``pos`` (units from the start) may
    write: the allowed classes that leave the rest of the bar fillable (or, when the bar
    ends the melody or a section the melody ends like, fillable ending on the tonic);
    ``turn_at[pos]`` says a section of a form that repeats a letter ends at ``pos``.

    No-copy: ``children`` maps the first ``no_copy - 1`` notes of every training run of
    ``no_copy`` notes (transposition-free, as ``constraints._canonical`` writes them) to
    the notes that end one; what a window of a stream's last ``no_copy - 1`` notes rules
    out is found there once and kept, keyed by the window as one number (its notes'
    indices among the distinct notes, in that base), which each step updates: in a table
    over every window when they are few enough (``table``, ``keep``), else in a dict
    (``cache``)."""

    def __init__(self, plan: Plan, notes: list[Note]) -> None:
        p = plan
        self.units = p.units.astype(np.int64)
        self.repeats = len(set(p.sections)) < len(p.sections)
        if p.bar is not None:
            self._bars(p)
        self.n = p.no_copy or 0
        copies = p.copies.get(p.no_copy, set()) if p.no_copy else set()
        self.no_copy = bool(copies)
        if self.no_copy:
            self._runs(copies, notes)

    def _bars(self, p: Plan) -> None:
        left = np.arange(max(p.bar, p.pickup) + 1)[:, None]
        after = left - self.units[None, :]  # what a note would leave of its bar
        rest = np.clip(after, 0, None)
        fits = (after >= 0) & p.allowed[None, :]
        plain = fits & p.fill[rest]
        ending = fits & (((after == 0) & p.tonic[None, :]) | ((after > 0) & p.fill_end[rest]))
        self.masks = np.concatenate([plain, ending])
        su, count = p.section_units, len(p.sections)
        total = p.pickup + su * count
        pos = np.arange(total + int(self.units.max()) + 1)  # a beam gone astray may pass it
        before, since = pos < p.pickup, pos - p.pickup
        boundary = np.where(before, p.pickup, p.pickup + (since // p.bar + 1) * p.bar)
        section = np.where(before, 0, np.minimum(since // su, count - 1))
        last = np.array([s == p.sections[-1] for s in p.sections]) & bool(p.end_tonic)
        # the melody's last bar (or the bar a repeat will end the melody with)
        ends = (boundary == p.pickup + (section + 1) * su) & last[section]
        self.row_at = ends * len(left) + (boundary - pos)
        self.turn_at = (pos > p.pickup) & (since % su == 0) & (pos < total) & self.repeats

    def _runs(self, copies: set, notes: list[Note]) -> None:
        # each class as the runs have it (duration code, pitch), and back
        self.key = [(_code(note.duration), note.pitch) for note in notes]
        self.classes_of: dict[tuple, list[int]] = {}
        self.pitched: dict[int, list[int]] = {}  # the pitched classes of each duration
        for c, (code, pitch) in enumerate(self.key):
            self.classes_of.setdefault((code, pitch), []).append(c)
            if pitch is not None:
                self.pitched.setdefault(code, []).append(c)
        self.children: dict[tuple, list[tuple]] = {}  # a run's first notes -> its last
        for run in copies:
            self.children.setdefault(run[:-1], []).append(run[-1])
        # the windows as numbers: each class's note among the distinct notes
        distinct = {key: i for i, key in enumerate(dict.fromkeys(self.key))}
        self.note_of = np.array([distinct[key] for key in self.key], dtype=np.int64)
        self.notes = len(distinct)
        # (a window times the base must fit in int64 too)
        self.modulus = self.notes ** (self.n - 1) if self.notes**self.n < 2**62 else 0
        self.cache: dict = {}
        # few enough windows: a table over all of them (-1: not looked up yet, else a row of
        # ``keep``, the classes each window leaves; row 0 leaves them all), read for every
        # stream at once
        self.table = None
        if 0 < self.modulus <= 1 << 22:
            self.table = np.full(self.modulus, -1, dtype=np.int32)
            self.keep = np.ones((16, len(notes)), dtype=bool)
            self.rows_used = 1

    def window(self, classes: list[int]) -> int:
        """The number of the window that ends with ``classes``."""
        value = 0
        for c in classes:
            value = (value * self.notes + int(self.note_of[c])) % max(self.modulus, 1)
        return value

    def bans(self, window: list[int]) -> np.ndarray | None:
        """The classes that would complete a training run of ``no_copy`` notes after
        ``window`` (the last ``no_copy - 1`` classes), in any transposition, or None."""
        keys = [self.key[c] for c in window]
        ref = next((pitch for _, pitch in keys if pitch is not None), None)
        prefix = tuple((code, None if pitch is None else pitch - ref) for code, pitch in keys)
        out = []
        for code, step in self.children.get(prefix, ()):
            if step is None:
                out += self.classes_of.get((code, None), ())
            elif ref is not None:
                out += self.classes_of.get((code, ref + step), ())
            elif step == 0:  # after only rests, any pitch begins the run
                out += self.pitched.get(code, ())
        return np.array(sorted(set(out)), dtype=np.int64) if out else None

    def ban(self, allowed: np.ndarray, g: _Streams, rows: np.ndarray) -> None:
        """Rule out, for streams ``rows``, every class that would complete a training run."""
        n = self.n - 1
        if self.table is not None:
            everyone = len(rows) == len(g.win)
            keys = g.win if everyone else g.win[rows]
            found = self.table[keys]
            if found.min() < 0:
                for i in np.flatnonzero(found < 0):
                    key, row = int(keys[i]), int(rows[i])
                    if self.table[key] < 0:
                        end = int(g.length[row])
                        banned = self.bans(g.hist[row, end - n : end].tolist())
                        self.table[key] = self._keep(banned)
                    found[i] = self.table[key]
            if everyone:
                allowed &= self.keep[found]
            else:
                allowed[rows] &= self.keep[found]
            return
        if self.modulus:
            keys = (g.win if len(rows) == len(g.win) else g.win[rows]).tolist()
        else:  # windows too many to number: the classes themselves
            columns = g.length[rows, None] - n + np.arange(n)
            keys = list(map(tuple, g.hist[rows[:, None], columns].tolist()))
        cache = self.cache
        if len(cache) > 1 << 20:
            cache.clear()
        hit = []
        for row, key in zip(rows.tolist(), keys, strict=True):
            banned = cache.get(key, _UNKNOWN)
            if banned is _UNKNOWN:
                end = int(g.length[row])
                banned = cache[key] = self.bans(g.hist[row, end - n : end].tolist())
            if banned is not None:
                hit.append((row, banned))
        if len(hit) == 1:
            allowed[hit[0][0], hit[0][1]] = False
        elif hit:
            rows = np.repeat([row for row, _ in hit], [len(b) for _, b in hit])
            allowed[rows, np.concatenate([b for _, b in hit])] = False

    def _keep(self, banned: np.ndarray | None) -> int:
        """The row of ``keep`` that leaves every class but ``banned`` (row 0 for None)."""
        if banned is None:
            return 0
        if self.rows_used == len(self.keep):
            self.keep = np.concatenate([self.keep, np.ones_like(self.keep)])
        self.keep[self.rows_used, banned] = False
        self.rows_used += 1
        return self.rows_used - 1

    def advance(self, g: _Streams, rows: np.ndarray, classes: np.ndarray) -> None:
        """Slide the windows of streams ``rows`` past their new notes ``classes``."""
        if not self.modulus:
            return
        if isinstance(rows, slice):  # every stream, in place
            g.win *= self.notes
            g.win += self.note_of[classes]
            g.win %= self.modulus
        else:
            g.win[rows] = (g.win[rows] * self.notes + self.note_of[classes]) % self.modulus


class _Checkpoint:
    """A step of greedy decoding or beam search before its choice: enough to take the
    step again with another choice."""

    __slots__ = ("streams", "state", "probs", "window", "clock", "scores", "order", "taken")
    __slots__ += ("step",)

    def __init__(self, streams, state, probs, window, clock, scores, step: int) -> None:
        self.streams, self.state, self.probs = streams, state, probs
        self.window, self.clock, self.scores = window, clock, scores
        self.step = step
        self.order = None
        self.taken = 1


def _copy_state(state):
    """A copy of a numpy network's state (arrays, in lists and tuples)."""
    if isinstance(state, np.ndarray):
        return state.copy()
    if isinstance(state, tuple | list):
        return type(state)(_copy_state(s) for s in state)
    return state


def _reset_row(state, start, row: int) -> None:
    """Stream ``row`` of a numpy network's state back to its state after the primer (or
    to its row of ``start``, whatever that holds; nothing to do where that is None)."""
    if start is None:
        return
    if isinstance(state, np.ndarray):
        state[row] = start[row]
    elif isinstance(state, tuple | list):
        for now, then in zip(state, start, strict=True):
            _reset_row(now, then, row)


class _Sections:
    """For sampled streams under a form and no-copy: each stream as it was when it began
    its current section and the one before (its row of the streams, of the network's
    state and probabilities, or of its window). A stream that the notes of a repeat would
    make copy (the end of the section before and the start of the repeat make a training
    run) writes that section before again, when it wrote it itself, instead of starting
    again from the primer. Streams that never meet such a repeat never use it."""

    def __init__(self, g: _Streams, state, probs, window, clock) -> None:
        self.now = [g.copy(), _copy_state(state), _copy_state(probs)]
        self.now += [_copy_state(window), _copy_state(clock)]
        self.before = [g.copy(), *(_copy_state(x) for x in self.now[1:])]
        self.free_now = g.qptr >= g.qend  # the section is being written, not copied
        self.ready = np.zeros(len(g.pos), dtype=bool)  # ``before``: a written section's start

    def begin(self, rows: np.ndarray, g: _Streams, state, probs, window, clock) -> None:
        """Streams ``rows`` have started again from the primer."""
        for i in rows:
            self.now[0].restart(i, g, i)
            for k, live in enumerate((state, probs, window, clock), 1):
                _reset_row(self.now[k], live, i)
        self.free_now[rows], self.ready[rows] = True, False

    def keep(self, rows: np.ndarray, g: _Streams, state, probs, window, clock) -> None:
        """Streams ``rows`` have just begun a section."""
        for i in rows:
            # ``before`` <- ``now`` <- the stream now
            self.before[0].restart(i, self.now[0], i)
            self.now[0].restart(i, g, i)
            for k, live in enumerate((state, probs, window, clock), 1):
                _reset_row(self.before[k], self.now[k], i)
                _reset_row(self.now[k], live, i)
            self.ready[i] = self.free_now[i]
            self.free_now[i] = g.qptr[i] >= g.qend[i]

    def restore(self, rows, g: _Streams, state, probs, window, clock) -> np.ndarray:
        """Put back what it can of ``rows`` (stopped streams); the rows it cannot."""
        queued = g.qptr[rows] < g.qend[rows]
        back = rows[queued & self.ready[rows]]
        for i in back:
            g.restart(i, self.before[0], i)
            for k, live in enumerate((state, probs, window, clock), 1):
                _reset_row(live, self.before[k], i)
            # its notes from there on are written again: nothing further back is kept
            self.now[0].restart(i, self.before[0], i)
            for k in range(1, 5):
                _reset_row(self.now[k], self.before[k], i)
            self.free_now[i], self.ready[i] = True, False
        return np.setdiff1d(rows, back)  # they start again from the primer


class Decoder:
    def __init__(self, predictor, plan: Plan, joint_notes: list[Note]) -> None:
        self.predictor, self.plan = predictor, plan
        self.sizes = predictor.sizes
        self.joint = int(np.prod(self.sizes))
        self.notes = joint_notes
        p = plan
        self.total = None
        if p.bar is not None:
            self.total = p.pickup + p.section_units * len(p.sections)
        self.done_length: int | None = None
        self.rules = _Rules(p, joint_notes)
        self.rows = np.stack(np.unravel_index(np.arange(self.joint), self.sizes), -1).astype(
            np.int32
        )
        self.letters = sorted(set(p.sections))
        self.letter_of = np.array([self.letters.index(s) for s in p.sections])
        self.backtracks = self.redone = 0
        self.everyone = np.zeros(0, dtype=np.int64)
        self.turned = self.everyone

    # ------------------------------------------------------------ the rules

    def _section(self, pos: int) -> int:
        p = self.plan
        if pos < p.pickup:
            return 0
        return min((pos - p.pickup) // p.section_units, len(p.sections) - 1)

    def _masks(self, g: _Streams) -> np.ndarray:
        """(streams, joint classes): what each stream may write next, all streams at once."""
        p, rules = self.plan, self.rules
        if self.total is not None:
            allowed = rules.masks[rules.row_at[g.pos]]
        else:
            allowed = np.repeat(p.allowed[None], len(g.pos), axis=0)
            if p.end_tonic and self.done_length is not None:
                allowed[g.length == self.done_length - 1] &= p.tonic
        done = g.done
        finished = done.any()
        if finished:
            allowed[done] = True
        if rules.repeats:
            queued = g.qptr < g.qend
            if queued.any():  # a repeated section: its notes are already decided
                queued = np.flatnonzero(queued & ~done)
                allowed[queued] = False
                allowed[queued, g.hist[queued, g.qptr[queued]]] = True
        if rules.no_copy:
            # no run of no_copy notes of a training song, the notes of a repeat included
            check = g.length >= rules.n - 1
            if finished:
                check &= ~done
            check = self.everyone if check.all() else np.flatnonzero(check)
            if len(check):
                rules.ban(allowed, g, check)
        return allowed

    def _advance(self, g: _Streams, chosen: np.ndarray) -> None:
        """Every stream that has not filled its bars writes its chosen note; ``turned``:
        the streams that began a section of a form that repeats."""
        p, rules = self.plan, self.rules
        self.turned = self.everyone[:0]
        if g.done.any():
            rows = np.flatnonzero(~g.done)
            if not len(rows):
                return
            c = chosen[rows]
        else:  # every stream: slices, and the arrays changed in place
            rows, c = slice(None), chosen
        at = g.length[rows]
        if self.total is None:
            g.room(int(at.max()) + 1)
        g.hist[self.everyone[rows], at] = c
        if rules.no_copy:
            rules.advance(g, rows, c)
        if rules.repeats:
            g.starts[self.everyone[rows], at] = g.pos[rows]
            g.qptr[rows] += g.qptr[rows] < g.qend[rows]
        if isinstance(rows, slice):
            g.length += 1  # ``at`` is ``g.length`` itself
            g.pos += rules.units[c]
            pos = g.pos
        else:
            g.length[rows] = at + 1
            pos = g.pos[rows] + rules.units[c]
            g.pos[rows] = pos
        if self.total is None:
            return
        g.done[rows] = pos >= self.total
        if not rules.repeats:
            return
        turns = rules.turn_at[pos]
        if not turns.any():
            return
        su = p.section_units
        self.turned = self.everyone[rows][turns]
        for i in self.turned:  # a section is finished: remember it, copy a repeat
            now = int(g.pos[i])
            finished = self._section(now - 1)
            letter = self.letter_of[finished]
            if g.sec_from[i, letter] < 0:
                start = p.pickup + finished * su
                g.sec_from[i, letter] = np.searchsorted(g.starts[i, : g.length[i]], start)
                g.sec_to[i, letter] = g.length[i]
            upcoming = self.letter_of[self._section(now)]
            if g.sec_from[i, upcoming] >= 0 and g.qptr[i] >= g.qend[i]:
                g.qptr[i], g.qend[i] = g.sec_from[i, upcoming], g.sec_to[i, upcoming]

    # ------------------------------------------------------------ decoding

    def decode(
        self,
        primer: np.ndarray,
        primer_units: list[int],
        streams: int,
        length: int | None,
        sampling: Sampling | None,
        beam: int | None,
    ) -> list[np.ndarray]:
        """The generated classes (notes, heads) after the primer, one array per stream."""
        predictor = self.predictor
        first = [int(np.ravel_multi_index(tuple(row), self.sizes)) for row in primer]
        starts = [int(x) for x in np.cumsum([0, *primer_units[:-1]])]
        width = beam or streams
        done_length = len(primer) + length if length is not None else None
        self.done_length = done_length
        if self.total is not None:
            self._check_primer(first)
        base = _Streams(first, starts, int(sum(primer_units)), 1, len(self.letters))
        g = _Streams(first, starts, int(sum(primer_units)), width, len(self.letters))
        if self.total is not None:  # every note lasts a unit or more
            g.room(len(first) + max(self.total - int(g.pos[0]), 0) + 1)
        if self.rules.no_copy:
            base.win[:] = g.win[:] = self.rules.window(first[-(self.rules.n - 1) :])
        self.everyone = np.arange(width)
        if beam:
            g.score[1:] = -np.inf  # every beam starts as the same melody: expand one
        sequence = predictor.spec.sequence
        classes = np.asarray(primer, dtype=np.int32)
        state = window = clock = probs = None
        if sequence:
            probs, state = predictor._start(classes, width)
            start_probs, start_state = [h.copy() for h in probs], _copy_state(state)
        else:
            window, clock = self._window_start(classes, width)
            start_window = window.copy()
            start_clock = None if clock is None else clock.copy()
        rng = np.random.default_rng(sampling.seed) if sampling and not sampling.greedy else None
        # A sampled stream that no_copy leaves no note starts again from the primer (with
        # other random numbers); greedy and beam search go back to their latest choices.
        can_restart = rng is not None and (not sequence or predictor.numpy is not None)
        search = rng is None and self.rules.no_copy
        snapshots = predictor.numpy is not None  # else a restored step replays the notes
        if search and sequence and not snapshots:
            g.fed = np.zeros((width, 64), dtype=np.int64)
        back = None
        if can_restart and self.rules.no_copy and self.rules.repeats:
            back = _Sections(g, state, probs, window, clock)
        checkpoints: deque[_Checkpoint] = deque(maxlen=BACKTRACK_DEPTH)
        self.backtracks = self.redone = 0
        restarts = step_index = frontier = 0
        limit = 64 * (len(primer) + (length or 0)) + (self.total or 0) * 4 + 1000
        limit += MAX_BACKTRACKS * (len(primer) + (length or 0) + (self.total or 0))
        pending = None
        for _ in range(limit):
            if pending is None:
                if done_length is not None:
                    g.done |= g.length >= done_length
                if g.done.all():
                    break
                if not sequence:
                    probs = predictor._forward(window)
                mixed = probs
                if getattr(predictor, "mix", None) is not None:  # PPM models see the notes
                    histories = [g.hist[k, : g.length[k]] for k in range(width)]
                    mixed = predictor.mixed(probs, histories)
                logp = self._log_probabilities(mixed, width)
                masks = self._masks(g)
                stuck = False
                if not masks.any(axis=1).all():  # finished streams may write anything
                    dead = ~g.done & ~masks.any(axis=1)
                    if beam:
                        g.score[dead] = -np.inf  # a beam with nowhere to go drops out
                        masks[dead, 0] = True
                        stuck = not np.isfinite(g.score).any()
                    elif can_restart and restarts < MAX_RESTARTS * width:
                        rows = np.flatnonzero(dead)
                        restarts += len(rows)
                        if back is not None:  # stopped by a repeat: write the last section again
                            rows = back.restore(rows, g, state, probs, window, clock)
                        g.restart(rows, base)
                        for i in rows:
                            if sequence:
                                _reset_row(state, start_state, i)
                                for head, start in zip(probs, start_probs, strict=True):
                                    head[i] = start[i]
                            else:
                                window[i] = start_window[i]
                                if clock is not None:
                                    clock[i] = start_clock[i]
                        if back is not None:
                            back.begin(rows, g, state, probs, window, clock)
                        if not sequence:
                            probs = predictor._forward(window)
                        continue
                    else:
                        stuck = True
                if stuck and not search:
                    raise MelodynetError(
                        "no note the model knows continues this melody within the "
                        "constraints (no_copy rules out every choice); try a larger "
                        "no_copy, or sampling"
                    )
                if stuck:  # go back to the latest choice that has another one left
                    g, state, probs, window, clock, pending, step_index = self._back(
                        checkpoints, classes, width, beam
                    )
                    continue
                chosen, parents, scores, ranked = self._choose(g, logp, masks, sampling, rng, beam)
                if search:
                    checkpoints.append(
                        _Checkpoint(
                            g.copy(),
                            predictor._reorder(state, np.arange(width))
                            if sequence and snapshots
                            else None,
                            probs,
                            window,
                            clock,
                            ranked,
                            step_index,
                        )
                    )
            else:
                chosen, parents, scores = pending
                pending = None
            step_index += 1
            self.redone += step_index <= frontier  # a step the search has taken before
            frontier = max(frontier, step_index)
            if beam:
                g = g.take(parents)
                g.score = np.asarray(scores, dtype=float)
                if sequence:
                    state = predictor._reorder(state, parents)
                else:
                    window = window[parents]
                    clock = None if clock is None else clock[parents]
            self._advance(g, chosen)
            step = self.rows[chosen]
            if sequence:
                if g.fed is not None:
                    self._feed(g, chosen)
                probs, state = predictor._step(step, state)
            else:
                window, clock = self._next_window(window, clock, step)
            if back is not None and len(self.turned):
                back.keep(self.turned, g, state, probs, window, clock)
        else:
            raise AssertionError("decoding did not finish")
        if beam:
            g = g.take(np.array([int(np.argmax(g.score))]))
        return [self._classes(g.hist[i, len(first) : g.length[i]]) for i in range(len(g.pos))]

    def _log_probabilities(self, probs: list[np.ndarray], width: int) -> np.ndarray:
        """(streams, joint classes): the sum of each head's log-probability."""
        if len(probs) == 1:  # the same numbers as 0.0 + each, in float64
            return np.log(np.maximum(probs[0], 1e-30)).astype(np.float64)
        logp = np.zeros((width, *self.sizes))
        for j, head in enumerate(probs):
            shape = [width] + [1] * len(self.sizes)
            shape[j + 1] = self.sizes[j]
            logp = logp + np.log(np.maximum(head, 1e-30)).reshape(shape)
        return logp.reshape(width, self.joint)

    def _window_start(self, classes: np.ndarray, width: int):
        """A window model's first inputs per stream (and its clock, with bar inputs)."""
        return self.predictor._window_start(classes, width)

    def _next_window(self, window: np.ndarray, clock, step: np.ndarray):
        rows, clock = self.predictor._next_rows(step, clock)
        return np.concatenate([window[:, 1:], rows[:, None]], axis=1), clock

    def _feed(self, g: _Streams, chosen: np.ndarray) -> None:
        """Remember what the network was fed (to replay it after going back)."""
        if g.nfed >= g.fed.shape[1]:
            g.fed = np.pad(g.fed, ((0, 0), (0, g.fed.shape[1])))
        g.fed[:, g.nfed] = chosen  # past every checkpoint's own count: theirs stay
        g.nfed += 1

    def _back(self, checkpoints: deque, classes: np.ndarray, width: int, beam: int | None):
        """The latest step that has a choice left, as it was, and that choice: greedy
        streams take their next likeliest note, a beam search the next candidates."""
        while checkpoints and self.backtracks < MAX_BACKTRACKS and self.redone < MAX_REDONE:
            cp = checkpoints[-1]
            choice = self._alternative(cp, width, beam)
            if choice is None:
                checkpoints.pop()
                continue
            self.backtracks += 1
            g = cp.streams.copy()
            state = None
            if cp.state is not None:
                state = self.predictor._reorder(cp.state, np.arange(width))
            elif self.predictor.spec.sequence:  # no snapshot: feed the notes again
                probs, state = self.predictor._start(classes, width)
                for k in range(g.nfed):
                    probs, state = self.predictor._step(self.rows[g.fed[:, k]], state)
            return g, state, cp.probs, cp.window, cp.clock, choice, cp.step
        n = self.plan.no_copy
        raise MelodynetError(
            f"no_copy {n}: every melody within the constraints that the search tried copies "
            f"{n} notes of a training song ({self.backtracks} choices retaken, "
            f"{self.redone} steps taken again); try a larger "
            "no_copy, another primer, or sampling"
        )

    def _alternative(self, cp: _Checkpoint, width: int, beam: int | None):
        """The next choice at a checkpoint, or None when it has none left."""
        k = cp.taken
        if beam:
            total = cp.scores.ravel()
            if cp.order is None:
                cp.order = np.argsort(-total, kind="stable")
            picked = cp.order[k * width : (k + 1) * width]
            if len(picked) < width or not np.isfinite(total[picked[0]]):
                return None
            cp.taken += 1
            parents, chosen = np.divmod(picked, self.joint)
            return chosen, parents, total[picked]
        if k >= self.joint:
            return None
        if cp.order is None:
            cp.order = np.argsort(-cp.scores, axis=1, kind="stable")
        live = ~cp.streams.done
        chosen = np.where(live, cp.order[:, k], cp.order[:, 0])
        if not np.isfinite(cp.scores[np.arange(width), chosen][live]).all():
            return None
        cp.taken += 1
        return chosen, None, None

    def _classes(self, joint: np.ndarray) -> np.ndarray:
        return self.rows[np.asarray(joint, dtype=np.int64)].reshape(-1, len(self.sizes))

    def _choose(self, g: _Streams, logp, masks, sampling, rng, beam):
        """(each stream's next joint class, for beams the beam each came from and its new
        score, and the scores the choice ranked)."""
        masked = np.where(masks, logp, -np.inf)
        if beam:
            scores, done = g.score, g.done
            total = scores[:, None] + masked
            total[done] = -np.inf
            total[done, 0] = scores[done]  # a finished beam stays as it is
            flat = np.argsort(-total.ravel(), kind="stable")[: len(scores)]
            parents, chosen = np.divmod(flat, self.joint)
            return chosen, parents, total.ravel()[flat], total
        if rng is None:
            return masked.argmax(axis=-1), None, None, masked
        probs = np.exp(masked - masked.max(axis=-1, keepdims=True))
        probs /= probs.sum(axis=-1, keepdims=True)
        return choose(probs, sampling, rng.random(len(g.pos))), None, None, None

    def _check_primer(self, first: list[int]) -> None:
        p = self.plan
        position = 0
        for i, c in enumerate(first, 1):
            end = position + int(p.units[c])
            if position < p.pickup:
                boundary = p.pickup
            else:
                boundary = p.pickup + ((position - p.pickup) // p.bar + 1) * p.bar
            if end > boundary:
                raise MelodynetError(
                    f"primer note {i} crosses a barline of {p.meter_text}"
                    + (" after the pickup" if p.pickup else "")
                    + "; give a primer that fits the bars, or another meter or pickup"
                )
            position = end
        if position >= self.total:
            raise MelodynetError("the primer already fills every bar asked for")
        if not self.rules.no_copy:
            return
        # The primer's notes in a section that the form repeats are repeated too: a run of
        # no_copy training notes among them would be copied outside the primer.
        sections, su = p.sections, p.section_units
        k = self._section(position)
        if position > p.pickup and sections[k] in sections[k + 1 :]:
            begin = p.pickup + k * su
            starts = np.cumsum([0] + [int(p.units[c]) for c in first])
            inside = [self.notes[c] for c, t in zip(first, starts, strict=False) if t >= begin]
            runs = p.copies[p.no_copy]
            if any(
                _canonical(inside[i : i + p.no_copy]) in runs
                for i in range(len(inside) - p.no_copy + 1)
            ):
                raise MelodynetError(
                    f"no_copy {p.no_copy}: the primer's notes in section {sections[k]}, which "
                    f"form {''.join(sections)} repeats, copy {p.no_copy} notes of a training "
                    "song; give another primer, a larger no_copy, or another form"
                )
