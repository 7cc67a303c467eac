"""Repository rules that expose Debian's prebuilt C++ libraries to Bazel.

Each rule creates a repository under the canonical upstream name
(`@com_google_absl`, `@com_google_googletest`, `@com_github_google_benchmark`)
with upstream-style labels, backed by the -dev packages installed by
tools/bazel. A consumer that prefers upstream source archives replaces the
rule call in its WORKSPACE with an http_archive of the same name; no BUILD
file of linx changes.

Headers come from /usr/include (a system include directory, so they need no
declaration); static archives are symlinked into the repository so that the
link is hermetic per Bazel's view and binaries do not depend on Debian's .so
files at run time.

Debian builds the libabsl_*.a archives -fPIE, not -fPIC, so they cannot go
into a shared object. For liblinx_mount.so the Abseil repository also
provides `@com_google_absl//:linx_debian_shared_link`, a linker script over
Debian's shared libabsl_*.so. //mount:liblinx_mount.so uses it only under
`--define=linx_absl=debian` (set in linx's .bazelrc); upstream Abseil is
compiled from source with PIC objects and needs nothing of the kind.
"""

_LIBDIR = "/usr/lib/x86_64-linux-gnu"

# Abseil pkg-config module names (minus the absl_ prefix) grouped by the
# upstream Bazel package that defines them. Names not listed land in
# //absl/debian_other; linx uses none of those.
_ABSL_PACKAGES = {
    "algorithm": ["algorithm"],
    "base": [
        "atomic_hook", "base", "base_internal", "config", "core_headers",
        "cycleclock_internal", "dynamic_annotations", "endian", "errno_saver",
        "fast_type_id", "log_severity", "malloc_internal", "prefetch",
        "pretty_function", "raw_logging_internal", "spinlock_wait", "strerror",
        "throw_delegate",
    ],
    "cleanup": ["cleanup", "cleanup_internal"],
    "container": [
        "btree", "common", "common_policy_traits", "compressed_tuple",
        "container_common", "container_memory", "fixed_array",
        "flat_hash_map", "flat_hash_set", "hash_function_defaults",
        "hash_policy_traits", "hashtable_debug", "hashtable_debug_hooks",
        "hashtablez_sampler", "inlined_vector", "inlined_vector_internal",
        "layout", "node_hash_map", "node_hash_set", "node_slot_policy",
        "raw_hash_map", "raw_hash_set",
    ],
    "debugging": [
        "debugging", "debugging_internal", "demangle_internal",
        "examine_stack", "failure_signal_handler", "leak_check", "stacktrace",
        "symbolize",
    ],
    "functional": ["any_invocable", "bind_front", "function_ref"],
    "hash": ["city", "hash", "low_level_hash"],
    "memory": ["memory"],
    "meta": ["type_traits"],
    "numeric": ["bits", "int128", "numeric", "numeric_representation"],
    "profiling": ["exponential_biased", "periodic_sampler", "sample_recorder"],
    "status": ["status", "statusor"],
    "strings": [
        "cord", "cord_internal", "cordz_functions", "cordz_handle",
        "cordz_info", "cordz_sample_token", "cordz_statistics",
        "cordz_update_scope", "cordz_update_tracker", "str_format",
        "str_format_internal", "strings", "strings_internal",
    ],
    "synchronization": [
        "graphcycles_internal", "kernel_timeout_internal", "synchronization",
    ],
    "time": ["civil_time", "time", "time_zone"],
    "types": [
        "any", "bad_any_cast", "bad_any_cast_impl", "bad_optional_access",
        "bad_variant_access", "compare", "optional", "span", "variant",
    ],
    "utility": ["utility"],
}

# pkg-config names whose upstream target name differs from the module name.
_ABSL_RENAMES = {
    "algorithm_container": ("algorithm", "container"),
    "numeric_representation": ("numeric", "representation"),
    "flags": ("flags", "flag"),
}

def _absl_location(name):
    if name in _ABSL_RENAMES:
        return _ABSL_RENAMES[name]
    for pkg, names in _ABSL_PACKAGES.items():
        if name in names:
            return (pkg, name)
    if name.startswith("flags_"):
        return ("flags", name[len("flags_"):])
    if name.startswith("random_"):
        return ("random", name[len("random_"):])
    return ("debian_other", name)

def _parse_pc(text):
    requires = []
    libs = []
    for line in text.splitlines():
        if line.startswith("Requires:"):
            for item in line[len("Requires:"):].split(","):
                item = item.strip()
                if item:
                    requires.append(item.split(" ")[0])
        elif line.startswith("Libs:"):
            libs = [t for t in line[len("Libs:"):].split(" ") if t]
    return requires, libs

