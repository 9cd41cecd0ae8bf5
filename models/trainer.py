"""The training loop of a `GANModel`: steps, grids, checkpoints, progress, signals, NaN guard.

`Trainer` is a mixin of `models.base.GANModel`. A step (one generator iteration) runs
the model's phases in order, each `repeat` times, every draw from one Generator seeded
by (seed, "step", step), so N steps + resume + M steps equal N+M steps straight.

SIGINT (Ctrl-C) and SIGTERM (`kill`, Slurm at the time limit, Kubernetes eviction) stop
a run the same way: the current step finishes, a checkpoint is saved and `train()`
returns with the signal's name as its stop reason (the command exits 130 or 143). A
second signal (either) aborts without saving (`StopAborted`), except during a save,
which finishes first: a checkpoint is never left half-written.
"""

import collections
import contextlib
import math
import signal
import sys
import threading
import time

import numpy as np

import utils
from errors import GanReproError
from models.checkpoints import writing
from tf_compat import device_line, tf

MAX_SKIPPED_IN_A_ROW = 20   # --on-nonfinite skip: this many in a row stop the run

TrainResult = collections.namedtuple("TrainResult", "step stop_reason history")


class Trainer:
    """`train()` and the step machinery of a `GANModel`."""

    def total_steps(self):
        steps = self.config.epochs * self.steps_per_epoch
        return min(steps, self.config.max_steps) if self.config.max_steps else steps

    def train(self, keep_history=False):
        """Train until `epochs` or `max_steps`, resuming from the latest checkpoint.

        Holds the checkpoint folder's lock throughout (a second run on the folder
        refuses). A non-finite loss stops the run (TrainingDiverged) or, with
        `on_nonfinite="skip"`, undoes and skips the step.

        SIGINT and SIGTERM (see the module doc) are caught from the session's opening
        to the end (in the main thread; elsewhere Python delivers no signals).

        Returns:
          TrainResult(step reached, stop reason "done", "SIGINT" or "SIGTERM" (stopped
          by that signal, a checkpoint saved at the step reached), history: list of
          per-step loss dicts if keep_history else None; a skipped step's entry holds
          its non-finite losses).
        Raises:
          StopAborted: the stopping signal came again before the stop's save began
            (nothing saved since the last checkpoint, `last_good`).
        """
        self.checkpoints.lock()
        try:
            self.checkpoints.remove_unfinished_saves()
            with _StopOnSignal() as stop:
                try:
                    return self._train(keep_history, stop)
                except StopAborted as aborted:
                    aborted.last_good = self.checkpoints.last_good
                    raise
        finally:
            self.checkpoints.unlock()

    def _train(self, keep_history, stop):
        cfg = self.config
        step = self.open()
        print(device_line(self.device), flush=True)
        self._open_writer(step)
        total = self.total_steps()
        history = [] if keep_history else None
        progress = _Progress(self.model_name, step, total, cfg.log_every)
        stop_reason, saved_at = "done", step     # step 0: nothing to save yet
        self._skipped_in_a_row = 0
        while step < total:
            if stop.signal_name:
                stop_reason = stop.signal_name
                break
            epoch, index = divmod(step, self.steps_per_epoch)
            logs = self._step_or_skip(step)
            step += 1
            if keep_history:
                history.append({k: float(v) for k, v in logs.items()})
            progress.update(step, epoch, index + 1, self.steps_per_epoch, logs)
            end_of_epoch = index + 1 == self.steps_per_epoch
            self._save_step_grids(step, epoch, end_of_epoch)
            if end_of_epoch or (cfg.save_every and step % cfg.save_every == 0):
                with stop.saving():
                    self.save(step)
                saved_at = step
        stop.finishing()        # from here on a signal cannot abort: the run is ending
        if saved_at != step:
            self.save(step)
        with writing("sample grids in", self.result_folder):
            if step % cfg.sample_every and step > 0:
                self.save_training_grids(step)
        with writing("TensorBoard events in", self.log_folder):
            self.writer.flush()
        progress.finish(step, stop_reason, self.checkpoint_folder)
        return TrainResult(step, stop_reason, history)

    def _open_writer(self, step):
        """The run's FileWriter; a resumed run first drops the events a crashed run wrote
        after its checkpoint."""
        with writing("TensorBoard events in", self.log_folder):
            self.writer = tf.summary.FileWriter(self.log_folder, self.graph)
            if step > 0:
                self.writer.add_session_log(tf.SessionLog(status=tf.SessionLog.START), step + 1)

    def _step_or_skip(self, step):
        """Run step `step`; a non-finite loss stops the run or (--on-nonfinite skip) undoes
        the step. Returns the step's losses (a skipped step's non-finite ones)."""
        try:
            logs = self.run_step(step)
            self._skipped_in_a_row = 0
            return logs
        except _NonFinite as bad:
            if self.config.on_nonfinite == "stop":
                raise TrainingDiverged(
                    "%s; stopped without saving, the last good checkpoint is %s"
                    % (bad, self.checkpoints.last_good
                       or "none (no checkpoint was written yet)")) from None
            self.sess.run(self._undo_step)
            self._skipped_in_a_row += 1
            print("%s: %s; step skipped (its updates undone)" % (self.model_name, bad),
                  file=sys.stderr, flush=True)
            if self._skipped_in_a_row >= MAX_SKIPPED_IN_A_ROW:
                raise TrainingDiverged(
                    "%d steps in a row had non-finite losses (the last: %s); stopped without "
                    "saving, the last good checkpoint is %s"
                    % (self._skipped_in_a_row, bad, self.checkpoints.last_good or "none")) from None
            return bad.logs

    def _save_step_grids(self, step, epoch, end_of_epoch):
        """The training grids every `sample_every` steps and the epoch grid at an epoch's
        end."""
        cfg = self.config
        with writing("sample grids in", self.result_folder):
            if step % cfg.sample_every == 0:
                self.save_training_grids(step)
            if end_of_epoch:
                self.save_grid("%s_epoch%03d_test_all_classes.png" % (self.model_name, epoch),
                               rng=utils.make_rng(cfg.seed, "epoch-grid", epoch))

    def run_step(self, step):
        """Run every phase of training step `step` (0-based); returns the losses.

        Every random draw of the step comes from one Generator seeded by
        (seed, "step", step), taken in phase order, so the step can be recreated
        after a restart. Raises _NonFinite at the first non-finite loss (with
        `on_nonfinite="skip"` after copying the variables aside, to undo the step).
        """
        rng = utils.make_rng(self.config.seed, "step", step)
        logs = {}
        if self.config.on_nonfinite == "skip":
            self.sess.run(self._backup_step)
        for phase, r, feed in self.step_runs(step, rng):
            if r + 1 < phase.repeat:
                _, values = self.sess.run([phase.train_op, phase.fetches], feed)
            else:
                _, summary, values = self.sess.run(
                    [phase.train_op, phase.summary, phase.fetches], feed)
                self.writer.add_summary(summary, step + 1)
            logs.update(values)
            _check_finite(values, step + 1, logs)
        return logs

    def step_runs(self, step, rng):
        """The session runs of training step `step`, in order: (phase, repeat index,
        feed). Lazy: each feed is made (the phase's feed function on the step's next
        batch, drawing from `rng`; or the feed before) only when the run before is done."""
        feed, draw = None, 0
        for phase in self.phases:
            for r in range(phase.repeat):
                if phase.feed is not None:
                    images = labels = None
                    if phase.batch:
                        images, labels = self.batch(step, draw)
                        draw += 1
                    feed = phase.feed(images, labels, rng)
                yield phase, r, feed


