#!/usr/bin/env python3
"""//vmtest:kernels_matrix_test: vmtest/KERNELS and the BUILD's VM_KERNELS
list the same kernels (Bazel cannot read KERNELS while loading BUILD files),
and every line parses. No network: nothing is fetched."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kernels  # noqa: E402

BUILD_NAMES = None


class KernelsMatrixTest(unittest.TestCase):

    def test_build_targets_match_kernels_file(self):
        names = [n for n, _ in kernels.read_matrix()]
        self.assertEqual(names, BUILD_NAMES,
                         "vmtest/KERNELS and VM_KERNELS in vmtest/BUILD.bazel "
                         "must list the same kernels in the same order")

    def test_at_least_6_1_and_6_12(self):
        names = [n for n, _ in kernels.read_matrix()]
        self.assertIn("linux_6_1", names)
        self.assertIn("linux_6_12", names)

    def test_bad_line_is_an_error(self):
        path = os.path.join(os.environ.get("TEST_TMPDIR", "/tmp"), "K")
        with open(path, "w") as f:
            f.write("linux_x\n")
        with self.assertRaises(kernels.FetchError):
            kernels.read_matrix(path)


if __name__ == "__main__":
    BUILD_NAMES = sys.argv[1:]
    del sys.argv[1:]
    unittest.main()
