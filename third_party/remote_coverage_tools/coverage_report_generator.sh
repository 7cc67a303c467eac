#!/bin/sh
echo "linx: bazel coverage is not supported offline (no coverage report generator)" >&2
exit 1
