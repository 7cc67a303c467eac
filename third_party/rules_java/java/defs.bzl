"""Minimal local stand-in for @rules_java, enough for Bazel 4.2.3's @bazel_tools.

linx builds no Java; Bazel 4.2.3's own tool packages still load these names.
They forward to the native rules, as rules_java did for Bazel 4.
"""

java_binary = native.java_binary
java_import = native.java_import
java_library = native.java_library
java_runtime = native.java_runtime
java_test = native.java_test
java_toolchain = native.java_toolchain
