#!/usr/bin/env python3
"""//vmtest:mkcpio_test: the newc writer is deterministic, adds parent
directories, and GNU cpio (when installed) reads back what it wrote."""

import io
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mkcpio  # noqa: E402


def build():
    w = mkcpio.CpioWriter()
    w.add_file("/bin/tool", b"#!/bin/sh\necho hi\n", 0o755)
    w.add_symlink("/bin/sh", "tool")
    w.add_dir("/proc")
    w.add_file("/a/b/c/data", b"x" * 5)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


class MkcpioTest(unittest.TestCase):

    def test_deterministic(self):
        self.assertEqual(build(), build())

    def test_layout(self):
        data = build()
        self.assertTrue(data.startswith(b"070701"))
        self.assertEqual(len(data) % 512, 0)
        self.assertIn(b"TRAILER!!!\0", data)
        names = []
        pos = 0
        while True:
            hdr = data[pos:pos + 110]
            namesize = int(hdr[94:102], 16)
            filesize = int(hdr[54:62], 16)
            name = data[pos + 110:pos + 110 + namesize - 1].decode()
            if name == "TRAILER!!!":
                break
            names.append(name)
            pos += 110 + namesize
            pos += (4 - pos % 4) % 4
            pos += filesize
            pos += (4 - pos % 4) % 4
        self.assertEqual(names, ["a", "a/b", "a/b/c", "a/b/c/data", "bin",
                                 "bin/sh", "bin/tool", "proc"])

    def test_gnu_cpio_extracts_it(self):
        # tools/bazel installs cpio; a check that needs no privilege never
        # skips, so a missing cpio is a failure.
        self.assertIsNotNone(shutil.which("cpio"), "GNU cpio not installed")
        d = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        subprocess.run(["cpio", "-id", "--quiet", "--no-absolute-filenames"],
                       input=build(), cwd=d, check=True)
        with open(os.path.join(d, "a/b/c/data"), "rb") as f:
            self.assertEqual(f.read(), b"xxxxx")
        self.assertEqual(os.readlink(os.path.join(d, "bin/sh")), "tool")
        self.assertEqual(os.stat(os.path.join(d, "bin/tool")).st_mode & 0o777,
                         0o755)


if __name__ == "__main__":
    unittest.main()
