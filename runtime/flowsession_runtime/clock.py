"""Now as text, each second formatted once: a batch line's nodes and logs ask for the time many times a second."""
import time


def _by_second(fmt, convert, with_fraction, scale):
    cache = [(None, "")]  # (second, its text); replaced whole, so a thread never reads a half-updated pair

    def now():
        t = time.time()
        s = int(t)
        cached = cache[0]
        if cached[0] != s:
            cached = cache[0] = (s, time.strftime(fmt, convert(s)))
        return with_fraction % (cached[1], int((t - s) * scale))

    return now


# as prompt flow writes times in its records: 2024-01-02T03:04:05.123456Z
utc_now = _by_second("%Y-%m-%dT%H:%M:%S", time.gmtime, "%s.%06dZ", 1000000)
# as a flow.log line starts: 2024-01-02 03:04:05,123 (local time)
log_now = _by_second("%Y-%m-%d %H:%M:%S", time.localtime, "%s,%03d", 1000)