class TrainingDiverged(GanReproError):
    """A loss became NaN or infinite."""


class _NonFinite(Exception):
    """A step's loss was NaN or infinite (the loop stops or skips the step)."""

    def __init__(self, message, logs):
        super().__init__(message)
        self.logs = logs


def _check_finite(values, step, logs):
    bad = sorted(k for k, v in values.items() if not np.all(np.isfinite(v)))
    if bad:
        raise _NonFinite("non-finite %s (%s) at step %d" % (
            ", ".join(bad), ", ".join("%s=%s" % (k, values[k]) for k in bad), step), logs)


class StopAborted(KeyboardInterrupt):
    """The stopping signal came a second time: the run ended without saving.

    Attributes: signal_name ("SIGINT" or "SIGTERM"), last_good (the last checkpoint
    written, or None; set by `train()`).
    """

    def __init__(self, signal_name):
        super().__init__(signal_name)
        self.signal_name = signal_name
        self.last_good = None


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def signal_label(name):
    """How a message names a stopping signal: "Ctrl-C" for SIGINT, else its name."""
    return "Ctrl-C" if name == "SIGINT" else name


class _StopOnSignal:
    """SIGINT and SIGTERM set `signal_name`, which the loop checks between steps.

    The first signal (either) asks for a stop; a second one aborts (raises StopAborted)
    unless a save is under way (`saving()`): then the save finishes first and the abort
    follows it. After `finishing()` (the loop is over: the last save, grids and events
    follow) a signal changes nothing. Only the main thread can take signals: elsewhere
    nothing is installed.
    """

    def __enter__(self):
        self.signal_name = None
        self._saving = self._finishing = False
        self._abort = None
        self._previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum, frame):
        name = signal.Signals(signum).name
        if self.signal_name is None:
            self.signal_name = name
            print("\n%s: finishing this step and saving a checkpoint (%s again to abort "
                  "without saving)" % (signal_label(name), signal_label(name)),
                  file=sys.stderr, flush=True)
        elif self._saving or self._finishing:
            self._abort = None if self._finishing else name
            print("\n%s: %s finishes first" % (
                signal_label(name), "the run's last checkpoint" if self._finishing else
                "the checkpoint being written"), file=sys.stderr, flush=True)
        else:
            raise StopAborted(name)

    @contextlib.contextmanager
    def saving(self):
        """A save that a second signal does not interrupt; the abort follows it."""
        self._saving = True
        try:
            yield
        finally:
            self._saving = False
        if self._abort:
            raise StopAborted(self._abort)

    def finishing(self):
        """The loop is over: signals no longer abort (the last save follows)."""
        self._finishing = True

    def __exit__(self, *exc):
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)


