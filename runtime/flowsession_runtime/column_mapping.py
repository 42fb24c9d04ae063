"""A batch line's flow inputs from `--column-mapping`: `${data.col}`, `${run.outputs.x}`, `${run.inputs.x}` or a literal.

An evaluation batch (`--run`) reads a base run's lines: its inputs and outputs of the same line number, as
prompt flow joins them. A data line whose base run line has no outputs (it failed) is not run.
"""
import json
import os

from .wire import RuntimeFailure

_SOURCES = {"data": ("data",), "run.outputs": ("run", "outputs"), "run.inputs": ("run", "inputs")}


def _source(text):
    """'${run.outputs.answer}' -> ('run.outputs', 'answer'); None for a literal."""
    s = text.strip()
    if not (s.startswith("${") and s.endswith("}")):
        return None
    inner = s[2:-1]
    for prefix in ("run.outputs.", "run.inputs.", "data."):
        if inner.startswith(prefix) and len(inner) > len(prefix):
            return prefix[:-1], inner[len(prefix):]
    return inner, None


def check_mapping(mapping, has_run):
    """Refuses a mapping the batch cannot serve, before any line runs."""
    for key, source in (mapping or {}).items():
        if not isinstance(source, str):
            continue
        parsed = _source(source)
        if parsed is None:
            continue
        kind, column = parsed
        if column is None or kind not in _SOURCES:
            raise RuntimeFailure("UnsupportedColumnMapping", "Column mapping '%s' for input '%s' is not supported; "
                                 "use ${data.<column>}, ${run.outputs.<output>}, ${run.inputs.<input>} or a "
                                 "literal value." % (source, key))
        if kind.startswith("run.") and not has_run:
            raise RuntimeFailure("UnsupportedColumnMapping", "Column mapping '%s' for input '%s' reads a base run, "
                                 "but the batch was given none; give the run with --run." % (source, key))


def map_inputs(mapping, data, input_defs, base=None):
    """Flow inputs of a line: the column mapping, then same-named data columns for the inputs it leaves out."""
    if not mapping:
        return dict(data)
    scopes = {"data": data, "run.outputs": (base or {}).get("outputs") or {},
              "run.inputs": (base or {}).get("inputs") or {}}
    out = {}
    for key, source in mapping.items():
        parsed = _source(source) if isinstance(source, str) else None
        if parsed is None:
            out[key] = source
            continue
        kind, column = parsed
        if kind not in scopes or column is None:
            check_mapping({key: source}, True)
        if column in scopes[kind]:
            out[key] = scopes[kind][column]
    for key in input_defs:
        if key not in out and key not in mapping and key in data:
            out[key] = data[key]
    return out


def load_base_run(path):
    """A base run's lines, `{"line_number", "inputs", "outputs"}` per line of a .jsonl file, by line number."""
    if not os.path.isfile(path):
        raise RuntimeFailure("BaseRunNotFound", "The base run's lines '%s' are not in the session." % path)
    lines = {}
    with open(path, encoding="utf-8") as f:
        for text in f:
            text = text.strip()
            if not text:
                continue
            try:
                row = json.loads(text)
            except ValueError as e:
                raise RuntimeFailure("InvalidBaseRun", "The base run's lines are not JSON: %s" % e)
            if isinstance(row, dict) and isinstance(row.get("line_number"), int):
                lines[row["line_number"]] = row
    return lines
