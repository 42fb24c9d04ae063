"""Entry point: python3 -u -m flowsession_runtime --flow-dir /flow"""
import os
import sys

sys.dont_write_bytecode = True  # the flow folder is a read-only copy: no __pycache__ in it


def _fix_sys_path():
    # `-m` puts the cwd (the flow folder) first on sys.path; a user file named like a stdlib
    # module must not shadow the runtime's own imports. Children re-add the flow folder.
    cwd = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", ".", cwd)]
    # The shim goes last, after site-packages, so an installed promptflow wins.
    shim = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "shim")
    if shim not in sys.path:
        sys.path.append(shim)


def _preload():
    """Import in the parent what every child needs, so each fork starts warm."""
    import warnings
    warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*fork.*")
    from . import batch, child, executor, llm, run, validate  # noqa: F401
    for name in ("jinja2", "jinja2.meta", "ssl", "http.client", "urllib.request", "asyncio",
                 "promptflow", "promptflow.core", "promptflow.connections", "promptflow.tracing"):
        try:
            __import__(name)
        except Exception:
            pass
    from . import tracing
    # the interpreter specialises code once it ran a few times; a child inherits that from here, so tracing a run
    # does not pay for a cold first pass in every fork
    tracing.warm_up()
    import gc
    # what was imported lives as long as the runtime: children's collections need not walk (and copy) it
    gc.freeze()


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(prog="flowsession_runtime")
    parser.add_argument("--flow-dir", default=os.getcwd())
    args = parser.parse_args(argv)
    _fix_sys_path()
    from .server import serve
    serve(os.path.abspath(args.flow_dir), warmup=_preload)


if __name__ == "__main__":
    main()
