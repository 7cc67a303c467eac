// `linx list`: prints a mount table as a findmnt-like table or as JSON.
//
//   linx list [--pid N | --file PATH] [--json | --tree] [--strict]
//             [--backend text|statmount|auto]
//
// Reads the caller's own table (/proc/thread-self/mountinfo) by default, a
// process's (/proc/N/mountinfo) with --pid, or any saved mountinfo file with
// --file. --json prints exactly one object (see mountinfo/format.h and
// docs/mountinfo.md), --tree a findmnt-like tree (mountinfo/tree.h); the
// default is a table. Malformed lines are skipped and reported (in the JSON
// "skipped" array, or on stderr for the table); --strict fails on the first
// one instead. Hostile input (a device, an endless FIFO, a huge file) ends
// in a clear error and exit 1: see ReadOptions in mountinfo/mountinfo.h.
//
// Parsing is split from running (ParseListCommand makes no syscalls), so the
// argument parser can be fuzzed (fuzz/cli_args_fuzzer.cc) and tested alone.
#ifndef LINX_TOOLS_LIST_COMMAND_H_
#define LINX_TOOLS_LIST_COMMAND_H_

#include <string>

#include "mountinfo/mountinfo.h"
#include "mountinfo/statmount.h"

namespace linx::tools {

// A checked `linx list` command line.
struct ListCommand {
  bool json = false;
  bool tree = false;
  int pid = 0;       // --pid; 0 when not given
  std::string file;  // --file; "" when not given
  ReadOptions options;
  ListBackend backend = ListBackend::kText;
};

struct ParsedListCommand {
  enum class Kind {
    kRun,         // `command` is ready to run
    kHelp,        // --help/-h: print ListHelp(), exit 0
    kUsageError,  // `error` says why (one line), exit 2
  };
  Kind kind = Kind::kUsageError;
  ListCommand command;
  std::string error;
};

// Parses argv (argv[0] is "list"). No syscalls, no output.
ParsedListCommand ParseListCommand(int argc, char** argv);

// The --help text: usage, every option, exit status.
const char* ListHelp();

// argv[0] is "list". Returns the process exit status: 0 success; 1 the
// input could not be read or (with --strict) held a malformed line; 2 usage
// error. Writes the output to stdout and diagnostics to stderr.
int RunListCommand(int argc, char** argv);

}  // namespace linx::tools

#endif  // LINX_TOOLS_LIST_COMMAND_H_
