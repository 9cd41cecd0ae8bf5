"""Check this project on a GPU: the float64 references, float32 repeats, the speed.

    python -m reproduce.gpu_check                 # every recipe, then every model's bench
    python -m reproduce.gpu_check dragan gan      # some recipes only
    python -m reproduce.gpu_check --no-bench      # the trajectories only

With no GPU visible to TensorFlow it prints one line saying so and exits 1. With one:

1. the device line a training run prints (`device: GPU:0 ...`) and the TensorFloat-32
   state (off, as every run has it unless `--tf32`);
2. float64: every recipe run afresh (on the GPU, in a new process) against its recorded
   float64 trajectory (reproduce/reference/<name>.json), within FLOAT64_RTOL;
3. float32 repeats: every recipe run twice in float32 (two fresh processes); the two
   trajectories must be bit-identical (op determinism on, as the recipes have it);
4. speed: `python -m reproduce.bench` for every model (its table as it prints it),
   unless `--no-bench`;
5. a summary; exit status 0 only if every check held, 1 otherwise, 2 bad flags.

Nothing here has a machine-specific expectation: the float32 trajectories of a GPU are
not compared with the recorded (CPU) float32 ones, which are a same-platform fact.
"""

import argparse
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# What exists when an NVIDIA driver is installed (Linux, WSL2's /dev/dxg): without any of
# them no GPU can be visible, and TensorFlow need not be imported to say so.
_DRIVER_PATHS = ("/proc/driver/nvidia", "/dev/nvidiactl", "/dev/dxg")


def no_gpu_reason():
    """Why no GPU can be visible, found without importing TensorFlow; None when one may be."""
    hidden = os.environ.get("CUDA_VISIBLE_DEVICES")
    if hidden is not None and hidden.strip() in ("", "-1"):
        return "CUDA_VISIBLE_DEVICES=%r hides every GPU" % hidden
    if not any(os.path.exists(p) for p in _DRIVER_PATHS):
        return "no NVIDIA driver: none of %s exists" % ", ".join(_DRIVER_PATHS)
    return None


def visible_gpus():
    """(GPU names TensorFlow sees, e.g. ["GPU:0"], and why none if empty). Tests replace
    this to pretend a machine has or lacks a GPU."""
    reason = no_gpu_reason()
    if reason:
        return [], reason
    from tf_compat import visible_gpus as tf_visible_gpus
    gpus = tf_visible_gpus()
    return gpus, None if gpus else (
        "an NVIDIA driver is there but TensorFlow lists no GPU: a CPU-only tensorflow, or "
        "CUDA libraries missing (pip install -r requirements-gpu.txt)")


# ---- the checks ------------------------------------------------------------------------

def device_report():
    """(device line, TF32 allowed?) with the models' default: TensorFloat-32 off."""
    from tf_compat import describe_device, device_line, set_tensor_float_32
    from tf_compat import tensor_float_32_enabled
    set_tensor_float_32(False)
    return device_line(describe_device(2, False)), tensor_float_32_enabled()


def _reference():
    """reproduce.reference, if it holds float64 references (else a RuntimeError)."""
    from reproduce import reference
    if not hasattr(reference, "FLOAT64_RTOL"):
        raise RuntimeError("reproduce/reference.py records no float64 trajectories here, "
                           "so there is nothing to compare a GPU run with")
    return reference


def run_recipes(names, dtype, data_dir=None):
    """{name: losses} of a fresh process running `names` in `dtype`, plus the device that
    process's fingerprint names under "_device"."""
    reference = _reference()
    results = reference.run(list(names), dtype=dtype, data_dir=data_dir)
    out = {name: results[name]["losses"] for name in names}
    out["_device"] = sorted({results[name].get("fingerprint", {}).get("device", "?")
                             for name in names})
    return out


def _compare(recorded, fresh):
    """reference.compare's (bit_exact, max relative difference), or (False, None, why) when
    the two hold other losses or step counts."""
    try:
        return _reference().compare(recorded, fresh) + (None,)
    except AssertionError as e:
        return False, None, str(e)


