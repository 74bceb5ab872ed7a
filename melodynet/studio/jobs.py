"""Training jobs: queued, run one at a time in a worker thread, recorded on disk.

A job is a request (songs, model, encoding, options, the bundle's name) and what became of
it: ``queued``, ``running``, then ``done``, ``failed`` (with the command line's one-line
message), ``cancelled`` (by the person) or ``interrupted`` (the studio stopped). Each job
trains with ``melodynet.train(out=DATA/models/NAME, progress=..., stop=...)``, so its bundle
is checkpointed every epoch; a cancelled or interrupted one is resumed with
``melodynet.train(resume=...)`` as a new job. Every change is published as an event and
written to ``DATA/jobs/ID.json``: after a restart, queued jobs run and a job that was
running shows as interrupted, ready to resume.
"""

from __future__ import annotations

import shutil
import threading
import time
from typing import Any

import melodynet
from melodynet.errors import MelodynetError, OptionError
from melodynet.studio.events import Events
from melodynet.studio.messages import error_line
from melodynet.studio.storage import BUNDLE_NAME, NotFound, Storage, new_id, slug

OPTIONS = {
    "window": int,
    "units": int,
    "epochs": int,
    "batch_size": int,
    "learning_rate": float,
    "random_seed": int,
    "validation_split": float,
    "patience": int,
    "augment": int,
    "stop_when_perfect": bool,
    "bar_inputs": bool,
}
"""Training options the page may set, with their types (melodynet.train checks values)."""
FINISHED = ("done", "failed", "cancelled", "interrupted")
REMOVED = "removed-"
"""The prefix of a deleted bundle on its way out, under ``DATA/tmp``."""
SAVE_EVERY = 1.0
"""Seconds between writes of a running job's record (its status changes are written at once)."""


def _coerce(name: str, kind: type, value: Any) -> Any:
    if value is None or value == "":
        return None
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text not in ("true", "false", "1", "0", "on", "off", "yes", "no"):
                raise ValueError
            return text in ("true", "1", "on", "yes")
        if kind is int:
            number = float(value)
            if number != int(number):
                raise ValueError
            return int(number)
        return float(value)
    except (TypeError, ValueError, OverflowError):
        what = {bool: "true or false", int: "a whole number", float: "a number"}[kind]
        raise OptionError(f"{name} must be {what}, not {value!r}", option=name) from None


class Job:
    def __init__(self, record: dict) -> None:
        self.record = record
        self.cancel_requested = False
        self.saved_at = 0.0

    @property
    def id(self) -> str:
        return self.record["id"]

    @property
    def status(self) -> str:
        return self.record["status"]


