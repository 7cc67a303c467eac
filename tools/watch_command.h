// `linx watch`: print changes to a mount table as they happen.
//
//   linx watch [--pid N] [--json] [--count N] [--timeout SECONDS]
//              [--rescan SECONDS] [--backend auto|text|statmount]
//              [--no-fanotify] [--diff]
//
// One line per change:
//   added 412 /mnt/x tmpfs none rw,relatime
//   removed 412 /mnt/x tmpfs none rw,relatime
//   changed 412 /mnt/x vfs_options=rw,relatime->ro,relatime
// (target, source and options octal-escaped like mountinfo), or with --json
// one object per line: {"event": "added", "mount": {...}},
// {"event": "removed", "mount": {...}}, {"event": "changed", "before":
// {...}, "after": {...}}. Once watching has started, a line "linx watch:
// watching ..." goes to stderr. Exits after --count changes, or when
// --timeout seconds pass (exit 0 without --count; 1 if fewer than --count
// changes came). See mountinfo/monitor.h. With --diff the changes come
// from a LiveMountTable (mountinfo/live_table.h), which reads only the
// mounts a change names instead of the whole table, in the same format.
//
// ParseWatchCommand makes no syscalls (fuzzed by fuzz/cli_args_fuzzer.cc).
#ifndef LINX_TOOLS_WATCH_COMMAND_H_
#define LINX_TOOLS_WATCH_COMMAND_H_

#include <string>

#include "absl/time/time.h"
#include "mountinfo/monitor.h"

namespace linx::tools {

// A checked `linx watch` command line.
struct WatchCommand {
  bool json = false;
  bool diff = false;           // --diff: changes from a LiveMountTable
  bool exact = false;          // --exact: with --diff, SweepPolicy::kOnPoke
  bool backend_given = false;  // --backend was given (not with --diff)
  long long count = -1;        // --count; -1 when not given, else > 0
  absl::Duration timeout = absl::InfiniteDuration();  // --timeout
  MonitorOptions options;  // --pid, --rescan, --backend, --no-fanotify
};

struct ParsedWatchCommand {
  enum class Kind { kRun, kHelp, kUsageError };  // as ParsedListCommand
  Kind kind = Kind::kUsageError;
  WatchCommand command;
  std::string error;
};

// Parses argv (argv[0] is "watch"). No syscalls, no output.
ParsedWatchCommand ParseWatchCommand(int argc, char** argv);

// The --help text.
const char* WatchHelp();

// argv[0] is "watch". Exit status: 0 success; 1 failure or --count not
// reached before --timeout; 2 usage error.
int RunWatchCommand(int argc, char** argv);

}  // namespace linx::tools

#endif  // LINX_TOOLS_WATCH_COMMAND_H_
