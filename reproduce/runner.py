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

Backends: `LocalBackend` (a process pool of our own: at most N jobs at a time) and
`RayBackend` (`ray.remote` tasks with each job's CPU / GPU request, on an existing
cluster or a local instance; Ray retries a task whose worker or node died, and the
retried command resumes from its checkpoint). This module does not import TensorFlow.
"""

import collections
import datetime
import json
import os
import re
import shlex
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import utils  # noqa: E402  (NumPy only: this module still does not import TensorFlow)
PY = ".venv/bin/python"          # how a printed command names the interpreter
RAY_INSTALL = "pip install -r requirements-cluster.txt"
# Environment variables a Ray task takes from the driver (a node has its own PATH, HOME).
FORWARDED_ENV = re.compile(r"^(GAN_|TF_|CUDA_VISIBLE_DEVICES$|PYTHONHASHSEED$)")

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

    def mark_done(self, j, seconds, where):
        utils.write_json(self.marker(j), dict(
            command=command_line(j.argv), seconds=round(seconds, 1), where=where,
            finished=datetime.datetime.now().isoformat(timespec="seconds")))


def job_env(j, base=None):
    """The environment of a job: `base` (os.environ), with one thread for OpenMP per
    requested thread (Ray sets OMP_NUM_THREADS from the CPU request; locally the same)
    and unbuffered output, so the log shows progress as it comes."""
    env = dict(os.environ if base is None else base)
    env.update(OMP_NUM_THREADS=str(j.threads), PYTHONUNBUFFERED="1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def last_line(path):
    """The log's last line that is not a runner header (what a failure is reported by)."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 8192))
            lines = [l.strip() for l in f.read().decode("utf-8", "replace").splitlines()]
    except OSError:
        return "(no log)"
    lines = [l for l in lines if l and not l.startswith("# runner:")]
    return lines[-1] if lines else "(empty log)"


def start_process(argv, log_path, env):
    """Start `argv` in the repository, appending its output to `log_path`; the Popen."""
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    log = open(log_path, "ab")
    try:
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        header = "# runner: %s pid %d on %s: %s\n" % (
            datetime.datetime.now().isoformat(timespec="seconds"), proc.pid, os.uname()[1],
            " ".join(shlex.quote(a) for a in argv))
        # Appended after the child started (its pid is known only then); its first output
        # takes a TensorFlow import, so the header comes first in practice.
        os.write(log.fileno(), header.encode())
    finally:
        log.close()
    return proc


def execute(argv, log_path, env_updates):
    """Run one job to its end (a Ray task's body): (exit status, seconds, host)."""
    env = dict(os.environ)
    env.update(env_updates)
    start = time.time()
    rc = start_process(argv, log_path, env).wait()
    return rc, time.time() - start, os.uname()[1]


class LocalBackend:
    """At most `jobs` jobs at a time, each in its own process on this machine."""

    name = "local"

    def __init__(self, jobs=1):
        self.slots = jobs

    def describe(self):
        return "%d at a time on this machine" % self.slots

    def start(self, j, argv, log_path):
        return dict(proc=start_process(argv, log_path, job_env(j)), t0=time.time())

    def wait(self, running):
        """Block until some jobs end: [(handle, rc, seconds, host)]."""
        while True:
            ended = [(h, h["proc"].poll()) for h in running]
            ended = [(h, rc, time.time() - h["t0"], os.uname()[1]) for h, rc in ended
                     if rc is not None]
            if ended:
                return ended
            time.sleep(0.1)

    def stop(self, running):
        for h in running:          # Ctrl-C: the children got SIGINT too; give them time
            try:
                h["proc"].wait(60)
            except subprocess.TimeoutExpired:
                h["proc"].kill()


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
        ref = self.remote.options(num_cpus=j.threads, num_gpus=j.gpus,
                                  name="gan-repro:%s" % j.name,
                                  runtime_env=dict(env_vars=dict(PYTHONPATH=REPO))).remote(
                                      argv, log_path, env)
        return dict(ref=ref)

    def wait(self, running):
        refs = {h["ref"]: h for h in running}
        done, _ = self.ray.wait(list(refs), num_returns=1)
        out = []
        for ref in done:
            try:
                rc, seconds, host = self.ray.get(ref)
            except self.ray.exceptions.RayError as e:      # retries used up
                rc, seconds, host = "ray: %s" % str(e).splitlines()[0], 0.0, "?"
            out.append((refs[ref], rc, seconds, host))
        return out

    def stop(self, running):
        for h in running:
            self.ray.cancel(h["ref"])


def _hms(seconds):
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return "%d:%02d:%02d" % (h, m, s) if h else "%d:%02d" % (m, s)


def _needs(j):
    return "%d GPU" % j.gpus if j.gpus else "%d thread%s" % (j.threads, "" if j.threads == 1
                                                             else "s")


def run_jobs(jobs, runs, recipe, backend, out=print):
    """Run `jobs` (in dependency order) with `backend`, skipping finished ones.

    Returns:
      {job name: "done" | "was done" | "failed" | "skipped"}.
    """
    paths = Paths(runs, recipe)
    by_name = {j.name: j for j in jobs}
    for j in jobs:
        missing = [a for a in j.after if a not in by_name]
        if missing:
            raise ValueError("job %s waits for unknown %s" % (j.name, ", ".join(missing)))
    state = {}
    for j in jobs:
        if paths.is_done(j):
            state[j.name] = "was done"
    todo = [j for j in jobs if j.name not in state]
    out("%s: %d jobs, %d done before, %d to run (%s); logs in %s" % (
        recipe, len(jobs), len(state), len(todo), backend.describe(), paths.folder))
    t0, count, running = time.time(), 0, []
    try:
        while True:
            for j in todo:
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
            for h, rc, seconds, host in backend.wait(running):
                running.remove(h)
                j = h["job"]
                missing = [o for o in paths.outputs(j) if not os.path.exists(o)]
                if rc == 0:
                    if missing:
                        state[j.name] = "failed"
                        out("[%d/%d] FAILED %s: exit 0 but no %s (log: %s)" % (
                            h["n"], len(todo), j.name, missing[0], paths.log(j)))
                        continue
                    paths.mark_done(j, seconds, host)
                    state[j.name] = "done"
                    out("[%d/%d] done %s in %s%s" % (h["n"], len(todo), j.name, _hms(seconds),
                                                    "" if backend.name == "local" else
                                                    " on " + host))
                else:
                    state[j.name] = "failed"
                    out("[%d/%d] FAILED %s (exit %s) after %s: %s (log: %s)" % (
                        h["n"], len(todo), j.name, rc, _hms(seconds), last_line(paths.log(j)),
                        paths.log(j)))
    except KeyboardInterrupt:
        out("interrupted: stopping %d running job%s (run the same command again to resume)"
            % (len(running), "" if len(running) == 1 else "s"))
        backend.stop(running)
        raise
    counts = collections.Counter(state.values())
    out("%s: %d done, %d done before, %d failed, %d skipped; %s wall" % (
        recipe, counts["done"], counts["was done"], counts["failed"], counts["skipped"],
        _hms(time.time() - t0)))
    return state
