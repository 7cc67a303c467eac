#!/usr/bin/env python3
"""Boots a Debian kernel under QEMU with the vmtest initramfs and judges it.

As a Bazel test (//vmtest:scenarios_<kernel>):
  run_vm.py --kernel linux_6_12 --initramfs vmtest/initramfs.cpio

By hand (see docs/vmtest.md):
  bazel build //vmtest:initramfs
  vmtest/run_vm.py --kernel linux_6_1 --initramfs bazel-bin/vmtest/initramfs.cpio
  vmtest/run_vm.py --kernel linux_6_1 --initramfs ... --shell    # busybox sh
  vmtest/run_vm.py ... container_recipe propagation             # some only

The verdict needs BOTH channels to agree: QEMU's exit code from the guest's
isa-debug-exit write (1 = all passed, 3 = something failed) AND the guest's
@@LINX-DONE summary line with a result for every scenario in @@LINX-PLAN.
Anything else is reported as "VM did not boot" (no guest output at all) or
"VM stopped early" with the console tail.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.sax.saxutils

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
import kernels  # noqa: E402  pylint: disable=wrong-import-position

CMDLINE = ("console=ttyS0 panic=-1 quiet 8250.nr_uarts=1 cryptomgr.notests "
           "initcall_blacklist=jent_mod_init")

_LINE = re.compile(
    r'^@@LINX (\S+) (PASS|FAIL|SKIP) reason="((?:[^"\\]|\\.)*)" elapsed_ms=(\d+)')


class Result:
    def __init__(self):
        self.rc = None             # QEMU's exit code (None: timed out)
        self.timed_out = False
        self.accel = None
        self.boot_seconds = 0.0
        self.kernel_release = None
        self.plan = None           # scenario names the guest announced
        self.scenarios = []        # (name, outcome, reason, elapsed_ms)
        self.done = None           # (pass, fail, skip) from @@LINX-DONE
        self.console = ""
        self.verdict = None        # "pass", "fail", "no-boot", "early-stop"
        self.message = ""

    def failed(self):
        return [s[0] for s in self.scenarios if s[1] == "FAIL"]


def kvm_usable():
    """The facts-file rule: a real VT-x/AMD-V KVM, not PVM or nothing."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "/dev/kvm missing or not writable"
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False, "no /proc/cpuinfo"
    if not re.search(r"^flags\s*:.*\b(vmx|svm)\b", flags, re.M):
        return False, "no vmx/svm in /proc/cpuinfo (e.g. PVM nested KVM)"
    if not (os.path.exists("/sys/module/kvm_intel") or
            os.path.exists("/sys/module/kvm_amd")):
        return False, "neither kvm_intel nor kvm_amd is loaded"
    return True, "kvm"


def qemu_command(accel, vmlinux, initrd, guest_args, console_path,
                 interactive=False):
    cmd = ["qemu-system-x86_64", "-M", "q35", "-m", "512M", "-smp", "1",
           "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-kernel", vmlinux, "-initrd", initrd,
           "-append", "%s -- --vm-guest %s" % (CMDLINE, " ".join(guest_args))]
    if accel == "kvm":
        cmd += ["-accel", "kvm", "-cpu", "host"]
    else:
        cmd += ["-accel", "tcg"]
    if interactive:
        cmd += ["-serial", "mon:stdio"]
    else:
        cmd += ["-chardev", "file,id=con,path=%s" % console_path,
                "-serial", "chardev:con"]
    return cmd


def parse_console(text, result):
    text = text.replace("\r", "")
    result.console = text
    for line in text.splitlines():
        # A kernel message may share the line: find the marker anywhere.
        i = line.find("@@LINX")
        if i < 0:
            continue
        line = line[i:]
        m = _LINE.match(line)
        if m:
            reason = re.sub(r"\\(.)", r"\1", m.group(3))
            result.scenarios.append((m.group(1), m.group(2), reason,
                                     int(m.group(4))))
        elif line.startswith("@@LINX-PLAN "):
            result.plan = line.split()[1:]
        elif line.startswith("@@LINX-KERNEL "):
            result.kernel_release = line.split()[1].partition("=")[2]
        elif line.startswith("@@LINX-DONE "):
            kv = dict(p.split("=", 1) for p in line.split()[1:] if "=" in p)
            try:
                result.done = (int(kv["pass"]), int(kv["fail"]), int(kv["skip"]))
            except (KeyError, ValueError):
                pass


