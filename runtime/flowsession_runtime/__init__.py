"""flowsession session runtime: validates and runs prompt flows inside the session container.

Speaks newline-delimited JSON on stdin/stdout (see server.py); each validate/run/batch happens in a
forked child so user code is imported fresh and cannot take the long-lived process down.
"""
