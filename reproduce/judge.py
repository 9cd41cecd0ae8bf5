"""The judges: small TF1 CNN classifiers the evaluation measures samples with.

No Inception weights can be had offline, so the project trains its own classifier per
data set (MNIST, Fashion-MNIST) and computes FID, the score and class histograms on it
("classifier FID", not Inception FID: the numbers are comparable only with each other
and with the real-data floor reported beside them).

Network (Keras-style layers from ops.py, glorot-uniform init; 28x28x1 in [0, 1]; the
TensorFlow "deep MNIST" tutorial's shape):
  conv 32 k5 + relu + max-pool 2 -> conv 64 k5 + relu + max-pool 2 -> dense 256 + relu
  (the features) -> dense 10 (logits)
trained with Adam (1e-3, 1e-4 in the last epoch), batch 100, on the 60,000 training
images, seeded data order and initialisation, TensorFlow op determinism on; its
accuracy is measured on the 10,000 test images. The trained judge is cached in
`<cache root>/judges/<data set>-v<N>/` (data.cache_root(): $GAN_REPRO_CACHE_DIR, ...),
with a `judge.json` of its accuracy, budget and training time; `--retrain` (or
`retrain=True`) trains it again.

    python -m reproduce.judge --dataset mnist [--retrain] [--epochs N]
"""

import argparse
import os
import sys
import time

import numpy as np

import data as data_lib
import utils
from errors import ConfigError, DataError, GanReproError
from models.optimizers import TF1Adam
from ops import conv, dense
from tf_compat import SessionPolicy, tf

JUDGE_VERSION = 1           # bump when the network or its training changes
FEATURE_DIM = 256
# data set -> the target test accuracy and the default number of epochs.
TARGETS = {"mnist": dict(accuracy=0.99, epochs=2), "fashion-mnist": dict(accuracy=0.90, epochs=3)}
SEED = 547


def judge_folder(dataset):
    """Where the trained judge of `dataset` is cached."""
    return os.path.join(str(data_lib.cache_root()), "judges",
                        "%s-v%d" % (dataset, JUDGE_VERSION))


