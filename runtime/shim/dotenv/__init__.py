"""`from dotenv import load_dotenv` for sessions without python-dotenv. promptflow-devkit depends on python-dotenv,
so every prompt flow user has it, and prompt flow's examples call `load_dotenv()` when no key is in the
environment; a session that stands in for the promptflow package keeps that call working. It reads a `.env` file
(KEY=VALUE lines, `export`, quotes, comments) into os.environ without overriding what is set, as python-dotenv
does by default. An installed python-dotenv comes first on the path and wins."""
import os
import re

__all__ = ["load_dotenv", "dotenv_values", "find_dotenv"]

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$")


def find_dotenv(filename=".env", raise_error_if_not_found=False, usecwd=False):
    """The nearest `filename` from the working folder up, or '' when there is none."""
    here = os.getcwd()
    while True:
        candidate = os.path.join(here, filename)
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    if raise_error_if_not_found:
        raise IOError("File not found")
    return ""


def _value(raw):
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        inner = raw[1:-1]
        return inner.encode("utf-8").decode("unicode_escape") if raw[0] == '"' else inner
    return re.split(r"\s+#", raw, maxsplit=1)[0]


def dotenv_values(dotenv_path=None, stream=None, verbose=False, interpolate=True, encoding="utf-8"):
    if stream is not None:
        text = stream.read()
    else:
        path = dotenv_path if dotenv_path is not None else find_dotenv()
        if not path or not os.path.isfile(path):
            return {}
        with open(path, encoding=encoding or "utf-8") as f:
            text = f.read()
    values = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LINE.match(line)
        if m:
            values[m.group(1)] = _value(m.group(2))
    return values


def load_dotenv(dotenv_path=None, stream=None, verbose=False, override=False, interpolate=True, encoding="utf-8"):
    values = dotenv_values(dotenv_path, stream, verbose, interpolate, encoding)
    for key, value in values.items():
        if override or key not in os.environ:
            os.environ[key] = value
    return bool(values)
