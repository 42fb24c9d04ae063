"""Now as text, each second formatted once: a batch line's nodes and logs ask for the time many times a second."""
import time


def _by_second(fmt, convert, separator, digits, suffix=""):
    """(text of a Unix time in nanoseconds, text of now)"""
    scale = 10 ** digits
    unit = 1000000000 // scale  # nanoseconds in one unit of the fraction
    cache = [(None, "")]  # (second, its text with a slot for the fraction); replaced whole, never read half-updated

    def text(ns):
        t = ns // unit
        s = t // scale
        cached = cache[0]
        if cached[0] != s:
            formatted = time.strftime(fmt, convert(s)).replace("%", "%%")
            cached = cache[0] = (s, "%s%s%%0%dd%s" % (formatted, separator, digits, suffix))
        return cached[1] % (t - s * scale)

    def now():
        return text(time.time_ns())

    return text, now


# as prompt flow writes times in its records: 2024-01-02T03:04:05.123456Z
utc_text, utc_now = _by_second("%Y-%m-%dT%H:%M:%S", time.gmtime, ".", 6, "Z")


def utc_field(value):
    """A record's time as prompt flow writes it: Unix nanoseconds (what the executors keep) as utc_text, text as it is."""
    return utc_text(value) if isinstance(value, int) else value


# as a flow.log line starts: 2024-01-02 03:04:05,123 (local time)
_log_text, log_now = _by_second("%Y-%m-%d %H:%M:%S", time.localtime, ",", 3)