class _Progress:
    """One line every `every` steps: losses, steps/s over the window, ETA."""

    def __init__(self, name, start, total, every):
        self.name, self.start, self.total, self.every = name, start, total, every
        self.t0 = self.t_last = time.time()
        self.last_step = start

    def update(self, step, epoch, index, num_batches, logs):
        if step % self.every and step != self.total:
            return
        now = time.time()
        rate = (step - self.last_step) / max(now - self.t_last, 1e-9)
        self.t_last, self.last_step = now, step
        eta = (self.total - step) / rate if rate > 0 else float("inf")
        losses = " ".join("%s %.4f" % (k, float(v)) for k, v in sorted(logs.items()))
        print("%s epoch %d [%d/%d] step %d/%d %s | %.2f steps/s ETA %s"
              % (self.name, epoch, index, num_batches, step, self.total, losses, rate,
                 _hms(eta)), flush=True)

    def finish(self, step, reason, folder):
        """The run's last line: finished, or stopped by a signal (`reason`) and where its
        checkpoint is."""
        elapsed = time.time() - self.t0
        done = step - self.start
        what = "finished" if reason == "done" else "stopped by " + signal_label(reason)
        print("%s: %s at step %d (%d steps in %s, %.2f steps/s); checkpoint in %s%s"
              % (self.name, what, step, done, _hms(elapsed), done / max(elapsed, 1e-9), folder,
                 "" if reason == "done" else " (the same command resumes from it)"),
              flush=True)


def _hms(seconds):
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    return "%d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)
