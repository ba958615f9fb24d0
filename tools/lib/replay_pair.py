#!/usr/bin/env python3
"""Replays one captured Claim+ConfirmClaim pair for fresh buyers against a Redis (tools/bench-transactions).

The pair is what Redis's MONITOR showed while tradein-server served one pair of the common path (one digital
line, no once-key, serial or budget): the commands outside the buyer's slot (request record, listing indexes,
due entry), and each buyer script with the commands it ran. Modes:

  lua          as the service sends it today: the outside commands and the two EVALSHAs.
  transactions the same buyer-slot commands without a script, as a WATCH/MULTI/EXEC design would send them:
               per script, one round trip of WATCH (the script's keys) and the reads the script ran, then one of
               MULTI, the writes it ran, EXEC. The decision the script took in Lua would be the caller's.
  outside      the outside commands only: the floor neither design changes.

Each replayed pair gets its own buyer tag, claim id and request id (same lengths, so the MessagePack records
stay valid). Replies are checked: a script must answer as it did when captured (FULL, OK, or NEEDS_COMMIT for
a confirmation that commits a budget share), an EXEC must not be aborted.

Usage: replay_pair.py MONITOR_FILE SCRIPT_SOURCES_CC PORT MODE PAIRS FIRST_INDEX
Prints: "<round trips a pair> <commands a pair>".
"""
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from resp import Connection  # noqa: E402 (tools/lib/resp.py)

READS = {b"HGET", b"HMGET", b"ZRANGEBYSCORE"}
ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", "a": b"\a", "b": b"\b", "\\": b"\\", '"': b'"'}


def unescape(token):
    """One argument of a MONITOR line (Redis's sdscatrepr quoting) as bytes."""
    out, i = bytearray(), 0
    while i < len(token):
        if token[i] != "\\":
            out += token[i].encode("latin-1")
            i += 1
        elif token[i + 1] == "x":
            out.append(int(token[i + 2:i + 4], 16))
            i += 4
        else:
            out += ESCAPES[token[i + 1]]
            i += 2
    return bytes(out)


def monitor_lines(path):
    """(source, [argument bytes]) per MONITOR line; source is "lua" for a command a script ran."""
    for line in open(path, encoding="latin-1"):
        match = re.match(r'^\S+ \[\d+ ([^\]]+)\] (.*)$', line)
        if match:
            yield match.group(1), [unescape(t) for t in re.findall(r'"((?:[^"\\]|\\.)*)"', match.group(2))]


def captured_pair(path):
    """The pair: from the request record's SET to the due entry's ZREM, without the index TTL refreshes
    (PEXPIRE: memoised, rare in steady state)."""
    lines = list(monitor_lines(path))
    start = next(i for i, (_, args) in enumerate(lines) if args[0] == b"SET")
    end = next(i for i, (_, args) in enumerate(lines) if args[0] == b"ZREM" and args[1].endswith(b":due"))
    return [(source, args) for source, args in lines[start:end + 1] if args[0] != b"PEXPIRE"]


def rounds(pair, mode):
    """The pair's round trips in `mode`, each a list of commands."""
    first_script = next(i for i, (_, args) in enumerate(pair) if args[0] == b"EVALSHA")
    scripts = []  # (EVALSHA arguments, the commands it ran)
    for source, args in pair:
        if args[0] == b"EVALSHA":
            scripts.append((args, []))
        elif source == "lua":
            scripts[-1][1].append(args)
    out = [[args for _, args in pair[:first_script]]]
    for evalsha, ran in scripts:
        if mode == "lua":
            out.append([evalsha])
        elif mode == "transactions":
            keys = evalsha[3:3 + int(evalsha[2])]
            out.append([[b"WATCH"] + keys] + [c for c in ran if c[0] in READS])
            out.append([[b"MULTI"]] + [c for c in ran if c[0] not in READS] + [[b"EXEC"]])
    out.append([pair[-1][1]])
    return out


def main():
    monitor, sources, port, mode, pairs, first = sys.argv[1:7]
    pair = captured_pair(monitor)
    conn = Connection(int(port))
    for script in re.findall(r'const char\* const k\w+ = R"lua\((.*?)\)lua"', open(sources).read(), re.S):
        conn.round_trip([[b"SCRIPT", b"LOAD", script.encode()]])
    everything = b" ".join(a for _, args in pair for a in args)
    tag = re.search(rb"\{b:([0-9a-f]{8})\}", everything).group(1)
    request = re.search(rb"\{r:[^}]*:([^}:]+)\}", pair[0][1][1]).group(1)
    plan = rounds(pair, mode)
    for n in range(int(first), int(first) + int(pairs)):
        new_tag = b"%08x" % (n * 2654435761 % 2**32)
        new_request = (b"%0*d" % (len(request), n))[-len(request):]
        for commands in plan:
            commands = [[a.replace(tag, new_tag).replace(request, new_request) for a in c] for c in commands]
            for command, reply in zip(commands, conn.round_trip(commands)):
                if isinstance(reply, RuntimeError):
                    sys.exit(f"replay_pair.py: {command[0].decode()} failed: {reply}")
                if command[0] == b"EXEC" and reply is None:
                    sys.exit("replay_pair.py: a transaction was aborted (a watched key changed)")
                if command[0] == b"EVALSHA" and not any(s in reply for s in (b"FULL", b"OK", b"NEEDS_COMMIT")):
                    sys.exit(f"replay_pair.py: a script did not take the common path: {reply[:60]!r}")
    print(len(plan), sum(len(c) for c in plan))


if __name__ == "__main__":
    main()
