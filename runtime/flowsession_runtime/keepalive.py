"""The session container's main process: waits for SIGTERM, or exits once the session is idle.

python3 keepalive.py --idle-minutes N --activity-file /tmp/flowsession-activity
Idle means the activity file (touched by the runtime on every request) is older than N minutes;
N <= 0 disables idle shutdown. As PID 1 it also reaps orphaned processes.
"""
import argparse
import os
import signal
import sys
import time


def main(argv=None):
    parser = argparse.ArgumentParser(prog="keepalive")
    parser.add_argument("--idle-minutes", type=float, default=0)
    parser.add_argument("--activity-file", default="/tmp/flowsession-activity")
    parser.add_argument("--check-seconds", type=float, default=15.0)
    args = parser.parse_args(argv)
    start = time.time()

    def stop(_signum, _frame):
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # A handler (not SIG_IGN) so sleep is interrupted and orphans are reaped promptly.
    signal.signal(signal.SIGCHLD, lambda _s, _f: None)
    while True:
        _reap()
        if args.idle_minutes > 0:
            try:
                last = os.stat(args.activity_file).st_mtime
            except OSError:
                last = start
            if time.time() - max(last, start) > args.idle_minutes * 60:
                return 0
        time.sleep(args.check_seconds)


def _reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


if __name__ == "__main__":
    sys.exit(main())
