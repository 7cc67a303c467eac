#include "tools/verb_commands.h"

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/types/optional.h"
#include "base/op_error.h"
#include "base/status.h"
#include "mount/command.h"
#include "mount/flags.h"
#include "mount/mount.h"
#include "nsexec/nsexec.h"
#include "nsexec/userns.h"

namespace linx::tools {
namespace {

// What each verb accepts.
struct VerbSpec {
  Verb verb;
  const char* name;
  const char* operands;  // for the usage line
  int operand_count;
  bool flags;   // --flags
  bool data;    // --data
  bool create;  // --create
  bool in;      // --in
  const char* summary;
  bool recursive = false;  // --recursive
};

constexpr VerbSpec kVerbs[] = {
    {Verb::kMount, "mount", "SOURCE TARGET FSTYPE", 3, true, true, true, true,
     "Mounts a filesystem: mount(2) with the given flags and data. An empty\n"
     "SOURCE or FSTYPE (\"\") is passed as NULL. Propagation words are\n"
     "applied by their own call after the mount."},
    {Verb::kBind, "bind", "SOURCE TARGET", 2, true, true, true, true,
     "Bind-mounts SOURCE onto TARGET. With ro (nosuid, nodev, noexec) the\n"
     "bind is followed by a remount that really applies them; with rec,ro\n"
     "the whole tree ends read-only."},
    {Verb::kMove, "move", "SOURCE TARGET", 2, false, false, false, true,
     "Moves the mount at SOURCE to TARGET (MS_MOVE)."},
    {Verb::kRemount, "remount", "TARGET", 1, true, true, false, true,
     "Changes the flags (and filesystem data) of the mount at TARGET\n"
     "(MS_REMOUNT). As with mount(2), the flags given REPLACE the mount's\n"
     "flags: `remount X --data size=2m` also clears nosuid. With bind only\n"
     "the per-mount flags change, the filesystem is left alone. Given\n"
     "nothing but propagation words (private, shared, slave, unbindable,\n"
     "optionally rec), it changes the propagation type instead, like\n"
     "`mount --make-private`.",
     true},
    {Verb::kUmount, "umount", "TARGET", 1, true, false, false, true,
     "Unmounts TARGET: umount2(2). With --recursive, TARGET and every mount\n"
     "below it, deepest first (like umount -R).",
     true},
    {Verb::kPivotRoot, "pivot-root", "NEW_ROOT PUT_OLD", 2, false, false, false,
     true,
     "Makes NEW_ROOT the root of the mount namespace and moves the old root\n"
     "to PUT_OLD (which must be under NEW_ROOT): pivot_root(2). Use it with\n"
     "--in: pivoting the namespace linx itself runs in changes the root of\n"
     "every process in it."},
    {Verb::kVersion, "version", "", 0, false, false, false, false,
     "Prints the version of linx."},
};

// The flag words a verb takes, as mount/flags.h names them, wrapped for
// --help.
std::string FlagWords(Verb verb) {
  std::vector<std::string> words;
  if (verb == Verb::kUmount) {
    for (UmountFlag f : AllUmountFlags()) words.push_back(UmountFlagName(f));
  } else {
    for (MountFlag f : AllMountFlags()) words.push_back(MountFlagName(f));
  }
  std::string out;
  size_t column = 0;
  for (const std::string& w : words) {
    if (column > 0 && column + 1 + w.size() > 60) {
      out += "\n                  ";
      column = 0;
    } else if (column > 0) {
      out += ' ';
      ++column;
    }
    out += w;
    column += w.size();
  }
  return out;
}

// --root: every verb that takes a path inside a container image.
bool TakesRoot(Verb v) {
  return v == Verb::kMount || v == Verb::kBind || v == Verb::kMove ||
         v == Verb::kRemount || v == Verb::kUmount;
}
// --mkdir: the verbs that attach something new.
bool TakesMkdir(Verb v) { return v == Verb::kMount || v == Verb::kBind; }

const VerbSpec* FindVerb(absl::string_view name) {
  for (const VerbSpec& spec : kVerbs) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

const VerbSpec& SpecOf(Verb verb) {
  for (const VerbSpec& spec : kVerbs) {
    if (spec.verb == verb) return spec;
  }
  return kVerbs[0];  // unreachable: every Verb has a spec
}

ParsedVerbCommand UsageError(Verb verb, std::string message) {
  ParsedVerbCommand r;
  r.kind = ParsedVerbCommand::Kind::kUsageError;
  r.command.verb = verb;
  r.error = std::move(message);
  return r;
}

// "" when `word` is a flag word the verb takes, else why not.
std::string CheckFlagWord(Verb verb, absl::string_view word) {
  absl::Status s = verb == Verb::kUmount ? ParseUmountFlag(word).status()
                                         : ParseMountFlag(word).status();
  return s.ok() ? "" : std::string(s.message());
}

}  // namespace

const char* VerbName(Verb verb) { return SpecOf(verb).name; }

std::string VerbUsage(Verb verb) {
  const VerbSpec& spec = SpecOf(verb);
  std::string usage = absl::StrCat("usage: linx ", spec.name);
  if (spec.operand_count > 0) absl::StrAppend(&usage, " ", spec.operands);
  if (spec.flags) {
    absl::StrAppend(&usage, spec.verb == Verb::kUmount
                                ? " [--flags detach,...]"
                                : " [--flags W1,W2,...]");
  }
  if (spec.data) absl::StrAppend(&usage, " [--data STR]");
  if (spec.create) absl::StrAppend(&usage, " [--create]");
  if (spec.recursive) absl::StrAppend(&usage, " [--recursive]");
  if (TakesMkdir(verb)) absl::StrAppend(&usage, " [--mkdir]");
  if (TakesRoot(verb)) absl::StrAppend(&usage, " [--root DIR]");
  if (verb == Verb::kBind) absl::StrAppend(&usage, " [--source-in-root]");
  if (TakesMkdir(verb)) absl::StrAppend(&usage, " [--beneath]");
  if (verb == Verb::kBind) {
    absl::StrAppend(&usage, " [--idmap pid:N|userns:PATH]");
  }
  if (spec.in) absl::StrAppend(&usage, " [--in self|pid:N|path:P]");
  if (TakesRoot(verb)) absl::StrAppend(&usage, " [--userns]");
  return usage;
}

std::string VerbHelp(Verb verb) {
  const VerbSpec& spec = SpecOf(verb);
  std::string help = absl::StrCat(VerbUsage(verb), "\n\n", spec.summary, "\n");
  std::string options;
  if (spec.flags) {
    absl::StrAppend(&options,
                    "  --flags W1,W2   flag words (the option may repeat):\n",
                    "                  ", FlagWords(spec.verb), "\n");
  }
  if (spec.data) {
    absl::StrAppend(&options,
                    "  --data STR      filesystem-specific data, e.g. "
                    "size=1m,mode=0755\n");
  }
  if (spec.create) {
    absl::StrAppend(&options,
                    "  --create        create an empty file at TARGET first "
                    "(for binding a file\n"
                    "                  or device node onto a fresh tmpfs)\n");
  }
  if (spec.recursive && verb == Verb::kUmount) {
    absl::StrAppend(&options,
                    "  --recursive     also unmount every mount below TARGET, "
                    "deepest first\n");
  } else if (spec.recursive) {
    absl::StrAppend(&options,
                    "  --recursive     the whole tree below TARGET too, in one "
                    "mount_setattr(2)\n"
                    "                  (per-mount flags only: ro, nosuid, "
                    "nodev, noexec,\n"
                    "                  nosymfollow, atime words)\n");
  }
  if (TakesMkdir(verb)) {
    absl::StrAppend(&options,
                    "  --mkdir         create TARGET's missing directories "
                    "(0755) first, one at a\n"
                    "                  time, never through a symlink (inside "
                    "--root DIR, else /)\n");
  }
  if (TakesRoot(verb)) {
    absl::StrAppend(
        &options, "  --root DIR      TARGET",
        verb == Verb::kMove ? " and SOURCE are paths" : " is a path",
        " inside DIR (a container\n"
        "                  rootfs), resolved as if DIR were /: symlinks and "
        "..\n"
        "                  never leave it, magic links are refused, and the "
        "mount\n"
        "                  lands on what was resolved (docs/security.md)\n");
  }
  if (verb == Verb::kBind) {
    absl::StrAppend(&options,
                    "  --source-in-root  SOURCE is a path inside --root DIR "
                    "too (by default\n"
                    "                  it is a path of the caller, opened "
                    "before entering --in)\n");
  }
  if (TakesMkdir(verb)) {
    absl::StrAppend(&options,
                    "  --beneath       put the new mount UNDER the one at "
                    "TARGET (Linux 6.5+);\n"
                    "                  unmounting the old one reveals it, "
                    "with no empty moment\n");
  }
  if (verb == Verb::kBind) {
    absl::StrAppend(
        &options,
        "  --idmap NS      an idmapped bind (5.12+): owners show through the "
        "maps of\n"
        "                  user namespace NS: pid:N (that of process N) or\n"
        "                  userns:PATH (a file such as /proc/N/ns/user)\n");
  }
  if (spec.in) {
    absl::StrAppend(
        &options,
        "  --in WHERE      the mount namespace to act in: self (default),\n"
        "                  pid:N (that of process N), path:P (a namespace "
        "file such\n"
        "                  as /proc/N/ns/mnt)\n");
  }
  if (TakesRoot(verb)) {
    absl::StrAppend(
        &options,
        "  --userns        with --in pid:N|path:P: also join the user "
        "namespace that\n"
        "                  owns it (rootless containers); the verb runs in "
        "a child\n"
        "                  forked into it, and what it mounts belongs to it\n");
  }
  absl::StrAppend(&options, "  -h, --help      print this help\n");
  absl::StrAppend(&help, "\noptions:\n", options);
  absl::StrAppend(&help,
                  "\nexit status: 0 success, 1 the operation failed, 2 usage "
                  "error\n");
  return help;
}

ParsedVerbCommand ParseVerbCommand(const std::vector<std::string>& args) {
  ParsedVerbCommand result;
  if (args.empty()) return result;
  const VerbSpec* spec = FindVerb(args[0]);
  if (spec == nullptr) return result;
  const Verb verb = spec->verb;

  // --help wins over any other problem on the line, like in most tools.
  for (size_t i = 1; i < args.size() && args[i] != "--"; ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      result.kind = ParsedVerbCommand::Kind::kHelp;
      result.command.verb = verb;
      return result;
    }
  }

