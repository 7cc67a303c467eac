#!/usr/bin/env python3
"""//vmtest:harness_selftest: the harness reports broken guests correctly.

1. With --fail-demo the guest also runs `fail_demo` (fails) and `hang_demo`
   (hangs until its 2 s watchdog): both must come out as named FAILs, every
   other scenario must still report, and the run must end well before the
   VM timeout (a hang is a failure, not a hung test).
2. A guest whose init cannot start (init=/nonexistent rdinit=/nonexistent)
   must be reported as "VM did not boot" with the console tail.
Both boot the first kernel in vmtest/KERNELS.
"""

import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kernels  # noqa: E402
import run_vm  # noqa: E402

INITRAMFS = None


class HarnessSelfTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.kernel = kernels.read_matrix()[0][0]

    def workdir(self):
        return tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))

    def test_failing_and_hanging_scenarios_are_named_failures(self):
        t0 = time.monotonic()
        r = run_vm.run(self.kernel, INITRAMFS,
                       ["--fail-demo", "move_mount_point"], timeout=120,
                       workdir=self.workdir())
        run_vm.print_result(self.kernel, r)
        self.assertLess(time.monotonic() - t0, 60)
        self.assertEqual(r.verdict, "fail", r.message)
        self.assertEqual(r.rc, 3)
        self.assertEqual(sorted(r.failed()), ["fail_demo", "hang_demo"])
        self.assertIn("FAILED scenario fail_demo: ", r.message)
        self.assertIn("deliberate failure", r.message)
        self.assertIn("FAILED scenario hang_demo: watchdog", r.message)
        outcomes = {s[0]: s[1] for s in r.scenarios}
        self.assertEqual(outcomes.get("move_mount_point"), "PASS")
        self.assertEqual(outcomes.get("pivot_root_from_rootfs"), "PASS")
        self.assertEqual(r.done, (2, 2, 0))

    def test_guest_without_init_is_vm_did_not_boot(self):
        saved = run_vm.CMDLINE
        run_vm.CMDLINE = saved + " init=/nonexistent rdinit=/nonexistent"
        try:
            r = run_vm.run(self.kernel, INITRAMFS, [], timeout=60,
                           workdir=self.workdir())
        finally:
            run_vm.CMDLINE = saved
        run_vm.print_result(self.kernel, r)
        self.assertEqual(r.verdict, "no-boot", r.message)
        self.assertTrue(r.message.startswith("VM did not boot"), r.message)
        self.assertIn("--- console tail ---", r.message)

    def test_judge_flags_a_missing_scenario(self):
        r = run_vm.Result()
        r.rc = 1
        run_vm.parse_console(
            "@@LINX-PLAN a b\r\n"
            '@@LINX a PASS reason="" elapsed_ms=3\r\n'
            "@@LINX-DONE pass=1 fail=0 skip=0\r\n", r)
        run_vm.judge(r)
        self.assertEqual(r.verdict, "early-stop")
        self.assertIn("no result for: b", r.message)

    def test_judge_needs_both_channels(self):
        # Summary says pass but QEMU's exit code is a poweroff (0), not the
        # debug-exit "pass" (1): not trusted.
        r = run_vm.Result()
        r.rc = 0
        run_vm.parse_console(
            "@@LINX-PLAN a\n" '@@LINX a PASS reason="x \\"q\\"" elapsed_ms=3\n'
            "@@LINX-DONE pass=1 fail=0 skip=0\n", r)
        run_vm.judge(r)
        self.assertEqual(r.verdict, "early-stop")
        self.assertEqual(r.scenarios[0][2], 'x "q"')


if __name__ == "__main__":
    INITRAMFS = sys.argv.pop(1)
    unittest.main()
