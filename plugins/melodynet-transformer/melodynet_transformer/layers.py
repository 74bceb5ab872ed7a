"""The transformer's own Keras layers, registered so saved bundles reload in safe mode.

Importing this module imports Keras; melodynet_transformer imports it only
when a model is built or a bundle is loaded.
"""

import keras
from keras import layers, ops

PACKAGE = "melodynet_transformer"


@keras.saving.register_keras_serializable(package=PACKAGE)
class PositionalEmbedding(layers.Layer):
    """Adds a learned vector per position to a (batch, time, units) sequence."""

    def __init__(self, length: int, **kwargs):
        super().__init__(**kwargs)
        self.length = int(length)

    def build(self, input_shape):
        self.positions = self.add_weight(
            name="positions",
            shape=(self.length, int(input_shape[-1])),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
        )

    def call(self, inputs):
        steps = ops.shape(inputs)[1]
        return inputs + ops.expand_dims(self.positions[:steps], 0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "length": self.length}


@keras.saving.register_keras_serializable(package=PACKAGE)
class CausalSelfAttentionBlock(layers.Layer):
    """Pre-norm transformer block: causal multi-head self-attention, then a feed-forward net.

    Each position attends only to itself and earlier positions.
    """

    def __init__(
        self,
        heads: int = 4,
        ff_units: int = 256,
        dropout: float = 0.0,
        key_dim: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.heads = int(heads)
        self.key_dim = int(key_dim) if key_dim else None
        self.ff_units = int(ff_units)
        self.dropout = float(dropout)
        self.attention_norm = layers.LayerNormalization(name="attention_norm")
        self.ff_norm = layers.LayerNormalization(name="ff_norm")
        self.ff_in = layers.Dense(self.ff_units, activation="gelu", name="ff_in")
        self.drop = layers.Dropout(self.dropout)

    def build(self, input_shape):
        units = int(input_shape[-1])
        self.attention = layers.MultiHeadAttention(
            self.heads,
            self.key_dim or max(1, units // self.heads),
            dropout=self.dropout,
            name="attention",
        )
        self.ff_out = layers.Dense(units, name="ff_out")
        self.attention_norm.build(input_shape)
        self.attention.build(input_shape, input_shape)
        self.ff_norm.build(input_shape)
        self.ff_in.build(input_shape)
        self.ff_out.build((*input_shape[:-1], self.ff_units))

    def call(self, inputs, training=None):
        x = self.attention_norm(inputs)
        x = self.attention(x, x, use_causal_mask=True, training=training)
        x = inputs + self.drop(x, training=training)
        y = self.ff_out(self.ff_in(self.ff_norm(x)))
        return x + self.drop(y, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "heads": self.heads,
            "ff_units": self.ff_units,
            "dropout": self.dropout,
            "key_dim": self.key_dim,
        }


def custom_objects() -> dict:
    """{registered name: class} for keras.saving.load_model(custom_objects=...)."""
    classes = (PositionalEmbedding, CausalSelfAttentionBlock)
    return {keras.saving.get_registered_name(cls): cls for cls in classes}
