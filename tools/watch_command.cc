#include "tools/watch_command.h"

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/status.h"
#include "mountinfo/format.h"
#include "mountinfo/live_table.h"
#include "mountinfo/monitor.h"
#include "mountinfo/mountinfo.h"
#include "mountinfo/statmount.h"
#include "mountinfo/tree.h"
#include "tools/option_scanner.h"

namespace linx::tools {
namespace {

constexpr char kUsage[] =
    "usage: linx watch [--pid N] [--json] [--count N] [--timeout SECONDS]\n"
    "                  [--rescan SECONDS] [--backend auto|text|statmount]\n"
    "                  [--no-fanotify] [--diff [--exact]]\n"
    "\n"
    "Print changes to a mount table as they happen (default: the calling\n"
    "process's namespace), one line per added, removed or changed mount.\n"
    "\n"
    "  --pid N          the namespace of process N, without entering it\n"
    "  --json           one JSON object per line: {\"event\": \"added\",\n"
    "                   \"mount\": {...}} / \"removed\" / {\"event\":\n"
    "                   \"changed\", \"before\": {...}, \"after\": {...}}\n"
    "  --count N        exit after N changes\n"
    "  --timeout S      exit after S seconds (exit 1 if --count was not\n"
    "                   reached)\n"
    "  --rescan S       rescan every S seconds for changes nothing signals\n"
    "                   (propagation changes); default 1\n"
    "  --backend B      how tables are read: auto, text, statmount\n"
    "  --no-fanotify    do not use fanotify mount events\n"
    "  --diff           keep a live table (LiveMountTable): each change\n"
    "                   costs one statmount per mount it names instead of\n"
    "                   a full re-read; --rescan is then the interval of\n"
    "                   the numeric sweep, which also reports a remount\n"
    "                   made together with a mount or umount; --backend\n"
    "                   does not apply\n"
    "  --exact          with --diff: sweep whenever the kernel signals a\n"
    "                   change, so every remount is reported at once (a\n"
    "                   mount or umount then costs a sweep too)\n"
    "  --help           this text\n"
    "\n"
    "Exit status: 0 success, 1 failure or --count not reached, 2 usage.\n";

int Usage(const std::string& error) {
  std::fprintf(stderr, "linx watch: %s\n%s", error.c_str(), kUsage);
  return 2;
}

bool ParseSeconds(absl::string_view v, absl::Duration* d) {
  double s = 0;
  if (!absl::SimpleAtod(v, &s) || !(s >= 0) || s > 1e9) return false;
  *d = absl::Seconds(s);
  return true;
}

std::string Describe(const MountInfo& m) {
  return absl::StrCat(m.id, " ", EncodeMountInfoEscapes(m.target), " ",
                      EncodeMountInfoEscapes(m.fstype), " ",
                      EncodeMountInfoEscapes(m.source), " ",
                      EncodeMountInfoEscapes(m.vfs_options));
}

std::string FieldDiff(const MountInfo& a, const MountInfo& b) {
  std::vector<std::string> parts;
  auto cmp = [&](const char* name, const std::string& x, const std::string& y) {
    if (x != y) {
      parts.push_back(absl::StrCat(name, "=", EncodeMountInfoEscapes(x), "->",
                                   EncodeMountInfoEscapes(y)));
    }
  };
  cmp("parent_id", absl::StrCat(a.parent_id), absl::StrCat(b.parent_id));
  cmp("root", a.root, b.root);
  cmp("target", a.target, b.target);
  cmp("vfs_options", a.vfs_options, b.vfs_options);
  cmp("propagation", PropagationSummary(a), PropagationSummary(b));
  cmp("fstype", a.fstype, b.fstype);
  cmp("source", a.source, b.source);
  cmp("fs_options", a.fs_options, b.fs_options);
  cmp("device", absl::StrCat(a.major, ":", a.minor),
      absl::StrCat(b.major, ":", b.minor));
  std::string out;
  for (const std::string& p : parts) absl::StrAppend(&out, " ", p);
  return out;
}

void Format(const MountChange& c, bool json, std::string* out) {
  const char* kind = MountChangeKindName(c.kind);
  if (json) {
    absl::StrAppend(out, "{\"event\": \"", kind, "\"");
    if (c.kind == MountChange::Kind::kChanged) {
      out->append(", \"before\": ");
      AppendMountJson(c.before, out);
      out->append(", \"after\": ");
      AppendMountJson(c.after, out);
    } else {
      out->append(", \"mount\": ");
      AppendMountJson(c.mount(), out);
    }
    out->append("}\n");
    return;
  }
  if (c.kind == MountChange::Kind::kChanged) {
    absl::StrAppend(out, kind, " ", c.after.id, " ",
                    EncodeMountInfoEscapes(c.after.target),
                    FieldDiff(c.before, c.after), "\n");
  } else {
    absl::StrAppend(out, kind, " ", Describe(c.mount()), "\n");
  }
}

// Prints every change in `changes` (up to `count` in all); false when the
// output cannot be written.
bool Emit(const std::vector<MountChange>& changes, bool json, long long count,
          long long* seen) {
  std::string out;
  for (const MountChange& c : changes) {
    Format(c, json, &out);
    if (++*seen == count) break;
  }
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() ||
      std::fflush(stdout) != 0) {
    std::fprintf(stderr, "linx watch: writing the output failed\n");
    return false;
  }
  return true;
}

// `linx watch --diff`: the same output over a LiveMountTable.
// Prints the changes `next` waits for (at most the time left) until
// `count` were seen or `timeout` passed. Exit status as RunWatchCommand's.
int WatchLoop(
    absl::FunctionRef<absl::StatusOr<std::vector<MountChange>>(absl::Duration)>
        next,
    bool json, long long count, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  long long seen = 0;
  for (;;) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    absl::StatusOr<std::vector<MountChange>> changes = next(left);
    if (!changes.ok()) {
      std::fprintf(stderr, "linx watch: %s\n",
                   std::string(changes.status().message()).c_str());
      return 1;
    }
    if (!Emit(*changes, json, count, &seen)) return 1;
    if (count > 0 && seen >= count) return 0;
  }
  if (count > 0) {
    std::fprintf(stderr, "linx watch: timed out after %lld of %lld changes\n",
                 seen, count);
    return 1;
  }
  return 0;
}

