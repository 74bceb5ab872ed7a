"""Import TensorFlow once, quietly: its C++ start-up lines and Keras's warnings about what
melodynet does on purpose are not for melodynet users (``--verbose`` shows them)."""

import os
import sys
import warnings

_configured = False


def _import_quietly() -> None:
    """Import TensorFlow with the process's stderr closed for the duration: the wheel's C++
    code prints notices (oneDNN, absl) there before any log level applies. Python errors
    still surface as exceptions, after stderr is back."""
    if "tensorflow" in sys.modules or os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0":
        import tensorflow  # noqa: F401

        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def tensorflow():
    """TensorFlow, configured once: quiet, and with MELODYNET_CPU_DEVICES=N the CPU split
    into N logical devices (to try `--strategy mirrored` without GPUs).

    Call it before importing Keras, which imports TensorFlow itself."""
    global _configured
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    _import_quietly()
    import tensorflow as tf

    if not _configured:
        _configured = True
        tf.get_logger().setLevel("ERROR")
        # An encoding head with one class (every note the same length) is a softmax over
        # one class: correct, and melodynet's choice, so not the user's concern.
        warnings.filterwarnings(
            "ignore", message=r"You are using a softmax over axis", module=r"keras\."
        )
        count = int(os.environ.get("MELODYNET_CPU_DEVICES", "0") or 0)
        if count > 1:
            cpu = tf.config.list_physical_devices("CPU")[0]
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
            )
    return tf
