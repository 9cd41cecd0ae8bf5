"""Run `scripts/run_<name>.py` as forks of one process that imported TensorFlow once.

A fresh interpreter per script run costs a TensorFlow import (~5 CPU-seconds) before the
run's own work (a graph build and a few steps on tiny data). The server imports the
project and TensorFlow once, creates no graph or session, and forks a child per run; the
child changes to the run's folder, sends its stdout and stderr to files and runs the
script file itself as `__main__` (runpy) with the run's `sys.argv`, so the script's own
code, `main()`, its signal handlers and its exit status are the ones a user gets. What a
fork cannot show (the script starting in a fresh interpreter: its imports, TensorFlow's
start-up settings) is shown by the real subprocesses of tests/test_scripts.py
(run_dragan.py) and tests/test_runner.py (run_dragan.py and run_gan.py).

tests/test_faults.py's zygote (instrumented runs, a tmpfs) forks through the same
`serve` loop.
"""

import json
import os
import subprocess
import sys
import threading
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def serve(child):
    """Serve {"op": "start"|"poll"} lines on stdin: for "start", fork and run
    `child(cmd)` in the child (it ends the child with `os._exit`); for "poll", report the
    child's exit status (None while it runs). Shared by this server and
    tests/test_faults.py's zygote."""
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] == "start":
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                child(cmd)
            reply = {"pid": pid}
        else:
            pid, status = os.waitpid(cmd["pid"], os.WNOHANG)
            reply = {"status": os.waitstatus_to_exitcode(status) if pid else None}
        print(json.dumps(reply), flush=True)


def _run_script(cmd):
    """A forked script run: in its folder, output to its files, the script as __main__."""
    import runpy
    import traceback
    code = 99
    try:
        os.chdir(cmd["cwd"])
        out = os.open(cmd["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        err = os.open(cmd["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        sys.argv = [cmd["script"]] + cmd["args"]
        runpy.run_path(cmd["script"], run_name="__main__")
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (
            0 if done.code is None else 1)
        if not isinstance(done.code, (int, type(None))):
            print(done.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _serve():
    import models           # noqa: F401  (TensorFlow and every model, imported once)
    import models.cli       # noqa: F401
    serve(_run_script)


class ForkClient:
    """The tests' end of a `serve` loop started as `command`: `_ask` a request, `wait` for
    a forked run's exit code, `close`. Thread-safe."""

    name = "fork server"

    def __init__(self, command, stderr_path, env, cwd):
        self.stderr = open(stderr_path, "w")
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, env=env, cwd=cwd, text=True)
        self.lock = threading.Lock()
        assert self._read().get("ready"), "the %s did not start" % self.name

    def _read(self):
        line = self.proc.stdout.readline()
        assert line, "the %s died: %s" % (self.name, open(self.stderr.name).read()[-2000:])
        return json.loads(line)

    def _ask(self, **cmd):
        with self.lock:
            self.proc.stdin.write(json.dumps(cmd) + "\n")
            self.proc.stdin.flush()
            return self._read()

    def wait(self, pid, timeout=300):
        """The run's exit code (negative: the signal that ended it); SIGKILL at `timeout`."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            status = self._ask(op="poll", pid=pid)["status"]
            if status is not None:
                return status
            time.sleep(0.05)
        os.kill(pid, 9)
        self.wait(pid, 10)
        raise AssertionError("run %d did not end within %d s" % (pid, timeout))

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        self.stderr.close()


class ForkServer(ForkClient):
    """The script runs' server: `start` a script run, `wait` for it, or `run` it
    (subprocess.run's returncode, stdout and stderr). Thread-safe."""

    def __init__(self, root, env=None):
        self.root = str(root)
        os.makedirs(self.root, exist_ok=True)
        self.env = dict(os.environ if env is None else env)
        self.count = 0
        super().__init__([sys.executable, os.path.abspath(__file__), "--serve"],
                         os.path.join(self.root, "forkserver.err"), self.env, self.root)

    def start(self, script, args, cwd):
        """Fork a run of `script` (a path) with `args` in folder `cwd`: (pid, stdout path,
        stderr path)."""
        with self.lock:
            self.count += 1
            n = self.count
        out = os.path.join(self.root, "run%d.out" % n)
        err = os.path.join(self.root, "run%d.err" % n)
        pid = self._ask(op="start", script=os.path.abspath(script), args=[str(a) for a in args],
                        cwd=str(cwd), stdout=out, stderr=err)["pid"]
        return pid, out, err

    def run(self, script, args, cwd, timeout=300):
        pid, out, err = self.start(script, args, cwd)
        code = self.wait(pid, timeout)
        with open(out) as o, open(err) as e:
            return types.SimpleNamespace(returncode=code, stdout=o.read(), stderr=e.read())


if __name__ == "__main__" and sys.argv[1:] == ["--serve"]:
    _serve()