int WatchLive(const MonitorOptions& options, bool json, long long count,
              absl::Duration timeout, bool exact) {
  LiveTableOptions lo;
  lo.sweep_policy =
      exact ? SweepPolicy::kOnPoke : SweepPolicy::kOnUnexplainedPoke;
  lo.pid = options.pid;
  lo.use_events = options.use_fanotify;
  lo.sweep_interval = options.rescan_interval;
  absl::StatusOr<std::unique_ptr<LiveMountTable>> live =
      LiveMountTable::Open(lo);
  if (!live.ok()) {
    std::fprintf(stderr, "linx watch: %s\n",
                 std::string(live.status().message()).c_str());
    return 1;
  }
  std::fprintf(stderr,
               "linx watch: watching %s (%zu mounts; live table: %s; "
               "sweep every %s)\n",
               options.pid == 0 ? "this namespace"
                                : absl::StrCat("pid ", options.pid).c_str(),
               (*live)->size(),
               (*live)->mode() == LiveMountTable::Mode::kEvents
                   ? "fanotify+statmount"
                   : "re-list",
               absl::FormatDuration(options.rescan_interval).c_str());
  std::fflush(stderr);
  return WatchLoop(
      [&](absl::Duration left) -> absl::StatusOr<std::vector<MountChange>> {
        RETURN_IF_ERROR((*live)->Wait(left));
        return (*live)->Refresh();
      },
      json, count, timeout);
}

}  // namespace

