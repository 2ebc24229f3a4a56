"""Reference program for whole-process time: the tutorial's MLP GAN in Keras 3 on TensorFlow, with the fixes
that make it learn (data in [-1, 1], Adam 2e-4 / 0.5, the discriminator trainable when it trains) and its step
compiled with tf.function: G 100-256-512-1024-784 (LeakyReLU 0.2, tanh), D 784-512-256-1 (LeakyReLU 0.2,
sigmoid), BCE, batch 128, then a 10x10 grid of samples. The same nets and settings as `gankit train seed-mlp`.

    time python benchmarks/reference/keras_mlp.py --steps 3000 --out runs/ref-keras-mlp

Needs TensorFlow and Pillow (`pip install tensorflow-cpu pillow`), not gankit dependencies.
"""
import argparse
import time
from pathlib import Path

import numpy as np
import keras
import tensorflow as tf
from keras import layers
from PIL import Image


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default="", help="mnist.npz (default: the copy bundled with gankit)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(args.seed)
    if args.data:
        x = np.load(args.data)["x_train"]
    else:
        from gankit.data.mnist import bundled_mnist
        x = bundled_mnist()["x_train"]
    images = (x.reshape(-1, 784).astype("float32") / 127.5 - 1.0)
    dataset = tf.data.Dataset.from_tensor_slices(images).shuffle(60000).batch(128, drop_remainder=True).repeat()

    G = keras.Sequential([keras.Input((100,)), layers.Dense(256), layers.LeakyReLU(0.2), layers.Dense(512),
                          layers.LeakyReLU(0.2), layers.Dense(1024), layers.LeakyReLU(0.2),
                          layers.Dense(784, activation="tanh")])
    D = keras.Sequential([keras.Input((784,)), layers.Dense(512), layers.LeakyReLU(0.2), layers.Dense(256),
                          layers.LeakyReLU(0.2), layers.Dense(1, activation="sigmoid")])
    bce = keras.losses.BinaryCrossentropy()
    opt_g = keras.optimizers.Adam(2e-4, beta_1=0.5)
    opt_d = keras.optimizers.Adam(2e-4, beta_1=0.5)

    @tf.function
    def train_step(real):
        b = tf.shape(real)[0]
        z = tf.random.normal((b, 100))
        with tf.GradientTape() as tape_d, tf.GradientTape() as tape_g:
            fake = G(z, training=True)
            real_out, fake_out = D(real, training=True), D(fake, training=True)
            loss_d = bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out), fake_out)
            loss_g = bce(tf.ones_like(fake_out), fake_out)
        opt_d.apply_gradients(zip(tape_d.gradient(loss_d, D.trainable_variables), D.trainable_variables))
        opt_g.apply_gradients(zip(tape_g.gradient(loss_g, G.trainable_variables), G.trainable_variables))
        return loss_d, loss_g

    for step, real in enumerate(dataset.take(args.steps), 1):
        loss_d, loss_g = train_step(real)
        if step % 500 == 0:
            print(f"step {step}: D {float(loss_d):.3f} G {float(loss_g):.3f}", flush=True)
    samples = G(tf.random.normal((100, 100)), training=False).numpy()
    grid = samples.reshape(10, 10, 28, 28).transpose(0, 2, 1, 3).reshape(280, 280)
    Image.fromarray(np.clip((grid + 1) * 127.5, 0, 255).astype(np.uint8)).save(args.out / "samples.png")
    print(f"{args.steps} steps; {time.perf_counter() - start:.1f} s in the script")


if __name__ == "__main__":
    main()
