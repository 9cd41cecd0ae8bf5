"""Run a recipe's jobs: N at a time in local processes (the default), or as Ray tasks.

A job (`Job`) is one command of a recipe (reproduce/experiments.py): a training run, an
evaluation, a toy study, with what it needs (CPU threads, or one GPU), the files it
leaves and the jobs it waits for. Its command is written relative to the repository
root and to a runs folder, `$RUNS` (`--runs` of `experiments run`), so the same job
runs on any machine, and on every node of a cluster whose nodes share that folder.

Each job runs in its own process, `cd` to the repository, with its stdout and stderr in
`$RUNS/<recipe>/jobs/<job>.log` (each attempt appended under a `# runner:` header
naming its pid). A job that exits 0 gets a marker `<job>.done.json` beside its log; a
later `run` skips a job whose marker names the same command and whose outputs exist,
and runs every other one again: a training run killed or stopped half-way then resumes
from its last checkpoint (the runs resume exactly: same losses as an unbroken run). A
failing job is reported with its log's last line and its log path; the jobs that wait
for it are skipped, every other job goes on.

Signals: SIGINT (Ctrl-C) or SIGTERM (`kill`, Slurm, Kubernetes) to the runner is passed
on to every running job (SIGHUP, a closed terminal, as SIGTERM) (each runs in its own
process group, so a terminal's Ctrl-C reaches the runner only, which passes it on
once); no new job starts, the runner waits for the jobs to finish their step and save,
marks done only those that finished, and raises `Stopped` (`experiments run` exits
130 / 143). The same command resumes them. The same signal again is passed on again
(the jobs then end without saving).

A runner that dies without passing anything on (kill -9, the OOM killer) takes its jobs
with it: each job's process gets SIGTERM from the kernel when the runner's process dies
(`PR_SET_PDEATHSIG`, `_die_with_parent`), so a training job finishes its step, saves and
ends within seconds; the next `run` resumes it. A job's training run waits for its
checkpoint folder's lock (`LOCK_WAIT_SECONDS`) rather than refusing, in case an earlier
attempt is still saving.

Lock: a `run` holds an exclusive `flock` on `$RUNS/<recipe>/jobs.lock` (as a training
run does on its checkpoint folder, `utils.lock_folder`); a second `run` of the recipe
on the same runs folder is refused (`RecipeBusy`, naming the first's pid, host, start
time and command). The kernel drops the lock when its holder dies.

Backends: `LocalBackend` (a process pool of our own: at most N jobs at a time) and
`RayBackend` (`ray.remote` tasks with each job's CPU / GPU request, on an existing
cluster or a local instance; Ray retries a task whose worker or node died, and the
retried command resumes from its checkpoint: the command of a task whose worker died
got SIGTERM with it, as a local job whose runner died, saved and ended, and the retry
waits for its lock; signals reach a task's command through a stop file in the shared
jobs folder, which `execute` watches). This module does not import TensorFlow.
"""

import collections
import datetime
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time

import utils  # NumPy only: this module still does not import TensorFlow

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = ".venv/bin/python"          # how a printed command names the interpreter
RAY_INSTALL = "pip install -r requirements-cluster.txt"
# Environment variables a Ray task takes from the driver (a node has its own PATH, HOME).
FORWARDED_ENV = re.compile(r"^(GAN_|TF_|CUDA_VISIBLE_DEVICES$|PYTHONHASHSEED$)")

STOP_FILE = "stop.signals"      # in the jobs folder: signals for the running Ray tasks
# A job's training run waits this long for its checkpoint folder's lock (models/checkpoints.py
# reads the variable) instead of refusing at once: an earlier attempt whose runner or Ray
# worker died got SIGTERM and is finishing its step and saving.
LOCK_WAIT_ENV = "GAN_REPRO_LOCK_WAIT"
LOCK_WAIT_SECONDS = 600
WATCH_SECONDS = 0.5             # how often a Ray task looks at the stop file


class RecipeBusy(Exception):
    """Another `run` of the recipe holds its lock on the runs folder."""


class Stopped(Exception):
    """SIGINT or SIGTERM stopped the run; the jobs it ran have ended (saved or done).

    Attributes: signum, state ({job name: "done" | "was done" | "stopped" | ...}).
    """

    def __init__(self, signum, state):
        super().__init__(signal.Signals(signum).name)
        self.signum, self.state = signum, state


