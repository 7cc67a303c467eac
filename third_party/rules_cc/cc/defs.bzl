"""Minimal local stand-in for @rules_cc, enough for Bazel 4.2.3's @bazel_tools.

Bazel 4.2.3 loads these names from @rules_cc//cc:defs.bzl; upstream rules_cc
of that era simply forwarded to the native rules, and so does this shim.
Debian's bazel-rules-cc package is too new for Bazel 4 (it needs cc_common
APIs Bazel 4 lacks), which is why this file exists.
"""

cc_binary = native.cc_binary
cc_import = native.cc_import
cc_library = native.cc_library
cc_proto_library = native.cc_proto_library
cc_test = native.cc_test
cc_toolchain = native.cc_toolchain
cc_toolchain_suite = native.cc_toolchain_suite
objc_library = native.objc_library
fdo_prefetch_hints = native.fdo_prefetch_hints
fdo_profile = native.fdo_profile