def check_float64(names, data_dir=None):
    """([(check name, held?, detail)] of each recipe's float64 run against its recording,
    the devices the runs' process saw)."""
    reference = _reference()
    fresh = run_recipes(names, "float64", data_dir)
    rows = []
    for name in names:
        exact, worst, why = _compare(reference.load(name)["float64"]["losses"], fresh[name])
        if why:
            rows.append(("float64 %s" % name, False, why))
            continue
        rows.append(("float64 %s" % name, worst <= reference.FLOAT64_RTOL,
                     "%s, max relative difference %.3g (tolerance %g)"
                     % ("bit-exact" if exact else "not bit-exact", worst, reference.FLOAT64_RTOL)))
    return rows, fresh["_device"]


def check_float32_repeats(names, data_dir=None):
    """[(check name, held?, detail)]: two fresh float32 runs of each recipe, bit for bit."""
    first, second = run_recipes(names, "float32", data_dir), run_recipes(names, "float32", data_dir)
    rows = []
    for name in names:
        exact, worst, why = _compare(first[name], second[name])
        rows.append(("float32 repeat %s" % name, exact, why or ("bit-identical" if exact else
                     "NOT bit-identical, max relative difference %.3g" % worst)))
    return rows


def run_bench(json_path, data_dir=None):
    """`python -m reproduce.bench` for every model, its output passed through; (held?, detail)."""
    command = [sys.executable, "-m", "reproduce.bench", "--json", json_path]
    if data_dir:
        command += ["--data-dir", data_dir]
    done = subprocess.run(command, cwd=REPO)
    return done.returncode == 0, ("table above, figures in %s" % json_path if done.returncode == 0
                                  else "exit status %d (see above)" % done.returncode)


def summary(rows):
    """The closing lines: one per check, then the verdict."""
    lines = ["%-28s %s  %s" % (name, "ok    " if ok else "FAILED", detail)
             for name, ok, detail in rows]
    failed = sum(1 for _, ok, _ in rows if not ok)
    lines.append("gpu_check: %s" % ("every check held (%d)" % len(rows) if not failed
                                    else "%d of %d checks FAILED" % (failed, len(rows))))
    return "\n".join(lines)


# ---- the command -------------------------------------------------------------------------

def build_parser():
    parser = argparse.ArgumentParser(prog="python -m reproduce.gpu_check", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="RECIPE",
                        help="reference recipes to run (default: all of reproduce/reference.py)")
    parser.add_argument("--no-bench", action="store_true",
                        help="skip `python -m reproduce.bench`")
    parser.add_argument("--bench-json", default="bench_gpu.json", metavar="PATH",
                        help="where the bench writes its figures (default bench_gpu.json)")
    parser.add_argument("--data-dir", default=None,
                        help="where the data is (default: $GAN_DATA_DIR, then the cache)")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    gpus, reason = visible_gpus()
    if not gpus:
        print("gpu_check: no GPU visible to TensorFlow (%s): nothing to check; see README "
              "for the GPU set-up" % reason, flush=True)
        return 1
    try:
        reference = _reference()
        names = args.names or reference.recipe_names()
        unknown = [n for n in names if n not in reference.recipe_names()]
        if unknown:
            parser.error("unknown recipe %s (choose from %s)"
                         % (unknown[0], ", ".join(reference.recipe_names())))
        line, tf32 = device_report()
        print(line, flush=True)
        print("TensorFloat-32: %s (the models' default; --tf32 allows it)"
              % ("ON, which should not be" if tf32 else "off"), flush=True)
        rows = [("TF32 off by default", not tf32, "off" if not tf32 else "on")]
        print("float64 reference recipes (%s) ..." % ", ".join(names), flush=True)
        float64_rows, devices = check_float64(names, args.data_dir)
        rows.append(("recipes ran on a GPU", devices == ["GPU"],
                     "their processes saw: %s" % ", ".join(devices)))
        rows += float64_rows
        print("float32 repeats (two runs each) ...", flush=True)
        rows += check_float32_repeats(names, args.data_dir)
        if not args.no_bench:
            print("python -m reproduce.bench (every model) ...", flush=True)
            ok, detail = run_bench(args.bench_json, args.data_dir)
            rows.append(("bench", ok, detail))
    except RuntimeError as e:
        print("gpu_check: error: %s" % e, file=sys.stderr)
        return 1
    print()
    print(summary(rows))
    return 0 if all(ok for _, ok, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
