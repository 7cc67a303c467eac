"""MODULE.bazel and WORKSPACE must declare the same external repositories.

WORKSPACE gets its repositories from linx_debian_dependencies() in
third_party/debian/repositories.bzl; MODULE.bazel from bazel_dep()s with a
repo_name. Every canonical name used by linx's BUILD files must come from
both, at the version Debian ships (what WORKSPACE actually links against).
"""

import os
import re
import subprocess
import sys
import unittest

# Repositories only WORKSPACE needs: Bazel 4 shims and test-only system libs
# without a Bazel module.
WORKSPACE_ONLY = {"rules_cc", "rules_java", "remote_coverage_tools", "util_linux_libmount"}

# bazel_dep name -> Debian package whose version it must match.
DEBIAN_PACKAGE = {
    "abseil-cpp": "libabsl-dev",
    "googletest": "libgtest-dev",
    "google_benchmark": "libbenchmark-dev",
}


def _read(path):
    root = os.environ.get("TEST_SRCDIR")
    if root:
        path = os.path.join(root, os.environ.get("TEST_WORKSPACE", "linx"), path)
    with open(path, encoding="utf-8") as f:
        return f.read()


def module_deps(text):
    deps = {}
    for call in re.findall(r"bazel_dep\((.*?)\)", text, re.S):
        args = dict(re.findall(r'(\w+)\s*=\s*"([^"]*)"', call))
        deps[args["repo_name"]] = (args["name"], args["version"])
    return deps


def workspace_repos(workspace, repositories_bzl):
    names = set(re.findall(r'name\s*=\s*"([^"]+)"', workspace))
    body = repositories_bzl.split("def linx_debian_dependencies")[1]
    names |= set(re.findall(r'\(name\s*=\s*"([^"]+)"\)', body))
    names.discard("linx")
    return names


def debian_version(package):
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", package],
        capture_output=True, text=True, check=False)
    return out.stdout.strip() if out.returncode == 0 else None


class ModuleConsistencyTest(unittest.TestCase):

    def setUp(self):
        self.module = module_deps(_read("MODULE.bazel"))
        self.workspace = workspace_repos(
            _read("WORKSPACE"), _read("third_party/debian/repositories.bzl"))

    def test_same_repository_names(self):
        self.assertEqual(set(self.module), self.workspace - WORKSPACE_ONLY)

    def test_versions_match_debian_packages(self):
        for repo, (name, version) in self.module.items():
            installed = debian_version(DEBIAN_PACKAGE[name])
            self.assertIsNotNone(installed, f"{DEBIAN_PACKAGE[name]} is not installed")
            # Debian: "20220623.1-1+deb12u2", "1.12.1-0.2": strip the revision.
            upstream = installed.split(":")[-1].rsplit("-", 1)[0]
            self.assertEqual(version, upstream, f"{repo}: MODULE.bazel says {version}, "
                             f"WORKSPACE links Debian's {installed}")

    def test_module_version_is_linx_version(self):
        linx = re.search(r'LINX_VERSION = "([^"]+)"', _read("version.bzl")).group(1)
        module = re.search(r'module\((.*?)\)', _read("MODULE.bazel"), re.S).group(1)
        self.assertEqual(re.search(r'version = "([^"]+)"', module).group(1), linx)

    def test_parser_sees_all_three(self):
        self.assertEqual(
            set(self.module),
            {"com_google_absl", "com_google_googletest", "com_github_google_benchmark"})


if __name__ == "__main__":
    sys.exit(unittest.main())
