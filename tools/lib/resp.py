"""A minimal blocking Redis client (RESP2) for the benchmark tools (tools/bench-scripts,
tools/lib/replay_pair.py): pipelined commands of bytes, replies as bytes, lists and None; an error reply is
returned as a RuntimeError, not raised, so that the caller decides what it means."""
import socket


class Connection:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.replies = self.sock.makefile("rb")

    def read(self):
        """The next reply."""
        line = self.replies.readline().rstrip(b"\r\n")
        kind, rest = line[:1], line[1:]
        if kind == b"-":
            return RuntimeError(rest.decode())
        if kind in (b"+", b":"):
            return rest
        if kind == b"$":
            return None if int(rest) < 0 else self.replies.read(int(rest) + 2)[:-2]
        return None if int(rest) < 0 else [self.read() for _ in range(int(rest))]

    def round_trip(self, commands):
        """Sends `commands` (each a list of bytes) in one write; their replies, in order."""
        self.sock.sendall(b"".join(
            b"*%d\r\n" % len(c) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in c) for c in commands))
        return [self.read() for _ in commands]
