"""writeFiles, syncFiles, syncState: the session's copy of the flow folder, kept by the host over the protocol.

Much faster than an engine archive copy (a few ms instead of tens), which is what makes on-save
validation quick. Paths are confined to the flow folder, through symlinks too.
"""
import base64
import os

MAX_TOTAL_BYTES = 32 * 1024 * 1024
# the runtime's own scratch folder in the flow folder (shares of a batch spread over engines), removed after use
SCRATCH_FOLDER = ".flowsession-batch"


class SyncError(Exception):
    pass


def _target(flow_dir, rel):
    if not isinstance(rel, str) or not rel or "\0" in rel or rel.startswith("/") or "\\" in rel:
        raise SyncError("invalid path %r" % (rel,))
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise SyncError("invalid path %r" % (rel,))
    root = os.path.realpath(flow_dir)
    target = os.path.join(root, *parts)
    parent = os.path.realpath(os.path.dirname(target))
    if parent != root and not parent.startswith(root + os.sep):
        raise SyncError("path %r leaves the flow folder" % (rel,))
    return target


def clear_folder(flow_dir):
    """Empties the session's copy of the flow folder, for a fresh copy after a restart."""
    import shutil
    for name in os.listdir(flow_dir):
        p = os.path.join(flow_dir, name)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            os.remove(p)


