"""Now as text, each second formatted once: a batch line's nodes and logs ask for the time many times a second."""
import time


def _by_second(fmt, convert, separator, digits, suffix=""):
    scale = 10 ** digits
    unit = 1000000000 // scale  # nanoseconds in one unit of the fraction
    cache = [(None, "")]  # (second, its text with a slot for the fraction); replaced whole, never read half-updated

    def now():
        t = time.time_ns() // unit
        s = t // scale
        cached = cache[0]
        if cached[0] != s:
            text = time.strftime(fmt, convert(s)).replace("%", "%%")
            cached = cache[0] = (s, "%s%s%%0%dd%s" % (text, separator, digits, suffix))
        return cached[1] % (t - s * scale)

    return now


# as prompt flow writes times in its records: 2024-01-02T03:04:05.123456Z
utc_now = _by_second("%Y-%m-%dT%H:%M:%S", time.gmtime, ".", 6, "Z")
# as a flow.log line starts: 2024-01-02 03:04:05,123 (local time)
log_now = _by_second("%Y-%m-%d %H:%M:%S", time.localtime, ",", 3)
