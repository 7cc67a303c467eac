"""The C ABI from another language: Python's ctypes loads liblinx_mount.so.0.

In a throwaway mount namespace (unshare(CLONE_NEWNS) through libc, then "/"
made rprivate through linx_mount itself) this mounts and unmounts a tmpfs,
checks each against /proc/self/mountinfo, and checks the stage and errno a
binding gets back for failing calls.
"""

import ctypes
import errno
import os
import subprocess
import sys
import tempfile
import unittest

CLONE_NEWNS = 0x00020000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

# mount/linx_mount.h
LINX_STAGE_MOUNT = 1
LINX_STAGE_UMOUNT = 2
LINX_STAGE_OPEN_NS = 4
LINX_STAGE_BAD_FLAG = 14


class LinxError(ctypes.Structure):
    _fields_ = [
        ("stage", ctypes.c_int),
        ("errno_value", ctypes.c_int),
        ("message", ctypes.c_char * 512),
    ]


def _library_path():
    root = os.path.join(os.environ["TEST_SRCDIR"], os.environ.get("TEST_WORKSPACE", "linx"))
    return os.path.join(root, "mount", "liblinx_mount.so.0")


def _preload_sanitizer_runtime():
    """Under --config=asan/ubsan/tsan the library needs its sanitizer's
    runtime loaded first, which an uninstrumented python3 does not do: re-exec
    with it in LD_PRELOAD (leak checking off: Python itself would report)."""
    if os.environ.get("LINX_CTYPES_PRELOADED"):
        return
    ldd = subprocess.run(["ldd", _library_path()], capture_output=True, text=True).stdout
    runtimes = [line.split("=>")[1].split()[0] for line in ldd.splitlines()
                if "=>" in line and any(r in line for r in ("libasan.", "libubsan.", "libtsan."))]
    if not runtimes:
        return
    env = dict(os.environ, LINX_CTYPES_PRELOADED="1", LD_PRELOAD=":".join(runtimes),
               ASAN_OPTIONS="detect_leaks=0")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def _load():
    lib = ctypes.CDLL(_library_path(), use_errno=True)
    lib.linx_version.restype = ctypes.c_char_p
    lib.linx_version.argtypes = []
    lib.linx_stage_name.restype = ctypes.c_char_p
    lib.linx_stage_name.argtypes = [ctypes.c_int]
    p = ctypes.c_char_p
    lib.linx_mount.restype = ctypes.c_int
    lib.linx_mount.argtypes = [p, p, p, ctypes.c_ulong, p, p, p, ctypes.c_int,
                               ctypes.POINTER(LinxError)]
    lib.linx_umount.restype = ctypes.c_int
    lib.linx_umount.argtypes = [p, ctypes.c_int, p, ctypes.POINTER(LinxError)]
    return lib


def _mountinfo_targets():
    with open("/proc/self/mountinfo", "rb") as f:
        return [line.split(b" ")[4] for line in f]


class VersionTest(unittest.TestCase):
    """Needs no privilege, so it never skips."""

    def test_version(self):
        lib = _load()
        version = lib.linx_version().decode()
        self.assertRegex(version, r"^\d+\.\d+\.\d+$")
        self.assertEqual(lib.linx_stage_name(LINX_STAGE_UMOUNT), b"umount")


class CtypesTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.lib = _load()
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNS) != 0:
            cls.skip_reason = "unshare(CLONE_NEWNS): " + os.strerror(ctypes.get_errno())
            return
        cls.skip_reason = None
        err = LinxError()
        # Cut propagation to the host with the library itself.
        rc = cls.lib.linx_mount(None, b"/", None, MS_REC | MS_PRIVATE, None, None, None,
                                0, ctypes.byref(err))
        if rc != 0:
            raise AssertionError("make / rprivate: " + err.message.decode())
        # One mount point on the host filesystem (under TEST_TMPDIR, which
        # Bazel removes); every directory the tests make is on this tmpfs.
        cls.scratch = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        rc = cls.lib.linx_mount(b"ctypes-scratch", cls.scratch.encode(), b"tmpfs", 0,
                                b"size=4m", None, None, 0, ctypes.byref(err))
        if rc != 0:
            raise AssertionError("scratch tmpfs: " + err.message.decode())

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "scratch", None):
            err = LinxError()
            cls.lib.linx_umount(cls.scratch.encode(), 2, None, ctypes.byref(err))  # MNT_DETACH

    def setUp(self):
        if self.skip_reason:
            reason = "needs a private mount namespace: " + self.skip_reason
            # CI (LINX_REQUIRE_PRIVILEGED=1) runs as root: a skip is a failure.
            if os.environ.get("LINX_REQUIRE_PRIVILEGED") == "1":
                self.fail("LINX_REQUIRE_PRIVILEGED=1, cannot skip: " + reason)
            self.skipTest(reason)

    def test_mount_and_umount_tmpfs(self):
        target = os.path.join(self.scratch, "t").encode()
        os.mkdir(target)
        err = LinxError()
        rc = self.lib.linx_mount(b"ctypes", target, b"tmpfs", MS_NOSUID | MS_NODEV,
                                 b"size=1m", b"", b"", 0, ctypes.byref(err))
        self.assertEqual(rc, 0, err.message.decode())
        self.assertIn(target, _mountinfo_targets())
        st = os.statvfs(target)
        self.assertTrue(st.f_flag & os.ST_NOSUID)
        self.assertTrue(st.f_flag & os.ST_NODEV)

        rc = self.lib.linx_umount(target, 0, None, ctypes.byref(err))
        self.assertEqual(rc, 0, err.message.decode())
        self.assertNotIn(target, _mountinfo_targets())

    def test_umount_of_non_mount_reports_stage_and_errno(self):
        target = os.path.join(self.scratch, "plain").encode()
        os.mkdir(target)
        err = LinxError()
        rc = self.lib.linx_umount(target, 0, None, ctypes.byref(err))
        self.assertEqual(rc, -1)
        self.assertEqual(err.stage, LINX_STAGE_UMOUNT)
        self.assertEqual(err.errno_value, errno.EINVAL)
        self.assertEqual(ctypes.get_errno(), errno.EINVAL)
        message = err.message.decode()
        self.assertIn("umount", message)
        self.assertIn("EINVAL", message)

    def test_unknown_flag_bit_is_bad_flag_and_mounts_nothing(self):
        target = os.path.join(self.scratch, "badflag").encode()
        os.mkdir(target)
        before = _mountinfo_targets()
        err = LinxError()
        rc = self.lib.linx_mount(b"x", target, b"tmpfs", 1 << 40, None, None, None, 0,
                                 ctypes.byref(err))
        self.assertEqual(rc, -1)
        self.assertEqual(err.stage, LINX_STAGE_BAD_FLAG)
        self.assertEqual(_mountinfo_targets(), before)

    def test_missing_namespace_file_is_open_ns_enoent(self):
        err = LinxError()
        rc = self.lib.linx_umount(b"/x", 0, b"/nonexistent/ns/mnt", ctypes.byref(err))
        self.assertEqual(rc, -1)
        self.assertEqual(err.stage, LINX_STAGE_OPEN_NS)
        self.assertEqual(err.errno_value, errno.ENOENT)


if __name__ == "__main__":
    _preload_sanitizer_runtime()
    unittest.main()
