#include "tools/find_command.h"

#include <cstdio>
#include <string>
#include <vector>

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

int RunFindCommand(int argc, char** argv) {
  bool json = false;
  bool is_mp = false;
  FindOptions options;
  std::vector<std::string> paths;
  OptionScanner args(argc, argv);
  while (args.Next()) {
    absl::string_view arg = args.arg();
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--json") {
      json = true;
    } else if (arg == "--is-mount-point") {
      is_mp = true;
    } else if (args.name() == "--backend") {
      absl::string_view v;
      if (!args.TakeValue(&v)) return Usage("--backend needs a value");
      if (!ParseListBackend(v, &options.backend)) {
        return Usage(absl::StrCat("--backend: unknown back end \"", v, "\""));
      }
    } else if (arg == "--") {
      while (args.Next()) paths.emplace_back(args.arg());
    } else if (arg.size() > 1 && arg[0] == '-') {
      return Usage(absl::StrCat("unknown argument \"", arg, "\""));
    } else {
      paths.emplace_back(arg);
    }
  }
  if (paths.size() != 1) return Usage("exactly one PATH is needed");
  if (is_mp && json) return Usage("--is-mount-point prints no JSON");
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
