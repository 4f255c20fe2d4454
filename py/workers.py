"""Work split over fresh processes (`python -m kbquery.workers`), for QA and comparisons.

Not a fork and not a process pool: these run inside long-lived hosts (a notebook kernel, the
service, the test suite) full of other threads, where a forked child can inherit a lock held
mid-fork and a pool's own manager and feeder threads have been seen to stall for minutes. A plain
child process needs neither: its part's function and arguments go to it pickled on its stdin,
and its result comes back pickled on its stdout. A part that fails raises here, as it raised there.
"""

from __future__ import annotations

import importlib
import pickle
import subprocess
import sys
import traceback
from collections.abc import Callable


def run_parts(function: Callable, parts: list[tuple]) -> list:
    """`function(*args)` for each args of `parts`, each in a process of its own, in order."""
    if len(parts) == 1:
        return [function(*parts[0])]
    task = (function.__module__, function.__qualname__)
    # -P: the working directory stays off sys.path, where a folder could shadow a module
    children = [subprocess.Popen([sys.executable, "-P", "-m", "kbquery.workers"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE) for _ in parts]
    try:
        for child, args in zip(children, parts):
            try:
                with child.stdin:
                    child.stdin.write(pickle.dumps((*task, args)))
            except BrokenPipeError:  # it ended before taking its part: _result says how it ended
                pass
        # One after the other: a child whose result outgrows the pipe waits until its turn.
        return [_result(child) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()


def _result(child: subprocess.Popen):
    data = child.stdout.read()
    child.wait()
    if not data:
        raise RuntimeError(f"a worker process ended with exit status {child.returncode} and no result")
    ok, value, trace = pickle.loads(data)
    if ok:
        return value
    if isinstance(value, BaseException):
        value.add_note("in a worker process:\n" + trace)
        raise value
    raise RuntimeError("a worker process failed:\n" + trace)


def main() -> None:
    module, name, args = pickle.load(sys.stdin.buffer)
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # stdout carries the result alone
    try:
        ok, value, trace = True, getattr(importlib.import_module(module), name)(*args), ""
    except BaseException as e:  # reported to the parent, which raises it
        ok, value, trace = False, e, traceback.format_exc()
    try:
        data = pickle.dumps((ok, value, trace))
    except Exception:  # an exception that does not pickle: its text is enough
        data = pickle.dumps((False, None, trace))
    out.write(data)
    out.flush()


if __name__ == "__main__":
    main()
