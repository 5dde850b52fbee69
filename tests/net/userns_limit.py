#!/usr/bin/env python3
"""userns_limit.py CMD [ARG]... - run CMD where no user namespace may be made.

For tests (as root): CMD runs in a new user namespace (uid and gid 0..65535
mapped to themselves) with a mount namespace of its own, in which
user.max_user_namespaces is 0, so that any unshare(CLONE_NEWUSER) below
fails with ENOSPC. The host's own limit is not touched: the sysctl is per
user namespace. Exits with CMD's status (120 if the namespace cannot be made).
"""
import ctypes
import os
import sys

CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000


def main():
    libc = ctypes.CDLL(None, use_errno=True)
    r, w = os.pipe()
    r2, w2 = os.pipe()
    pid = os.fork()
    if pid == 0:
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
            os._exit(120)
        os.write(w, b"x")
        os.read(r2, 1)  # the maps are written
        with open("/proc/sys/user/max_user_namespaces", "w") as f:
            f.write("0")
        os.execvp(sys.argv[1], sys.argv[1:])
    os.read(r, 1)
    for m in ("uid_map", "gid_map"):
        with open("/proc/%d/%s" % (pid, m), "w") as f:
            f.write("0 0 65536\n")
    os.write(w2, b"x")
    _, st = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(st)


if __name__ == "__main__":
    sys.exit(main())