def judge(result):
    tail = "\n".join(result.console.splitlines()[-40:])
    if result.timed_out and not result.scenarios and result.plan is None:
        result.verdict = "no-boot"
        result.message = ("VM did not boot: no guest output before the timeout"
                          "\n--- console tail ---\n" + tail)
        return
    if result.plan is None:
        result.verdict = "no-boot"
        result.message = ("VM did not boot: QEMU exited with %s before the "
                          "guest runner started\n--- console tail ---\n%s" %
                          (result.rc, tail))
        return
    reported = {s[0] for s in result.scenarios}
    missing = [n for n in result.plan if n not in reported]
    failed = result.failed()
    if result.done is None or missing or result.rc not in (1, 3):
        why = "timed out" if result.timed_out else "QEMU exit code %s" % result.rc
        result.verdict = "early-stop"
        result.message = ("VM stopped early (%s); no result for: %s%s"
                          "\n--- console tail ---\n%s" %
                          (why, " ".join(missing) or "-",
                           "; failed: " + " ".join(failed) if failed else "",
                           tail))
        return
    if result.rc == 1 and not failed and result.done[1] == 0:
        result.verdict = "pass"
        result.message = "all %d scenarios passed (%d skipped)" % (
            len(result.plan), result.done[2])
        return
    if result.rc == 3 and failed:
        result.verdict = "fail"
        lines = ["FAILED scenario %s: %s" % (s[0], s[2])
                 for s in result.scenarios if s[1] == "FAIL"]
        result.message = "\n".join(lines)
        return
    result.verdict = "early-stop"
    result.message = ("inconsistent verdict: QEMU exit %s, summary %r, failed "
                      "lines %r\n--- console tail ---\n%s" %
                      (result.rc, result.done, failed, tail))


def boot(vmlinux, initrd, guest_args, accel, timeout, workdir):
    result = Result()
    result.accel = accel
    console = os.path.join(workdir, "console-%s.log" % accel)
    cmd = qemu_command(accel, vmlinux, initrd, guest_args, console)
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        result.rc = p.returncode
        qemu_out = p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        result.timed_out = True
        qemu_out = (e.stdout or b"").decode(errors="replace")
    result.boot_seconds = time.monotonic() - t0
    text = ""
    if os.path.exists(console):
        with open(console, "rb") as f:
            text = f.read().decode(errors="replace")
    if qemu_out.strip():
        text += "\n[qemu] " + qemu_out.strip()
    parse_console(text, result)
    judge(result)
    return result


def prepare_initrd(kernel_dir, initramfs, workdir):
    """Per-kernel modules cpio + the shared userspace cpio, concatenated."""
    initrd = os.path.join(workdir, "initrd.cpio")
    with open(initrd, "wb") as out:
        for part in (os.path.join(kernel_dir, "modules.cpio"), initramfs):
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out)
    return initrd


def run(kernel, initramfs, guest_args, accel="auto", timeout=120,
        workdir=None, log=sys.stdout):
    """Fetches `kernel` (a vmtest/KERNELS name), boots it, returns a Result."""
    workdir = workdir or tempfile.mkdtemp(prefix="vmtest-")
    kdir = kernels.fetch(kernel, log=log)
    initrd = prepare_initrd(kdir, initramfs, workdir)
    vmlinux = os.path.join(kdir, "vmlinux")
    if accel == "auto":
        ok, why = kvm_usable()
        print("vmtest: accelerator: %s" % ("kvm (probing)" if ok else
                                           "tcg (%s)" % why), file=log)
        if ok:
            # A first boot under KVM is the probe: if the guest never runs
            # our code, fall back to TCG (PVM-style /dev/kvm can look fine).
            r = boot(vmlinux, initrd, guest_args, "kvm", min(timeout, 30),
                     workdir)
            if r.verdict in ("pass", "fail"):
                return r
            print("vmtest: KVM boot unusable (%s); falling back to TCG" %
                  r.message.splitlines()[0], file=log)
        accel = "tcg"
    return boot(vmlinux, initrd, guest_args, accel, timeout, workdir)


