"""The training options: one dataclass, checked once, saved with the bundle for resuming."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from melodynet.errors import OptionError

DEFAULT_PATIENCE = 5
"""Epochs without a better validation loss before training stops, when a split is given."""
STRATEGIES = ("none", "mirrored", "multi-worker")


@dataclass(frozen=True)
class TrainOptions:
    """What ``melodynet.train`` is asked to do; invalid values raise ``OptionError``."""

    model: str = "stateful-lstm"
    encoding: str = "single"
    window: int = 4
    """Notes of context per prediction (the primer length for sequence models)."""
    units: int = 128
    epochs: int = 500
    batch_size: int = 32
    """Windows per step (sequence models: songs per step)."""
    learning_rate: float = 0.003
    random_seed: int = 0
    stop_when_perfect: bool = True
    """Stop once the training songs are reproduced as well as the model can."""
    validation_split: float = 0.0
    """Hold out this fraction of the songs (whole songs) to measure each epoch."""
    patience: int | None = None
    """With a validation split: epochs without a better validation loss before stopping
    (default ``DEFAULT_PATIENCE``); the best epoch's weights are kept."""
    strategy: str = "none"
    augment: int = 0
    """Also train on every training song transposed by -augment..+augment semitones."""
    bar_inputs: bool = False
    """Also give the model where each next note falls in its bar and the bar number
    (``melodynet.positions``)."""
    params: dict[str, Any] = field(default_factory=dict)
    """The model's parameters (``ModelSpec.params``), checked against its declarations
    by ``melodynet.train``."""

    def __post_init__(self) -> None:
        for name in ("window", "units", "epochs", "batch_size"):
            _whole(name, getattr(self, name), 1)
        _whole("random_seed", self.random_seed, None)
        _whole("augment", self.augment, 0)
        if self.patience is not None:
            _whole("patience", self.patience, 1)
            if not self.validation_split:
                raise OptionError(
                    "patience watches the validation loss: add validation_split",
                    option="patience",
                )
        elif self.validation_split:
            object.__setattr__(self, "patience", DEFAULT_PATIENCE)
        if not _number(self.learning_rate) or not self.learning_rate > 0:
            raise OptionError(
                f"learning_rate must be positive, not {self.learning_rate}", option="learning_rate"
            )
        split = self.validation_split
        if not _number(split) or not 0 <= split < 1:
            raise OptionError(
                f"validation_split must be at least 0 and below 1, not {split:g}"
                if _number(split)
                else f"validation_split must be a fraction, not {split!r}",
                option="validation_split",
            )
        if not isinstance(self.bar_inputs, bool):
            raise OptionError(
                f"bar_inputs must be True or False, not {self.bar_inputs!r}", option="bar_inputs"
            )
        if not isinstance(self.params, dict):
            raise OptionError(f"params must be a dict of NAME: VALUE, not {self.params!r}", "param")
        if self.strategy not in STRATEGIES:
            raise OptionError(
                f"strategy must be one of {', '.join(STRATEGIES)}, not {self.strategy!r}",
                option="strategy",
            )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainOptions:
        """Options saved by any melodynet version (``seed`` was the old name of
        ``random_seed``)."""
        data = dict(data)
        if "seed" in data and "random_seed" not in data:
            data["random_seed"] = data.pop("seed")
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _whole(name: str, value: Any, least: int | None) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise OptionError(f"{name} must be a whole number, not {value!r}", option=name)
    if least is not None and value < least:
        raise OptionError(f"{name} must be at least {least}, not {value}", option=name)


def check_whole(name: str, value: Any, least: int | None = 1) -> None:
    """The same check for options outside TrainOptions (``jobs``, ``checkpoint_every``...)."""
    if value is not None:
        _whole(name, value, least)