  VerbCommand cmd;
  cmd.verb = verb;
  bool seen_data = false;
  bool seen_in = false;
  bool seen_root = false;
  bool options_done = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      cmd.operands.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    // An option: --name, --name=value or --name value.
    absl::string_view name = arg;
    absl::optional<std::string> value;
    if (size_t eq = name.find('=');
        absl::StartsWith(name, "--") && eq != absl::string_view::npos) {
      value = std::string(name.substr(eq + 1));
      name = name.substr(0, eq);
    }
    const bool takes_value = name == "--flags" || name == "--data" ||
                             name == "--in" || name == "--root" ||
                             name == "--idmap";
    const bool allowed = (name == "--flags" && spec->flags) ||
                         (name == "--data" && spec->data) ||
                         (name == "--create" && spec->create) ||
                         (name == "--recursive" && spec->recursive) ||
                         (name == "--mkdir" && TakesMkdir(verb)) ||
                         (name == "--root" && TakesRoot(verb)) ||
                         (name == "--source-in-root" && verb == Verb::kBind) ||
                         (name == "--beneath" && TakesMkdir(verb)) ||
                         (name == "--userns" && TakesRoot(verb)) ||
                         (name == "--idmap" && verb == Verb::kBind) ||
                         (name == "--in" && spec->in);
    if (!allowed) {
      return UsageError(verb, absl::StrCat("unknown option ", Quote(name)));
    }
    if (!takes_value && value.has_value()) {
      return UsageError(verb, absl::StrCat(name, " takes no value"));
    }
    if (takes_value && !value.has_value()) {
      if (i + 1 >= args.size()) {
        return UsageError(verb, absl::StrCat(name, " needs a value"));
      }
      value = args[++i];
    }
    if (name == "--create") {
      cmd.create = true;
    } else if (name == "--mkdir") {
      cmd.mkdir = true;
    } else if (name == "--source-in-root") {
      cmd.source_in_root = true;
    } else if (name == "--beneath") {
      cmd.beneath = true;
    } else if (name == "--userns") {
      cmd.userns = true;
    } else if (name == "--idmap") {
      if (!cmd.idmap.empty()) return UsageError(verb, "--idmap given twice");
      if (std::string why = UserNamespace::SpecProblem(*value); !why.empty()) {
        return UsageError(
            verb, absl::StrCat("bad --idmap ", Quote(*value), ": ", why));
      }
      cmd.idmap = *value;
    } else if (name == "--root") {
      if (seen_root) return UsageError(verb, "--root given twice");
      seen_root = true;
      if (value->empty()) return UsageError(verb, "--root needs a directory");
      cmd.root = *value;
    } else if (name == "--recursive") {
      cmd.recursive = true;
    } else if (name == "--data") {
      if (seen_data) return UsageError(verb, "--data given twice");
      seen_data = true;
      cmd.data = *value;
    } else if (name == "--in") {
      if (seen_in) return UsageError(verb, "--in given twice");
      seen_in = true;
      if (std::string why = Namespace::SpecProblem(*value); !why.empty()) {
        why = absl::StrCat("bad --in ", Quote(*value), ": ", why);
        return UsageError(verb, why);
      }
      cmd.in = *value;
    } else {                         // --flags
      if (value->empty()) continue;  // "--flags=" adds nothing
      for (absl::string_view word : absl::StrSplit(*value, ',')) {
        if (word.empty()) {
          return UsageError(
              verb, absl::StrCat("empty flag word in --flags ", Quote(*value)));
        }
        if (std::string why = CheckFlagWord(verb, word); !why.empty()) {
          return UsageError(verb, why);
        }
        cmd.flag_words.emplace_back(word);
      }
    }
  }

