"""Import TensorFlow once, quietly: its C++ and retracing chatter is not for melodynet users."""

import os


def tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    return tf
