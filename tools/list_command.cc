#include "tools/list_command.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

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

int RunListCommand(int argc, char** argv) {
  bool json = false;
  bool tree = false;
  bool have_pid = false;
  bool have_file = false;
  int pid = 0;
  std::string file;
  ReadOptions options;
  ListBackend backend = ListBackend::kText;
  OptionScanner args(argc, argv);
  while (args.Next()) {
    absl::string_view arg = args.name();
    const bool inline_value = args.has_inline_value();
    absl::string_view value;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--json" && !inline_value) {
      json = true;
    } else if (arg == "--tree" && !inline_value) {
      tree = true;
    } else if (arg == "--strict" && !inline_value) {
      options.parse.strict = true;
    } else if (arg == "--pid") {
      if (!args.TakeValue(&value)) return Usage("--pid needs a process ID");
      if (have_pid) return Usage("--pid given twice");
      if (!absl::SimpleAtoi(value, &pid) || pid <= 0 ||
          value.find_first_not_of("0123456789") != value.npos) {
        return Usage(absl::StrCat("--pid: not a process ID: \"", value, "\""));
      }
      have_pid = true;
    } else if (arg == "--backend") {
      if (!args.TakeValue(&value)) return Usage("--backend needs a value");
      if (!ParseListBackend(value, &backend)) {
        return Usage(
            absl::StrCat("--backend: unknown back end \"", value, "\""));
      }
    } else if (arg == "--file") {
      if (!args.TakeValue(&value)) return Usage("--file needs a path");
      if (have_file) return Usage("--file given twice");
      if (value.empty()) return Usage("--file: empty path");
      file = std::string(value);
      have_file = true;
    } else {
      return Usage(absl::StrCat("unknown argument \"", args.arg(), "\""));
    }
  }
  if (have_pid && have_file)
    return Usage("--pid and --file exclude each other");
  if (json && tree) return Usage("--json and --tree exclude each other");
  if (backend != ListBackend::kText) {
    if (have_file) return Usage("--file is read by the text back end only");
    if (options.parse.strict) {
      return Usage("--strict applies to the text back end only");
    }
    ListOptions lo;
    lo.backend = backend;
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