  if (cmd.userns && cmd.in == "self") {
    return UsageError(verb, "--userns needs --in pid:N or --in path:P");
  }
  if (cmd.source_in_root && cmd.root.empty()) {
    return UsageError(verb, "--source-in-root needs --root DIR");
  }
  const int n = static_cast<int>(cmd.operands.size());
  if (n < spec->operand_count) {
    return UsageError(
        verb, absl::StrCat("missing operand: expected ", spec->operands));
  }
  if (n > spec->operand_count) {
    return UsageError(verb,
                      absl::StrCat("extra operand ",
                                   Quote(cmd.operands[spec->operand_count])));
  }
  result.kind = ParsedVerbCommand::Kind::kRun;
  result.command = std::move(cmd);
  return result;
}

namespace {

std::vector<MountFlag> MountFlagsOf(const VerbCommand& cmd) {
  std::vector<MountFlag> flags;
  for (const std::string& w : cmd.flag_words) {
    // The parser let only known words through.
    if (auto f = ParseMountFlag(w); f.ok()) flags.push_back(*f);
  }
  return flags;
}

std::vector<UmountFlag> UmountFlagsOf(const VerbCommand& cmd) {
  std::vector<UmountFlag> flags;
  for (const std::string& w : cmd.flag_words) {
    if (auto f = ParseUmountFlag(w); f.ok()) flags.push_back(*f);
  }
  return flags;
}

// The command line as the library's typed command; the executor gives every
// flag combination its one meaning (`remount X --flags private` is a
// propagation change there, as for the C ABI and the C++ API).
Command ToCommand(const VerbCommand& cmd, const Namespace& in) {
  const std::vector<std::string>& op = cmd.operands;
  switch (cmd.verb) {
    case Verb::kMount: {
      MountCommand c{op[0], op[1], op[2], {}};
      c.options.flags = MountFlagsOf(cmd);
      c.options.data = cmd.data;
      c.options.create = cmd.create;
      c.options.mkdir = cmd.mkdir;
      c.options.beneath = cmd.beneath;
      c.options.root.dir = cmd.root;
      c.options.in = in;
      return c;
    }
    case Verb::kBind: {
      BindCommand c{op[0], op[1], {}};
      c.options.flags = MountFlagsOf(cmd);
      c.options.data = cmd.data;
      c.options.create = cmd.create;
      c.options.mkdir = cmd.mkdir;
      c.options.root.dir = cmd.root;
      c.options.source_in_root = cmd.source_in_root;
      c.options.beneath = cmd.beneath;
      c.options.in = in;
      return c;
    }
    case Verb::kMove: {
      MoveCommand c{op[0], op[1], {}};
      c.options.root.dir = cmd.root;
      c.options.in = in;
      return c;
    }
    case Verb::kRemount: {
      RemountCommand c{op[0], {}};
      c.options.flags = MountFlagsOf(cmd);
      c.options.data = cmd.data;
      c.options.recursive = cmd.recursive;
      c.options.root.dir = cmd.root;
      c.options.in = in;
      return c;
    }
    case Verb::kUmount: {
      UmountCommand c{op[0], {}};
      c.options.flags = UmountFlagsOf(cmd);
      c.options.recursive = cmd.recursive;
      c.options.root.dir = cmd.root;
      c.options.in = in;
      return c;
    }
    case Verb::kPivotRoot:
    case Verb::kVersion:
      break;
  }
  PivotRootCommand c{op[0], op[1], {}};
  c.options.in = in;
  return c;
}

// The message for stderr. Failures are reported as the library words them
// (the call as made, stage, errno name, hint); should a message lack the
// stage or the errno name, they are added so scripts can rely on them.
std::string FailureMessage(const absl::Status& status) {
  std::string msg(status.message());
  std::optional<MountError> e = GetMountError(status);
  Stage stage = e ? e->stage : Stage::kNone;
  int errno_value = e ? e->errno_value : 0;
  std::vector<std::string> missing;
  if (!absl::StrContains(msg, StageName(stage))) {
    missing.push_back(absl::StrCat("stage ", StageName(stage)));
  }
  if (errno_value != 0 && !absl::StrContains(msg, ErrnoName(errno_value))) {
    missing.push_back(ErrnoDescription(errno_value));
  }
  if (!missing.empty()) {
    absl::StrAppend(&msg, " [", absl::StrJoin(missing, ", "), "]");
  }
  return msg;
}

// Exit status and message for a failed status: 2 when the arguments were
// refused before any syscall (stage bad_flag, bad_in, bad_argument), with
// the usage as for the parser's errors; else 1.
int ReportFailure(Verb verb, const absl::Status& status, std::FILE* err) {
  std::optional<MountError> e = GetMountError(status);
  if (e && IsArgumentStage(e->stage)) {
    absl::string_view reason = status.message();
    // "bind: flag ..." → "flag ...": the line already names the verb.
    absl::ConsumePrefix(&reason, absl::StrCat(e->operation, ": "));
    std::fprintf(err, "linx %s: %s\n%s\nRun 'linx %s --help' for more.\n",
                 VerbName(verb), std::string(reason).c_str(),
                 VerbUsage(verb).c_str(), VerbName(verb));
    return 2;
  }
  std::fprintf(err, "linx: %s\n", FailureMessage(status).c_str());
  return 1;
}

}  // namespace

