"""A trained network's forward pass in numpy, so generating from a bundle needs no TensorFlow.

``export`` reads a Keras network (when TensorFlow is loaded anyway: after training, or
when a bundle is saved) into a description of its layers and their weights; a bundle
keeps both (``network.npz`` and ``BundleMeta.network``). ``NumpyNetwork`` runs that
description with the same arithmetic as Keras: the same gates in the same order, float32
throughout. What it supports: a chain of Masking, Dropout, Flatten, Dense, Conv1D,
Cropping1D, LSTM, GRU and SimpleRNN layers with one softmax Dense head per encoding head,
which covers the built-in models and the GRU plugin. Anything else (a plugin's own
layers) is not exported, and generation uses the Keras network instead.

``export`` checks its own work: it runs a random input through both and keeps the
description only when they agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _exp(x: np.ndarray) -> np.ndarray:
    """exp, whose overflow to inf is what a saturated sigmoid needs (1 / inf = 0)."""
    with np.errstate(over="ignore"):
        return np.exp(x)


ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + _exp(-x)),
    "softmax": None,  # heads only
}
TOLERANCE = 1e-4
"""Largest difference from Keras's outputs that ``export`` accepts."""


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _activation(name: str):
    return ACTIVATIONS[name]


# ---------------------------------------------------------------- export from Keras


def export(network, heads: tuple[str, ...]) -> tuple[dict, list[np.ndarray]] | None:
    """(description, weights) of a Keras network, or None when it is not a supported chain
    or the numpy forward pass does not reproduce it. A network on class indices is
    described as the same chain on their one-hot features (what NumpyNetwork reads)."""
    layers, weights = [], []
    try:
        sizes = _class_sizes(network)
        if sizes == []:
            return None
        outputs = network.output
        if not isinstance(outputs, dict) or list(outputs) != list(heads):
            return None
        head_layers = {network.get_layer(name) for name in heads}
        for layer in network.layers:
            if layer in head_layers:
                continue
            described = _describe(layer, weights)
            if described is None:
                return None
            if described:
                layers.append(described)
        head_list = []
        for name in heads:
            layer = network.get_layer(name)
            config = layer.get_config()
            if type(layer).__name__ != "Dense" or config.get("activation") != "softmax":
                return None
            head_list.append({"name": name, "weights": _add(weights, layer)})
    except Exception:  # an unexpected layer structure: not ours to run
        return None
    shape = list(network.input.shape[1:])
    if sizes:
        shape[-1] = sum(sizes)
    description = {
        "format": 1,
        "input": shape,
        "layers": layers,
        "heads": head_list,
    }
    if not _agrees(network, description, weights, heads, sizes):
        return None
    return description, weights


def _class_sizes(network) -> list[int] | None:
    """The input columns' categories of a network on class indices, read from its
    ClassLSTM ([] when no ClassLSTM reads them: not ours to run); None on features."""
    from melodynet.network import takes_classes

    if not takes_classes(network):
        return None
    first = [layer for layer in network.layers if type(layer).__name__ != "InputLayer"][0]
    if type(first).__name__ != "ClassLSTM":
        return []
    return [int(n) for n in first.get_config()["sizes"]]


def _add(weights: list[np.ndarray], layer) -> list[int]:
    start = len(weights)
    weights.extend(np.asarray(w, dtype=np.float32) for w in layer.get_weights())
    return list(range(start, len(weights)))


