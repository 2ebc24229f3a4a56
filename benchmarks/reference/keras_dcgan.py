"""Reference program: the Keras 3 DCGAN of the keras.io example "DCGAN to generate face images" (a GAN trained
with `fit()` by overriding `Model.train_step`), adapted to 28x28 MNIST, written plainly as a user would: the
example's discriminator (Conv2D 64-128-128, LeakyReLU 0.2, Dropout 0.2, sigmoid) and generator (Dense to 7x7x128
instead of 8x8x128, Conv2DTranspose 128-256 instead of 128-256-512, a 5x5 sigmoid Conv2D to one channel),
latent 128, BCE with 0.05 label noise, Adam 1e-4 for both, batch 32, images in [0, 1].

    python benchmarks/reference/keras_dcgan.py --minutes 5 --seed 0 --out runs/ref-keras

Needs TensorFlow (`pip install tensorflow-cpu`), not a gankit dependency. Snapshots as in torch_dcgan.py:
OUT/snap-SECONDS.npz every --snapshot-every seconds of training (2,000 samples, uint8 N,28,28,1; writing them
is not counted), OUT/final.npz with 10,000 at the end.
"""
import argparse
import time
from pathlib import Path

import numpy as np
import keras
import tensorflow as tf
from keras import layers, ops

LATENT = 128


def build_discriminator():
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(64, kernel_size=4, strides=2, padding="same"), layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(128, kernel_size=4, strides=2, padding="same"), layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(128, kernel_size=4, strides=2, padding="same"), layers.LeakyReLU(negative_slope=0.2),
        layers.Flatten(), layers.Dropout(0.2), layers.Dense(1, activation="sigmoid")], name="discriminator")


def build_generator():
    return keras.Sequential([
        keras.Input(shape=(LATENT,)),
        layers.Dense(7 * 7 * 128), layers.Reshape((7, 7, 128)),
        layers.Conv2DTranspose(128, kernel_size=4, strides=2, padding="same"), layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2DTranspose(256, kernel_size=4, strides=2, padding="same"), layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(1, kernel_size=5, padding="same", activation="sigmoid")], name="generator")


class GAN(keras.Model):
    def __init__(self, discriminator, generator, seed):
        super().__init__()
        self.discriminator, self.generator = discriminator, generator
        self.seed_generator = keras.random.SeedGenerator(seed)

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn

    def train_step(self, real_images):
        batch_size = ops.shape(real_images)[0]
        noise = keras.random.normal((batch_size, LATENT), seed=self.seed_generator)
        generated = self.generator(noise)
        combined = ops.concatenate([generated, real_images], axis=0)
        labels = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))], axis=0)
        labels += 0.05 * keras.random.uniform(ops.shape(labels), seed=self.seed_generator)  # the example's trick
        with tf.GradientTape() as tape:
            d_loss = self.loss_fn(labels, self.discriminator(combined))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        noise = keras.random.normal((batch_size, LATENT), seed=self.seed_generator)
        misleading = ops.zeros((batch_size, 1))  # "all real"
        with tf.GradientTape() as tape:
            g_loss = self.loss_fn(misleading, self.discriminator(self.generator(noise)))
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        return {"d_loss": d_loss, "g_loss": g_loss}


class Snapshots(keras.callbacks.Callback):
    """Samples every `every` seconds of training (the time spent writing them is not counted); stops at `limit`."""

    def __init__(self, out, every, limit, seed):
        super().__init__()
        self.out, self.every, self.limit = out, every, limit
        self.fixed = np.random.default_rng(seed + 1234).standard_normal((2000, LATENT)).astype("float32")
        self.trained, self.next = 0.0, every
        self.start = time.perf_counter()

    def write(self, noise, path):
        images = self.model.generator.predict(noise, batch_size=500, verbose=0)
        np.savez(path, images=np.clip(np.round(images * 255), 0, 255).astype(np.uint8))

    def on_train_batch_end(self, batch, logs=None):
        now = self.trained + time.perf_counter() - self.start
        if now >= self.next or now >= self.limit:
            self.trained = now
            self.write(self.fixed, self.out / f"snap-{now:08.2f}.npz")
            self.next = now + self.every
            if now >= self.limit:
                self.model.stop_training = True
            self.start = time.perf_counter()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--snapshot-every", type=float, default=10.0)
    parser.add_argument("--data", default="", help="mnist.npz (default: the copy bundled with gankit)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(args.seed)
    if args.data:
        x = np.load(args.data)["x_train"]
    else:
        from gankit.data.mnist import bundled_mnist
        x = bundled_mnist()["x_train"]
    dataset = tf.data.Dataset.from_tensor_slices((x[..., None] / 255.0).astype("float32")).shuffle(60000).batch(32)
    gan = GAN(build_discriminator(), build_generator(), args.seed)
    gan.compile(d_optimizer=keras.optimizers.Adam(learning_rate=1e-4),
                g_optimizer=keras.optimizers.Adam(learning_rate=1e-4), loss_fn=keras.losses.BinaryCrossentropy())
    snapshots = Snapshots(args.out, args.snapshot_every, args.minutes * 60, args.seed)
    history = gan.fit(dataset, epochs=1000, callbacks=[snapshots], verbose=0)
    snapshots.write(np.random.default_rng(args.seed + 4321).standard_normal((10000, LATENT)).astype("float32"),
                    args.out / "final.npz")
    print(f"{len(history.history['d_loss'])} epochs begun, {snapshots.trained:.1f} s of training")


if __name__ == "__main__":
    main()