class Judge:
    """A classifier: images [n, 28, 28, 1] in [0, 1] -> class probabilities, features.

    Args:
      num_classes: output classes.
      threads: intra- and inter-op threads of its session (fixed: repeatable numbers).
      seed: graph seed (initial weights).
    """

    def __init__(self, num_classes=10, image_shape=(28, 28, 1), threads=1, seed=SEED):
        self.num_classes = num_classes
        self.image_shape = tuple(image_shape)
        self.info = {}
        # tf_compat.SessionPolicy, the models' session policy: `threads` for both pools,
        # the graph seed, CPU-drawn initial values, op determinism.
        self.policy = SessionPolicy(threads, threads, seed=seed)
        self.graph = self.policy.graph()
        with self.graph.as_default():
            self.images = tf.placeholder(tf.float32, (None,) + self.image_shape, name="images")
            self.labels = tf.placeholder(tf.int64, [None], name="labels")
            self.logits, self.features = self.network(self.images)
            self.probs = tf.nn.softmax(self.logits)
            self.loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=self.labels, logits=self.logits))
            self.learning_rate = tf.placeholder(tf.float32, [], name="learning_rate")
            # TF1's Adam, built by the models' update builder (models/optimizers.update).
            params = tf.trainable_variables()
            self.train_op = TF1Adam(params, self.learning_rate).update(self.loss,
                                                                      reads=[self.loss])
            self.saver = tf.train.Saver(max_to_keep=1)
            init = tf.global_variables_initializer()
        self.graph.finalize()
        self.sess = self.policy.session(self.graph)
        self.policy.initialize(self.sess, init)

    def network(self, x):
        """x [n, 28, 28, 1] -> (logits [n, classes], features [n, 256])."""
        def pool(v):
            return tf.nn.max_pool2d(v, 2, 2, "SAME")
        with tf.variable_scope("judge"):
            net = pool(tf.nn.relu(conv(x, 32, 5, name="j_conv1")))        # [n, 14, 14, 32]
            net = pool(tf.nn.relu(conv(net, 64, 5, name="j_conv2")))      # [n, 7, 7, 64]
            net = tf.reshape(net, [-1, int(np.prod(net.get_shape().as_list()[1:]))])
            features = tf.nn.relu(dense(net, FEATURE_DIM, name="j_fc3"))  # [n, 256]
            return dense(features, self.num_classes, name="j_fc4"), features

    # ---- use --------------------------------------------------------------------

    def predict(self, images, batch_size=500):
        """(probabilities [n, classes], features [n, 256]) of images in [0, 1]."""
        images = np.asarray(images, np.float32)
        if images.ndim == 3:
            images = images[..., None]
        if images.shape[1:] != self.image_shape:
            raise DataError("the judge takes %s images, got %s" % (self.image_shape,
                                                                  images.shape[1:]))
        probs, feats = [], []
        for i in range(0, len(images), batch_size):
            p, f = self.sess.run([self.probs, self.features],
                                 {self.images: images[i:i + batch_size]})
            probs.append(p)
            feats.append(f)
        return np.concatenate(probs), np.concatenate(feats)

    def accuracy(self, images, labels):
        probs, _ = self.predict(images)
        return float(np.mean(np.argmax(probs, axis=1) == np.asarray(labels)))

    # ---- training ---------------------------------------------------------------

    def fit(self, images, labels, epochs, batch_size=100, seed=SEED, log=None):
        """Adam on (images [n, 28, 28, 1] in [0, 1], labels [n]) for `epochs` epochs, in a
        seeded order per epoch, learning rate 1e-3 (1e-4 in the last of several epochs).
        Returns the last epoch's mean loss."""
        n = len(images)
        batch_size = min(batch_size, n)     # a tiny set still gets one batch an epoch
        steps = n // batch_size
        mean_loss = float("nan")
        for epoch in range(epochs):
            order = utils.make_rng(seed, "judge-order", epoch).permutation(n)
            total = 0.0
            rate = 1e-4 if epochs > 1 and epoch == epochs - 1 else 1e-3
            for s in range(steps):
                idx = order[s * batch_size:(s + 1) * batch_size]
                _, loss = self.sess.run([self.train_op, self.loss],
                                        {self.images: images[idx], self.labels: labels[idx],
                                         self.learning_rate: rate})
                total += loss
            mean_loss = total / max(steps, 1)
            if log:
                log("judge: epoch %d/%d, mean loss %.4f" % (epoch + 1, epochs, mean_loss))
        return mean_loss

    def save(self, folder):
        utils.ensure_dir(folder)
        self.saver.save(self.sess, os.path.join(folder, "judge"), write_meta_graph=False)
        utils.write_json(os.path.join(folder, "judge.json"), self.info)

    def restore(self, folder):
        try:
            self.saver.restore(self.sess, os.path.join(folder, "judge"))
        except (tf.errors.OpError, ValueError) as e:
            raise GanReproError("cannot restore the judge in %s (%s): retrain it with "
                                "--retrain-judge"
                                % (folder, str(e).strip().splitlines()[0])) from None
        self.info = utils.read_json(os.path.join(folder, "judge.json"))

    def close(self):
        self.sess.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def train_judge(dataset="mnist", data_dir=None, epochs=None, threads=1, train_subset=0,
                seed=SEED, log=print):
    """Train a judge on the training split of `dataset`, measure it on the test split.

    Returns:
      the Judge, with `info` (dataset, test_accuracy, target, epochs, seconds, ...).
    """
    if dataset not in TARGETS:
        raise ConfigError("no judge for %r: use one of %s" % (dataset, ", ".join(TARGETS)))
    epochs = epochs or TARGETS[dataset]["epochs"]
    train = data_lib.load_idx_dataset(dataset, data_dir=data_dir, splits=("train",))
    test = data_lib.load_idx_dataset(dataset, data_dir=data_dir, splits=("test",))
    images, labels = train.images, train.labels
    if train_subset:
        images, labels = images[:train_subset], labels[:train_subset]
    judge = Judge(num_classes=train.num_classes, image_shape=train.images.shape[1:],
                  threads=threads, seed=seed)
    start = time.time()
    judge.fit(images, labels, epochs, seed=seed, log=log)
    seconds = time.time() - start
    accuracy = judge.accuracy(test.images, test.labels)
    judge.info = dict(dataset=dataset, version=JUDGE_VERSION, test_accuracy=accuracy,
                      target_accuracy=TARGETS[dataset]["accuracy"], epochs=epochs,
                      train_images=int(len(images)), test_images=int(len(test.images)),
                      seconds=round(seconds, 1), threads=threads, seed=seed,
                      source=train.source, num_classes=int(train.num_classes),
                      image_shape=[int(d) for d in train.images.shape[1:]])
    if log:
        log("judge %s: test accuracy %.2f%% after %d epochs (%.0f s, %d thread%s)"
            % (dataset, 100 * accuracy, epochs, seconds, threads, "" if threads == 1 else "s"))
    return judge


def load_judge(dataset="mnist", data_dir=None, retrain=False, threads=1, log=print):
    """The cached judge of `dataset`, trained (and cached) first if there is none or
    `retrain`. Prints its test accuracy (`log`)."""
    folder = judge_folder(dataset)
    if not retrain and os.path.exists(os.path.join(folder, "judge.json")):
        saved = utils.read_json(os.path.join(folder, "judge.json"))
        judge = Judge(num_classes=saved.get("num_classes", 10),
                      image_shape=saved.get("image_shape", (28, 28, 1)), threads=threads)
        judge.restore(folder)
    else:
        if log:
            log("judge %s: training (cached in %s)" % (dataset, folder))
        judge = train_judge(dataset, data_dir=data_dir, threads=threads, log=log)
        judge.save(folder)
    info = judge.info
    if log:
        below = info["test_accuracy"] < info["target_accuracy"]
        log("judge %s: test accuracy %.2f%% (target %.0f%%%s), %s"
            % (dataset, 100 * info["test_accuracy"], 100 * info["target_accuracy"],
               ", BELOW TARGET" if below else "", folder))
    return judge


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m reproduce.judge", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=sorted(TARGETS), default="mnist",
                        help="which judge [default: mnist]")
    parser.add_argument("--data-dir", default=None, help="where the IDX files are [default: "
                        "the usual lookup: $GAN_DATA_DIR, the cache, ...]")
    parser.add_argument("--retrain", action="store_true", help="train again even if cached")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow threads [default: 1]")
    args = parser.parse_args(argv)
    try:
        with load_judge(args.dataset, args.data_dir, retrain=args.retrain,
                        threads=args.threads):
            pass
    except ConfigError as e:
        print("python -m reproduce.judge: error: %s" % e, file=sys.stderr)
        return 2
    except (GanReproError, OSError) as e:
        print("python -m reproduce.judge: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