Job = collections.namedtuple("Job", "name kind argv threads gpus after outputs")
Job.__doc__ = """One command of a recipe.

Fields:
  name: unique in its recipe, e.g. `dragan_seed547`.
  kind: "train", "evaluate", "judge", "toy" or "results" (what the progress line says).
  argv: the command as a tuple of words: "python" for the interpreter, paths relative
    to the repository root or under "$RUNS/".
  threads: CPU threads it uses (its Ray CPU request).
  gpus: GPUs it needs (0 or 1; its Ray GPU request).
  after: names of the jobs it waits for.
  outputs: files or folders it leaves ("$RUNS/..."), checked before it counts as done.
"""


def job(name, kind, argv, threads=1, gpus=0, after=(), outputs=()):
    return Job(name, kind, tuple(argv), threads, gpus, tuple(after), tuple(outputs))


_PLAIN = re.compile(r"^[\w@%+=:,./$-]+$")


def command_line(argv):
    """The job's command as a person pastes it (after `RUNS=runs`)."""
    words = [PY if i == 0 and w == "python" else w for i, w in enumerate(argv)]
    return " ".join(w if _PLAIN.match(w) else shlex.quote(w) for w in words)


def resolve(argv, runs):
    """The argv to execute: the interpreter running this, $RUNS replaced by `runs`."""
    return [sys.executable if i == 0 and w == "python" else w.replace("$RUNS", runs)
            for i, w in enumerate(argv)]


class Paths:
    """Where a recipe's job logs and markers go: $RUNS/<recipe>/jobs/."""

    def __init__(self, runs, recipe):
        self.runs = os.path.abspath(runs)
        self.folder = os.path.join(self.runs, recipe, "jobs")

    def log(self, j):
        return os.path.join(self.folder, j.name + ".log")

    def marker(self, j):
        return os.path.join(self.folder, j.name + ".done.json")

    def outputs(self, j):
        return [o.replace("$RUNS", self.runs) for o in j.outputs]

    def is_done(self, j):
        try:
            with open(self.marker(j)) as f:
                if json.load(f).get("command") != command_line(j.argv):
                    return False
        except (OSError, ValueError):
            return False
        return all(os.path.exists(o) for o in self.outputs(j))

    @property
    def stop_file(self):
        """Where the runner writes the signals it passes on to Ray tasks (one a line)."""
        return os.path.join(self.folder, STOP_FILE)

    def mark_done(self, j, seconds, where):
        """The job's marker: its command, wall seconds, host (and CPU model when the host
        is this machine: the results page names the machine a run took its time on)."""
        utils.write_json(self.marker(j), dict(
            command=command_line(j.argv), seconds=round(seconds, 1), where=where,
            cpu=utils.cpu_name() if where == os.uname()[1] else None,
            finished=datetime.datetime.now().isoformat(timespec="seconds")))


def job_env(j, base=None):
    """The environment of a job: `base` (os.environ), with one thread for OpenMP per
    requested thread (Ray sets OMP_NUM_THREADS from the CPU request; locally the same)
    and unbuffered output, so the log shows progress as it comes."""
    env = dict(os.environ if base is None else base)
    env.update(OMP_NUM_THREADS=str(j.threads), PYTHONUNBUFFERED="1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault(LOCK_WAIT_ENV, str(LOCK_WAIT_SECONDS))
    return env


def last_line(path):
    """The log's last line that is not a runner header (what a failure is reported by)."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 8192))
            lines = [line.strip() for line in f.read().decode("utf-8", "replace").splitlines()]
    except OSError:
        return "(no log)"
    lines = [line for line in lines if line and not line.startswith("# runner:")]
    return lines[-1] if lines else "(empty log)"


PR_SET_PDEATHSIG = 1            # prctl(2): the signal a process gets when its parent dies


def _die_with_parent(parent):
    """In a job's process, between fork and exec: SIGTERM when `parent` (the runner, or the
    Ray worker running the task) dies, however it dies (kill -9 included). The job takes
    it as any SIGTERM: a training run finishes its step and saves (exit 143). Linux's
    PR_SET_PDEATHSIG, kept across exec. It fires when the thread that started the job
    ends, and that thread waits for the job (`run_jobs`, `execute`), so only the death
    of the process ends it early. A parent already gone before the call (it died
    during the fork) is checked for after it."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        os._exit(127)               # no way to tie the job to its runner: do not run it
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