class TrainingQueue:
    def __init__(self, storage: Storage, library, events: Events, on_trained=None) -> None:
        self.storage = storage
        self.library = library
        self.events = events
        self.on_trained = on_trained or (lambda name: None)
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    # the queue's life

    def start(self) -> None:
        """Read the jobs on disk (a job that was running is now interrupted), finish
        deleting bundles a stop interrupted, and start the worker."""
        for trash in self.storage.area("tmp").glob(f"{REMOVED}*"):
            shutil.rmtree(trash, ignore_errors=True)
        for record in self.storage.records("jobs"):
            job = Job(record)
            if job.status == "running":
                record.update(
                    status="interrupted",
                    finished=time.time(),
                    error="the studio stopped during this training",
                )
                record["resumable"] = self._resumable(record.get("name", ""))
                self._save(job)
            self._jobs[job.id] = job
        self._thread = threading.Thread(target=self._work, name="melodynet-training", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop the running training (its bundle is saved as it stands) and the worker."""
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    # what the routes call

    def list(self) -> list[dict]:
        with self._lock:
            return [dict(j.record) for j in self._ordered()]

    def get(self, job_id: str) -> dict:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise NotFound(job_id)
            return dict(job.record)

    def submit(self, request: dict) -> dict:
        """Check a training request (songs read, model known, options in range) and queue it;
        a MelodynetError says what is wrong before anything is queued."""
        request = dict(request)
        songs = request.pop("songs", None)
        if not isinstance(songs, list) or not songs or not all(isinstance(s, str) for s in songs):
            raise OptionError("songs: choose at least one song to train on", option="songs")
        model = str(request.pop("model", "stateful-lstm"))
        encoding = str(request.pop("encoding", "single"))
        name = str(request.pop("name", "") or "").strip()
        params = request.pop("params", None) or {}
        if not isinstance(params, dict):
            raise OptionError("params must be NAME: VALUE pairs", option="params")
        reading = self._reading(request.pop("part", None), request.pop("transpose", None))
        options = {}
        for key, value in request.items():
            if key not in OPTIONS:
                raise OptionError(f"unknown training option {key!r}", option="options")
            coerced = _coerce(key, OPTIONS[key], value)
            if coerced is not None:
                options[key] = coerced
        # a song that cannot be read (or has no such part) says so now
        read = self.library.songs_for(songs, part=reading.get("part"))
        self._check(model, encoding, options, params)
        with self._lock:
            name = self._bundle_name(name, read[0].name if read else "songs", model)
            record = {
                "id": new_id(),
                "name": name,
                "status": "queued",
                "created": time.time(),
                "songs": songs,
                "song_names": [s.name for s in read][:20],
                "model": model,
                "encoding": encoding,
                "options": options,
                "params": {str(k): v for k, v in params.items()},
                "reading": reading,
                "resume": None,
                "epoch": 0,
                "epochs": options.get("epochs", 500),
                "history": {},
                "messages": [],
            }
            return self._queue(record)

    def resume(self, bundle: str, epochs: Any = None) -> dict:
        """Queue the continuation of a cancelled or interrupted bundle."""
        from melodynet.bundle import read_meta

        directory = self.storage.bundle_dir(bundle)
        if not directory.is_dir():
            raise NotFound(bundle)
        meta = read_meta(directory)
        epochs = _coerce("epochs", int, epochs)
        total = epochs or meta.epochs
        if meta.status == "complete" and meta.epochs_run >= total:
            raise OptionError(
                f"{bundle}: training finished after {meta.epochs_run} epochs; to train "
                "longer, pass epochs N with N above that",
                option="epochs",
            )
        with self._lock:
            if any(
                j.record["name"] == bundle and j.status in ("queued", "running")
                for j in self._jobs.values()
            ):
                raise MelodynetError(f"{bundle} is already training or queued")
            record = {
                "id": new_id(),
                "name": bundle,
                "status": "queued",
                "created": time.time(),
                "songs": [],
                "song_names": [s.get("name", "") for s in meta.songs][:20],
                "model": meta.model,
                "encoding": meta.encoding,
                "options": {"epochs": total},
                "params": dict(meta.model_options),
                "resume": bundle,
                "epoch": meta.epochs_run,
                "epochs": total,
                "history": {k: list(v) for k, v in meta.history.items()},
                "messages": [],
            }
            return self._queue(record)

    def cancel(self, job_id: str) -> dict:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise NotFound(job_id)
            if job.status == "queued":
                job.record.update(status="cancelled", finished=time.time(), resumable=False)
                self._changed(job)
            elif job.status == "running":
                job.cancel_requested = True
                job.record["cancelling"] = True
                self._changed(job)
            return dict(job.record)

    def remove_bundle(self, name: str) -> None:
        """Delete the person's bundle ``name`` under ``DATA/models`` (never a pretrained
        one: those are not there). NotFound for anything else, including a name that is a
        link or would lead outside ``models/``; a MelodynetError while it trains or waits.
        The directory leaves ``models/`` in one rename, so it is gone at once and after a
        restart; the jobs that made it can no longer resume it."""
        with self._lock:
            directory = self.storage.bundle_dir(name)
            entry = self.storage.area("models") / name
            if entry.is_symlink() or not directory.is_dir():
                raise NotFound(name)
            if not (directory / "melodynet.json").is_file():
                raise NotFound(name)
            if any(
                j.record.get("name") == name and j.status in ("queued", "running")
                for j in self._jobs.values()
            ):
                raise MelodynetError(
                    f"{name} is training or queued: cancel its training first, then delete it"
                )
            trash = self.storage.area("tmp") / f"{REMOVED}{new_id()}"
            directory.rename(trash)
            for job in self._jobs.values():
                if job.record.get("name") == name and job.status in FINISHED:
                    job.record.update(resumable=False, removed=True)
                    self._changed(job)
        self.on_trained(name)
        shutil.rmtree(trash, ignore_errors=True)

    # inside

    def _ordered(self) -> list[Job]:
        return sorted(self._jobs.values(), key=lambda j: j.record["created"])

    def _check(self, model: str, encoding: str, options: dict, params: dict) -> None:
        from dataclasses import replace

        from melodynet.params import resolve
        from melodynet.plugins import registry
        from melodynet.training.options import TrainOptions

        reg = registry()
        try:
            spec = reg.model(model)
            reg.encoding(encoding)
        except MelodynetError as exc:
            raise melodynet.ModelError(exc.message, option=exc.option) from None
        checked = TrainOptions(model=model, encoding=encoding, **options)
        replace(checked, params=resolve(spec, params))

    def _reading(self, part: Any, transpose: Any) -> dict:
        """How the songs are read and prepared: ``part`` (of multi-part scores, given to
        ``melodynet.read``) and ``transpose`` (given to ``melodynet.train``: 'common' or
        semitones), checked by the library's own parser before anything is queued."""
        from melodynet.songs.preprocess import parse_transpose

        reading: dict[str, Any] = {}
        part = _coerce("part", int, part)
        if part is not None:
            reading["part"] = part
        if transpose is not None and str(transpose).strip().lower() not in ("", "none"):
            reading["transpose"] = parse_transpose(str(transpose)[:40])
        return reading

    def _bundle_name(self, wanted: str, song: str, model: str) -> str:
        taken = {p.name for p in self.storage.area("models").iterdir()} | {
            j.record["name"] for j in self._jobs.values() if j.status in ("queued", "running")
        }
        if wanted:
            if not BUNDLE_NAME.fullmatch(wanted):
                raise MelodynetError(
                    f"model name {wanted[:80]!r}: use letters, digits, '.', '-' and '_' "
                    "(at most 80)"
                )
            if wanted in taken:
                raise MelodynetError(f"a model named {wanted} already exists; choose another")
            return wanted
        base = slug(f"{song}-{model}")
        name, n = base, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        return name

    def _queue(self, record: dict) -> dict:
        job = Job(record)
        self._jobs[job.id] = job
        self._changed(job)
        self._lock.notify_all()
        return dict(record)

    def _save(self, job: Job) -> None:
        job.saved_at = time.time()
        self.storage.write_json(self.storage.inside("jobs", job.id, suffix=".json"), job.record)

    def _changed(self, job: Job) -> None:
        self._save(job)
        self.events.publish({"type": "job", "job": _public(job.record)})

    def _resumable(self, name: str) -> bool:
        try:
            directory = self.storage.bundle_dir(name)
        except NotFound:
            return False
        return (directory / "melodynet.json").is_file()

    def _next(self) -> Job | None:
        with self._lock:
            while not self._stopping:
                queued = [j for j in self._ordered() if j.status == "queued"]
                if queued:
                    job = queued[0]
                    job.record.update(status="running", started=time.time())
                    self._changed(job)
                    return job
                self._lock.wait(1.0)
            return None

    def _work(self) -> None:
        while (job := self._next()) is not None:
            self._train(job)

    def _train(self, job: Job) -> None:
        record = job.record
        directory = self.storage.bundle_dir(record["name"])

        def progress(p: melodynet.Progress) -> None:
            with self._lock:
                if p.message:
                    record["messages"].append(p.message)
                    self.events.publish({"type": "message", "job": job.id, "text": p.message})
                    self._save(job)
                    return
                record["epoch"], record["epochs"] = p.epoch, p.epochs
                for key, value in p.logs.items():
                    record["history"].setdefault(key, []).append(float(value))
                self.events.publish(
                    {
                        "type": "epoch",
                        "job": job.id,
                        "epoch": p.epoch,
                        "epochs": p.epochs,
                        "logs": {k: float(v) for k, v in p.logs.items()},
                    }
                )
                if time.time() - job.saved_at > SAVE_EVERY:
                    self._save(job)

        def stop() -> bool:
            return job.cancel_requested or self._stopping

        outcome: dict[str, Any]
        try:
            if record.get("resume"):
                melodynet.train(
                    resume=directory, epochs=record["epochs"], progress=progress, stop=stop
                )
            else:
                reading = record.get("reading") or {}
                songs = self.library.songs_for(record["songs"], part=reading.get("part"))
                options = dict(record["options"])
                if reading.get("transpose") is not None:
                    options["transpose"] = reading["transpose"]
                melodynet.train(
                    songs,
                    model=record["model"],
                    encoding=record["encoding"],
                    out=directory,
                    params=record["params"],
                    progress=progress,
                    stop=stop,
                    **options,
                )
            outcome = {"status": "done", "resumable": False}
        except melodynet.TrainingInterrupted as exc:
            status = "cancelled" if job.cancel_requested else "interrupted"
            resumable = self._resumable(record["name"])
            saved = "; the model is saved: Resume continues it" if resumable else ""
            outcome = {
                "status": status,
                "error": f"{status} after {exc.epochs} complete epochs{saved}",
                "resumable": resumable,
            }
        except Exception as exc:  # noqa: BLE001 (a failed training must not stop the queue)
            outcome = {
                "status": "failed",
                "error": error_line(exc),
                "resumable": self._resumable(record["name"]),
            }
        with self._lock:
            record.update(outcome, finished=time.time())
            record.pop("cancelling", None)
            self._changed(job)
        self.on_trained(record["name"])


def _public(record: dict) -> dict:
    return dict(record)
