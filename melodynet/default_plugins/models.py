"""Built-in models: the tutorial's MLP and LSTMs, and a causal CNN."""

from melodynet.hookspecs import ModelConfig, ModelSpec, hookimpl


def build_mlp(inputs, config: ModelConfig):
    from keras import layers

    x = layers.Flatten()(inputs)
    x = layers.Dense(config.units, activation="relu")(x)
    return layers.Dense(config.units, activation="relu")(x)


def build_lstm(inputs, config: ModelConfig):
    from keras import layers

    return layers.LSTM(config.units)(inputs)


def build_stateful_lstm(inputs, config: ModelConfig):
    from keras import layers

    return layers.LSTM(config.units, return_sequences=True, stateful=config.stateful)(inputs)


def build_cnn(inputs, config: ModelConfig):
    """Dilated causal convolutions whose receptive field covers the window."""
    from keras import layers

    x, reach, dilation = inputs, 1, 1
    while reach < config.window or dilation == 1:
        x = layers.Conv1D(
            config.units, 2, padding="causal", dilation_rate=dilation, activation="relu"
        )(x)
        reach += dilation
        dilation *= 2
    # The last time step has seen the whole window.
    x = layers.Cropping1D((config.window - 1, 0))(x)
    return layers.Flatten()(x)


@hookimpl
def register_models(register):
    register(ModelSpec("mlp", build_mlp, description="Dense 128 -> Dense 128 on the window"))
    register(ModelSpec("lstm", build_lstm, description="LSTM(128) over the window, stateless"))
    register(
        ModelSpec(
            "stateful-lstm",
            build_stateful_lstm,
            sequence=True,
            description="LSTM(128) carrying its state through the whole song",
            aliases=("stateful",),
        )
    )
    register(ModelSpec("cnn", build_cnn, description="causal dilated Conv1D stack over the window"))
