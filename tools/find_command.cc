#include "tools/find_command.h"

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "mountinfo/format.h"
#include "mountinfo/query.h"
#include "mountinfo/statmount.h"
#include "mountinfo/tree.h"
#include "tools/option_scanner.h"

namespace linx::tools {
namespace {

constexpr char kUsage[] =
    "usage: linx find PATH [--json] [--backend auto|text|statmount]\n"
    "       linx find --is-mount-point PATH\n"
    "\n"
    "Print the mount that contains PATH (symlinks followed, like\n"
    "findmnt --target), in the calling process's mount namespace.\n"
    "\n"
    "  --json            one JSON object (the keys of linx list --json)\n"
    "  --backend B       auto (default): statx+statmount where the kernel\n"
    "                    has them; text: the mountinfo file; statmount\n"
    "  --is-mount-point  print \"yes\" or \"no\": is PATH itself a mount\n"
    "                    point\n"
    "  --help            this text\n"
    "\n"
    "Exit status: 0 success, 1 the query failed, 2 usage error.\n";

int Usage(const std::string& error) {
  std::fprintf(stderr, "linx find: %s\n%s", error.c_str(), kUsage);
  return 2;
}

}  // namespace

ParsedFindCommand ParseFindCommand(int argc, char** argv) {
  ParsedFindCommand r;
  FindCommand& c = r.command;
  auto usage = [&r](std::string error) {
    r.kind = ParsedFindCommand::Kind::kUsageError;
    r.error = std::move(error);
    return r;
  };
  std::vector<std::string> paths;
  OptionScanner args(argc, argv);
  while (args.Next()) {
    absl::string_view arg = args.arg();
    if (arg == "--help" || arg == "-h") {
      r.kind = ParsedFindCommand::Kind::kHelp;
      return r;
    } else if (arg == "--json") {
      c.json = true;
    } else if (arg == "--is-mount-point") {
      c.is_mount_point = true;
    } else if (args.name() == "--backend") {
      absl::string_view v;
      if (!args.TakeValue(&v)) return usage("--backend needs a value");
      if (!ParseListBackend(v, &c.options.backend)) {
        return usage(absl::StrCat("--backend: unknown back end \"",
                                  absl::CEscape(v), "\""));
      }
    } else if (arg == "--") {
      while (args.Next()) paths.emplace_back(args.arg());
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usage(
          absl::StrCat("unknown argument \"", absl::CEscape(arg), "\""));
    } else {
      paths.emplace_back(arg);
    }
  }
  if (paths.size() != 1) return usage("exactly one PATH is needed");
  if (c.is_mount_point && c.json) {
    return usage("--is-mount-point prints no JSON");
  }
  c.path = std::move(paths[0]);
  r.kind = ParsedFindCommand::Kind::kRun;
  return r;
}

const char* FindHelp() { return kUsage; }

int RunFindCommand(int argc, char** argv) {
  ParsedFindCommand parsed = ParseFindCommand(argc, argv);
  switch (parsed.kind) {
    case ParsedFindCommand::Kind::kHelp:
      std::fputs(kUsage, stdout);
      return 0;
    case ParsedFindCommand::Kind::kUsageError:
      return Usage(parsed.error);
    case ParsedFindCommand::Kind::kRun:
      break;
  }
  const bool is_mp = parsed.command.is_mount_point;
  const bool json = parsed.command.json;
  const FindOptions& options = parsed.command.options;
  const std::vector<std::string> paths = {parsed.command.path};
  if (is_mp) {
    absl::StatusOr<bool> r = IsMountPoint(paths[0], options);
    if (!r.ok()) {
      std::fprintf(stderr, "linx find: %s\n",
                   std::string(r.status().message()).c_str());
      return 1;
    }
    std::puts(*r ? "yes" : "no");
    return 0;
  }
  absl::StatusOr<MountInfo> m = FindMount(paths[0], options);
  if (!m.ok()) {
    std::fprintf(stderr, "linx find: %s\n",
                 std::string(m.status().message()).c_str());
    return 1;
  }
  std::string out;
  if (json) {
    AppendMountJson(*m, &out);
    out.push_back('\n');
  } else {
    std::vector<MountInfo> one = {*m};
    AppendMountTree(one, &out);
  }
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() ||
      std::fflush(stdout) != 0) {
    std::fprintf(stderr, "linx find: writing the output failed\n");
    return 1;
  }
  return 0;
}

}  // namespace linx::tools