def _describe(layer, weights: list[np.ndarray]) -> dict | None:
    """One layer as a dict ({} for layers with nothing to do), or None if unsupported."""
    kind = type(layer).__name__
    config = layer.get_config()
    if kind in ("InputLayer", "Masking", "Dropout", "SpatialDropout1D"):
        return {}
    if kind == "Flatten":
        return {"op": "flatten"}
    if kind == "Cropping1D":
        return {"op": "crop", "cropping": list(config["cropping"])}
    activation = config.get("activation", "linear")
    if activation not in ACTIVATIONS or activation == "softmax":
        return None
    if kind == "Dense":
        return {"op": "dense", "activation": activation, "weights": _add(weights, layer)}
    if kind == "Conv1D":
        if config["padding"] != "causal" or tuple(config["strides"]) != (1,):
            return None
        if config.get("groups", 1) != 1 or not config.get("use_bias", True):
            return None
        return {
            "op": "conv1d",
            "activation": activation,
            "dilation": int(config["dilation_rate"][0]),
            "weights": _add(weights, layer),
        }
    if kind == "ClassLSTM":  # the LSTM on one-hot features, its weights as they are
        kind = "LSTM"
    if kind in ("LSTM", "GRU", "SimpleRNN"):
        if config.get("go_backwards") or not config.get("use_bias", True):
            return None
        recurrent = config.get("recurrent_activation", "sigmoid")
        if recurrent not in ACTIVATIONS or (kind == "GRU" and not config.get("reset_after")):
            return None
        return {
            "op": kind.lower(),
            "units": int(config["units"]),
            "activation": activation,
            "recurrent_activation": recurrent,
            "return_sequences": bool(config["return_sequences"]),
            "weights": _add(weights, layer),
        }
    return None


def _agrees(network, description: dict, weights: list[np.ndarray], heads, sizes=None) -> bool:
    rng = np.random.default_rng(0)
    shape = [3 if d is None else d for d in description["input"]]
    if sizes:  # classes for Keras, their one-hot features for numpy
        from melodynet.generation.predict import one_hot

        classes = np.stack([rng.integers(0, n, (2, *shape[:-1])) for n in sizes], axis=-1)
        expected = network(classes.astype(np.int32), training=False)
        x = one_hot(classes, sizes)
    else:
        x = (rng.random((2, *shape)) < 0.3).astype(np.float32)  # one-hot-like, never all zero
        x[..., 0] = 1.0
        expected = network(x, training=False)
    got = NumpyNetwork(description, weights).forward(x)
    return all(
        np.allclose(np.asarray(expected[h]), got[i], atol=TOLERANCE) for i, h in enumerate(heads)
    )


# ---------------------------------------------------------------- running it


