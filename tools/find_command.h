// `linx find`: the mount that contains a path (like `findmnt --target`).
//
//   linx find PATH [--json] [--backend auto|text|statmount]
//   linx find --is-mount-point PATH
//
// Prints the mount as one findmnt-like line under a header (TARGET SOURCE
// FSTYPE PROPAGATION OPTIONS), or with --json one object with the keys of
// `linx list --json`'s entries. --is-mount-point prints "yes" or "no"
// (exit 0 either way). See mountinfo/query.h for how the path is resolved.
//
// ParseFindCommand makes no syscalls (fuzzed by fuzz/cli_args_fuzzer.cc).
#ifndef LINX_TOOLS_FIND_COMMAND_H_
#define LINX_TOOLS_FIND_COMMAND_H_

#include <string>

#include "mountinfo/query.h"

namespace linx::tools {

// A checked `linx find` command line.
struct FindCommand {
  std::string path;  // exactly one PATH
  bool json = false;
  bool is_mount_point = false;  // --is-mount-point (never with --json)
  FindOptions options;
};

struct ParsedFindCommand {
  enum class Kind { kRun, kHelp, kUsageError };  // as ParsedListCommand
  Kind kind = Kind::kUsageError;
  FindCommand command;
  std::string error;
};

// Parses argv (argv[0] is "find"). No syscalls, no output.
ParsedFindCommand ParseFindCommand(int argc, char** argv);

// The --help text.
const char* FindHelp();

// argv[0] is "find". Returns the exit status: 0 success; 1 the query failed
// (message on stderr: missing path, permission, ...); 2 usage error.
int RunFindCommand(int argc, char** argv);

}  // namespace linx::tools

#endif  // LINX_TOOLS_FIND_COMMAND_H_
