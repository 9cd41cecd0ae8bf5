"""Regenerate recorded reference trajectories (the only command that writes them).

    python -m reproduce.record dragan             # rewrite reproduce/reference/dragan.json
    python -m reproduce.record all                # every recipe
    python -m reproduce.record --check dragan     # compare fresh runs, write nothing
    python -m reproduce.record --check --platforms all
                                                  # float64 under oneDNN on/off x 1/2 threads
    python -m reproduce.record --drift            # the float32-vs-float64 drift table

Each recipe is recorded twice, each run in a fresh process: in float64 (the
platform-independent trajectory) and in float32 with this platform's fingerprint (see
reproduce/reference.py). Re-record only when the math changed on purpose.
"""

import argparse
import os
import sys

from reproduce import reference


def _names(values):
    names = reference.recipe_names()
    if "all" in values:
        return names
    unknown = [v for v in values if v not in names]
    if unknown:
        raise SystemExit("record: error: unknown recipe %s (choose from all, %s)"
                         % (unknown[0], ", ".join(names)))
    return values


def _run_all(names, runs, workers, data_dir):
    """{(name, label): result} of `runs` = [(label, run keywords)] for every name (one
    process per (run, recipe), so a recipe's numbers never depend on the others')."""
    jobs = {(name, label): dict(names=name, **kw) for name in names for label, kw in runs}
    futures = reference.run_many(jobs, workers=workers, data_dir=data_dir)
    return {key: future.result() for key, future in futures.items()}


def record(names, workers, data_dir):
    results = _run_all(names, [("float64", dict(dtype="float64")),
                               ("float32", dict(dtype="float32"))], workers, data_dir)
    for name in names:
        f64, f32 = results[name, "float64"], results[name, "float32"]
        old = reference.load(name) if os.path.exists(reference.path(name)) else None
        reference.write(name, f64, f32)
        moved = ""
        if old and "float64" in old:
            moved = "; float64 moved by %.3g (max relative)" % reference.compare(
                old["float64"]["losses"], f64["losses"])[1]
        print("%s: recorded %d steps (float64 and float32) into %s%s"
              % (name, len(f64["losses"]["d_loss"]), reference.path(name), moved), flush=True)
    return 0


def check(names, workers, data_dir, platforms):
    runs = [("float64", dict(dtype="float64")), ("float32", dict(dtype="float32"))]
    if platforms:
        runs = [("float64 oneDNN %s, %d thread%s" % ("on" if on else "off", t, "s" * (t > 1)),
                 dict(dtype="float64", onednn=on, threads=t))
                for on in (True, False) for t in (1, 2)]
    results = _run_all(names, runs, workers, data_dir)
    status = 0
    for name in names:
        recorded = reference.load(name)
        for label, kw in runs:
            fresh = results[name, label]
            if kw["dtype"] == "float64":
                exact, worst = reference.compare(recorded["float64"]["losses"], fresh["losses"])
                ok = worst <= reference.FLOAT64_RTOL
                print("%s %s: max relative difference %.3g (tolerance %g) %s"
                      % (name, label, worst, reference.FLOAT64_RTOL, "ok" if ok else "DIFFERS"))
            else:
                golden = recorded["float32"]
                differences = reference.fingerprint_differences(golden["fingerprint"],
                                                                fresh["fingerprint"])
                exact, worst = reference.compare(golden["losses"], fresh["losses"])
                ok = exact or bool(differences)
                print("%s float32: fingerprint %s; %s (max relative difference %.3g)%s"
                      % (name, "matched" if not differences else "differs (%s)" % ", ".join(
                          "%s %s there, %s here" % d for d in differences),
                         "bit-exact" if exact else "not bit-exact", worst,
                         "" if ok else " DIFFERS"))
            status |= 0 if ok else 1
    return status


def drift_table(names):
    """Markdown: per recipe, the first step at which float32 and float64 are DRIFT apart."""
    print("| model | steps recorded | first step float32 and float64 are %g apart |"
          % reference.DRIFT)
    print("|---|---|---|")
    for name in names:
        recorded = reference.load(name)
        f64, f32 = recorded["float64"]["losses"], recorded["float32"]["losses"]
        step = reference.drift_step(f32, f64)
        print("| %s | %d | %s |" % (name, len(f64["d_loss"]),
                                     step if step else "none (within %g throughout)"
                                     % reference.DRIFT))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m reproduce.record", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="recipes ('all' for every one): %s"
                        % ", ".join(reference.recipe_names()))
    parser.add_argument("--check", action="store_true",
                        help="compare fresh runs with the recorded files instead of writing")
    parser.add_argument("--platforms", action="store_true",
                        help="with --check: run float64 under oneDNN on/off x 1/2 intra-op "
                             "threads")
    parser.add_argument("--drift", action="store_true",
                        help="print the float32-vs-float64 drift table of the recorded files")
    parser.add_argument("--workers", type=int, default=2, help="runs at a time (default 2)")
    parser.add_argument("--data-dir", default=None, help="where MNIST is (default: the usual "
                        "lookup: $GAN_DATA_DIR, the cache, a download)")
    args = parser.parse_args(argv)
    if args.platforms and not args.check:
        parser.error("--platforms goes with --check")
    if args.workers < 1:
        parser.error("--workers must be >= 1")
    names = _names(args.names or (["all"] if args.drift else []))
    if not names:
        parser.error("name at least one recipe, or 'all'")
    try:
        if args.drift:
            return drift_table(names)
        if args.check:
            return check(names, args.workers, args.data_dir, args.platforms)
        return record(names, args.workers, args.data_dir)
    except RuntimeError as e:
        print("record: error: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
