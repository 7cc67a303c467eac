"""linx's version: the one place it is written.

Read by //mount (linx::Version(), linx_version()), by //tools:dist (file
names and pkg-config files), and checked against MODULE.bazel by
//tools/testing:module_consistency_test.
"""

LINX_VERSION = "0.1.0"
