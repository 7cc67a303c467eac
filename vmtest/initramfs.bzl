"""vm_initramfs: packs a static guest binary as /init of a newc cpio.

The guest binary is built in a configuration without sanitizer flags: it
must link fully static (gcc refuses -static with -fsanitize=address) and run
as PID 1 of a bare initramfs that has no sanitizer runtime. So
`bazel test --config=asan //...` still builds and runs vmtest; the guest
simply is not instrumented (the sanitizers cover the same code in the host
tests).
"""

def _strip_sanitizers(flags):
    return [f for f in flags if not f.startswith("-fsanitize")]

def _guest_transition_impl(settings, attr):
    return {
        "//command_line_option:copt": _strip_sanitizers(settings["//command_line_option:copt"]),
        "//command_line_option:linkopt": _strip_sanitizers(settings["//command_line_option:linkopt"]),
    }

_guest_transition = transition(
    implementation = _guest_transition_impl,
    inputs = [
        "//command_line_option:copt",
        "//command_line_option:linkopt",
    ],
    outputs = [
        "//command_line_option:copt",
        "//command_line_option:linkopt",
    ],
)

def _vm_initramfs_impl(ctx):
    init = ctx.attr.init
    if type(init) == "list":
        init = init[0]
    init_file = init[DefaultInfo].files_to_run.executable
    out = ctx.actions.declare_file(ctx.label.name + ".cpio")
    args = ctx.actions.args()
    args.add("-o", out)
    args.add("--file", "/init=%s:0755" % init_file.path)
    for guest, host in ctx.attr.host_files.items():
        args.add("--file", "%s=%s:0755" % (guest, host))
    for link, target in ctx.attr.symlinks.items():
        args.add("--symlink", "%s=%s" % (link, target))
    for d in ctx.attr.dirs:
        args.add("--dir", d)
    ctx.actions.run(
        executable = ctx.executable._mkcpio,
        arguments = [args],
        inputs = [init_file],
        outputs = [out],
        mnemonic = "VmInitramfs",
        use_default_shell_env = True,
        progress_message = "Packing initramfs %s" % out.short_path,
    )
    return [DefaultInfo(
        files = depset([out]),
        runfiles = ctx.runfiles(files = [out]),
    )]

vm_initramfs = rule(
    implementation = _vm_initramfs_impl,
    doc = "A deterministic newc cpio with `init` as /init (see mkcpio.py).",
    attrs = {
        "init": attr.label(
            mandatory = True,
            executable = True,
            cfg = _guest_transition,
            doc = "The static guest runner; becomes /init.",
        ),
        "host_files": attr.string_dict(
            doc = "guest path -> absolute host path (e.g. Debian's busybox-static).",
        ),
        "symlinks": attr.string_dict(doc = "guest path -> link target"),
        "dirs": attr.string_list(doc = "Empty directories to create."),
        "_mkcpio": attr.label(
            default = "//vmtest:mkcpio",
            executable = True,
            cfg = "host",
        ),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)
