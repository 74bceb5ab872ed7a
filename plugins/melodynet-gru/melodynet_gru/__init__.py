"""GRU models for melodynet: ``gru`` over the window, ``stateful-gru`` over the whole song.

Keras is imported only when a model is built, so ``melodynet --help`` stays fast.
"""

from melodynet import ModelConfig, ModelSpec, hookimpl

__version__ = "0.1.0"


def build_gru(inputs, config: ModelConfig):
    """GRU(units) reading the window; its last state is the features."""
    from keras import layers

    return layers.GRU(config.units)(inputs)


def build_stateful_gru(inputs, config: ModelConfig):
    """GRU(units) over the whole song, one output per note.

    Trained on whole songs; for generation melodynet rebuilds it with
    ``config.stateful=True`` so the state carries from note to note.
    """
    from keras import layers

    return layers.GRU(config.units, return_sequences=True, stateful=config.stateful)(inputs)


@hookimpl
def register_models(register):
    register(ModelSpec("gru", build_gru, description="GRU(128) over the window, stateless"))
    register(
        ModelSpec(
            "stateful-gru",
            build_stateful_gru,
            sequence=True,
            description="GRU(128) carrying its state through the whole song",
        )
    )
