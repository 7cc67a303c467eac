// `linx list`: prints a mount table as a findmnt-like table or as JSON.
//
//   linx list [--pid N | --file PATH] [--json] [--strict]
//
// Reads the caller's own table (/proc/thread-self/mountinfo) by default, a
// process's (/proc/N/mountinfo) with --pid, or any saved mountinfo file with
// --file. --json prints exactly one object (see mountinfo/format.h and
// docs/mountinfo.md); the default is a table. Malformed lines are skipped
// and reported (in the JSON "skipped" array, or on stderr for the table);
// --strict fails on the first one instead.
#ifndef LINX_TOOLS_LIST_COMMAND_H_
#define LINX_TOOLS_LIST_COMMAND_H_

namespace linx::tools {

// argv[0] is "list". Returns the process exit status: 0 success; 1 the
// input could not be read or (with --strict) held a malformed line; 2 usage
// error. Writes the output to stdout and diagnostics to stderr.
int RunListCommand(int argc, char** argv);

}  // namespace linx::tools

#endif  // LINX_TOOLS_LIST_COMMAND_H_
