"""Run ``python -m MODULE ARGS`` so that its ``resource.getrusage`` peak RSS is its own.

Linux keeps a process's peak RSS across ``exec``, and a child that ``subprocess`` starts with vfork takes its
parent's peak at exec: a probe started straight from pytest would report pytest's size. This launcher is a
bare Python (it imports only ``os`` and ``sys``) that forks once; the fork execs the module, so the figure it
reports starts from this launcher's few MiB. Usage: ``python -m tests.connectors.email.fresh MODULE ARGS...``.
"""

import os
import sys

if __name__ == "__main__":
    pid = os.fork()
    if pid == 0:
        os.execv(sys.executable, [sys.executable, "-m", *sys.argv[1:]])
    sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
