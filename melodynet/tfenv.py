"""Import TensorFlow once, quietly: its C++ and retracing chatter is not for melodynet users."""

import os

_configured = False


def tensorflow():
    """TensorFlow, configured once: quiet, and with MELODYNET_CPU_DEVICES=N the CPU split
    into N logical devices (to try `--strategy mirrored` without GPUs)."""
    global _configured
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    if not _configured:
        _configured = True
        tf.get_logger().setLevel("ERROR")
        count = int(os.environ.get("MELODYNET_CPU_DEVICES", "0") or 0)
        if count > 1:
            cpu = tf.config.list_physical_devices("CPU")[0]
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
            )
    return tf
