#!/usr/bin/env python3
"""Fetches the vmtest kernels from Debian's archive and caches them.

  kernels.py fetch linux_6_12      # prints the cache directory
  kernels.py list                  # the matrix from vmtest/KERNELS

For a kernel named in vmtest/KERNELS this
  1. resolves the package: a meta package (linux-image-cloud-amd64) through its
     Depends to the newest linux-image-<abi> in the local apt lists, then its
     candidate version, Filename and SHA256 (`apt-cache show`);
  2. if <cache>/<package>_<version>/.complete exists, returns that directory;
  3. otherwise, under an flock (parallel tests for the same kernel wait for
     each other), `apt-get download`s the .deb (after one `apt-get update` if
     the lists are stale), checks its SHA256, extracts boot/vmlinuz-*,
     boot/config-* and overlay.ko(.xz), decompresses the module, extracts the
     uncompressed PVH ELF `vmlinux` from the bzImage (QEMU boots it directly,
     skipping the slow in-guest decompression under TCG), packs
     /modules/overlay.ko as modules.cpio, and marks the directory complete.

The cache lives outside the source tree: $LINX_VMTEST_CACHE, else
/var/cache/linx-vmtest when writable, else $XDG_CACHE_HOME/linx-vmtest or
~/.cache/linx-vmtest. If apt cannot resolve a package (no lists), the last
version cached for that kernel is used with a warning. If nothing is cached
and the archive is unreachable, FetchError says so: tests fail, never pass.
"""

import fcntl
import hashlib
import io
import json
import lzma
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
import mkcpio  # noqa: E402  pylint: disable=wrong-import-position


class FetchError(Exception):
    pass


def kernels_file():
    return os.path.join(_HERE, "KERNELS")


def read_matrix(path=None):
    """Returns [(name, package_spec)] from vmtest/KERNELS, in file order."""
    out = []
    with open(path or kernels_file()) as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 2 or not re.fullmatch(r"[a-z0-9_]+", parts[0]):
                raise FetchError("%s:%d: want '<name> <package>', got %r" %
                                 (path or "vmtest/KERNELS", lineno, line))
            out.append((parts[0], parts[1]))
    return out


def cache_root():
    env = os.environ.get("LINX_VMTEST_CACHE")
    if env:
        os.makedirs(env, exist_ok=True)
        return env
    sysdir = "/var/cache/linx-vmtest"
    try:
        os.makedirs(sysdir, exist_ok=True)
        if os.access(sysdir, os.W_OK):
            return sysdir
    except OSError:
        pass
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    d = os.path.join(base, "linx-vmtest")
    os.makedirs(d, exist_ok=True)
    return d


def _run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, **kw)


def _apt_env():
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    env["DEBIAN_FRONTEND"] = "noninteractive"
    return env


def _show(pkg, version=None):
    """apt-cache show fields of pkg (candidate, or the given version)."""
    spec = pkg if version is None else "%s=%s" % (pkg, version)
    r = _run(["apt-cache", "show", "--no-all-versions", spec], env=_apt_env())
    if r.returncode != 0 or not r.stdout.strip():
        return None
    fields = {}
    for line in r.stdout.splitlines():
        m = re.match(r"^([A-Za-z0-9-]+): (.*)$", line)
        if m and m.group(1) not in fields:
            fields[m.group(1)] = m.group(2)
    return fields


def resolve(spec):
    """Package spec -> dict(package, version, filename, sha256) or None."""
    pkg, _, version = spec.partition("=")
    fields = _show(pkg, version or None)
    if fields is None:
        return None
    # A meta package: follow its linux-image-* dependency (one level).
    if not version:
        deps = fields.get("Depends", "")
        m = re.search(r"\b(linux-image-[0-9][^\s,(|]*)", deps)
        if m:  # real kernel packages depend on kmod etc., never on another
            inner = _show(m.group(1))
            if inner is None:
                return None
            pkg, fields = m.group(1), inner
    if "SHA256" not in fields:
        return None
    return {
        "package": fields.get("Package", pkg),
        "version": fields["Version"],
        "filename": fields.get("Filename", ""),
        "sha256": fields["SHA256"],
    }


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _download(info, workdir):
    spec = "%s=%s" % (info["package"], info["version"])
    errors = []
    for attempt in range(2):
        if attempt == 1:
            # The lists may name a version the archive has rotated out.
            u = _run(["apt-get", "update", "-qq"], env=_apt_env())
            if u.returncode != 0:
                errors.append("apt-get update: " + u.stderr.strip()[-400:])
        r = _run(["apt-get", "download", "-qq", spec], cwd=workdir,
                 env=_apt_env())
        debs = [f for f in os.listdir(workdir) if f.endswith(".deb")]
        if r.returncode == 0 and debs:
            return os.path.join(workdir, debs[0])
        errors.append("apt-get download %s: rc=%d %s" %
                      (spec, r.returncode, r.stderr.strip()[-400:]))
    raise FetchError(
        "could not download kernel package %s from Debian's archive "
        "(vmtest needs the archive once per kernel version; the cache is "
        "empty). Details:\n  %s" % (spec, "\n  ".join(errors)))


