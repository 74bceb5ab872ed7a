"""GRU models for melodynet: ``gru`` over the window, ``stateful-gru`` over the whole song.

Keras is imported only when a model is built, so ``melodynet --help`` stays fast.
"""

from melodynet import ModelConfig, ModelSpec, Param, hookimpl

__version__ = "0.1.0"

PARAMS = (
    Param("layers", "int", 1, "stacked GRU layers", 1, 8),
    Param("dropout", "float", 0.0, "dropout after each layer while training", 0.0, 0.9),
    Param(
        "recurrent-dropout", "float", 0.0, "dropout on the recurrent state while training", 0, 0.9
    ),
)
"""What ``--param NAME=VALUE`` may set; the defaults build the plugin's original networks."""


def _stack(inputs, config: ModelConfig, last_sequences: bool):
    from keras import layers

    depth, dropout, recurrent = (config.options.get(p.name, p.default) for p in PARAMS)
    x = inputs
    for i in range(depth):
        x = layers.GRU(
            config.units,
            return_sequences=last_sequences or i < depth - 1,
            stateful=config.stateful,
            recurrent_dropout=recurrent,
        )(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    return x


def build_gru(inputs, config: ModelConfig):
    """GRU(units) reading the window; its last state is the features."""
    return _stack(inputs, config, last_sequences=False)


def build_stateful_gru(inputs, config: ModelConfig):
    """GRU(units) over the whole song, one output per note.

    Trained on whole songs; for generation melodynet rebuilds it with
    ``config.stateful=True`` so the state carries from note to note.
    """
    return _stack(inputs, config, last_sequences=True)


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            "gru", build_gru, description="GRU(128) over the window, stateless", params=PARAMS
        )
    )
    register(
        ModelSpec(
            "stateful-gru",
            build_stateful_gru,
            sequence=True,
            description="GRU(128) carrying its state through the whole song",
            params=PARAMS,
        )
    )
