"""Built-in models: the tutorial's MLP and LSTMs, and a causal CNN, with the knobs the Keras
tutorials teach (stacked layers, dropout, L2 weight decay, kernel size and dilation).

With default parameters each builds exactly the network of earlier melodynet versions
(optional layers are only added when asked for), so the same seed gives the same weights.
"""

from melodynet.hookspecs import ModelConfig, ModelSpec, Param, hookimpl

DROPOUT = Param("dropout", "float", 0.0, "dropout after each layer while training", 0.0, 0.9)
RECURRENT_DROPOUT = Param(
    "recurrent-dropout", "float", 0.0, "dropout on the recurrent state while training", 0.0, 0.9
)
L2 = Param("l2", "float", 0.0, "L2 weight decay on each layer's kernel", 0.0, 1.0)


def _layers(default: int, what: str) -> Param:
    return Param("layers", "int", default, f"stacked {what} layers", 1, 8)


def _options(config: ModelConfig, *params: Param) -> list:
    return [config.options.get(p.name, p.default) for p in params]


def _regularizer(l2: float):
    from keras import regularizers

    return regularizers.L2(l2) if l2 else None


def _dropout(x, rate: float):
    from keras import layers

    return layers.Dropout(rate)(x) if rate else x


MLP_PARAMS = (_layers(2, "Dense"), DROPOUT, L2)


def build_mlp(inputs, config: ModelConfig):
    from keras import layers

    depth, dropout, l2 = _options(config, *MLP_PARAMS)
    x = layers.Flatten()(inputs)
    for _ in range(depth):
        x = layers.Dense(config.units, activation="relu", kernel_regularizer=_regularizer(l2))(x)
        x = _dropout(x, dropout)
    return x


LSTM_PARAMS = (_layers(1, "LSTM"), DROPOUT, RECURRENT_DROPOUT, L2)
UNROLL = 32
"""Window LSTMs up to this window run their steps unrolled: no loop, fewer operations."""


def _lstm_stack(inputs, config: ModelConfig, last_sequences: bool):
    """``layers`` LSTMs, each but (unless ``last_sequences``) the last one returning a
    sequence for the next; stateful when melodynet builds the note-by-note generator.
    On class indices (``class_inputs``) the first is a ClassLSTM: the same LSTM, its
    kernel rows looked up instead of multiplied by one-hot vectors."""
    from keras import layers

    depth, dropout, recurrent_dropout, l2 = _options(config, *LSTM_PARAMS)
    x = inputs
    for i in range(depth):
        kind, extra = layers.LSTM, {}
        if i == 0 and "int" in str(inputs.dtype):
            from melodynet.layers import ClassLSTM

            kind = ClassLSTM
            extra = {"sizes": config.input_sizes, "mask_empty": last_sequences}
        x = kind(
            config.units,
            return_sequences=last_sequences or i < depth - 1,
            stateful=config.stateful,
            recurrent_dropout=recurrent_dropout,
            kernel_regularizer=_regularizer(l2),
            unroll=not last_sequences and config.window <= UNROLL,
            **extra,
        )(x)
        x = _dropout(x, dropout)
    return x


def _custom_objects() -> dict:
    from melodynet.layers import ClassLSTM

    return {"melodynet>ClassLSTM": ClassLSTM}


def build_lstm(inputs, config: ModelConfig):
    return _lstm_stack(inputs, config, last_sequences=False)


def build_stateful_lstm(inputs, config: ModelConfig):
    return _lstm_stack(inputs, config, last_sequences=True)


CNN_PARAMS = (
    Param(
        "layers",
        "int",
        0,
        "Conv1D layers; 0: as many as it takes for the last note to see the whole window",
        0,
        16,
    ),
    Param("kernel-size", "int", 2, "notes each convolution looks at", 2, 8),
    Param("dilation-growth", "int", 2, "each layer's dilation is the last one's times this", 1, 4),
    DROPOUT,
    L2,
)


def build_cnn(inputs, config: ModelConfig):
    """Dilated causal convolutions whose receptive field covers the window."""
    from keras import layers

    depth, kernel, growth, dropout, l2 = _options(config, *CNN_PARAMS)
    x, reach, dilation, built = inputs, 1, 1, 0
    while (depth and built < depth) or (not depth and (reach < config.window or built == 0)):
        x = layers.Conv1D(
            config.units,
            kernel,
            padding="causal",
            dilation_rate=dilation,
            activation="relu",
            kernel_regularizer=_regularizer(l2),
        )(x)
        x = _dropout(x, dropout)
        reach += (kernel - 1) * dilation
        dilation *= growth
        built += 1
    # The last time step has seen the whole window (or as much as the layers reach).
    x = layers.Cropping1D((config.window - 1, 0))(x)
    return layers.Flatten()(x)


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            "mlp",
            build_mlp,
            description="Dense 128 -> Dense 128 on the window",
            params=MLP_PARAMS,
        )
    )
    register(
        ModelSpec(
            "lstm",
            build_lstm,
            description="LSTM(128) over the window, stateless",
            params=LSTM_PARAMS,
            class_inputs=True,
            custom_objects=_custom_objects,
        )
    )
    register(
        ModelSpec(
            "stateful-lstm",
            build_stateful_lstm,
            sequence=True,
            description="LSTM(128) carrying its state through the whole song",
            aliases=("stateful",),
            params=LSTM_PARAMS,
            class_inputs=True,
            custom_objects=_custom_objects,
        )
    )
    register(
        ModelSpec(
            "cnn",
            build_cnn,
            description="causal dilated Conv1D stack over the window",
            params=CNN_PARAMS,
        )
    )