class NumpyNetwork:
    """The forward pass of an exported network.

    ``forward(x)`` runs a whole input (batch, time, features) as Keras does. Recurrent
    networks also run a step at a time: ``state = zero_state(batch)``, then
    ``outputs, state = step(x_t, state)`` with ``x_t`` (batch, features).
    """

    def __init__(self, description: dict, weights: list[np.ndarray]) -> None:
        self.description = description
        self.layers = description["layers"]
        self.w = [np.asarray(w, dtype=np.float32) for w in weights]
        self.heads = description["heads"]

    @classmethod
    def load(cls, description: dict, arrays) -> NumpyNetwork:
        """The network a bundle describes, run once on a blank input so that a damaged
        description (an unknown layer, a missing key or weight) fails here, as a
        ValueError, not while generating."""
        network = cls(description, [arrays[f"w{i}"] for i in range(len(arrays.files))])
        try:
            shape = [3 if d is None else int(d) for d in description["input"]]
            network.forward(np.zeros((1, *shape), dtype=np.float32))
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"a damaged network description: {exc!r}") from None
        return network

    @property
    def recurrent(self) -> list[dict]:
        return [layer for layer in self.layers if layer["op"] in ("lstm", "gru", "simplernn")]

    def _heads(self, x: np.ndarray) -> list[np.ndarray]:
        return [_softmax(x @ self.w[h["weights"][0]] + self.w[h["weights"][1]]) for h in self.heads]

    def forward(self, x: np.ndarray) -> list[np.ndarray]:
        """Every head's probabilities for a whole input (batch, time, features)."""
        x = np.asarray(x, dtype=np.float32)
        for layer in self.layers:
            x = self._whole(layer, x)
        return self._heads(x)

    def _whole(self, layer: dict, x: np.ndarray) -> np.ndarray:
        op = layer["op"]
        if op == "flatten":
            return x.reshape(len(x), -1)
        if op == "crop":
            start, end = layer["cropping"]
            return x[:, start : x.shape[1] - end]
        if op == "dense":
            kernel, bias = (self.w[i] for i in layer["weights"])
            return _activation(layer["activation"])(x @ kernel + bias)
        if op == "conv1d":
            kernel, bias = (self.w[i] for i in layer["weights"])
            size, dilation = kernel.shape[0], layer["dilation"]
            pad = (size - 1) * dilation
            padded = np.pad(x, ((0, 0), (pad, 0), (0, 0)))
            steps = x.shape[1]
            out = sum(
                padded[:, k * dilation : k * dilation + steps] @ kernel[k] for k in range(size)
            )
            return _activation(layer["activation"])(out + bias)
        state = self._zero(layer, len(x))
        outs = []
        for t in range(x.shape[1]):
            h, state = self._cell(layer, x[:, t], state)
            outs.append(h)
        return np.stack(outs, axis=1) if layer["return_sequences"] else outs[-1]

    def zero_state(self, batch: int) -> list:
        return [self._zero(layer, batch) for layer in self.recurrent]

    def step(self, x: np.ndarray, state: list, classes=None) -> tuple[list[np.ndarray], list]:
        """One time step of a sequence network whose recurrent layers return sequences.

        With ``classes`` = (class indices (batch, heads), head sizes), ``x`` is not needed:
        the one-hot input's product with the first kernel is a sum of kernel rows."""
        new_state, r = [], 0
        if classes is None:
            x = np.asarray(x, dtype=np.float32)
        for n, layer in enumerate(self.layers):
            projected = None
            if n == 0 and classes is not None:
                projected = self._rows(self.w[layer["weights"][0]], *classes)
                if layer["op"] == "dense":
                    kernel, bias = (self.w[i] for i in layer["weights"])
                    x = _activation(layer["activation"])(projected + bias)
                    continue
            if layer["op"] in ("lstm", "gru", "simplernn"):
                x, s = self._cell(layer, x, state[r], projected)
                new_state.append(s)
                r += 1
            elif layer["op"] == "dense":
                x = self._whole(layer, x)
            else:
                raise AssertionError(f"{layer['op']} has no single-step form")
        return self._heads(x), new_state

    @staticmethod
    def _rows(kernel: np.ndarray, classes: np.ndarray, sizes: list[int]) -> np.ndarray:
        """one_hot(classes) @ kernel, as the sum of each head's row of the kernel."""
        out, offset = None, 0
        for j, size in enumerate(sizes):
            rows = kernel[offset + classes[:, j]]
            out = rows if out is None else out + rows
            offset += size
        return out

    @staticmethod
    def _zero(layer: dict, batch: int):
        zeros = np.zeros((batch, layer["units"]), dtype=np.float32)
        return (zeros, zeros.copy()) if layer["op"] == "lstm" else zeros

    def _cell(self, layer: dict, x: np.ndarray, state, projected=None):
        """One step of a recurrent cell; ``projected`` is ``x @ kernel`` when known."""
        act = _activation(layer["activation"])
        rec = _activation(layer["recurrent_activation"])
        kernel, recurrent, bias = (self.w[i] for i in layer["weights"])
        n = layer["units"]
        xk = x @ kernel if projected is None else projected
        if layer["op"] == "lstm":
            h, c = state
            z = h @ recurrent
            z += xk
            z += bias
            i, f, g, o = (
                rec(z[:, :n]),
                rec(z[:, n : 2 * n]),
                act(z[:, 2 * n : 3 * n]),
                z[:, 3 * n :],
            )
            c = f * c + i * g
            h = rec(o) * act(c)
            return h, (h, c)
        if layer["op"] == "gru":  # reset_after=True, Keras's default
            inputs = xk + bias[0]
            inner = state @ recurrent + bias[1]
            z = rec(inputs[:, :n] + inner[:, :n])
            r = rec(inputs[:, n : 2 * n] + inner[:, n : 2 * n])
            hh = act(inputs[:, 2 * n :] + r * inner[:, 2 * n :])
            h = z * state + (1 - z) * hh
            return h, h
        h = act(xk + state @ recurrent + bias)
        return h, h


def weights_npz(weights: list[np.ndarray]) -> dict[str, Any]:
    """The weights as ``np.savez`` keyword arguments (w0, w1, ...)."""
    return {f"w{i}": w for i, w in enumerate(weights)}
