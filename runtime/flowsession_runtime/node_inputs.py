"""Node inputs a tool does not take: one rule for validate and run, so that what validate accepts, run runs."""
import difflib

from .wire import RuntimeFailure

CODE = "UnknownNodeInput"


def unknown_inputs(node, accepted, accepts_kwargs):
    """[(input name, message)] for the node's inputs that are no parameter of the tool (none when it takes **kwargs)."""
    if accepts_kwargs:
        return []
    names = [n for n in accepted]
    out = []
    for name in node.inputs:
        if name in accepted:
            continue
        close = difflib.get_close_matches(name, names, n=1)
        hint = " Did you mean '%s'?" % close[0] if close else ""
        have = ", ".join("'%s'" % n for n in names) if names else "none"
        out.append((name, "Input '%s' for node '%s' is not an input of its tool; the tool's inputs are: %s.%s "
                          "Running the node would fail with an unexpected keyword argument." % (name, node.name, have, hint)))
    return out


def refuse_unknown_inputs(node, accepted, accepts_kwargs):
    """Raises the first unknown input as the run's failure (the message validate reports on that input's line)."""
    problems = unknown_inputs(node, accepted, accepts_kwargs)
    if problems:
        raise RuntimeFailure(CODE, problems[0][1], node=node.name)
