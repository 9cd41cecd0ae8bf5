"""A run's training loop: steps, grids, checkpoints, progress, signals, NaN guard.

`Trainer` is a collaborator of a `models.base.GANModel` run, not a base class of it:
`GANModel.train()` makes one (`GANModel.Trainer(model)`) and calls its `train()`. It
executes the model's `Built` record: a step (one generator iteration) runs the record's
phases in order, each `repeat` times, on the feeds `step_runs` makes from the model's
batches, every draw from one Generator seeded by (seed, "step", step), so N steps +
resume + M steps equal N+M steps straight.

What the loop uses of its run, and nothing else:
  the record:       `phases`, `step_runs(step, rng)` (the feeds of a step's session runs)
  the session:      `open()` (session + restore; the step to start from), `sess`,
                    `device`, `graph`, `save(step)`, `checkpoints` (the folder's lock,
                    unfinished saves, the last good checkpoint), `step_undo` (the ops
                    of --on-nonfinite skip)
  the outputs:      `writer` (opened here in `log_folder`), `save_training_grids(step)`,
                    `save_grid(name, rng)`, `result_folder`, `checkpoint_folder`
  the schedule:     `config` (seed, log/save/sample cadence, on_nonfinite),
                    `steps_per_epoch`, `total_steps()`, `model_name`
Fault injection and timing subclass it (tests/test_faults.py, reproduce/bench.py) and
set the subclass as the model's `Trainer`.

SIGINT (Ctrl-C) and SIGTERM (`kill`, Slurm at the time limit, Kubernetes eviction) stop
a run the same way: the current step finishes, a checkpoint is saved and `train()`
returns with the signal's name as its stop reason (the command exits 130 or 143). A
second signal (either) aborts without saving (`StopAborted`), except during a save,
which finishes first: a checkpoint is never left half-written.
"""

import collections
import concurrent.futures
import contextlib
import datetime
import json
import math
import os
import platform
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
# --on-nonfinite skip: the ops that copy every global variable aside before a step
# (`backup`) and back after a non-finite one (`restore`).
StepUndo = collections.namedtuple("StepUndo", "backup restore")


def step_runs(phases, batch, step, rng):
    """The session runs of training step `step` of `phases`, in order: (phase, repeat
    index, feed). Lazy: each feed is made (the phase's feed function on the step's next
    batch `batch(step, draw)`, drawing from `rng`; or the feed before) only when the run
    before is done."""
    feed, draw = None, 0
    for phase in phases:
        for r in range(phase.repeat):
            if phase.feed is not None:
                images = labels = None
                if phase.batch:
                    images, labels = batch(step, draw)
                    draw += 1
                feed = phase.feed(images, labels, rng)
            yield phase, r, feed