ParsedWatchCommand ParseWatchCommand(int argc, char** argv) {
  ParsedWatchCommand r;
  WatchCommand& c = r.command;
  auto usage = [&r](std::string error) {
    r.kind = ParsedWatchCommand::Kind::kUsageError;
    r.error = std::move(error);
    return r;
  };
  OptionScanner args(argc, argv);
  while (args.Next()) {
    absl::string_view arg = args.name();
    const bool inline_value = args.has_inline_value();
    absl::string_view value;
    auto take = [&] { return args.TakeValue(&value); };
    if (arg == "--help" || arg == "-h") {
      r.kind = ParsedWatchCommand::Kind::kHelp;
      return r;
    } else if (arg == "--json" && !inline_value) {
      c.json = true;
    } else if (arg == "--diff" && !inline_value) {
      c.diff = true;
    } else if (arg == "--exact" && !inline_value) {
      c.exact = true;
    } else if (arg == "--no-fanotify" && !inline_value) {
      c.options.use_fanotify = false;
    } else if (arg == "--pid") {
      int pid = 0;
      if (!take() || !absl::SimpleAtoi(value, &pid) || pid <= 0) {
        return usage("--pid needs a process ID");
      }
      c.options.pid = pid;
    } else if (arg == "--count") {
      if (!take() || !absl::SimpleAtoi(value, &c.count) || c.count <= 0) {
        return usage("--count needs a positive number");
      }
    } else if (arg == "--timeout") {
      if (!take() || !ParseSeconds(value, &c.timeout)) {
        return usage("--timeout needs seconds");
      }
    } else if (arg == "--rescan") {
      if (!take() || !ParseSeconds(value, &c.options.rescan_interval) ||
          c.options.rescan_interval == absl::ZeroDuration()) {
        return usage("--rescan needs a positive number of seconds");
      }
    } else if (arg == "--backend") {
      if (!take()) return usage("--backend needs a value");
      c.backend_given = true;
      if (!ParseListBackend(value, &c.options.backend)) {
        return usage(absl::StrCat("--backend: unknown back end \"",
                                  absl::CEscape(value), "\""));
      }
    } else {
      return usage(
          absl::StrCat("unknown argument \"", absl::CEscape(args.arg()), "\""));
    }
  }
  r.kind = ParsedWatchCommand::Kind::kRun;
  return r;
}

const char* WatchHelp() { return kUsage; }

int RunWatchCommand(int argc, char** argv) {
  ParsedWatchCommand parsed = ParseWatchCommand(argc, argv);
  switch (parsed.kind) {
    case ParsedWatchCommand::Kind::kHelp:
      std::fputs(kUsage, stdout);
      return 0;
    case ParsedWatchCommand::Kind::kUsageError:
      return Usage(parsed.error);
    case ParsedWatchCommand::Kind::kRun:
      break;
  }
  const bool json = parsed.command.json;
  const long long count = parsed.command.count;
  const absl::Duration timeout = parsed.command.timeout;
  const MonitorOptions& options = parsed.command.options;
  if (parsed.command.exact && !parsed.command.diff) {
    return Usage("--exact applies to --diff");
  }
  if (parsed.command.diff) {
    if (parsed.command.backend_given) {
      return Usage("--backend does not apply to --diff");
    }
    return WatchLive(options, json, count, timeout, parsed.command.exact);
  }
  absl::StatusOr<std::unique_ptr<MountMonitor>> mon =
      MountMonitor::Open(options);
  if (!mon.ok()) {
    std::fprintf(stderr, "linx watch: %s\n",
                 std::string(mon.status().message()).c_str());
    return 1;
  }
  std::fprintf(stderr,
               "linx watch: watching %s (%zu mounts; wake-ups: poll%s; "
               "rescan every %s)\n",
               options.pid == 0 ? "this namespace"
                                : absl::StrCat("pid ", options.pid).c_str(),
               (*mon)->snapshot().size(),
               (*mon)->using_fanotify() ? "+fanotify" : "",
               absl::FormatDuration(options.rescan_interval).c_str());
  std::fflush(stderr);
  return WatchLoop([&](absl::Duration left) { return (*mon)->Wait(left); },
                   json, count, timeout);
}

}  // namespace linx::tools