def start_process(argv, log_path, env):
    """Start `argv` in the repository, appending its output to `log_path`; the Popen.

    The process leads a process group of its own: a terminal's Ctrl-C does not reach it
    directly, only what the runner passes on (`signal_job`). It gets SIGTERM when this
    process dies (`_die_with_parent`), so no job outlives its runner."""
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    log = open(log_path, "ab")
    parent = os.getpid()
    try:
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, process_group=0,
                                preexec_fn=lambda: _die_with_parent(parent))
        header = "# runner: %s pid %d on %s: %s\n" % (
            datetime.datetime.now().isoformat(timespec="seconds"), proc.pid, os.uname()[1],
            " ".join(shlex.quote(a) for a in argv))
        # Appended after the child started (its pid is known only then); its first output
        # takes a TensorFlow import, so the header comes first in practice.
        os.write(log.fileno(), header.encode())
    finally:
        log.close()
    return proc


def signal_job(proc, signum):
    """Send `signum` to a job's process group (the job and any workers it started)."""
    try:
        os.killpg(proc.pid, signum)
    except ProcessLookupError:
        pass                    # it has just ended


def stop_signals(stop_file):
    """The signals written to `stop_file` so far (none if there is no such file)."""
    try:
        with open(stop_file) as f:
            return [int(line) for line in f.read().split()]
    except (OSError, ValueError):
        return []


def execute(argv, log_path, env_updates, stop_file=None):
    """Run one job to its end (a Ray task's body): (exit status, seconds, host).

    With `stop_file`: every signal the runner writes there (one a line) is passed on to
    the job; if one is there before the job starts, it does not start (exit status None).
    """
    env = dict(os.environ)
    env.update(env_updates)
    start, host = time.time(), os.uname()[1]
    if stop_file and stop_signals(stop_file):
        return None, 0.0, host
    proc = start_process(argv, log_path, env)
    sent = 0
    while True:
        try:
            rc = proc.wait(WATCH_SECONDS if stop_file else None)
            break
        except subprocess.TimeoutExpired:
            signals = stop_signals(stop_file)
            for signum in signals[sent:]:
                signal_job(proc, signum)
            sent = max(sent, len(signals))
    return rc, time.time() - start, host


class LocalBackend:
    """At most `jobs` jobs at a time, each in its own process on this machine."""

    name = "local"
    poll_seconds = 0.1          # how long `wait` waits (then the runner takes its signals)

    def __init__(self, jobs=1):
        self.slots = jobs

    def describe(self):
        return "%d at a time on this machine" % self.slots

    def start(self, j, argv, log_path):
        return dict(proc=start_process(argv, log_path, job_env(j)), t0=time.time())

    def wait(self, running, timeout):
        """The jobs that ended within `timeout` seconds: [(handle, rc, seconds, host)]."""
        deadline = time.time() + timeout
        while True:
            ended = [(h, h["proc"].poll()) for h in running]
            ended = [(h, rc, time.time() - h["t0"], os.uname()[1]) for h, rc in ended
                     if rc is not None]
            if ended or time.time() >= deadline:
                return ended
            time.sleep(0.1)

    def signal(self, running, signum):
        """Pass `signum` on to the running jobs."""
        for h in running:
            signal_job(h["proc"], signum)