class Trainer:
    """Trains one run (a `GANModel`, `run`): `train()` and the step machinery."""

    def __init__(self, run):
        self.run = run

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
        checkpoints = self.run.checkpoints
        checkpoints.lock()
        try:
            checkpoints.remove_unfinished_saves()
            with _StopOnSignal() as stop:
                try:
                    return self._train(keep_history, stop)
                except StopAborted as aborted:
                    aborted.last_good = checkpoints.last_good
                    raise
        finally:
            checkpoints.unlock()

    def _train(self, keep_history, stop):
        run = self.run
        step = run.open()
        print(device_line(run.device), flush=True)
        self._open_writer(step)
        self.ahead = _Ahead(run, run.total_steps())
        try:
            return self._loop(step, keep_history, stop)
        finally:
            ahead, self.ahead = self.ahead, None
            ahead.close()

    def _loop(self, step, keep_history, stop):
        run = self.run
        cfg = run.config
        ahead = self.ahead
        total = run.total_steps()
        history = [] if keep_history else None
        progress = _Progress(run.model_name, step, total, cfg.log_every)
        stop_reason, saved_at = "done", step     # step 0: nothing to save yet
        self.skipped_in_a_row = 0                # --on-nonfinite skip: steps skipped in a row
        keep_steps, keep_every = set(cfg.kept_steps()), cfg.keep_every   # parsed once

        def keeps(s):
            return s in keep_steps or bool(keep_every and s % keep_every == 0)

        while step < total:
            if stop.signal_name:
                stop_reason = stop.signal_name
                break
            epoch, index = divmod(step, run.steps_per_epoch)
            logs = self._step_or_skip(step)
            step += 1
            if keep_history:
                history.append({k: float(v) for k, v in logs.items()})
            progress.update(step, epoch, index + 1, run.steps_per_epoch, logs)
            end_of_epoch = index + 1 == run.steps_per_epoch
            kept = keeps(step)
            saving = end_of_epoch or kept or (cfg.save_every and step % cfg.save_every == 0)
            if saving or step % cfg.sample_every == 0:      # saving covers an epoch's end
                ahead.drain()       # the step's summaries before its grid and checkpoint
            self._save_step_grids(step, epoch, end_of_epoch)
            if saving:
                with stop.saving():
                    path = run.save(step)
                    if kept:
                        run.checkpoints.keep(path)
                saved_at = step
        stop.finishing()        # from here on a signal cannot abort: the run is ending
        ahead.drain()
        if saved_at != step:
            path = run.save(step)
            if keeps(step):
                run.checkpoints.keep(path)
        with writing("sample grids in", run.result_folder):
            if step % cfg.sample_every and step > 0:
                run.save_training_grids(step)
        with writing("TensorBoard events in", run.log_folder):
            run.writer.flush()
        progress.finish(step, stop_reason, run.checkpoint_folder)
        self._log_attempt(progress, step, stop_reason)
        return TrainResult(step, stop_reason, history)

    def _log_attempt(self, progress, step, reason):
        """Append this attempt to the run folder's `attempts.jsonl`, one JSON object a
        line: when, from and to which step, wall seconds, why it ended, the device and
        threads, so a results page reads what a run took without parsing its log."""
        run = self.run
        path = os.path.join(run.checkpoint_folder, ATTEMPTS)
        record = dict(started=progress.started, ended=_now(), from_step=progress.start,
                      to_step=step, seconds=round(time.time() - progress.t0, 1),
                      ended_by=reason, device=run.device, host=platform.node(),
                      threads=[run.config.intra_op_threads, run.config.inter_op_threads])
        with writing("the attempts log", path):
            with open(path, "a") as f:
                f.write(json.dumps(record, sort_keys=True) + "\n")

    def _open_writer(self, step):
        """The run's FileWriter; a resumed run first drops the events a crashed run wrote
        after its checkpoint."""
        run = self.run
        with writing("TensorBoard events in", run.log_folder):
            run.writer = tf.summary.FileWriter(run.log_folder, run.graph)
            if step > 0:
                run.writer.add_session_log(tf.SessionLog(status=tf.SessionLog.START), step + 1)

    def _step_or_skip(self, step):
        """Run step `step`; a non-finite loss stops the run or (--on-nonfinite skip) undoes
        the step. Returns the step's losses (a skipped step's non-finite ones)."""
        run = self.run
        try:
            logs = self.run_step(step)
            self.skipped_in_a_row = 0
            return logs
        except _NonFinite as bad:
            last_good = run.checkpoints.last_good
            if run.config.on_nonfinite == "stop":
                raise TrainingDiverged(
                    "%s; stopped without saving, the last good checkpoint is %s"
                    % (bad, last_good or "none (no checkpoint was written yet)")) from None
            run.sess.run(run.step_undo.restore)
            self.skipped_in_a_row += 1
            print("%s: %s; step skipped (its updates undone)" % (run.model_name, bad),
                  file=sys.stderr, flush=True)
            if self.skipped_in_a_row >= MAX_SKIPPED_IN_A_ROW:
                raise TrainingDiverged(
                    "%d steps in a row had non-finite losses (the last: %s); stopped without "
                    "saving, the last good checkpoint is %s"
                    % (self.skipped_in_a_row, bad, last_good or "none")) from None
            return bad.logs

    def _save_step_grids(self, step, epoch, end_of_epoch):
        """The training grids every `sample_every` steps and the epoch grid at an epoch's
        end."""
        run = self.run
        cfg = run.config
        with writing("sample grids in", run.result_folder):
            if step % cfg.sample_every == 0:
                run.save_training_grids(step)
            if end_of_epoch:
                run.save_grid("%s_epoch%03d_test_all_classes.png" % (run.model_name, epoch),
                              rng=utils.make_rng(cfg.seed, "epoch-grid", epoch))

    def run_step(self, step):
        """Run every phase of training step `step` (0-based) in the run's open session,
        writing each phase's summary; returns the losses.

        Every random draw of the step comes from one Generator seeded by
        (seed, "step", step), taken in phase order, so the step can be recreated
        after a restart. Raises _NonFinite at the first non-finite loss (with
        `on_nonfinite="skip"` after copying the variables aside, to undo the step).

        Inside `train()` the step's feeds were made by the loop's worker thread while
        the step before ran, and this step's summaries go to the FileWriter from there
        (`_Ahead`); the feeds are the same arrays (the same draws in the same order).
        """
        run = self.run
        ahead = getattr(self, "ahead", None)
        if ahead is None:
            runs = run.step_runs(step, utils.make_rng(run.config.seed, "step", step))
            write = run.writer.add_summary
        else:
            runs = ahead.runs(step)
            write = ahead.write_summary
        logs = {}
        if run.config.on_nonfinite == "skip":
            run.sess.run(run.step_undo.backup)
        for phase, r, feed in runs:
            if r + 1 < phase.repeat:
                _, values = run.sess.run([phase.train_op, phase.fetches], feed)
            else:
                _, summary, values = run.sess.run(
                    [phase.train_op, phase.summary, phase.fetches], feed)
                write(summary, step + 1)
            logs.update(values)
            _check_finite(values, step + 1, logs)
        return logs


