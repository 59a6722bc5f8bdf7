"""Run a program's ``main()`` with every Python thread's name given to its OS thread.

    python bench/launch.py kiosk.cli run --config ...
    python bench/launch.py display.cli run --port ...

CPython 3.11 leaves OS threads unnamed, so /proc/PID/task/*/comm says "python3" for
each of them; named, the benchmark can count wake-ups and CPU per thread (the screen's
main loop, the store watcher, each consumer, the serial readers) and ``top -H``
shows who is busy. The name is set from inside each new thread by a profile hook
that removes itself on its first call, so nothing else in the program changes.
"""

from __future__ import annotations

import ctypes
import importlib
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

#: prctl(2) option that names the calling thread (at most 15 bytes are kept).
PR_SET_NAME = 15
#: The OS name of the main thread (in kiosk run: the screen's loop).
MAIN_NAME = "main"

_libc = ctypes.CDLL(None, use_errno=True)


def name_this_thread(name: str) -> None:
    _libc.prctl(PR_SET_NAME, name.encode("utf-8", "replace")[:15], 0, 0, 0)


def _on_thread_start(frame: FrameType, event: str, arg: Any) -> None:
    sys.setprofile(None)
    name_this_thread(threading.current_thread().name)


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: launch.py MODULE [ARGS...]  (MODULE has main(argv))", file=sys.stderr)
        return 2
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    name_this_thread(MAIN_NAME)
    threading.setprofile(_on_thread_start)
    module = importlib.import_module(sys.argv[1])
    return int(module.main(sys.argv[2:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
