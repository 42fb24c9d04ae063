import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "flowsession_runtime",
                      "keepalive.py")


class KeepaliveTest(unittest.TestCase):
    def start(self, idle_minutes, activity):
        return subprocess.Popen([sys.executable, SCRIPT, "--idle-minutes", str(idle_minutes), "--activity-file",
                                 activity, "--check-seconds", "0.1"])

    def test_exits_when_idle_and_activity_keeps_it_alive(self):
        activity = tempfile.mktemp()
        p = self.start(0.02, activity)  # 1.2 s
        try:
            for _ in range(8):  # 2 s of activity
                time.sleep(0.25)
                with open(activity, "a"):
                    pass
                os.utime(activity, None)
                self.assertIsNone(p.poll())
            t0 = time.monotonic()
            self.assertEqual(p.wait(5), 0)
            self.assertGreater(time.monotonic() - t0, 0.9)
        finally:
            if p.poll() is None:
                p.kill()
            if os.path.exists(activity):
                os.unlink(activity)

    def test_sigterm_exits_zero_and_zero_minutes_never_idles(self):
        p = self.start(0, tempfile.mktemp())
        time.sleep(0.4)
        self.assertIsNone(p.poll())
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(5), 0)