# --- bzImage -> PVH vmlinux ---------------------------------------------------

def _decompress(payload):
    """Decompresses a bzImage payload; returns bytes (maybe with junk at end)."""
    if payload.startswith(b"\xfd7zXZ\x00"):
        d = lzma.LZMADecompressor()
        return d.decompress(payload)
    if payload.startswith(b"\x1f\x8b"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(payload)
    tools = {
        b"\x28\xb5\x2f\xfd": ["zstd", "-dc", "-q"],
        b"\x02\x21\x4c\x18": ["lz4", "-dc", "-q"],
    }
    for magic, cmd in tools.items():
        if payload.startswith(magic):
            # The kernel appends the uncompressed size after the stream; the
            # tools complain about that trailer but have written everything.
            r = subprocess.run(cmd, input=payload, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
            return r.stdout
    raise FetchError("unknown bzImage payload compression, magic %r" %
                     payload[:6])


def extract_vmlinux(bzimage_path, out_path):
    with open(bzimage_path, "rb") as f:
        data = f.read()
    if data[0x202:0x206] != b"HdrS":
        raise FetchError("%s is not a bzImage" % bzimage_path)
    setup_sects = data[0x1f1] or 4
    pm_start = (setup_sects + 1) * 512
    payload_offset, payload_length = struct.unpack_from("<II", data, 0x248)
    start = pm_start + payload_offset
    elf = _decompress(data[start:start + payload_length])
    if not elf.startswith(b"\x7fELF"):
        raise FetchError("decompressed payload of %s is not an ELF file" %
                         bzimage_path)
    # Check the program headers lie inside what we got (a truncated stream
    # would otherwise boot into garbage).
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    end = 0
    for i in range(phnum):
        off = phoff + i * phentsize
        p_offset, = struct.unpack_from("<Q", elf, off + 8)
        p_filesz, = struct.unpack_from("<Q", elf, off + 32)
        end = max(end, p_offset + p_filesz)
    if end > len(elf):
        raise FetchError("vmlinux from %s is truncated (%d < %d)" %
                         (bzimage_path, len(elf), end))
    with open(out_path, "wb") as f:
        f.write(elf[:max(end, len(elf))])


# --- the cache entry ---------------------------------------------------------

def _populate(info, final_dir):
    root = os.path.dirname(final_dir)
    work = tempfile.mkdtemp(prefix=".tmp-", dir=root)
    try:
        deb = _download(info, work)
        got = _sha256(deb)
        if got != info["sha256"]:
            raise FetchError("%s: sha256 %s, apt lists say %s" %
                             (deb, got, info["sha256"]))
        x = os.path.join(work, "x")
        os.makedirs(x)
        r = _run(["bash", "-o", "pipefail", "-c",
                  'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards '
                  '"./boot/vmlinuz-*" "./boot/config-*" '
                  '"./lib/modules/*/kernel/fs/overlayfs/overlay.ko*"',
                  "_", deb, x])
        if r.returncode != 0:
            raise FetchError("extracting %s failed: %s" % (deb, r.stderr[-400:]))
        out = os.path.join(work, "out")
        os.makedirs(out)
        boot = os.path.join(x, "boot")
        vmlinuz = [f for f in os.listdir(boot) if f.startswith("vmlinuz-")]
        configs = [f for f in os.listdir(boot) if f.startswith("config-")]
        if len(vmlinuz) != 1:
            raise FetchError("%s: expected one boot/vmlinuz-*, got %r" % (deb, vmlinuz))
        release = vmlinuz[0][len("vmlinuz-"):]
        shutil.move(os.path.join(boot, vmlinuz[0]), os.path.join(out, "vmlinuz"))
        if configs:
            shutil.move(os.path.join(boot, configs[0]), os.path.join(out, "config"))
        extract_vmlinux(os.path.join(out, "vmlinuz"), os.path.join(out, "vmlinux"))
        ko = None
        for dirpath, _, files in os.walk(os.path.join(x, "lib")):
            for f in files:
                if f.startswith("overlay.ko"):
                    ko = os.path.join(dirpath, f)
        w = mkcpio.CpioWriter()
        w.add_dir("/modules")
        if ko:
            with open(ko, "rb") as f:
                data = f.read()
            if ko.endswith(".xz"):
                data = lzma.decompress(data)
            elif ko.endswith(".zst"):
                data = subprocess.run(["zstd", "-dc"], input=data,
                                      stdout=subprocess.PIPE, check=True).stdout
            w.add_file("/modules/overlay.ko", data)
        with open(os.path.join(out, "modules.cpio"), "wb") as f:
            w.write(f)
        meta = dict(info)
        meta["release"] = release
        meta["deb_size"] = os.path.getsize(deb)
        with open(os.path.join(out, "kernel.json"), "w") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
        with open(os.path.join(out, ".complete"), "w") as f:
            f.write("ok\n")
        if os.path.exists(final_dir):
            shutil.rmtree(final_dir)
        os.rename(out, final_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _lists_stamp():
    try:
        st = os.stat("/var/lib/apt/lists")
        return "%d" % st.st_mtime_ns
    except OSError:
        return None


def _resolve_cached(root, name, spec):
    """resolve(spec), remembered until apt's lists change (apt-cache is slow)."""
    stamp = _lists_stamp()
    path = os.path.join(root, name + ".resolved")
    try:
        with open(path) as f:
            saved = json.load(f)
        if stamp and saved.get("spec") == spec and saved.get("stamp") == stamp:
            return saved["info"]
    except (OSError, ValueError, KeyError):
        pass
    info = resolve(spec)
    if info is not None and stamp:
        tmp = path + ".tmp%d" % os.getpid()
        with open(tmp, "w") as f:
            json.dump({"spec": spec, "stamp": stamp, "info": info}, f)
        os.replace(tmp, path)
    return info


def fetch(name, log=sys.stderr):
    """Returns the cache directory of kernel `name` (vmlinux, modules.cpio, ...)."""
    matrix = dict(read_matrix())
    if name not in matrix:
        raise FetchError("kernel %r is not in vmtest/KERNELS (have: %s)" %
                         (name, ", ".join(sorted(matrix))))
    root = cache_root()
    last_file = os.path.join(root, name + ".last")
    info = _resolve_cached(root, name, matrix[name])
    if info is None:
        if os.path.exists(last_file):
            with open(last_file) as f:
                key = f.read().strip()
            d = os.path.join(root, key)
            if os.path.exists(os.path.join(d, ".complete")):
                print("vmtest: WARNING: apt cannot resolve %s; using the "
                      "cached %s" % (matrix[name], key), file=log)
                return d
        raise FetchError(
            "apt cannot resolve %s (kernel %s) and nothing is cached; run "
            "`apt-get update`, or fix the line in vmtest/KERNELS" %
            (matrix[name], name))
    key = "%s_%s" % (info["package"], info["version"].replace(":", "%3a"))
    d = os.path.join(root, key)
    if not os.path.exists(os.path.join(d, ".complete")):
        with open(os.path.join(root, key + ".lock"), "w") as lockf:
            fcntl.flock(lockf, fcntl.LOCK_EX)
            if not os.path.exists(os.path.join(d, ".complete")):
                print("vmtest: fetching %s=%s from Debian's archive into %s" %
                      (info["package"], info["version"], d), file=log)
                _populate(info, d)
    tmp = last_file + ".tmp%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write(key + "\n")
    os.replace(tmp, last_file)
    return d


def main(argv):
    if len(argv) == 1 and argv[0] == "list":
        for name, spec in read_matrix():
            info = resolve(spec)
            print("%-12s %-32s %s" % (name, spec, "%s=%s" % (
                info["package"], info["version"]) if info else "UNRESOLVED"))
        return 0
    if len(argv) == 2 and argv[0] == "fetch":
        try:
            print(fetch(argv[1]))
        except FetchError as e:
            print("vmtest: %s" % e, file=sys.stderr)
            return 1
        return 0
    print("usage: kernels.py list | fetch <name>", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
