// `linx find`: the mount that contains a path (like `findmnt --target`).
//
//   linx find PATH [--json] [--backend auto|text|statmount]
//   linx find --is-mount-point PATH
//
// Prints the mount as one findmnt-like line under a header (TARGET SOURCE
// FSTYPE PROPAGATION OPTIONS), or with --json one object with the keys of
// `linx list --json`'s entries. --is-mount-point prints "yes" or "no"
// (exit 0 either way). See mountinfo/query.h for how the path is resolved.
#ifndef LINX_TOOLS_FIND_COMMAND_H_
#define LINX_TOOLS_FIND_COMMAND_H_

namespace linx::tools {

// argv[0] is "find". Returns the exit status: 0 success; 1 the query failed
// (message on stderr: missing path, permission, ...); 2 usage error.
int RunFindCommand(int argc, char** argv);

}  // namespace linx::tools

#endif  // LINX_TOOLS_FIND_COMMAND_H_
