"""Prints (or writes to the path given as argument) the installed distributions as JSON: [{"name", "version", "location"}], sorted by name.

Reads package metadata instead of running pip, so it works without pip and takes a fraction of the time.
"""
import json
import sys

try:
    from importlib import metadata
except ImportError:  # Python < 3.8 is refused earlier; keep the import error readable anyway
    sys.exit("flowsession: Python 3.9 or newer is required")

seen = {}
for dist in metadata.distributions():
    name = dist.metadata.get("Name") if dist.metadata else None
    if not name:
        continue
    key = name.lower().replace("_", "-")
    if key in seen:
        continue
    path = getattr(dist, "_path", None)
    seen[key] = {"name": name, "version": dist.version, "location": str(path.parent) if path else ""}
packages = sorted(seen.values(), key=lambda d: d["name"].lower())


def snapshot(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


if len(sys.argv) > 1 and sys.argv[1] == "--origins":
    # what is installed now, and the snapshots taken when the runtime and the environment images were made
    json.dump({"current": packages, "base": snapshot(sys.argv[2]), "env": snapshot(sys.argv[3])}, sys.stdout)
elif len(sys.argv) > 1:
    with open(sys.argv[1], "w") as f:
        json.dump(packages, f)
else:
    json.dump(packages, sys.stdout)
