# SPDX-License-Identifier: GPL-2.0-or-later
"""``python3 -m determined.launch.wrap_rank RANK CMD...``: run CMD with every line
of its stdout and stderr prefixed ``[rank=N] ``. RANK is a number or the name of
an environment variable holding one (e.g. RANK). Exits with CMD's status."""

import os
import subprocess
import sys
import threading


def _rank(arg):
    value = arg if arg.isdigit() else os.environ.get(arg, "")
    if not value.isdigit():
        raise SystemExit(f"wrap_rank: {arg!r} is neither a rank nor a variable holding one")
    return int(value)


def _relay(src, dst, prefix):
    for line in iter(src.readline, b""):
        dst.write(prefix + line)
        dst.flush()
    src.close()


def main(argv):
    redirect = True
    if argv and argv[0] == "--no-redirect-stdio":
        redirect = False
        argv = argv[1:]
    if len(argv) < 2:
        raise SystemExit("usage: python3 -m determined.launch.wrap_rank [--no-redirect-stdio] "
                         "RANK CMD...")
    rank = _rank(argv[0])
    if not redirect:
        os.execvp(argv[1], argv[1:])
    prefix = f"[rank={rank}] ".encode()
    try:
        p = subprocess.Popen(argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        raise SystemExit(f"wrap_rank: {argv[1]}: {e.strerror}") from None
    threads = [threading.Thread(target=_relay, args=(p.stdout, sys.stdout.buffer, prefix)),
               threading.Thread(target=_relay, args=(p.stderr, sys.stderr.buffer, prefix))]
    for t in threads:
        t.start()
    rc = p.wait()
    for t in threads:
        t.join()
    return rc if rc >= 0 else 128 - rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