def write_junit(path, kernel, result):
    qa = xml.sax.saxutils.quoteattr
    cases = []
    for name, outcome, reason, ms in result.scenarios:
        body = ""
        if outcome == "FAIL":
            body = "<failure message=%s/>" % qa(reason)
        elif outcome == "SKIP":
            body = "<skipped message=%s/>" % qa(reason)
        cases.append('  <testcase classname=%s name=%s time="%.3f">%s</testcase>'
                     % (qa("vmtest." + kernel), qa(name), ms / 1000.0, body))
    if result.verdict not in ("pass", "fail"):
        cases.append('  <testcase classname=%s name="vm"><failure message=%s/>'
                     '</testcase>' % (qa("vmtest." + kernel),
                                      qa(result.message.splitlines()[0])))
    fails = sum(1 for s in result.scenarios if s[1] == "FAIL") + (
        0 if result.verdict in ("pass", "fail") else 1)
    with open(path, "w") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n'
                '<testsuite name=%s tests="%d" failures="%d">\n%s\n'
                '</testsuite>\n</testsuites>\n' %
                (qa("vmtest." + kernel), len(cases), fails, "\n".join(cases)))


def print_result(kernel, result, log=sys.stdout):
    print("vmtest: kernel %s (%s), accel %s, QEMU wall %.2f s, exit code %s" %
          (kernel, result.kernel_release or "?", result.accel,
           result.boot_seconds, "timeout" if result.timed_out else result.rc),
          file=log)
    for name, outcome, reason, ms in result.scenarios:
        print("  %-4s %-28s %5d ms  %s" % (outcome, name, ms, reason), file=log)
    print("vmtest: %s: %s" % (result.verdict.upper(), result.message), file=log)


def main(argv):
    p = argparse.ArgumentParser(description="Boot a vmtest kernel.")
    p.add_argument("--kernel", required=True, help="a name from vmtest/KERNELS")
    p.add_argument("--initramfs", required=True)
    p.add_argument("--accel", choices=["auto", "tcg", "kvm"], default="auto")
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--fail-demo", action="store_true",
                   help="also run the deliberately failing/hanging scenarios")
    p.add_argument("--shell", action="store_true",
                   help="interactive: boot into a busybox shell on this tty")
    p.add_argument("scenarios", nargs="*", help="run only these")
    args = p.parse_args(argv)

    guest_args = list(args.scenarios)
    if args.fail_demo:
        guest_args.append("--fail-demo")
    try:
        if args.shell:
            kdir = kernels.fetch(args.kernel)
            workdir = tempfile.mkdtemp(prefix="vmtest-shell-")
            initrd = prepare_initrd(kdir, args.initramfs, workdir)
            accel = "kvm" if (args.accel == "kvm" or (
                args.accel == "auto" and kvm_usable()[0])) else "tcg"
            cmd = qemu_command(accel, os.path.join(kdir, "vmlinux"), initrd,
                               ["--shell"] + guest_args, None, interactive=True)
            print("vmtest: %s\n(Ctrl-A X quits QEMU)" % " ".join(cmd))
            return subprocess.call(cmd)
        workdir = os.environ.get("TEST_TMPDIR")
        result = run(args.kernel, args.initramfs, guest_args, args.accel,
                     args.timeout, workdir)
    except kernels.FetchError as e:
        print("vmtest: FAIL: cannot get kernel %s: %s" % (args.kernel, e))
        return 1
    print_result(args.kernel, result)
    outdir = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR")
    if outdir:
        with open(os.path.join(outdir, "console.log"), "w") as f:
            f.write(result.console)
    if os.environ.get("XML_OUTPUT_FILE"):
        write_junit(os.environ["XML_OUTPUT_FILE"], args.kernel, result)
    return 0 if result.verdict == "pass" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
