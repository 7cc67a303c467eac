#include "tools/list_command.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "mountinfo/format.h"
#include "mountinfo/mountinfo.h"
#include "mountinfo/statmount.h"
#include "mountinfo/tree.h"
#include "tools/option_scanner.h"

namespace linx::tools {
namespace {

constexpr char kUsage[] =
    "usage: linx list [--pid N | --file PATH] [--json | --tree] [--strict]\n"
    "                 [--backend text|statmount|auto]\n"
    "\n"
    "Print a mount table (default: the calling thread's own,\n"
    "/proc/thread-self/mountinfo).\n"
    "\n"
    "  --pid N      the table of process N (/proc/N/mountinfo)\n"
    "  --file PATH  a mountinfo file\n"
    "  --json       one JSON object: {\"mounts\": [...], \"skipped\": [...]}\n"
    "  --tree       the mounts as a tree, children under their parent\n"
    "  --strict     fail (exit 1) on the first malformed line instead of\n"
    "               skipping it (text back end only)\n"
    "  --backend B  text (the default): read and parse the mountinfo file;\n"
    "               statmount: listmount(2) + statmount(2), Linux 6.13+,\n"
    "               linear where the text is quadratic (slave-heavy\n"
    "               container namespaces); auto: statmount where the kernel\n"
    "               has it, else text. Same output either way.\n"
    "  --help       this text\n"
    "\n"
    "Exit status: 0 success, 1 unreadable input or (with --strict) a\n"
    "malformed line, 2 usage error.\n";

int Usage(const std::string& error) {
  std::fprintf(stderr, "linx list: %s\n%s", error.c_str(), kUsage);
  return 2;
}

bool WriteAll(absl::string_view s) {
  return std::fwrite(s.data(), 1, s.size(), stdout) == s.size() &&
         std::fflush(stdout) == 0;
}

std::vector<MountInfo> Owned(const MountTable& t) { return t.ToMountInfos(); }
const std::vector<MountInfo>& Owned(const std::vector<MountInfo>& v) {
  return v;
}

// Prints a MountTable (text back end) or ListMounts() values (the others)
// as --json, --tree or the text table; the same bytes for the same mounts.
template <typename Table>
int Print(const Table& table, bool json, bool tree) {
  bool ok;
  if (json) {
    // Streamed in 1 MiB pieces: a 100k-entry table is ~80 MB of JSON.
    ok = WriteMountTableJson(
             table, size_t{1} << 20,
             [](absl::string_view piece) { return WriteAll(piece); }) &&
         WriteAll("\n");
  } else {
    std::string out;
    if (tree) {
      AppendMountTree(Owned(table), &out);
    } else {
      AppendMountTableText(table, &out);
    }
    ok = WriteAll(out);
  }
  if (!ok) {
    std::fprintf(stderr, "linx list: writing the output failed\n");
    return 1;
  }
  return 0;
}

int Failed(const absl::Status& status) {
  std::fprintf(stderr, "linx list: %s\n",
               std::string(status.message()).c_str());
  return 1;
}

}  // namespace

ParsedListCommand ParseListCommand(int argc, char** argv) {
  ParsedListCommand r;
  ListCommand& c = r.command;
  auto usage = [&r](std::string error) {
    r.kind = ParsedListCommand::Kind::kUsageError;
    r.error = std::move(error);
    return r;
  };
  bool have_pid = false;
  bool have_file = false;
  OptionScanner args(argc, argv);
  while (args.Next()) {
    absl::string_view arg = args.name();
    const bool inline_value = args.has_inline_value();
    absl::string_view value;
    if (arg == "--help" || arg == "-h") {
      r.kind = ParsedListCommand::Kind::kHelp;
      return r;
    } else if (arg == "--json" && !inline_value) {
      c.json = true;
    } else if (arg == "--tree" && !inline_value) {
      c.tree = true;
    } else if (arg == "--strict" && !inline_value) {
      c.options.parse.strict = true;
    } else if (arg == "--pid") {
      if (!args.TakeValue(&value)) return usage("--pid needs a process ID");
      if (have_pid) return usage("--pid given twice");
      if (!absl::SimpleAtoi(value, &c.pid) || c.pid <= 0 ||
          value.find_first_not_of("0123456789") != value.npos) {
        return usage(absl::StrCat("--pid: not a process ID: \"",
                                  absl::CEscape(value), "\""));
      }
      have_pid = true;
    } else if (arg == "--backend") {
      if (!args.TakeValue(&value)) return usage("--backend needs a value");
      if (!ParseListBackend(value, &c.backend)) {
        return usage(absl::StrCat("--backend: unknown back end \"",
                                  absl::CEscape(value), "\""));
      }
    } else if (arg == "--file") {
      if (!args.TakeValue(&value)) return usage("--file needs a path");
      if (have_file) return usage("--file given twice");
      if (value.empty()) return usage("--file: empty path");
      c.file = std::string(value);
      have_file = true;
    } else {
      return usage(
          absl::StrCat("unknown argument \"", absl::CEscape(args.arg()), "\""));
    }
  }
  if (have_pid && have_file) {
    return usage("--pid and --file exclude each other");
  }
  if (c.json && c.tree) return usage("--json and --tree exclude each other");
  if (c.backend != ListBackend::kText) {
    if (have_file) return usage("--file is read by the text back end only");
    if (c.options.parse.strict) {
      return usage("--strict applies to the text back end only");
    }
  }
  r.kind = ParsedListCommand::Kind::kRun;
  return r;
}

const char* ListHelp() { return kUsage; }

int RunListCommand(int argc, char** argv) {
  ParsedListCommand parsed = ParseListCommand(argc, argv);
  switch (parsed.kind) {
    case ParsedListCommand::Kind::kHelp:
      std::fputs(kUsage, stdout);
      return 0;
    case ParsedListCommand::Kind::kUsageError:
      return Usage(parsed.error);
    case ParsedListCommand::Kind::kRun:
      break;
  }
  const ListCommand& c = parsed.command;
  const bool json = c.json;
  const bool tree = c.tree;
  const bool have_pid = c.pid != 0;
  const bool have_file = !c.file.empty();
  const int pid = c.pid;
  const std::string& file = c.file;
  const ReadOptions& options = c.options;
  if (c.backend != ListBackend::kText) {
    ListOptions lo;
    lo.backend = c.backend;
    lo.pid = have_pid ? pid : 0;
    absl::StatusOr<std::vector<MountInfo>> mounts = ListMounts(lo);
    if (!mounts.ok()) return Failed(mounts.status());
    return Print(*mounts, json, tree);
  }

  absl::StatusOr<MountTable> table = have_pid ? ReadMountInfoOfPid(pid, options)
                                     : have_file
                                         ? ReadMountInfoFile(file, options)
                                         : ReadMountInfo(options);
  if (!table.ok()) return Failed(table.status());
  if (!json) {  // the JSON lists them in "skipped"
    for (const SkippedLine& s : table->skipped()) {
      std::fprintf(stderr, "linx list: skipped line %llu, field %d (%s): %s\n",
                   static_cast<unsigned long long>(s.line),
                   static_cast<int>(s.field), s.field_name, s.reason.c_str());
    }
  }
  return Print(*table, json, tree);
}

}  // namespace linx::tools
