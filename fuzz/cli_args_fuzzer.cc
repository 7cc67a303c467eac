// Fuzzes the argument parsers of the linx CLI: every verb through
// linx::tools::ParseVerbCommand, and list, find and watch through their
// Parse*Command functions. The input is argv without argv[0]: NUL-separated
// strings, the first naming the command ("list", "find", "watch", or a verb;
// anything else is an unknown verb). The parsers make no syscalls, so
// fuzzing them changes no state anywhere. For any input:
//  - parsing never crashes, never reads out of bounds (ASan under
//    --config=fuzz) and gives the same result twice;
//  - a usage error has a non-empty reason (for list, find and watch one
//    line, with the offending bytes escaped);
//  - a command ready to run is consistent: the operand count of its verb,
//    an --in of the form self|pid:N|path:/P, --pid and --file not together,
//    --json and --tree not together, --count and --rescan positive.
// Seeds: every command with every option, valid and broken.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_check.h"
#include "tools/find_command.h"
#include "tools/list_command.h"
#include "tools/verb_commands.h"
#include "tools/watch_command.h"

namespace {

using linx::tools::ParsedFindCommand;
using linx::tools::ParsedListCommand;
using linx::tools::ParsedVerbCommand;
using linx::tools::ParsedWatchCommand;
using linx::tools::Verb;

// argv as the parsers of list/find/watch take it: argv[0] is the command.
struct Argv {
  explicit Argv(const std::vector<std::string>& args) : storage(args) {
    for (std::string& s : storage) pointers.push_back(s.data());
    pointers.push_back(nullptr);
  }
  int argc() const { return static_cast<int>(storage.size()); }
  char** argv() { return pointers.data(); }
  std::vector<std::string> storage;
  std::vector<char*> pointers;
};

bool OneLine(const std::string& s) {
  return !s.empty() && s.find('\n') == std::string::npos;
}

size_t OperandCount(Verb verb) {
  switch (verb) {
    case Verb::kMount:
      return 3;
    case Verb::kBind:
    case Verb::kMove:
    case Verb::kPivotRoot:
      return 2;
    case Verb::kRemount:
    case Verb::kUmount:
      return 1;
    case Verb::kVersion:
      return 0;
  }
  return 99;
}

void CheckList(const std::vector<std::string>& args) {
  Argv a(args), b(args);
  ParsedListCommand p = linx::tools::ParseListCommand(a.argc(), a.argv());
  ParsedListCommand q = linx::tools::ParseListCommand(b.argc(), b.argv());
  LINX_FUZZ_CHECK(p.kind == q.kind && p.error == q.error);
  if (p.kind == ParsedListCommand::Kind::kUsageError) {
    LINX_FUZZ_CHECK(OneLine(p.error));
    return;
  }
  if (p.kind != ParsedListCommand::Kind::kRun) return;
  const linx::tools::ListCommand& c = p.command;
  LINX_FUZZ_CHECK(c.pid >= 0);
  LINX_FUZZ_CHECK(c.pid == 0 || c.file.empty());
  LINX_FUZZ_CHECK(!(c.json && c.tree));
  if (c.backend != linx::ListBackend::kText) {
    LINX_FUZZ_CHECK(c.file.empty() && !c.options.parse.strict);
  }
}

void CheckFind(const std::vector<std::string>& args) {
  Argv a(args), b(args);
  ParsedFindCommand p = linx::tools::ParseFindCommand(a.argc(), a.argv());
  ParsedFindCommand q = linx::tools::ParseFindCommand(b.argc(), b.argv());
  LINX_FUZZ_CHECK(p.kind == q.kind && p.error == q.error &&
                  p.command.path == q.command.path);
  if (p.kind == ParsedFindCommand::Kind::kUsageError) {
    LINX_FUZZ_CHECK(OneLine(p.error));
    return;
  }
  if (p.kind != ParsedFindCommand::Kind::kRun) return;
  LINX_FUZZ_CHECK(!(p.command.is_mount_point && p.command.json));
}

void CheckWatch(const std::vector<std::string>& args) {
  Argv a(args), b(args);
  ParsedWatchCommand p = linx::tools::ParseWatchCommand(a.argc(), a.argv());
  ParsedWatchCommand q = linx::tools::ParseWatchCommand(b.argc(), b.argv());
  LINX_FUZZ_CHECK(p.kind == q.kind && p.error == q.error);
  if (p.kind == ParsedWatchCommand::Kind::kUsageError) {
    LINX_FUZZ_CHECK(OneLine(p.error));
    return;
  }
  if (p.kind != ParsedWatchCommand::Kind::kRun) return;
  const linx::tools::WatchCommand& c = p.command;
  LINX_FUZZ_CHECK(c.count == -1 || c.count > 0);
  LINX_FUZZ_CHECK(c.options.pid >= 0);
  LINX_FUZZ_CHECK(c.options.rescan_interval > absl::ZeroDuration());
  LINX_FUZZ_CHECK(c.timeout >= absl::ZeroDuration());
}

void CheckVerb(const std::vector<std::string>& args) {
  ParsedVerbCommand p = linx::tools::ParseVerbCommand(args);
  ParsedVerbCommand q = linx::tools::ParseVerbCommand(args);
  LINX_FUZZ_CHECK(p.kind == q.kind && p.error == q.error);
  switch (p.kind) {
    case ParsedVerbCommand::Kind::kUnknownVerb:
      return;
    case ParsedVerbCommand::Kind::kUsageError:
      LINX_FUZZ_CHECK(!p.error.empty());
      LINX_FUZZ_CHECK(args[0] == linx::tools::VerbName(p.command.verb));
      return;
    case ParsedVerbCommand::Kind::kHelp:
      LINX_FUZZ_CHECK(!linx::tools::VerbHelp(p.command.verb).empty());
      return;
    case ParsedVerbCommand::Kind::kRun:
      break;
  }
  const linx::tools::VerbCommand& c = p.command;
  LINX_FUZZ_CHECK(args[0] == linx::tools::VerbName(c.verb));
  LINX_FUZZ_CHECK(c.operands.size() == OperandCount(c.verb));
  LINX_FUZZ_CHECK(c.in == "self" || absl::StartsWith(c.in, "pid:") ||
                  absl::StartsWith(c.in, "path:/"));
  LINX_FUZZ_CHECK(!c.recursive || c.verb == Verb::kUmount);
  LINX_FUZZ_CHECK(c.data.find('\0') == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A command line is short; longer inputs only slow the fuzzer down.
  if (size > 4096) return 0;
  std::vector<std::string> args;
  absl::string_view in(reinterpret_cast<const char*>(data), size);
  for (;;) {
    size_t nul = in.find('\0');
    args.emplace_back(in.substr(0, nul));
    if (nul == absl::string_view::npos) break;
    in.remove_prefix(nul + 1);
  }
  const std::string& cmd = args[0];
  if (cmd == "list") {
    CheckList(args);
  } else if (cmd == "find") {
    CheckFind(args);
  } else if (cmd == "watch") {
    CheckWatch(args);
  } else {
    CheckVerb(args);
  }
  return 0;
}
