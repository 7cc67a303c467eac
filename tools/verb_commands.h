// `linx mount|bind|move|remount|umount|pivot-root|version`: the verbs of
// mount/ on the command line.
//
//   linx mount none /mnt/x tmpfs --flags nosuid,nodev --data size=1m
//   linx bind /srv/data /mnt/data --flags rec,ro --in pid:4242
//   linx umount /mnt/x --flags detach
//
// Exit status: 0 success; 1 the operation failed (the status message, which
// always names the stage and the errno, on stderr); 2 usage error (a one-line
// reason and the verb's usage on stderr). `--help`/`-h` prints the verb's
// help on stdout and exits 0.
//
// Parsing is split from running so it can be tested without syscalls:
// ParseVerbCommand turns argv into a VerbCommand (or help, or a usage error)
// and RunParsedVerbCommand performs it.
#ifndef LINX_TOOLS_VERB_COMMANDS_H_
#define LINX_TOOLS_VERB_COMMANDS_H_

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace linx::tools {

// Returned by RunVerbCommand when argv[0] names no verb.
inline constexpr int kUnknownCommand = -1;

// argv[0] is the verb. Returns the process exit status (0, 1 or 2), or
// kUnknownCommand.
int RunVerbCommand(int argc, char** argv);

enum class Verb {
  kMount,
  kBind,
  kMove,
  kRemount,
  kUmount,
  kPivotRoot,
  kVersion
};

// A fully checked command line. Flag words are known words of the verb's
// kind (mount words for mount/bind/remount, umount words for umount), in the
// order given; `in` is "self", "pid:N" (N > 0) or "path:/absolute".
struct VerbCommand {
  Verb verb = Verb::kVersion;
  std::vector<std::string> operands;    // exactly as many as the verb takes
  std::vector<std::string> flag_words;  // from every --flags, in order
  std::string data;                     // --data; "" when not given
  bool create = false;                  // --create
  bool recursive = false;               // --recursive (umount)
  bool mkdir = false;                   // --mkdir (mount, bind)
  std::string root;                     // --root DIR; "" when not given
  bool source_in_root = false;          // --source-in-root (bind)
  bool beneath = false;                 // --beneath (mount, bind)
  bool userns = false;                  // --userns (with --in)
  std::string idmap;                    // --idmap pid:N|userns:PATH (bind)
  std::string in = "self";              // --in
};

struct ParsedVerbCommand {
  enum class Kind {
    kRun,          // `command` is ready to run
    kHelp,         // --help/-h: print VerbHelp(command.verb), exit 0
    kUsageError,   // `error` says why, exit 2
    kUnknownVerb,  // args[0] is not a verb of this file
  };
  Kind kind = Kind::kUnknownVerb;
  VerbCommand command;  // `verb` is set for every kind but kUnknownVerb
  std::string error;    // kUsageError: one line, e.g. `unknown flag word "x"`
};

// Parses `args` (args[0] is the verb). Options may come before, between or
// after operands; `--opt VALUE` and `--opt=VALUE` are the same; `--` ends
// the options so an operand may start with '-'. --flags may repeat (the
// words add up); --data and --in may not. No syscalls are made.
ParsedVerbCommand ParseVerbCommand(const std::vector<std::string>& args);

// "mount", ..., "pivot-root", "version".
const char* VerbName(Verb verb);

// One line: "usage: linx mount SOURCE TARGET FSTYPE [...]".
std::string VerbUsage(Verb verb);

// The full --help text (usage, what it does, options, flag words).
std::string VerbHelp(Verb verb);

// Performs a parsed kRun command; writes messages to `out`/`err` and returns
// the exit status (0, 1, or 2 when --in names an unusable namespace).
int RunParsedVerbCommand(const VerbCommand& command, std::FILE* out,
                         std::FILE* err);

}  // namespace linx::tools

#endif  // LINX_TOOLS_VERB_COMMANDS_H_
