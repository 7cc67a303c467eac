"""linx_dist: an installable tree for builds that are not Bazel.

Collects, from the given C++ targets and transitively, every header and every
static archive that belongs to linx itself (not to external repositories),
and packs them with the C ABI's shared library into a tar:

  lib/liblinx_mount.so.<version>   the C ABI (SONAME liblinx_mount.so.0)
  lib/liblinx_mount.so.0, lib/liblinx_mount.so   symlinks
  lib/liblinx.a                    the C++ API, all of linx's objects
  include/linx/<pkg>/<header>.h    as included from Bazel ("mount/mount.h")
  lib/pkgconfig/linx-mount.pc      C ABI: -llinx_mount
  lib/pkgconfig/linx.pc            C++ API: -llinx, Requires: the absl_*
                                   modules whose archives the deps link

The .pc files use ${pcfiledir}, so the tree can be unpacked anywhere.
"""

def _own(f):
    return f.owner != None and f.owner.workspace_name == ""

def _linx_dist_impl(ctx):
    headers = {}
    archives = {}
    absl_modules = {}
    for dep in ctx.attr.deps:
        cc = dep[CcInfo]
        for h in cc.compilation_context.headers.to_list():
            # Internal and test-only headers are not part of the API.
            if _own(h) and "/internal/" not in h.short_path and \
               not h.short_path.startswith("base/testing/"):
                headers[h.short_path] = h
        for li in cc.linking_context.linker_inputs.to_list():
            for lib in li.libraries:
                a = lib.pic_static_library or lib.static_library
                if a == None:
                    continue
                if _own(a):
                    archives[a.path] = a
                elif a.basename.startswith("libabsl_") and a.basename.endswith(".a"):
                    # Debian's archive libabsl_X.a belongs to pkg-config
                    # module absl_X (third_party/debian/repositories.bzl).
                    absl_modules[a.basename[len("lib"):-len(".a")]] = True
    out = ctx.actions.declare_file(ctx.label.name + ".tar")
    args = ctx.actions.args()
    args.add("--out", out)
    args.add("--version", ctx.attr.version)
    args.add("--shared", ctx.file.shared_library)
    args.add("--absl", ",".join(sorted(absl_modules.keys())))
    for path, h in sorted(headers.items()):
        args.add("--header", "%s=%s" % (path, h.path))
    for a in sorted(archives.keys()):
        args.add("--archive", a)
    # python3 by name: Debian has no "python", which py_binary's stub wants.
    ctx.actions.run(
        executable = "/usr/bin/python3",
        arguments = [ctx.file._tool.path, args],
        inputs = list(headers.values()) + list(archives.values()) +
                 [ctx.file.shared_library, ctx.file._tool],
        outputs = [out],
        mnemonic = "LinxDist",
        progress_message = "Packing the linx install tree",
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

linx_dist = rule(
    implementation = _linx_dist_impl,
    attrs = {
        "deps": attr.label_list(providers = [CcInfo]),
        "shared_library": attr.label(allow_single_file = True, mandatory = True),
        "version": attr.string(mandatory = True),
        "_tool": attr.label(
            default = "//tools:make_dist.py",
            allow_single_file = True,
        ),
    },
)
