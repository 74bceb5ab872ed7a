"""Decoding under constraints: at each step the model's choices are masked to those that keep
every constraint satisfiable, over the joint classes of all heads (a note is one choice).

Greedy takes the likeliest allowed note, sampling draws among the allowed notes, beam search
keeps the likeliest partial melodies among allowed continuations. Streams fill the bars
note by note; repeated sections of a form are copied from their first occurrence (and fed
to the model, so it keeps listening); a stream that has filled its bars waits for the others.
"""

from __future__ import annotations

import numpy as np

from melodynet.errors import MelodynetError
from melodynet.generation.constraints import Plan, _canonical, runs
from melodynet.generation.sampling import Sampling, choose
from melodynet.songs.song import Note


class _Stream:
    """One melody being written: where it is, what it has, what it must copy next."""

    __slots__ = ("notes", "starts", "pos", "queue", "sections", "done", "score")

    def __init__(self, notes: list[int], starts: list[int], pos: int) -> None:
        self.notes, self.starts, self.pos = notes, starts, pos
        self.queue: list[int] = []
        self.sections: dict[str, list[int]] = {}
        self.done = False
        self.score = 0.0

    def copy(self) -> _Stream:
        other = _Stream(list(self.notes), list(self.starts), self.pos)
        other.queue, other.sections = list(self.queue), dict(self.sections)
        other.done, other.score = self.done, self.score
        return other


MAX_RESTARTS = 20
"""Fresh starts a sampled stream may take (per stream, on average) before giving up."""


def _copy_state(state: list) -> list:
    return [tuple(a.copy() for a in s) if isinstance(s, tuple) else s.copy() for s in state]