class _Ahead:
    """The loop's worker thread: while the session runs a step, it makes the next step's
    feeds and hands the step's summaries to the FileWriter, work the main thread did
    between session runs before (issue 35: about half of CGAN's loop overhead).

    The feeds of step s are `run.step_runs(s, rng of (seed, "step", s))` taken whole, in
    order: the same draws as made lazily (every feed function draws only from the step's
    Generator and reads only the data). The summaries reach the FileWriter in the order
    written; `drain()` waits until every one has, and the loop drains before a grid (whose
    image goes to the writer from the main thread), a checkpoint and the run's end, so the
    events up to a checkpoint's step are with the writer when it is saved, as before.
    """

    def __init__(self, run, total):
        self.run, self.total = run, total
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="trainer")
        self._next = None           # (step, future of its runs), made ahead
        self._written = None        # future of the last summary handed over
        self._error = None          # the first error of writing a summary, for drain()

    def _make(self, step):
        run = self.run
        return list(run.step_runs(step, utils.make_rng(run.config.seed, "step", step)))

    def runs(self, step):
        """The session runs of step `step` ((phase, repeat index, feed)), and the next
        step's set to be made meanwhile (up to the run's last step)."""
        if self._next is not None and self._next[0] == step:
            runs = self._next[1].result()
        else:
            runs = self._make(step)
        self._next = (step + 1, self._pool.submit(self._make, step + 1)) \
            if step + 1 < self.total else None
        return runs

    def write_summary(self, summary, step):
        """Hand `summary` of `step` to the FileWriter, from the worker thread."""
        self._written = self._pool.submit(self._add_summary, summary, step)

    def _add_summary(self, summary, step):
        if self._error is None:
            try:
                self.run.writer.add_summary(summary, step)
            except Exception as e:     # raised in the main thread by the next drain()
                self._error = e

    def drain(self):
        """Wait until every summary handed over is with the FileWriter; raise the first
        error that writing one raised."""
        written, self._written = self._written, None
        if written is not None:
            written.result()
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def close(self):
        """Drain, then end the thread (a step's feeds made ahead and not used are dropped:
        a resumed run makes them again from the same seed)."""
        try:
            self.drain()
        finally:
            self._next = None
            self._pool.shutdown(wait=True)


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
        self.started = _now()
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


ATTEMPTS = "attempts.jsonl"     # in the run's checkpoint folder: one line per attempt


def _now():
    return datetime.datetime.now().isoformat(timespec="seconds")


def _hms(seconds):
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    return "%d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)
