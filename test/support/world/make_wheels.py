"""Writes tiny pure-Python wheels for the requirements tests: no PyPI is reachable here."""
import base64
import hashlib
import os
import sys
import zipfile


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (name, digest, len(data))


# the tool package of the runtime's own tests (a package_tools entry point, function and class tools)
TOOL_PACKAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "runtime", "tests", "toolpkg")


def make_wheel(out_dir, dist, version, module, source, requires=(), modules=None, entry_points=None):
    """A wheel of one package: `source` as its __init__.py, or `modules` ({relative path: text}) for several files."""
    tag = "py3-none-any"
    info = "%s-%s.dist-info" % (dist.replace("-", "_"), version)
    code = modules if modules is not None else {"__init__.py": source}
    files = {module + "/" + name: text.encode() for name, text in code.items()}
    if entry_points:
        files[info + "/entry_points.txt"] = entry_points.encode()
    files.update({
        info + "/METADATA": ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s" % (
            dist, version, "".join("Requires-Dist: %s\n" % r for r in requires))).encode(),
        info + "/WHEEL": b"Wheel-Version: 1.0\nGenerator: flowsession-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        info + "/top_level.txt": (module + "\n").encode(),
    })
    record = [record_line(n, d) for n, d in files.items()] + [info + "/RECORD,,"]
    files[info + "/RECORD"] = ("\n".join(record) + "\n").encode()
    path = os.path.join(out_dir, "%s-%s-%s.whl" % (dist.replace("-", "_"), version, tag))
    with zipfile.ZipFile(path, "w") as z:
        for n, d in files.items():
            z.writestr(n, d)
    return path


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    make_wheel(out_dir, "fs-greeting", "1.0.0", "fs_greeting", "VERSION = '1.0.0'\ndef greet(name):\n    return 'Hello, ' + name\n")
    make_wheel(out_dir, "fs-greeting", "2.0.0", "fs_greeting", "VERSION = '2.0.0'\ndef greet(name):\n    return 'Hi, ' + name\n")
    make_wheel(out_dir, "fs-extra", "0.3.0", "fs_extra", "def shout(s):\n    return s.upper()\n")
    make_wheel(out_dir, "fs-handy", "1.2.0", "fs_handy", "def handy():\n    return 'handy'\n", requires=["fs-extra>=0.3"])
    package_dir = os.path.join(TOOL_PACKAGE, "fs_tools")
    modules = {}
    for name in sorted(os.listdir(package_dir)):
        if name.endswith(".py"):
            with open(os.path.join(package_dir, name), encoding="utf-8") as f:
                modules[name] = f.read()
    make_wheel(out_dir, "fs-tools", "1.0.0", "fs_tools", None, modules=modules,
               entry_points="[package_tools]\nfs_tools = fs_tools:list_package_tools\n")


if __name__ == "__main__":
    main(sys.argv[1])
