#include "tools/features_command.h"

#include <sys/utsname.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mount/features.h"
#include "mountinfo/format.h"

namespace linx::tools {
namespace {

constexpr char kUsage[] =
    "usage: linx features [--json]\n"
    "\n"
    "Print which of the kernel's mount features this machine offers\n"
    "(fsopen, open_tree, mount_setattr, idmapped mounts, nosymfollow,\n"
    "openat2, pidfd setns, MOVE_MOUNT_BENEATH, overlay lowerdir+, statmount,\n"
    "listmount, fanotify mount events), probed without side effects.\n"
    "Probes that need CAP_SYS_ADMIN say \"unknown\" without it.\n"
    "\n"
    "  --json   one JSON object: {\"kernel\", \"features\": [{\"name\",\n"
    "           \"since\", \"available\" (true/false/null), \"detail\"}]}\n"
    "  --help   this text\n"
    "\n"
    "Exit status: 0, 2 usage error.\n";

}  // namespace

int RunFeaturesCommand(int argc, char** argv) {
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg != "--json") {
      std::fprintf(stderr, "linx features: unknown argument \"%s\"\n%s",
                   arg.c_str(), kUsage);
      return 2;
    }
    json = true;
  }
  struct utsname u;
  std::string kernel = ::uname(&u) == 0 ? u.release : "";
  std::vector<KernelFeatureInfo> features = KernelFeatures();
  std::string out;
  if (json) {
    out = "{\"kernel\": ";
    AppendJsonString(kernel, &out);
    out += ", \"features\": [";
    for (size_t i = 0; i < features.size(); ++i) {
      const KernelFeatureInfo& f = features[i];
      if (i > 0) out += ", ";
      out += "{\"name\": ";
      AppendJsonString(f.name, &out);
      out += ", \"since\": ";
      AppendJsonString(f.since, &out);
      out += ", \"available\": ";
      out += f.support == Support::kYes  ? "true"
             : f.support == Support::kNo ? "false"
                                         : "null";
      out += ", \"detail\": ";
      AppendJsonString(f.detail, &out);
      out += "}";
    }
    out += "]}\n";
  } else {
    absl::StrAppend(&out, "kernel ", kernel, "\n");
    absl::StrAppend(&out, "FEATURE                 SINCE   HERE\n");
    for (const KernelFeatureInfo& f : features) {
      std::string line = f.name;
      line.resize(24, ' ');
      std::string since = f.since;
      since = since.substr(0, since.find(' '));
      since.resize(8, ' ');
      absl::StrAppend(&out, line, since, SupportName(f.support));
      if (!f.detail.empty()) absl::StrAppend(&out, " (", f.detail, ")");
      absl::StrAppend(&out, "  ", f.what, "\n");
    }
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace linx::tools
