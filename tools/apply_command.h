// `linx apply FILE`: a container's mounts from an OCI runtime-spec config,
// applied inside a root as one checked, reversible step (mount/oci.h).
//
//   linx apply /run/c1/config.json                 # root.path of the file
//   linx apply mounts.json --root /run/c1/rootfs --in pid:4242
//   linx apply config.json --dry-run --json        # the plan, changing nothing
//
// FILE is an OCI config.json (its "mounts"; "root": {"path"} relative to
// FILE's directory is the default root; "linux": {"readonlyPaths",
// "maskedPaths"}, applied after the mounts) or a bare JSON array of mount
// objects (then --root is required). FILE is trusted: it names host paths
// (bind sources); the root's contents are not (destinations are resolved
// inside the root, docs/security.md).
//
// Exit status: 0 every entry applied (or, with --dry-run, planned);
// 1 an entry failed and everything before it was rolled back (or the root
// could not be opened; nothing changed), the error naming the entry, the
// call, the stage and the errno; 2 usage error or a bad FILE (unreadable,
// not JSON, an entry linx cannot honour), nothing touched.
// With --json, stdout holds exactly one JSON object (docs/cli.md has the
// shape), whatever the outcome after the command line was understood.
//
// Parsing is split from running so it can be tested and fuzzed without
// syscalls: ParseApplyCommand (argv) and PrepareApply (FILE's text).
#ifndef LINX_TOOLS_APPLY_COMMAND_H_
#define LINX_TOOLS_APPLY_COMMAND_H_

#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mount/oci.h"

namespace linx::tools {

struct ApplyCommand {
  std::string file;         // FILE as given
  std::string root;         // --root DIR; "" when not given
  std::string in = "self";  // --in self|pid:N|path:P
  bool dry_run = false;     // --dry-run
  bool json = false;        // --json
};

struct ParsedApplyCommand {
  enum class Kind {
    kRun,         // `command` is ready to run
    kHelp,        // --help/-h: print ApplyHelp(), exit 0
    kUsageError,  // `error` says why, exit 2
  };
  Kind kind = Kind::kUsageError;
  ApplyCommand command;
  std::string error;
};

// Parses `args` (args[0] is "apply"). `--opt VALUE` and `--opt=VALUE` are
// the same; `--` ends the options. No syscalls.
ParsedApplyCommand ParseApplyCommand(const std::vector<std::string>& args);

// "usage: linx apply FILE [--root DIR] [--in self|pid:N|path:P] ...".
std::string ApplyUsage();
// The full --help text.
std::string ApplyHelp();

// What FILE asks for, checked and translated, ready for ApplyOci.
struct ApplyInputs {
  std::string root_dir;  // absolute
  std::vector<OciMount> mounts;
  std::vector<OciStep> steps;
};

// FILE's text → the inputs of ApplyOci, without any syscall: `cwd` (the
// caller's working directory, absolute) makes FILE's directory, a relative
// --root and a relative root.path absolute. Errors (exit 2): JSON and
// config errors of ParseOciConfig, translation errors of
// TranslateOciMounts, and "a bare array of mounts needs --root DIR" (stage
// bad_argument, value "root").
absl::StatusOr<ApplyInputs> PrepareApply(const ApplyCommand& command,
                                         absl::string_view file_text,
                                         absl::string_view cwd);

// Reads FILE (at most 1 MiB), prepares and applies it, writes the plan or
// the report to `out` and errors to `err`, and returns the exit status.
int RunParsedApplyCommand(const ApplyCommand& command, std::FILE* out,
                          std::FILE* err);

// argv[0] is "apply". Returns the exit status (0, 1 or 2).
int RunApplyCommand(int argc, char** argv);

}  // namespace linx::tools

#endif  // LINX_TOOLS_APPLY_COMMAND_H_
