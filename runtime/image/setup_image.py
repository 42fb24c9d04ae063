"""Turns any image with Python 3.9+ into a flowsession runtime image.

Run as root inside a container of the base image, with the runtime already copied to /opt/flowsession/runtime.
Uses only the standard library, because the base may have nothing else.
"""
import json
import os
import subprocess
import sys
import venv

USER = "flowsession"
UID = 10001
HOME = "/home/" + USER
ROOT = "/opt/flowsession"
VENV = ROOT + "/venv"


def fail(message):
    sys.stderr.write("flowsession: " + message + "\n")
    sys.exit(1)


def ensure_user():
    try:
        import pwd

        pwd.getpwuid(UID)
        return
    except KeyError:
        pass
    for argv in (["useradd", "-u", str(UID), "-m", "-d", HOME, "-s", "/bin/sh", USER],
                 ["adduser", "-D", "-u", str(UID), "-h", HOME, USER]):
        try:
            if subprocess.call(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
                return
        except OSError:
            continue
    # no user tools in the image (distroless-like): write the entries ourselves
    with open("/etc/passwd", "a") as f:
        f.write("%s:x:%d:%d::%s:/bin/sh\n" % (USER, UID, UID, HOME))
    with open("/etc/group", "a") as f:
        f.write("%s:x:%d:\n" % (USER, UID))


def chown_tree(path):
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, UID, UID)
        for name in filenames:
            try:
                os.chown(os.path.join(dirpath, name), UID, UID, follow_symlinks=False)
            except OSError:
                pass


def has_module(python, name):
    return subprocess.call([python, "-c", "import " + name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0


def ensure_debugpy(python, pip_options):
    """debugpy, for Debug Flow and Debug Node: the base's own when it has one, else installed with the user's pip
    settings. Optional: without it everything but debugging works, and a debug run says what to do."""
    if has_module(python, "debugpy"):
        return True
    # one retry: an unreachable index must not hold the build up for minutes over something optional
    argv = [python, "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--retries", "1", "debugpy"]
    if subprocess.call(argv + pip_options) == 0 and has_module(python, "debugpy"):
        return True
    sys.stderr.write("flowsession: debugpy could not be installed, so flows cannot be debugged in this session; "
                     "point the pip settings (flowsession.pip.*) at an index that has it, or use a base image with "
                     "debugpy, then reset the session.\n")
    return False


def main():
    if sys.version_info < (3, 9):
        fail("the base image has Python %d.%d; flowsession needs Python 3.9 or newer." % sys.version_info[:2])
    ensure_user()
    for path in (HOME, "/flow", ROOT):
        os.makedirs(path, exist_ok=True)
    # A venv that sees the base's packages: requirements and by-hand installs go here, owned by the session user,
    # so a non-root session can install packages and the base stays untouched.
    try:
        venv.EnvBuilder(system_site_packages=True, with_pip=False, symlinks=True).create(VENV)
    except Exception as e:  # noqa: BLE001 - any failure here has one remedy
        fail("could not create a virtual environment in the base image (%s)." % e)
    python = VENV + "/bin/python"
    if not has_module(python, "pip"):
        try:
            subprocess.check_call([python, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
        except (OSError, subprocess.CalledProcessError):
            sys.stderr.write("flowsession: the base image has no pip; package installs will not be possible.\n")
    extra = sys.argv[1:]
    if not has_module(python, "jinja2"):
        # the prompt and llm tools need jinja2; pip options (index, find-links) come from the user's settings
        if subprocess.call([python, "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "jinja2"] + extra) != 0:
            fail("jinja2 is missing from the base image and could not be installed.")
    debugger = ensure_debugpy(python, extra)
    chown_tree(ROOT)
    chown_tree(HOME)
    os.chown("/flow", UID, UID)
    info = {"python": "%d.%d.%d" % sys.version_info[:3], "executable": python, "debugpy": debugger}
    with open(ROOT + "/image.json", "w") as f:
        json.dump(info, f)


if __name__ == "__main__":
    main()
