"""Keras layers that read class indices instead of one-hot features.

A one-hot input times a kernel is a sum of kernel rows, one per input column: a lookup.
``ClassLSTM`` is an LSTM whose input is the class indices themselves; it keeps the
LSTM's weights (its kernel has a row per category, as on one-hot features), computes the
input's share of the gates for every time step at once by gathering those rows, and
runs only the recurrent part step by step. Same function, same weights, same
initialisation as ``keras.layers.LSTM`` on ``melodynet.network.features``; what it saves
is a (batch, categories) x (categories, 4 units) product per time step, forward and
backward.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="melodynet")
class ClassLSTM(keras.layers.LSTM):
    """An LSTM on class indices (batch, time, columns), ``sizes[j]`` categories in column
    ``j``; class -1 contributes nothing (as an all-zero one-hot). ``mask_empty``: time
    steps whose every column is -1 are padding and masked, as ``Masking(0.0)`` masks an
    all-zero one-hot row."""

    def __init__(self, units, sizes=(), mask_empty: bool = False, **kwargs):
        if kwargs.get("dropout"):
            raise ValueError("ClassLSTM has no input dropout: put a Dropout layer after it")
        super().__init__(units, **kwargs)
        self.sizes = [int(n) for n in sizes]
        self.mask_empty = bool(mask_empty)
        self.input_spec = None  # integer classes, not the LSTM's float features

    def build(self, sequences_shape, initial_state_shape=None):
        assert sequences_shape[-1] == len(self.sizes), "a column per size"
        super().build((*sequences_shape[:-1], sum(self.sizes)), initial_state_shape)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        return super().compute_output_shape((*sequences_shape[:-1], sum(self.sizes)))

    def compute_mask(self, sequences, mask=None):
        if not (self.mask_empty and self.return_sequences):
            return None
        return self._empty_mask(sequences)

    def _empty_mask(self, classes):
        return ops.any(ops.greater_equal(classes, 0), axis=-1)

    def project(self, classes):
        """one_hot(classes) @ kernel, as a sum of looked-up kernel rows: (..., 4 units).
        Class -1 looks up a row of zeros after the kernel's own."""
        kernel = self.cell.kernel
        table = ops.concatenate([kernel, ops.zeros((1, kernel.shape[1]), kernel.dtype)])
        classes, out, offset = ops.cast(classes, "int32"), None, 0
        for j, size in enumerate(self.sizes):
            column = classes[..., j]
            index = ops.where(ops.greater_equal(column, 0), column + offset, sum(self.sizes))
            rows = ops.take(table, index, axis=0)
            out = rows if out is None else out + rows
            offset += size
        return out

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if self.mask_empty and mask is None:
            mask = self._empty_mask(sequences)
        projected = self.project(sequences)
        if self._from_zero_unrolled(initial_state, mask):
            return self._unrolled(projected)
        return super().call(projected, initial_state=initial_state, mask=mask, training=training)

    def _from_zero_unrolled(self, initial_state, mask) -> bool:
        """Whether ``_unrolled`` computes this call: a window LSTM's case."""
        return (
            self.unroll
            and initial_state is None
            and mask is None
            and not (self.stateful or self.go_backwards or self.return_state)
            and self.cell.implementation == 2
            and not self.cell.recurrent_dropout
        )

    def _unrolled(self, projected):
        """Keras's unrolled loop and cell arithmetic, without what a fixed window from a
        zero state does not need: the first step's ``0 @ recurrent_kernel``, and the
        transposes to time-major and back (the steps are unstacked along axis 1)."""
        cell = self.cell
        h, c, outputs = None, None, []
        for t, x in enumerate(ops.unstack(projected, axis=1)):
            z = x if t == 0 else ops.add(x, ops.matmul(h, cell.recurrent_kernel))
            if cell.use_bias:
                z = ops.add(z, cell.bias)
            if c is None:
                c = ops.zeros_like(z[:, : cell.units])
            c, o = cell._compute_carry_and_output_fused(ops.split(z, 4, axis=1), c)
            h = o * cell.activation(c)
            outputs.append(h)
        return ops.stack(outputs, axis=1) if self.return_sequences else h

    def inner_loop(self, sequences, initial_state, mask, training=False):
        """The LSTM cell's arithmetic, in its order, with ``x @ kernel`` already done."""
        from keras.src import backend, tree

        cell = self.cell
        if tree.is_nested(mask):
            mask = mask[0]
        units = cell.units
        if self.use_cudnn in ("auto", True) and not cell.recurrent_dropout:
            try:  # cuDNN, as keras.layers.LSTM, on inputs already times the kernel
                return backend.lstm(
                    sequences,
                    initial_state[0],
                    initial_state[1],
                    mask,
                    kernel=ops.eye(4 * units, dtype=sequences.dtype),
                    recurrent_kernel=cell.recurrent_kernel,
                    bias=cell.bias if cell.use_bias else None,
                    activation=cell.activation,
                    recurrent_activation=cell.recurrent_activation,
                    return_sequences=self.return_sequences,
                    go_backwards=self.go_backwards,
                    unroll=self.unroll,
                )
            except NotImplementedError:  # no GPU: the loop below
                pass

        def step(projected, states):
            h_tm1, c_tm1 = states
            if cell.implementation == 1:  # keras runs it with recurrent dropout
                x = [projected[:, k * units : (k + 1) * units] for k in range(4)]
                if cell.use_bias:
                    x = [x[k] + cell.bias[k * units : (k + 1) * units] for k in range(4)]
                h = (h_tm1,) * 4
                if training and 0.0 < cell.recurrent_dropout < 1.0:
                    rec_dp_mask = cell.get_recurrent_dropout_mask(h_tm1)
                    h = tuple(h_tm1 * rec_dp_mask[k] for k in range(4))
                c, o = cell._compute_carry_and_output(x, h, c_tm1)
            else:  # keras' implementation 2
                z = ops.add(projected, ops.matmul(h_tm1, cell.recurrent_kernel))
                if cell.use_bias:
                    z = ops.add(z, cell.bias)
                c, o = cell._compute_carry_and_output_fused(ops.split(z, 4, axis=1), c_tm1)
            h = o * cell.activation(c)
            return h, [h, c]

        return backend.rnn(
            step,
            sequences,
            list(initial_state),
            go_backwards=self.go_backwards,
            mask=mask,
            unroll=self.unroll,
            input_length=sequences.shape[1],
            zero_output_for_mask=self.zero_output_for_mask,
            return_all_outputs=self.return_sequences,
        )

    def get_config(self):
        return {**super().get_config(), "sizes": self.sizes, "mask_empty": self.mask_empty}
