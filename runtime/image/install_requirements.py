"""Installs a flow's requirements.txt: `install_requirements.py <requirements file> <pip install argv...>`.

Prompt flow's examples list prompt flow's own packages (`promptflow[azure]`, `promptflow-tools`, a dev build from
an extra index) because `pf` needs them on the user's machine. A session does not: the runtime runs the flow and
ships the API those flows import (`promptflow.core`, `promptflow.tracing`, `promptflow.connections`, the tools of
promptflow-tools that real flows use). So when pip cannot find one of those packages (offline, a private mirror
without them), the requirements are installed again without prompt flow's packages and the session uses the
runtime's API; any other package pip cannot find still fails the install with pip's own message. When the index has
them, they are installed and the real package wins over the runtime's.
"""
import os
import re
import subprocess
import sys
import tempfile

# prompt flow's packages whose API the runtime provides (by normalized name)
PROVIDED = {
    "promptflow",
    "promptflow-core",
    "promptflow-devkit",
    "promptflow-tracing",
    "promptflow-tools",
    "promptflow-azure",
}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_NOT_FOUND = re.compile(r"No matching distribution found for ([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(line):
    """The package a requirements line names, or None for options (`-r`, `--extra-index-url`), URLs and comments."""
    text = line.split(" #", 1)[0].strip()
    if not text or text.startswith(("#", "-")) or "://" in text.split(";", 1)[0].split("@", 1)[0]:
        return None
    m = _NAME.match(text)
    return normalized(m.group(1)) if m else None


def without_provided(lines):
    """The requirements without prompt flow's packages, and the lines taken out."""
    kept, dropped = [], []
    for line in lines:
        (dropped if requirement_name(line) in PROVIDED else kept).append(line)
    return kept, dropped


def pip(argv, requirements_path):
    r = subprocess.run(argv + ["-r", requirements_path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sys.stdout.write(r.stdout)
    sys.stdout.flush()
    return r.returncode, r.stdout


def main(args):
    if len(args) < 2:
        sys.exit("usage: install_requirements.py <requirements.txt> <pip install argv...>")
    path, argv = args[0], args[1:]
    code, output = pip(argv, path)
    if code == 0:
        return 0
    missing = {normalized(n) for n in _NOT_FOUND.findall(output)}
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    kept, dropped = without_provided(lines)
    if not dropped or not (missing & PROVIDED):
        return code
    names = ", ".join(sorted({requirement_name(line) for line in dropped}))
    print(
        f"flowsession: {names} cannot be installed from the package index; the session uses the runtime's "
        "prompt flow API instead (promptflow.core, promptflow.tracing, promptflow.connections). Installing the other "
        "requirements.",
        flush=True,
    )
    if not any(requirement_name(line) for line in kept):
        return 0
    fd, rest = tempfile.mkstemp(suffix=".txt", dir=os.path.dirname(path) or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(kept) + "\n")
        return pip(argv, rest)[0]
    finally:
        os.remove(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
