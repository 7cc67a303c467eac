#!/usr/bin/env python3
"""Writes a deterministic newc ("070701") cpio archive for a Linux initramfs.

  mkcpio.py -o out.cpio \
      --file /init=bazel-out/.../guest_runner:0755 \
      --file /bin/busybox=/bin/busybox:0755 \
      --symlink /bin/sh=busybox \
      --dir /proc

Every parent directory of every entry is added automatically (a missing
`dir /lib` is the classic way to ship an initramfs whose files the kernel
silently drops). Entries are written sorted by path with uid/gid 0, mtime 0
and inode numbers counted from 1, so the same inputs always give the same
bytes. No root and no cpio binary are needed.
"""

import argparse
import os
import stat
import sys


def _pad4(n):
    return (4 - n % 4) % 4


class CpioWriter:
    """Accumulates entries, then writes them in a canonical order."""

    def __init__(self):
        self._entries = {}  # guest path -> (mode, data bytes)

    def _add_parents(self, path):
        parent = os.path.dirname(path)
        while parent not in ("", "/"):
            if parent not in self._entries:
                self._entries[parent] = (stat.S_IFDIR | 0o755, b"")
            parent = os.path.dirname(parent)

    @staticmethod
    def _norm(path):
        if not path.startswith("/"):
            raise ValueError("guest path must be absolute: %r" % path)
        path = os.path.normpath(path)
        if path == "/":
            raise ValueError("cannot add / itself")
        return path

    def add_dir(self, path, mode=0o755):
        path = self._norm(path)
        self._add_parents(path)
        self._entries[path] = (stat.S_IFDIR | mode, b"")

    def add_file(self, path, data, mode=0o644):
        path = self._norm(path)
        self._add_parents(path)
        self._entries[path] = (stat.S_IFREG | mode, data)

    def add_symlink(self, path, target):
        path = self._norm(path)
        self._add_parents(path)
        self._entries[path] = (stat.S_IFLNK | 0o777, target.encode())

    def write(self, out):
        ino = 0
        for path in sorted(self._entries):
            mode, data = self._entries[path]
            ino += 1
            self._write_entry(out, path.lstrip("/"), mode, data, ino)
        self._write_entry(out, "TRAILER!!!", 0, b"", 0)
        # Pad the archive to a 512-byte boundary like GNU cpio does; the
        # kernel skips zero padding between concatenated archives.
        pos = out.tell()
        out.write(b"\0" * ((512 - pos % 512) % 512))

    @staticmethod
    def _write_entry(out, name, mode, data, ino):
        nlink = 2 if stat.S_ISDIR(mode) else 1
        name_b = name.encode() + b"\0"
        fields = [
            ino, mode, 0, 0, nlink, 0,  # ino mode uid gid nlink mtime
            len(data), 0, 0, 0, 0,      # filesize devmajor devminor rdevmajor rdevminor
            len(name_b), 0,             # namesize check
        ]
        header = b"070701" + b"".join(b"%08X" % f for f in fields)
        out.write(header)
        out.write(name_b)
        out.write(b"\0" * _pad4(len(header) + len(name_b)))
        out.write(data)
        out.write(b"\0" * _pad4(len(data)))


def _split(spec, what):
    if "=" not in spec:
        raise SystemExit("mkcpio: --%s wants GUEST=VALUE, got %r" % (what, spec))
    return spec.split("=", 1)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--file", action="append", default=[],
                   help="GUEST=HOST[:MODE] (octal mode, default 0644)")
    p.add_argument("--dir", action="append", default=[], help="GUEST")
    p.add_argument("--symlink", action="append", default=[],
                   help="GUEST=TARGET")
    args = p.parse_args(argv)

    w = CpioWriter()
    for d in args.dir:
        w.add_dir(d)
    for spec in args.file:
        guest, host = _split(spec, "file")
        mode = 0o644
        head, sep, tail = host.rpartition(":")
        if sep and tail and all(c in "01234567" for c in tail):
            host, mode = head, int(tail, 8)
        with open(host, "rb") as f:
            w.add_file(guest, f.read(), mode)
    for spec in args.symlink:
        guest, target = _split(spec, "symlink")
        w.add_symlink(guest, target)
    tmp = args.output + ".tmp"
    with open(tmp, "wb") as out:
        w.write(out)
    os.replace(tmp, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