def _debian_absl_impl(ctx):
    pcdir = ctx.path(_LIBDIR + "/pkgconfig")
    if not pcdir.exists:
        fail("Debian's libabsl-dev is not installed (run tools/bazel, which installs it)")
    packages = {}
    shared_libs = {}
    for pc in pcdir.readdir():
        base = pc.basename
        if not base.startswith("absl_") or not base.endswith(".pc"):
            continue
        name = base[len("absl_"):-len(".pc")]
        requires, libs = _parse_pc(ctx.read(pc))
        srcs = []
        linkopts = []
        for tok in libs:
            if tok.startswith("-L"):
                continue
            if tok.startswith("-labsl_"):
                archive = "lib" + tok[2:] + ".a"
                ctx.symlink(_LIBDIR + "/" + archive, "lib/" + archive)
                srcs.append("//lib:" + archive)
                shared = _LIBDIR + "/lib" + tok[2:] + ".so"
                if ctx.path(shared).exists:
                    shared_libs[shared] = True
            else:
                linkopts.append(tok)
        deps = []
        for req in requires:
            if req.startswith("absl_"):
                pkg, target = _absl_location(req[len("absl_"):])
                deps.append("//absl/%s:%s" % (pkg, target))
        pkg, target = _absl_location(name)
        packages.setdefault(pkg, []).append(
            "cc_library(\n    name = %r,\n    srcs = %r,\n    linkopts = %r,\n    deps = %r,\n)\n" %
            (target, srcs, linkopts + ["-lpthread"], sorted(deps)),
        )
    ctx.file("lib/BUILD.bazel", 'exports_files(glob(["*.a"]))\n')

    # A GNU linker script named like a shared library. First on a shared
    # object's link line, its symbols satisfy every Abseil reference before
    # the (non-PIC) archives are searched; AS_NEEDED keeps only the libraries
    # really used.
    ctx.file(
        "libabsl_debian_shared.so",
        "INPUT(AS_NEEDED(\n%s\n))\n" % "\n".join(sorted(shared_libs.keys())),
    )
    ctx.file("BUILD.bazel", """# Debian's shared Abseil, for linking shared objects (see repositories.bzl).
cc_library(
    name = "linx_debian_shared_link",
    srcs = ["libabsl_debian_shared.so"],
    linkstatic = True,
    visibility = ["//visibility:public"],
)
""")
    for pkg, rules in packages.items():
        ctx.file(
            "absl/%s/BUILD.bazel" % pkg,
            'package(default_visibility = ["//visibility:public"])\n\n' + "\n".join(rules),
        )

debian_absl_repository = repository_rule(
    implementation = _debian_absl_impl,
    local = True,
    doc = "Debian's libabsl-dev as @com_google_absl with upstream labels.",
)

def _symlink_archives(ctx, archives):
    for a in archives:
        path = ctx.path(_LIBDIR + "/" + a)
        if not path.exists:
            fail("%s is missing: install the Debian package that provides it (tools/bazel does)" % path)
        ctx.symlink(path, a)

def _debian_googletest_impl(ctx):
    _symlink_archives(ctx, ["libgtest.a", "libgmock.a", "libgmock_main.a"])
    ctx.file("BUILD.bazel", """package(default_visibility = ["//visibility:public"])

cc_library(
    name = "gtest",
    srcs = ["libgmock.a", "libgtest.a"],
    linkopts = ["-lpthread"],
)

cc_library(
    name = "gtest_main",
    srcs = ["libgmock_main.a"],
    deps = [":gtest"],
)

cc_library(name = "gtest_prod")
""")

debian_googletest_repository = repository_rule(
    implementation = _debian_googletest_impl,
    local = True,
    doc = "Debian's libgtest-dev/libgmock-dev as @com_google_googletest.",
)

def _debian_benchmark_impl(ctx):
    _symlink_archives(ctx, ["libbenchmark.so", "libbenchmark_main.a"])
    ctx.file("BUILD.bazel", """package(default_visibility = ["//visibility:public"])

cc_library(
    name = "benchmark",
    srcs = ["libbenchmark.so"],
    linkopts = ["-lpthread"],
)

cc_library(
    name = "benchmark_main",
    srcs = ["libbenchmark_main.a"],
    deps = [":benchmark"],
)
""")

debian_benchmark_repository = repository_rule(
    implementation = _debian_benchmark_impl,
    local = True,
    doc = "Debian's libbenchmark-dev as @com_github_google_benchmark.",
)

def _debian_libmount_impl(ctx):
    _symlink_archives(ctx, ["libmount.so"])
    ctx.file("BUILD.bazel", """package(default_visibility = ["//visibility:public"])

# util-linux's libmount, for differential tests and benchmarks only.
cc_library(
    name = "libmount",
    srcs = ["libmount.so"],
    testonly = True,
)
""")

debian_libmount_repository = repository_rule(
    implementation = _debian_libmount_impl,
    local = True,
    doc = "Debian's libmount-dev, linked only into tests and benchmarks.",
)

def linx_debian_dependencies():
    """Declares every external repository linx needs, all local."""
    debian_absl_repository(name = "com_google_absl")
    debian_googletest_repository(name = "com_google_googletest")
    debian_benchmark_repository(name = "com_github_google_benchmark")
    debian_libmount_repository(name = "util_linux_libmount")
