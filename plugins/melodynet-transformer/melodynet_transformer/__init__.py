"""A small causal transformer for melodynet: model ``transformer``.

This module is what melodynet imports at start-up, so it stays light: Keras
and the plugin's own layers (``melodynet_transformer.layers``) are imported
only when a model is built, or when melodynet asks for ``custom_objects()``
to load a saved bundle.
"""

from melodynet import ModelConfig, ModelSpec, Param, hookimpl

__version__ = "0.1.0"

PARAMS = (
    Param("heads", "int", 4, "attention heads per block", 1, 16),
    Param("layers", "int", 2, "transformer blocks", 1, 12),
    Param("key-dim", "int", 0, "size of each head's queries and keys; 0: units / heads", 0, 512),
    Param("ff-multiplier", "int", 2, "feed-forward width as a multiple of units", 1, 8),
    Param("dropout", "float", 0.0, "dropout in attention and after each sub-layer", 0.0, 0.9),
)
"""The architecture's parameters (``--param NAME=VALUE``), saved with each bundle."""


def build_transformer(inputs, config: ModelConfig):
    """Notes -> Dense(units) + learned positions -> causal blocks -> the last position.

    Window model: (batch, window, features) in, (batch, units) out.
    """
    from keras import layers

    from melodynet_transformer.layers import CausalSelfAttentionBlock, PositionalEmbedding

    options = {p.name: p.default for p in PARAMS} | config.options
    units = config.units
    x = layers.Dense(units, use_bias=False, name="note_embedding")(inputs)
    x = PositionalEmbedding(config.window, name="positions")(x)
    for i in range(int(options["layers"])):
        x = CausalSelfAttentionBlock(
            heads=int(options["heads"]),
            ff_units=int(options["ff-multiplier"]) * units,
            dropout=float(options["dropout"]),
            key_dim=int(options["key-dim"]) or None,
            name=f"block_{i}",
        )(x)
    x = layers.LayerNormalization(name="final_norm")(x)
    # The last position has attended to the whole window.
    x = layers.Cropping1D((config.window - 1, 0))(x)
    return layers.Flatten()(x)


def custom_objects() -> dict:
    """The plugin's Keras classes by registered name, for loading bundles in safe mode."""
    from melodynet_transformer.layers import custom_objects as objects

    return objects()


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            "transformer",
            build_transformer,
            description="causal self-attention (2 blocks, 4 heads) over the window",
            custom_objects=custom_objects,
            params=PARAMS,
        )
    )