def import_ray():
    """The ray module, or a one-line error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise SystemExit("python -m reproduce.experiments: error: --ray needs Ray, which is "
                         "not installed: %s" % RAY_INSTALL) from None
    return ray


class RayBackend:
    """Every ready job as a Ray task with its CPU / GPU request; Ray decides where and
    how many at a time. The task runs the job's command on its node (the repository and
    its venv at the same path on every node, `--runs` a folder every node shares)."""

    name = "ray"
    poll_seconds = WATCH_SECONDS

    def __init__(self, address):
        ray = self.ray = import_ray()
        if not ray.is_initialized():
            try:
                ray.init(address=None if address == "local" else address,
                         include_dashboard=False, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise SystemExit("python -m reproduce.experiments: error: cannot reach the Ray "
                                 "cluster at %s (%s); 'local' starts one on this machine"
                                 % (address, str(e).strip().splitlines()[0])) from None
        # A task whose worker or node dies is run again (max_retries); a command that
        # exits non-zero is a result, not a failure of the task, so it is not retried.
        self.remote = ray.remote(max_retries=3)(execute)
        self.slots = None

    def describe(self):
        r = self.ray.cluster_resources()
        return "Ray cluster, %g CPUs, %g GPUs" % (r.get("CPU", 0), r.get("GPU", 0))

    def start(self, j, argv, log_path):
        env = {k: v for k, v in job_env(j).items() if FORWARDED_ENV.match(k)}
        env.update(OMP_NUM_THREADS=str(j.threads), PYTHONUNBUFFERED="1")
        # The task's worker imports this module from the repository (same path on every
        # node); the job's own command gets the driver's GAN_* / TF_* settings.
        stop_file = os.path.join(os.path.dirname(log_path), STOP_FILE)
        ref = self.remote.options(num_cpus=j.threads, num_gpus=j.gpus,
                                  name="gan-repro:%s" % j.name,
                                  runtime_env=dict(env_vars=dict(PYTHONPATH=REPO))).remote(
                                      argv, log_path, env, stop_file)
        return dict(ref=ref, stop_file=stop_file)

    def wait(self, running, timeout):
        """The tasks that ended within `timeout` seconds: [(handle, rc, seconds, host)]
        (a timeout, so that the driver takes its signals while tasks run)."""
        refs = {h["ref"]: h for h in running}
        done, _ = self.ray.wait(list(refs), num_returns=1, timeout=timeout)
        out = []
        for ref in done:
            try:
                rc, seconds, host = self.ray.get(ref)
            except self.ray.exceptions.RayError as e:      # retries used up
                rc, seconds, host = "ray: %s" % str(e).splitlines()[0], 0.0, "?"
            out.append((refs[ref], rc, seconds, host))
        return out

    def signal(self, running, signum):
        """Pass `signum` on to the running tasks' commands (and keep waiting tasks from
        starting theirs): a line in the stop file every task watches (`execute`)."""
        for stop_file in sorted({h["stop_file"] for h in running}):
            with open(stop_file, "a") as f:
                f.write("%d\n" % signum)


def _hms(seconds):
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return "%d:%02d:%02d" % (h, m, s) if h else "%d:%02d" % (m, s)


def _needs(j):
    return "%d GPU" % j.gpus if j.gpus else "%d thread%s" % (j.threads, "" if j.threads == 1
                                                             else "s")


class _Signals:
    """SIGINT and SIGTERM noted (in `received`) instead of ending the runner; SIGHUP too
    (a closed terminal) unless ignored (nohup), passed on as SIGTERM. In the main thread
    only (Python delivers signals to no other)."""

    def __enter__(self):
        self.received, self._previous = [], {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                if signum == signal.SIGHUP and signal.getsignal(signum) == signal.SIG_IGN:
                    continue
                self._previous[signum] = signal.signal(
                    signum, lambda signum, frame: self.received.append(signum))
        return self

    def __exit__(self, *exc):
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)


def _label(signum):
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


def lock_recipe(paths, recipe):
    """Hold `$RUNS/<recipe>/jobs.lock` (`utils.lock_folder`) or raise RecipeBusy."""
    try:
        return utils.lock_folder(paths.folder)
    except utils.FolderBusy as busy:
        raise RecipeBusy("another run of %s is using %s (%s): wait for it to end, or stop "
                         "it (Ctrl-C or kill -TERM: its jobs save checkpoints)"
                         % (recipe, paths.folder, busy)) from None


def run_jobs(jobs, runs, recipe, backend, out=print):
    """Run `jobs` (in dependency order) with `backend`, skipping finished ones.

    Holds the recipe's lock on `runs` throughout. SIGINT / SIGTERM (main thread): see
    the module doc.

    Returns:
      {job name: "done" | "was done" | "failed" | "skipped"}.
    Raises:
      RecipeBusy: another run of the recipe holds the lock (nothing was started).
      Stopped: a signal stopped the run, after every job it had started ended; the
        state also says "stopped" (a job that ended on the signal: no marker, the next
        run resumes it) and "not started".
    """
    paths = Paths(runs, recipe)
    by_name = {j.name: j for j in jobs}
    for j in jobs:
        missing = [a for a in j.after if a not in by_name]
        if missing:
            raise ValueError("job %s waits for unknown %s" % (j.name, ", ".join(missing)))
    lock = lock_recipe(paths, recipe)
    try:
        if os.path.exists(paths.stop_file):
            os.remove(paths.stop_file)          # an earlier run's signals
        with _Signals() as signals:
            return _run_locked(jobs, paths, recipe, backend, out, signals)
    finally:
        lock.close()


def _run_locked(jobs, paths, recipe, backend, out, signals):
    state = {}
    for j in jobs:
        if paths.is_done(j):
            state[j.name] = "was done"
    todo = [j for j in jobs if j.name not in state]
    out("%s: %d jobs, %d done before, %d to run (%s); logs in %s" % (
        recipe, len(jobs), len(state), len(todo), backend.describe(), paths.folder))
    t0, count, running, passed_on = time.time(), 0, [], 0
    while True:
        for j in todo if not signals.received else ():
            if j.name in state:
                continue
            bad = [a for a in j.after if state.get(a) in ("failed", "skipped")]
            if bad:
                state[j.name] = "skipped"
                out("skipped %s: it waits for %s, which %s" % (
                    j.name, bad[0], "failed" if state[bad[0]] == "failed" else
                    "was skipped"))
                continue
            ready = all(state.get(a) in ("done", "was done") for a in j.after)
            if ready and (backend.slots is None or len(running) < backend.slots):
                count += 1
                h = backend.start(j, resolve(j.argv, paths.runs), paths.log(j))
                h.update(job=j, n=count)
                state[j.name] = "running"
                running.append(h)
                out("[%d/%d] start %s (%s, %s): %s" % (count, len(todo), j.name, j.kind,
                                                        _needs(j), paths.log(j)))
        if not running:
            break
        for h, rc, seconds, host in backend.wait(running, backend.poll_seconds):
            running.remove(h)
            _ended(h, rc, seconds, host, paths, state, len(todo), backend, out,
                   bool(signals.received))
        for signum in signals.received[passed_on:]:
            passed_on += 1
            # (SIGHUP: the terminal is gone; the jobs save on SIGTERM. Passed on before
            # the line is printed, which may fail then.)
            backend.signal(running, signal.SIGTERM if signum == signal.SIGHUP else signum)
            if passed_on == 1:
                out("%s: stopping; passed on to %d running job%s, which finish their step and "
                    "save a checkpoint; no new job starts (run the same command again to "
                    "resume; %s again ends them without saving)" % (
                        _label(signum), len(running), "" if len(running) == 1 else "s",
                        _label(signum)))
            else:
                out("%s again: passed on to %d running job%s, which end without saving"
                    % (_label(signum), len(running), "" if len(running) == 1 else "s"))
    for j in todo:
        state.setdefault(j.name, "not started")
    counts = collections.Counter(state.values())
    out("%s: %d done, %d done before, %d failed, %d skipped%s; %s wall" % (
        recipe, counts["done"], counts["was done"], counts["failed"], counts["skipped"],
        "" if not signals.received else ", %d stopped, %d not started (stopped by %s: the "
        "same command resumes them)" % (counts["stopped"], counts["not started"],
                                        _label(signals.received[0])),
        _hms(time.time() - t0)))
    if signals.received:
        raise Stopped(signals.received[0], state)
    return state


def _ended(h, rc, seconds, host, paths, state, total, backend, out, stopping):
    """Record a job that ended: done (its marker written), stopped by the signal passed
    on, or failed."""
    j = h["job"]
    missing = [o for o in paths.outputs(j) if not os.path.exists(o)]
    if rc == 0 and not missing:
        paths.mark_done(j, seconds, host)
        state[j.name] = "done"
        out("[%d/%d] done %s in %s%s" % (h["n"], total, j.name, _hms(seconds),
                                        "" if backend.name == "local" else " on " + host))
    elif stopping and rc != 0:
        state[j.name] = "stopped" if rc is not None else "not started"
        out("[%d/%d] stopped %s (exit %s) after %s: %s (log: %s)" % (
            h["n"], total, j.name, rc, _hms(seconds), last_line(paths.log(j)), paths.log(j))
            if rc is not None else "[%d/%d] %s not started" % (h["n"], total, j.name))
    elif rc == 0:
        state[j.name] = "failed"
        out("[%d/%d] FAILED %s: exit 0 but no %s (log: %s)" % (
            h["n"], total, j.name, missing[0], paths.log(j)))
    else:
        state[j.name] = "failed"
        out("[%d/%d] FAILED %s (exit %s) after %s: %s (log: %s)" % (
            h["n"], total, j.name, rc, _hms(seconds), last_line(paths.log(j)), paths.log(j)))
