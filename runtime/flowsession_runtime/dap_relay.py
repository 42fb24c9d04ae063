"""python -m flowsession_runtime.dap_relay <port>: stdin/stdout <-> a TCP port on the session's loopback.

The host's end of a debug session: its exec's stdin and stdout carry the Debug Adapter Protocol bytes to and from
debugpy's adapter, unchanged. Ends when either side closes. Standard library only.
"""
import os
import selectors
import socket
import sys

CHUNK = 1 << 16


def relay(port, stdin_fd=0, stdout_fd=1, connect_timeout=10.0):
    sock = socket.create_connection(("127.0.0.1", port), timeout=connect_timeout)
    sock.settimeout(None)
    sel = selectors.DefaultSelector()
    sel.register(stdin_fd, selectors.EVENT_READ, "in")
    sel.register(sock, selectors.EVENT_READ, "sock")
    try:
        while True:
            for key, _ in sel.select():
                if key.data == "in":
                    data = os.read(stdin_fd, CHUNK)
                    if not data:
                        return 0  # the host closed the session
                    sock.sendall(data)
                else:
                    data = sock.recv(CHUNK)
                    if not data:
                        return 0  # the adapter ended (the run is over or cancelled)
                    view = memoryview(data)
                    while view:
                        view = view[os.write(stdout_fd, view):]
    finally:
        sel.close()
        sock.close()


def main(argv):
    if len(argv) != 1 or not argv[0].isdigit():
        sys.stderr.write("usage: python -m flowsession_runtime.dap_relay <port>\n")
        return 2
    try:
        return relay(int(argv[0]))
    except OSError as e:
        sys.stderr.write("flowsession dap relay: %s\n" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
