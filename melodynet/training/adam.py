"""Adam through TensorFlow's fused kernel.

``keras.optimizers.Adam`` updates each variable with some twenty small operations; for
the models melodynet trains on two cores, those are a large part of every step. This is
the same Adam (Kingma & Ba, with Keras's defaults and bias correction), applied by one
``ResourceApplyAdam`` per variable. Its ``variables`` are Keras Adam's, in Keras's order
(iteration, learning rate, then each variable's momentum and velocity), so training
states saved by either resume with the other.
"""

from __future__ import annotations

BETA_1 = 0.9
BETA_2 = 0.999
EPSILON = 1e-7


class FusedAdam:
    def __init__(self, learning_rate: float, trainable: list) -> None:
        import tensorflow as tf

        self.trainable = list(trainable)
        self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False, name="iteration")
        self.learning_rate = tf.Variable(
            learning_rate, dtype=tf.float32, trainable=False, name="learning_rate"
        )
        self.slots = [
            (
                tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False, name="momentum"),
                tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False, name="velocity"),
            )
            for v in self.trainable
        ]

    @property
    def variables(self) -> list:
        return [self.iterations, self.learning_rate, *(s for pair in self.slots for s in pair)]

    def apply(self, grads) -> None:
        """One step, inside a tf.function: ``grads`` are dense, one per trainable variable."""
        import tensorflow as tf

        step = tf.cast(self.iterations + 1, tf.float32)
        beta_1_power, beta_2_power = tf.pow(BETA_1, step), tf.pow(BETA_2, step)
        for variable, (m, v), grad in zip(self.trainable, self.slots, grads, strict=True):
            if grad is None:
                continue
            tf.raw_ops.ResourceApplyAdam(
                var=getattr(variable, "value", variable).handle,
                m=m.handle,
                v=v.handle,
                beta1_power=beta_1_power,
                beta2_power=beta_2_power,
                lr=self.learning_rate,
                beta1=tf.constant(BETA_1),
                beta2=tf.constant(BETA_2),
                epsilon=tf.constant(EPSILON),
                grad=grad,
            )
        self.iterations.assign_add(1)
