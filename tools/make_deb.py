"""Builds the Debian packages of linx with dpkg-deb, from the dist tree.

  linx_<v>_<arch>.deb               /usr/bin/linx, linx(1), bash completion
  liblinx-mount0_<v>_<arch>.deb     the C ABI's shared library
  liblinx-mount-dev_<v>_<arch>.deb  headers, liblinx.a, liblinx_mount.so,
                                    pkg-config files (prefix /usr)

Depends come from dpkg-shlibdeps over the ELF files (so the shared library
names Debian's Abseil runtime package, libabsl20220623), plus, for -dev, the
library package of the same version and libabsl-dev (linx.pc requires the
absl_* modules). Everything is local: no network, no root needed
(dpkg-deb --root-owner-group).
"""

import argparse
import gzip
import io
import os
import shutil
import subprocess
import tarfile
import tempfile

from make_dist import PC_C, PC_CXX

MAINTAINER = "linx developers <linx@localhost>"

DESCRIPTIONS = {
    "linx": ("Linux mounts from the command line, in any mount namespace",
             "linx lists, finds and watches mounts (mountinfo or\n"
             " listmount/statmount) and mounts, binds, moves, remounts,\n"
             " unmounts and pivots, in its own or another process's mount\n"
             " namespace, with flags by name and errors that name the stage\n"
             " and the errno."),
    "liblinx-mount0": ("linx C ABI for Linux mounts (shared library)",
                       "liblinx_mount.so.0: mount(2), umount2(2) and\n"
                       " pivot_root(2) in any mount namespace, from C or\n"
                       " any language with a C FFI."),
    "liblinx-mount-dev": ("linx C ABI and C++ API for Linux mounts (development files)",
                          "Headers, the static C++ library liblinx.a, the\n"
                          " liblinx_mount.so link and pkg-config files\n"
                          " linx-mount.pc (C ABI) and linx.pc (C++ API)."),
}


def run(*cmd, cwd=None):
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def shlibs_depends(root, files):
    """dpkg-shlibdeps' Depends for ELF `files` inside package tree `root`."""
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "debian"))
        with open(os.path.join(d, "debian", "control"), "w") as f:
            f.write("Source: linx\n\nPackage: linx\nArchitecture: any\n")
        args = ["dpkg-shlibdeps", "-O"] + ["-e" + os.path.join(root, p) for p in files]
        r = subprocess.run(args, cwd=d, check=True, capture_output=True, text=True)
    for line in r.stdout.splitlines():
        if line.startswith("shlibs:Depends="):
            return [dep.strip() for dep in line.split("=", 1)[1].split(",") if dep.strip()]
    return []


def installed_size_kib(root):
    total = 0
    for dirpath, _, names in os.walk(root):
        if os.path.basename(dirpath) == "DEBIAN":
            continue
        for n in names:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return (total + 1023) // 1024


def build(name, root, version, arch, depends, out_dir, extra=None):
    os.makedirs(os.path.join(root, "DEBIAN"), exist_ok=True)
    short, long_ = DESCRIPTIONS[name]
    fields = [
        ("Package", name),
        ("Version", version),
        ("Architecture", arch),
        ("Maintainer", MAINTAINER),
        ("Installed-Size", str(installed_size_kib(root))),
        ("Depends", ", ".join(depends)),
        ("Section", "admin" if name == "linx" else
         "libdevel" if name.endswith("-dev") else "libs"),
        ("Priority", "optional"),
        ("Description", short + "\n " + long_),
    ]
    with open(os.path.join(root, "DEBIAN", "control"), "w") as f:
        for k, v in fields:
            if v:
                f.write("%s: %s\n" % (k, v))
    for fname, content in (extra or {}).items():
        with open(os.path.join(root, "DEBIAN", fname), "w") as f:
            f.write(content)
    out = os.path.join(out_dir, "%s_%s_%s.deb" % (name, version, arch))
    env = dict(os.environ, SOURCE_DATE_EPOCH="0")
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, out],
                   check=True, capture_output=True, env=env)
    return out


def put(root, path, data, mode=0o644):
    full = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(data)
    os.chmod(full, mode)


def link(root, path, target):
    full = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    os.symlink(target, full)


def gz(data):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as g:
        g.write(data)
    return buf.getvalue()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dist", required=True)
    p.add_argument("--linx", required=True)
    p.add_argument("--man", required=True)
    p.add_argument("--completion", required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--arch", required=True)
    p.add_argument("--absl", default="", help="absl_* pkg-config modules")
    p.add_argument("--out-dir", required=True)
    a = p.parse_args()

    arch = run("dpkg", "--print-architecture")
    if arch != a.arch:
        raise SystemExit("make_deb: building for %s but dpkg says %s" % (a.arch, arch))
    multiarch = run("dpkg-architecture", "-qDEB_HOST_MULTIARCH") \
        if shutil.which("dpkg-architecture") else run("gcc", "-print-multiarch")
    libdir = "/usr/lib/" + multiarch
    v = a.version
    real = "liblinx_mount.so." + v

    with tempfile.TemporaryDirectory() as tmp, tarfile.open(a.dist) as dist:
        def member(name):
            return dist.extractfile(name).read()

        # linx
        root = os.path.join(tmp, "linx")
        with open(a.linx, "rb") as f:
            put(root, "/usr/bin/linx", f.read(), 0o755)
        with open(a.man, "rb") as f:
            put(root, "/usr/share/man/man1/linx.1.gz", gz(f.read()))
        with open(a.completion, "rb") as f:
            put(root, "/usr/share/bash-completion/completions/linx", f.read())
        build("linx", root, v, arch, shlibs_depends(root, ["usr/bin/linx"]), a.out_dir)

        # liblinx-mount0
        root = os.path.join(tmp, "lib")
        put(root, libdir + "/" + real, member("lib/" + real), 0o644)
        link(root, libdir + "/liblinx_mount.so.0", real)
        deps = shlibs_depends(root, [libdir.lstrip("/") + "/" + real])
        build("liblinx-mount0", root, v, arch, deps, a.out_dir, extra={
            "shlibs": "liblinx_mount 0 liblinx-mount0 (>= %s)\n" % v,
            "triggers": "activate-noawait ldconfig\n",
        })

        # liblinx-mount-dev
        root = os.path.join(tmp, "dev")
        for m in dist.getmembers():
            if m.name.startswith("include/") and m.isfile():
                put(root, "/usr/" + m.name, member(m.name))
        put(root, libdir + "/liblinx.a", member("lib/liblinx.a"))
        link(root, libdir + "/liblinx_mount.so", "liblinx_mount.so.0")
        requires = ", ".join(x for x in a.absl.split(",") if x)
        if not requires:
            requires = next(
                (l.split(":", 1)[1].strip() for l in
                 member("lib/pkgconfig/linx.pc").decode().splitlines()
                 if l.startswith("Requires:")), "")
        dirs = {"prefix": "/usr", "libdir": "${prefix}/lib/" + multiarch}
        put(root, libdir + "/pkgconfig/linx-mount.pc",
            PC_C.format(version=v, **dirs).encode())
        put(root, libdir + "/pkgconfig/linx.pc",
            PC_CXX.format(version=v, requires=requires, **dirs).encode())
        build("liblinx-mount-dev", root, v, arch,
              ["liblinx-mount0 (= %s)" % v, "libabsl-dev"], a.out_dir)


if __name__ == "__main__":
    main()