def write_files(flow_dir, files, clear=False):
    """files: [{"path": "a/b.py", "content": "<base64>"}]; written atomically, parents created.
    With clear, everything else in the folder goes first (the host folder may have lost files)."""
    if not isinstance(files, list):
        raise SyncError("files must be a list")
    total = 0
    planned = []
    for f in files:
        if not isinstance(f, dict) or not isinstance(f.get("content"), str):
            raise SyncError("each file needs a path and base64 content")
        data = base64.b64decode(f["content"], validate=True)
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            raise SyncError("more than %d bytes in one request" % MAX_TOTAL_BYTES)
        planned.append((f.get("path"), data))
    if clear:
        clear_folder(flow_dir)
    written = []
    for rel, data in planned:
        # create missing folders one level at a time, re-checking each against the flow folder
        parts = rel.split("/") if isinstance(rel, str) else []
        for i in range(1, len(parts)):
            folder = _target(flow_dir, "/".join(parts[:i]))
            if not os.path.isdir(folder):
                os.makedirs(folder, exist_ok=True)
        target = _target(flow_dir, rel)
        if os.path.islink(target):
            os.remove(target)
        # unique per writer: two windows may sync the same session at once
        tmp = "%s.%d.%s.flowsession-tmp" % (target, os.getpid(), os.urandom(4).hex())
        with open(tmp, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
        written.append(rel)
    return {"written": written}


# ---- syncFiles / syncState: the session's copy of the flow follows a manifest ------------------------------
#
# The manifest says what the session's flow folder holds (relative path -> size, mtime and content hash of the
# host's file, or a folder), so a new extension or CLI process sends only the difference. It lives next to the
# session user's home, not in the flow folder, and names its container: a copy made from another container is
# never trusted. Each change bumps its generation; a request made against another generation (another process
# synced meanwhile) gets the current manifest back instead, to diff again.

MANIFEST_PATH = "/home/flowsession/.flowsession/flow-manifest.json"
MANIFEST_VERSION = 1


def read_manifest(path=MANIFEST_PATH):
    """The manifest, or None when there is none or it cannot be read (then the session proves nothing)."""
    import json
    try:
        with open(path, "r", encoding="utf-8") as f:
            m = json.load(f)
    except (OSError, ValueError):
        return None
    if (not isinstance(m, dict) or m.get("version") != MANIFEST_VERSION or not isinstance(m.get("container"), str)
            or not isinstance(m.get("generation"), int) or not isinstance(m.get("entries"), dict)):
        return None
    return m


def _write_manifest(path, manifest):
    import json
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump(manifest, out, separators=(",", ":"))
    os.replace(tmp, path)


def _remove(target):
    import shutil
    if os.path.isdir(target) and not os.path.islink(target):
        shutil.rmtree(target)
    elif os.path.lexists(target):
        os.remove(target)


def _paths(params, key):
    value = params.get(key) or []
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise SyncError("%s must be a list of paths" % key)
    return value


def _drop(entries, rel):
    entries.pop(rel, None)
    prefix = rel + "/"
    for name in [n for n in entries if n.startswith(prefix)]:
        del entries[name]


def sync_files(flow_dir, params, manifest_path=MANIFEST_PATH, then=None):
    """Brings the flow folder to the host's listing: removes, creates folders, writes small files, then records.

    params: container, base (the generation the host diffed against; None empties the folder and starts a new
    manifest), remove, dirs, files ([{path, content base64}]), forget (entries of files about to come another way),
    record ({path: {size, mtimeMs, hash} | {dir: true}}). Returns {generation} or {conflict, manifest}."""
    container = params.get("container")
    if not isinstance(container, str) or not container:
        raise SyncError("container must name the session's container")
    base = params.get("base")
    current = read_manifest(manifest_path)
    if current is not None and current["container"] != container:
        current = None
    if base is not None:
        if current is None or current["generation"] != base:
            return {"conflict": True, "manifest": current}
        entries = current["entries"]
    else:
        entries = {}
    remove = _paths(params, "remove")
    dirs = _paths(params, "dirs")
    forget = _paths(params, "forget")
    record = params.get("record") or {}
    if not isinstance(record, dict):
        raise SyncError("record must map paths to entries")
    for rel in remove + dirs + forget + list(record):
        _target(flow_dir, rel)  # every path is checked before anything changes
    if base is None:
        if os.path.lexists(manifest_path):
            os.remove(manifest_path)
        clear_folder(flow_dir)
    for rel in remove:
        _remove(_target(flow_dir, rel))
        _drop(entries, rel)
    for rel in dirs:
        parts = rel.split("/")
        for i in range(1, len(parts) + 1):
            folder = _target(flow_dir, "/".join(parts[:i]))
            if not os.path.isdir(folder):
                os.mkdir(folder)
    write_files(flow_dir, params.get("files") or [])
    for rel in forget:
        entries.pop(rel, None)
    for rel, entry in record.items():
        if not isinstance(entry, dict):
            raise SyncError("entry of %r must be an object" % rel)
        entries[rel] = entry
    generation = (current["generation"] if current is not None else 0) + 1
    manifest = {"version": MANIFEST_VERSION, "container": container, "generation": generation, "entries": entries}
    if then is None:
        _write_manifest(manifest_path, manifest)
    else:
        # the caller answers first and records after: a manifest written late only ever lags the folder (what it
        # lacks is sent again), never runs ahead of it
        then(lambda: _write_manifest(manifest_path, manifest))
    return {"generation": generation}


def remove_strays(flow_dir, manifest_path=MANIFEST_PATH, keep=()):
    """Removes what the flow folder holds beyond its manifest: files the flow's code wrote while it ran, which the
    host's folder does not have. Nothing happens without a manifest (nothing is proven). `keep`: paths on their way
    in another way (an engine archive copy between two syncFiles). Returns the paths removed."""
    manifest = read_manifest(manifest_path)
    if manifest is None:
        return []
    entries = manifest["entries"]
    keep = set(keep)
    removed = []
    root = os.path.realpath(flow_dir)

    def visit(folder, prefix):
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            return
        for name in names:
            rel = prefix + name
            full = os.path.join(folder, name)
            if rel in keep or rel == SCRATCH_FOLDER or name.endswith(".flowsession-tmp"):
                continue
            entry = entries.get(rel)
            if entry is None:
                _remove(full)
                removed.append(rel)
            elif entry.get("dir") and os.path.isdir(full) and not os.path.islink(full):
                visit(full, rel + "/")

    visit(root, "")
    return removed