def _reset_row(state: list, start: list, row: int) -> None:
    """Stream ``row`` of a numpy network's state back to its state after the primer."""
    for now, then in zip(state, start, strict=True):
        for a, b in zip(now, then, strict=True) if isinstance(now, tuple) else [(now, then)]:
            a[row] = b[row]


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
        self.prefixes = runs(p.training, p.no_copy - 1) if p.no_copy else set()
        self.done_length: int | None = None
        self.copies = p.copies.get(p.no_copy, set()) if p.no_copy else set()

    # ------------------------------------------------------------ the rules

    def _section(self, pos: int) -> int:
        p = self.plan
        if pos < p.pickup:
            return 0
        return min((pos - p.pickup) // p.section_units, len(p.sections) - 1)

    def _masks(self, group: list[_Stream]) -> np.ndarray:
        """(streams, joint classes): what each stream may write next, all streams at once."""
        p = self.plan
        allowed = np.repeat(p.allowed[None], len(group), axis=0)
        if self.total is not None:
            pos = np.array([s.pos for s in group])
            boundary = np.where(
                pos < p.pickup, p.pickup, p.pickup + ((pos - p.pickup) // p.bar + 1) * p.bar
            )
            after = boundary[:, None] - pos[:, None] - p.units[None, :]  # left of the bar
            fits = after >= 0
            rest = np.clip(after, 0, None)
            section = np.where(
                pos < p.pickup,
                0,
                np.minimum((pos - p.pickup) // p.section_units, len(p.sections) - 1),
            )
            ends_section = boundary == p.pickup + (section + 1) * p.section_units
            letters = np.array([p.sections[k] == p.sections[-1] for k in section])
            # the melody's last bar (or the bar a repeat will end the melody with)
            ending = (ends_section & letters & p.end_tonic)[:, None]
            finish = (after == 0) & p.tonic[None, :]
            allowed &= fits & np.where(
                ending, finish | ((after > 0) & p.fill_end[rest]), p.fill[rest]
            )
        elif p.end_tonic and self.done_length is not None:
            last = np.array([len(s.notes) == self.done_length - 1 for s in group])
            allowed[last] &= p.tonic
        for i, s in enumerate(group):
            if s.done:
                allowed[i] = True
            elif s.queue:  # a repeated section: its notes are already decided
                allowed[i] = False
                allowed[i, s.queue[0]] = True
            elif self.prefixes and len(s.notes) >= p.no_copy - 1:
                allowed[i] &= self._original(s, allowed[i])
        return allowed

    def _original(self, s: _Stream, allowed: np.ndarray) -> np.ndarray:
        n = self.plan.no_copy
        before = [self.notes[c] for c in s.notes[-(n - 1) :]]
        if _canonical(before) not in self.prefixes:
            return np.ones(self.joint, dtype=bool)
        keep = np.ones(self.joint, dtype=bool)
        for c in np.flatnonzero(allowed):
            if _canonical([*before, self.notes[c]]) in self.copies:
                keep[c] = False
        return keep

    def _advance(self, s: _Stream, c: int) -> None:
        p = self.plan
        if s.queue:
            s.queue.pop(0)
        s.notes.append(int(c))
        s.starts.append(s.pos)
        s.pos += int(p.units[c])
        if self.total is None:
            return
        if s.pos >= self.total:
            s.done = True
            return
        if p.section_units and (s.pos - p.pickup) % p.section_units == 0 and s.pos > p.pickup:
            finished = self._section(s.pos - 1)
            letter = p.sections[finished]
            if letter not in s.sections:
                start = p.pickup + finished * p.section_units
                s.sections[letter] = [
                    c for c, t in zip(s.notes, s.starts, strict=True) if t >= start
                ]
            upcoming = p.sections[self._section(s.pos)]
            if upcoming in s.sections and not s.queue:
                s.queue = list(s.sections[upcoming])

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
        starts = list(np.cumsum([0, *primer_units[:-1]]))
        width = beam or streams
        done_length = len(primer) + length if length is not None else None
        self.done_length = done_length
        base = _Stream(first, [int(x) for x in starts], int(sum(primer_units)))
        if self.total is not None:
            self._check_primer(base)
        group = [base.copy() for _ in range(width)]
        if beam:
            for s in group[1:]:
                s.score = -np.inf  # every beam starts as the same melody: expand one
        sequence = predictor.spec.sequence
        classes = np.asarray(primer, dtype=np.int32)
        if sequence:
            probs, state = predictor._start(classes, width)
            start_probs, start_state = [h.copy() for h in probs], _copy_state(state)
        else:
            window = np.repeat(classes[None, -predictor.window :], width, axis=0)
        rng = np.random.default_rng(sampling.seed) if sampling and not sampling.greedy else None
        # A sampled stream that no_copy leaves no note starts again from the primer (with
        # other random numbers); greedy and beam search cannot draw again.
        can_restart = rng is not None and (not sequence or predictor.numpy is not None)
        restarts = 0
        limit = 64 * (len(primer) + (length or 0)) + (self.total or 0) * 4 + 1000
        for _ in range(limit):
            if done_length is not None:
                for s in group:
                    s.done = s.done or len(s.notes) >= done_length
            if all(s.done for s in group):
                break
            if not sequence:
                probs = predictor._forward(window)
            logp = np.zeros((width, *self.sizes))
            for j, head in enumerate(probs):
                shape = [width] + [1] * len(self.sizes)
                shape[j + 1] = self.sizes[j]
                logp = logp + np.log(np.maximum(head, 1e-30)).reshape(shape)
            logp = logp.reshape(width, self.joint)
            masks = self._masks(group)
            dead = [i for i, s in enumerate(group) if not s.done and not masks[i].any()]
            if dead and beam and len(dead) < sum(not s.done for s in group):
                for i in dead:  # a beam with nowhere to go drops out
                    group[i].score = -np.inf
                    masks[i, 0] = True
            elif dead and can_restart and restarts < MAX_RESTARTS * width:
                restarts += len(dead)
                for i in dead:
                    group[i] = base.copy()
                    if sequence:
                        _reset_row(state, start_state, i)
                        for head, start in zip(probs, start_probs, strict=True):
                            head[i] = start[i]
                    else:
                        window[i] = classes[-predictor.window :]
                if not sequence:
                    probs = predictor._forward(window)
                continue
            elif dead:
                raise MelodynetError(
                    "no note the model knows continues this melody within the constraints "
                    "(no_copy rules out every choice); try a larger no_copy, or sampling"
                )
            chosen, parents, scores = self._choose(group, logp, masks, sampling, rng, beam)
            if beam:
                group = [group[k].copy() for k in parents]
                for stream, score in zip(group, scores, strict=True):
                    stream.score = score
                if sequence:
                    state = predictor._reorder(state, np.asarray(parents))
                else:
                    window = window[np.asarray(parents)]
            for s, c in zip(group, chosen, strict=True):
                if not s.done:
                    self._advance(s, c)
            step = np.stack(np.unravel_index(np.asarray(chosen), self.sizes), -1).astype(np.int32)
            if sequence:
                probs, state = predictor._step(step, state)
            else:
                window = np.concatenate([window[:, 1:], step[:, None]], axis=1)
        else:
            raise AssertionError("decoding did not finish")
        if beam:
            group = [max(group, key=lambda s: s.score)]
        return [self._classes(s.notes[len(first) :]) for s in group]

    def _classes(self, joint: list[int]) -> np.ndarray:
        if not joint:
            return np.zeros((0, len(self.sizes)), dtype=np.int32)
        return np.stack(np.unravel_index(np.asarray(joint), self.sizes), -1).astype(np.int32)

    def _choose(self, group, logp, masks, sampling, rng, beam):
        """(each stream's next joint class, for beams the beam each came from and its new
        score)."""
        masked = np.where(masks, logp, -np.inf)
        if beam:
            scores = np.array([s.score for s in group])
            done = np.array([s.done for s in group])
            total = scores[:, None] + masked
            total[done] = -np.inf
            total[done, 0] = scores[done]  # a finished beam stays as it is
            flat = np.argsort(-total.ravel(), kind="stable")[: len(group)]
            parents, chosen = np.divmod(flat, self.joint)
            return list(chosen), list(parents), total.ravel()[flat]
        if rng is None:
            return list(masked.argmax(axis=-1)), None, None
        probs = np.exp(masked - masked.max(axis=-1, keepdims=True))
        probs /= probs.sum(axis=-1, keepdims=True)
        return list(choose(probs, sampling, rng.random(len(group)))), None, None

    def _check_primer(self, s: _Stream) -> None:
        p = self.plan
        position = 0
        for i, c in enumerate(s.notes, 1):
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
