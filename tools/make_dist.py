"""Packs the linx install tree (see tools/dist.bzl) into a tar."""

import argparse
import io
import os
import subprocess
import tarfile
import tempfile

# pkg-config files, shared with make_deb.py: {prefix} and {libdir} say
# where the tree is installed (here relocatable: ${pcfiledir}/../..).
PC_C = """prefix={prefix}
libdir={libdir}
includedir=${{prefix}}/include

Name: linx-mount
Description: linx C ABI for Linux mounts (mount, umount2, pivot_root in any namespace)
Version: {version}
Libs: -L${{libdir}} -llinx_mount
Cflags: -I${{includedir}}/linx
"""

PC_CXX = """prefix={prefix}
libdir={libdir}
includedir=${{prefix}}/include

Name: linx
Description: linx C++ API for Linux mounts (static library)
Version: {version}
Requires: {requires}
Libs: -L${{libdir}} -llinx -pthread
Cflags: -I${{includedir}}/linx -std=c++17
"""

PC_DIRS = {"prefix": "${pcfiledir}/../..", "libdir": "${prefix}/lib"}


def add_bytes(tar, name, data, mode=0o644):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def add_symlink(tar, name, target):
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    info.mtime = 0
    tar.addfile(info)


def merged_archive(archives):
    """One static archive holding every object of `archives` (ar's MRI script
    keeps members whose base names collide across packages)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "liblinx.a")
        script = "CREATE %s\n" % out
        script += "".join("ADDLIB %s\n" % os.path.abspath(a) for a in archives)
        script += "SAVE\nEND\n"
        subprocess.run(["ar", "-M"], input=script.encode(), check=True)
        with open(out, "rb") as f:
            return f.read()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--shared", required=True)
    p.add_argument("--absl", default="")
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--archive", action="append", default=[])
    a = p.parse_args()

    soname = "liblinx_mount.so.0"
    real = "liblinx_mount.so." + a.version
    requires = ", ".join(m for m in a.absl.split(",") if m)
    with tarfile.open(a.out, "w", format=tarfile.GNU_FORMAT) as tar:
        with open(a.shared, "rb") as f:
            add_bytes(tar, "lib/" + real, f.read(), 0o755)
        add_symlink(tar, "lib/" + soname, real)
        add_symlink(tar, "lib/liblinx_mount.so", soname)
        add_bytes(tar, "lib/liblinx.a", merged_archive(a.archive))
        for spec in a.header:
            short, path = spec.split("=", 1)
            with open(path, "rb") as f:
                add_bytes(tar, "include/linx/" + short, f.read())
        add_bytes(tar, "lib/pkgconfig/linx-mount.pc",
                  PC_C.format(version=a.version, **PC_DIRS).encode())
        add_bytes(tar, "lib/pkgconfig/linx.pc",
                  PC_CXX.format(version=a.version, requires=requires,
                                **PC_DIRS).encode())


if __name__ == "__main__":
    main()
