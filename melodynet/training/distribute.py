"""Training on several devices or machines with TensorFlow's own strategies.

`mirrored` copies the model onto every local GPU (or every logical CPU device, see
MELODYNET_CPU_DEVICES) and adds up their gradients; `multi-worker` does the same across
processes and machines described by the standard TF_CONFIG variable. Each global batch is
split across the replicas, so the result matches single-device training.
"""

from __future__ import annotations

import json
import os

from melodynet.errors import MelodynetError

STRATEGIES = ("none", "mirrored", "multi-worker")


def make_strategy(name: str):
    """The tf.distribute strategy for ``name``, or None to train on one device."""
    if name == "none":
        return None
    from melodynet.tfenv import tensorflow

    tf = tensorflow()
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if name == "multi-worker":
        if not os.environ.get("TF_CONFIG"):
            raise MelodynetError(
                "strategy multi-worker needs TF_CONFIG describing the cluster and this "
                "worker (see docs/scaling.md)"
            )
        try:
            json.loads(os.environ["TF_CONFIG"])
        except json.JSONDecodeError as exc:
            raise MelodynetError(f"TF_CONFIG is not JSON ({exc})") from exc
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise MelodynetError(f"unknown strategy {name!r}; choose one of: {', '.join(STRATEGIES)}")


def is_chief() -> bool:
    """Only the chief writes bundles: the `chief` task, else worker 0 (TF_CONFIG's rule)."""
    try:
        config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    except json.JSONDecodeError:
        return True
    task = config.get("task") or {}
    if not task:
        return True
    if task.get("type") == "chief":
        return True
    has_chief = "chief" in (config.get("cluster") or {})
    return task.get("type") == "worker" and int(task.get("index", 0)) == 0 and not has_chief
