"""ClassLSTM: the LSTM on one-hot features, reading class indices instead."""

import numpy as np
import pytest

SIZES = [7, 5]


def _classes(rng, batch=3, time=9):
    x = np.stack([rng.integers(0, n, (batch, time)) for n in SIZES], axis=-1).astype(np.int32)
    x[0, 6:] = -1  # a shorter song: padding at its end
    x[1, 2, 1] = -1  # a class the vocabulary lacks, in one column
    return x


def _pair(return_sequences, recurrent_dropout=0.0, stateful=False, batch=None, unroll=False):
    """A ClassLSTM and a keras LSTM holding the same weights."""
    import keras

    from melodynet.layers import ClassLSTM

    keras.utils.set_random_seed(1)
    common = {
        "return_sequences": return_sequences,
        "recurrent_dropout": recurrent_dropout,
        "stateful": stateful,
        "unroll": unroll,
        "seed": 3,
    }
    # unrolled: a window model's layer, which masks nothing
    ours = ClassLSTM(6, SIZES, mask_empty=return_sequences and not unroll, **common)
    theirs = keras.layers.LSTM(6, **common)
    ours.build((batch, None, len(SIZES)))
    theirs.build((batch, None, sum(SIZES)))
    theirs.set_weights(ours.get_weights())
    return ours, theirs


@pytest.mark.parametrize(
    "return_sequences, recurrent_dropout, unroll",
    [
        (True, 0.0, False),
        (True, 0.3, False),
        (False, 0.0, False),
        # a window model's layers: from a zero state, without the first 0 @ recurrent kernel
        (False, 0.0, True),
        (True, 0.0, True),
        (False, 0.3, True),
    ],
)
@pytest.mark.parametrize("training", [False, True])
def test_the_same_function_and_gradients_as_an_lstm_on_one_hot_features(
    return_sequences, recurrent_dropout, unroll, training
):
    import tensorflow as tf

    from melodynet.network import features

    x = _classes(np.random.default_rng(0))
    ours, theirs = _pair(return_sequences, recurrent_dropout, unroll=unroll)
    one_hot = features(tf.constant(x), SIZES)
    masked = return_sequences and not unroll
    mask = tf.reduce_any(one_hot != 0, axis=-1) if masked else None  # Masking(0.0)
    with tf.GradientTape(persistent=True) as tape:
        got = ours(x, training=training)
        expected = theirs(one_hot, mask=mask, training=training)
        got_loss, expected_loss = tf.reduce_sum(got**2), tf.reduce_sum(expected**2)
    # the same arithmetic in the same order: equal to the last bit
    assert np.array_equal(got.numpy(), expected.numpy())
    ours_grads = tape.gradient(got_loss, ours.trainable_weights)
    theirs_grads = tape.gradient(expected_loss, theirs.trainable_weights)
    for a, b in zip(ours_grads, theirs_grads, strict=True):
        # kernel rows are summed by a scatter instead of a product: rounding may differ
        np.testing.assert_allclose(tf.convert_to_tensor(a).numpy(), b.numpy(), atol=1e-6)
    kernel_grad = tf.convert_to_tensor(ours_grads[0]).numpy()
    assert np.abs(kernel_grad).sum() > 0


def test_padding_is_masked_and_missing_classes_add_nothing():
    from melodynet.layers import ClassLSTM

    x = _classes(np.random.default_rng(0))
    layer = ClassLSTM(4, SIZES, mask_empty=True, return_sequences=True)
    layer.build((None, None, len(SIZES)))
    mask = np.asarray(layer.compute_mask(x))
    assert mask[0].tolist() == [True] * 6 + [False] * 3 and mask[1:].all()
    projected = np.asarray(layer.project(x))
    kernel = layer.cell.kernel.numpy()
    assert np.array_equal(projected[0, 7], np.zeros(16))
    assert np.array_equal(projected[1, 2], kernel[x[1, 2, 0]])  # column 1 missing
    assert np.array_equal(projected[2, 0], kernel[x[2, 0, 0]] + kernel[7 + x[2, 0, 1]])
    # a window model's layer masks nothing
    assert ClassLSTM(4, SIZES).compute_mask(x) is None


def test_stepping_a_stateful_copy_gives_the_whole_sequence():
    x = _classes(np.random.default_rng(1))[1:]  # no padding
    ours, _ = _pair(return_sequences=True)
    whole = ours(x).numpy()
    stepper, _ = _pair(return_sequences=True, stateful=True, batch=len(x))
    stepper.set_weights(ours.get_weights())
    steps = np.concatenate([stepper(x[:, t : t + 1]).numpy() for t in range(x.shape[1])], axis=1)
    np.testing.assert_allclose(steps, whole, atol=1e-6)


def test_input_dropout_is_refused():
    from melodynet.layers import ClassLSTM

    with pytest.raises(ValueError, match="Dropout layer after it"):
        ClassLSTM(4, SIZES, dropout=0.2)


def test_saved_and_loaded_in_safe_mode(tmp_path):
    import keras

    from melodynet.layers import ClassLSTM

    inputs = keras.Input((None, len(SIZES)), dtype="int32")
    model = keras.Model(inputs, ClassLSTM(4, SIZES, mask_empty=True, return_sequences=True)(inputs))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    x = _classes(np.random.default_rng(2))
    assert type(loaded.layers[1]).__name__ == "ClassLSTM"
    assert loaded.layers[1].get_config()["sizes"] == SIZES
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