int RunParsedVerbCommand(const VerbCommand& command, std::FILE* out,
                         std::FILE* err) {
  if (command.verb == Verb::kVersion) {
    std::fprintf(out, "linx %s\n", Version());
    return 0;
  }
  absl::StatusOr<Namespace> in = Namespace::Parse(command.in);
  if (in.ok() && command.userns) in = in->WithUserNamespace();
  if (!in.ok()) return ReportFailure(command.verb, in.status(), err);
  Command c = ToCommand(command, *in);
  if (!command.idmap.empty()) {
    absl::StatusOr<UserNamespace> userns = UserNamespace::Parse(command.idmap);
    if (!userns.ok()) return ReportFailure(command.verb, userns.status(), err);
    std::get<BindCommand>(c).options.idmap = *userns;
  }
  absl::Status status = Execute(c);
  if (!status.ok()) return ReportFailure(command.verb, status, err);
  return 0;
}

int RunVerbCommand(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  ParsedVerbCommand parsed = ParseVerbCommand(args);
  switch (parsed.kind) {
    case ParsedVerbCommand::Kind::kUnknownVerb:
      return kUnknownCommand;
    case ParsedVerbCommand::Kind::kHelp:
      std::fputs(VerbHelp(parsed.command.verb).c_str(), stdout);
      return 0;
    case ParsedVerbCommand::Kind::kUsageError: {
      const char* name = VerbName(parsed.command.verb);
      std::fprintf(stderr, "linx %s: %s\n%s\nRun 'linx %s --help' for more.\n",
                   name, parsed.error.c_str(),
                   VerbUsage(parsed.command.verb).c_str(), name);
      return 2;
    }
    case ParsedVerbCommand::Kind::kRun:
      break;
  }
  return RunParsedVerbCommand(parsed.command, stdout, stderr);
}

}  // namespace linx::tools
