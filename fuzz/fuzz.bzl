"""linx_fuzzer: one fuzz target, two ways to build it.

For every fuzzer `name` (a source defining LLVMFuzzerTestOneInput):

  * `<name>_replay_test`, a cc_test in plain `bazel test //...`: runs the
    entry point once over every file of `corpus` (//fuzz:replay_main), so
    the seed corpus and every kept crash input are regression tests.
  * `<name>`, a cc_binary: under `--config=fuzz` (which sets
    --define=linx_fuzz=libfuzzer, clang and ASan) a real libFuzzer binary
    linked with -fsanitize=fuzzer; otherwise the same replay driver, so
    `bazel build //...` builds it everywhere.

The idea of rules_fuzzing's cc_fuzz_test, written for our offline Bazel 4.2.3.

    bazel build --config=fuzz //fuzz:mountinfo_parse_fuzzer
    bazel-bin/fuzz/mountinfo_parse_fuzzer -dict=fuzz/dicts/mountinfo_parse.dict \\
        -max_total_time=600 /tmp/work-corpus fuzz/corpus/mountinfo_parse
"""

def linx_fuzzer(name, srcs, corpus, deps = [], dict = None, **kwargs):
    """Declares `<name>` and `<name>_replay_test`.

    Args:
      name: the fuzzer's name, e.g. "mountinfo_parse_fuzzer".
      srcs: sources; one defines LLVMFuzzerTestOneInput.
      corpus: the seed corpus directory in this package, e.g.
        "corpus/mountinfo_parse". Every file in it is replayed.
      deps: the code under test.
      dict: an optional libFuzzer dictionary (exported for the fuzz binary).
      **kwargs: passed to both rules (e.g. testonly).
    """
    corpus_files = native.glob([corpus + "/**"])
    native.cc_binary(
        name = name,
        srcs = srcs,
        deps = deps + select({
            "//fuzz:libfuzzer": [],
            "//conditions:default": ["//fuzz:replay_main"],
        }),
        linkopts = select({
            "//fuzz:libfuzzer": ["-fsanitize=fuzzer,address"],
            "//conditions:default": [],
        }),
        data = corpus_files + ([dict] if dict else []),
        **kwargs
    )
    native.cc_test(
        name = name + "_replay_test",
        srcs = srcs,
        deps = deps + ["//fuzz:replay_main"],
        data = corpus_files,
        # Tests run in the runfiles root, where the corpus is at this path.
        args = [native.package_name() + "/" + corpus],
        **kwargs
    )
