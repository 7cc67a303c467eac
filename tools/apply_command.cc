#include "tools/apply_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "base/eintr.h"
#include "base/json.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/unique_fd.h"
#include "mount/mount.h"
#include "nsexec/nsexec.h"

namespace linx::tools {
namespace {

constexpr size_t kMaxFileBytes = 1 << 20;  // base/json.h's default limit

ParsedApplyCommand Usage(std::string why) {
  ParsedApplyCommand p;
  p.kind = ParsedApplyCommand::Kind::kUsageError;
  p.error = std::move(why);
  return p;
}

// `path` made absolute against `base` (an absolute directory); "." and ".."
// are left for the kernel (or the in-root resolver) to walk.
std::string Absolute(absl::string_view base, absl::string_view path) {
  if (!path.empty() && path[0] == '/') return std::string(path);
  if (base == "/") return absl::StrCat("/", path);
  return absl::StrCat(base, "/", path);
}

std::string DirName(absl::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

absl::StatusOr<std::string> ReadConfigFile(const std::string& path) {
  UniqueFd fd(RetryOnEintr(
      [&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY); }));
  if (!fd.valid()) {
    int err = errno;
    OpError e{"apply", Stage::kRead, err, path};
    return MakeOpError(
        e, absl::StrCat("open(", Quote(path), "): ", ErrnoDescription(err)));
  }
  std::string text;
  char buf[65536];
  while (true) {
    ssize_t n =
        RetryOnEintr([&] { return ::read(fd.get(), buf, sizeof(buf)); });
    if (n < 0) {
      int err = errno;
      OpError e{"apply", Stage::kRead, err, path};
      return MakeOpError(
          e, absl::StrCat("read(", Quote(path), "): ", ErrnoDescription(err)));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxFileBytes) {
      OpError e{"apply", Stage::kRead, EFBIG, path};
      return MakeOpError(e, absl::StrCat(Quote(path), " is larger than ",
                                         kMaxFileBytes, " bytes"));
    }
  }
  return text;
}

std::string JsonStrings(const std::vector<std::string>& v) {
  std::vector<std::string> q;
  for (const std::string& s : v) q.push_back(JsonQuote(s));
  return absl::StrCat("[", absl::StrJoin(q, ", "), "]");
}

std::string JsonError(const absl::Status& s, size_t entry,
                      const std::string& destination) {
  if (s.ok()) return "null";
  std::optional<OpError> e = GetOpError(s);
  std::string out = "{";
  if (entry > 0) {
    absl::StrAppend(&out, "\"entry\": ", entry,
                    ", \"destination\": ", JsonQuote(destination), ", ");
  }
  absl::StrAppend(
      &out, "\"operation\": ", JsonQuote(e ? e->operation : ""),
      ", \"stage\": ", JsonQuote(StageName(e ? e->stage : Stage::kNone)),
      ", \"errno\": ",
      e && e->errno_value != 0 ? JsonQuote(ErrnoName(e->errno_value))
                               : std::string("null"),
      ", \"value\": ", JsonQuote(e ? e->value : ""),
      ", \"message\": ", JsonQuote(s.message()), "}");
  return out;
}

// The one JSON object of --json.
std::string JsonReport(const ApplyCommand& cmd, const std::string& root,
                       const std::vector<OciStep>& steps,
                       const OciApplyResult* result, const absl::Status& early,
                       int exit_code) {
  std::string out = absl::StrCat(
      "{\"file\": ", JsonQuote(cmd.file),
      ", \"root\": ", root.empty() ? "null" : JsonQuote(root),
      ", \"in\": ", JsonQuote(cmd.in),
      ", \"dry_run\": ", cmd.dry_run ? "true" : "false", ", \"entries\": [");
  for (size_t i = 0; i < steps.size(); ++i) {
    const OciStep& s = steps[i];
    const OciStepResult* r = result != nullptr && i < result->steps.size()
                                 ? &result->steps[i]
                                 : nullptr;
    absl::StrAppend(&out, i > 0 ? ", " : "", "{\"index\": ", s.index,
                    ", \"kind\": ", JsonQuote(OciStepKindName(s.kind)),
                    ", \"destination\": ", JsonQuote(s.mount.destination),
                    ", \"type\": ", JsonQuote(s.mount.type),
                    ", \"source\": ", JsonQuote(s.mount.source),
                    ", \"options\": ", JsonStrings(s.mount.options),
                    ", \"bind\": ", s.bind ? "true" : "false");
    if (r != nullptr) {
      absl::StrAppend(
          &out, ", \"resolved\": ",
          r->resolved.empty() ? "null" : JsonQuote(r->resolved),
          ", \"file_destination\": ", r->file_destination ? "true" : "false",
          ", \"create\": ", JsonStrings(r->created), ", \"problem\": ",
          r->problem.empty() ? "null" : JsonQuote(r->problem),
          ", \"calls\": ", JsonStrings(r->calls),
          ", \"note\": ", r->note.empty() ? "null" : JsonQuote(r->note),
          ", \"state\": ", JsonQuote(OciStepStateName(r->state)));
    } else {
      absl::StrAppend(&out, ", \"state\": \"not_reached\"");
    }
    out += "}";
  }
  absl::Status status = result != nullptr ? result->status : early;
  size_t failed = result != nullptr ? result->failed_index : 0;
  std::string failed_dest = failed > 0 && failed <= steps.size()
                                ? steps[failed - 1].mount.destination
                                : "";
  absl::StrAppend(&out, "], \"ok\": ", exit_code == 0 ? "true" : "false",
                  ", \"exit\": ", exit_code,
                  ", \"error\": ", JsonError(status, failed, failed_dest),
                  ", \"rolled_back\": ",
                  result != nullptr && result->rolled_back ? "true" : "false",
                  ", \"rollback_error\": ",
                  result != nullptr && !result->rollback_status.ok()
                      ? JsonQuote(result->rollback_status.message())
                      : std::string("null"),
                  "}\n");
  return out;
}

void PrintPlan(const std::string& root, const std::vector<OciStep>& steps,
               const OciApplyResult& result, std::FILE* out) {
  std::fprintf(out, "linx apply: plan in root %s (dry run: nothing changed)\n",
               Quote(root).c_str());
  for (size_t i = 0; i < steps.size(); ++i) {
    const OciStep& s = steps[i];
    const OciStepResult& r = result.steps[i];
    if (s.kind != OciStepKind::kMount) {
      const bool masked = s.kind == OciStepKind::kMaskedPath;
      std::fprintf(out, "entry %zu: %s[%zu] %s (%s)\n", s.index,
                   masked ? "maskedPaths" : "readonlyPaths", s.path_index,
                   Quote(s.mount.destination).c_str(),
                   masked ? "masked" : "read-only bind onto itself");
      if (!r.note.empty()) {
        std::fprintf(out, "  path: %s\n", r.note.c_str());
      } else if (!r.resolved.empty()) {
        std::fprintf(out, "  path: %s exists%s\n", Quote(r.resolved).c_str(),
                     !masked ? ""
                     : r.file_destination
                         ? " (not a directory: /dev/null over it)"
                         : " (a directory: a read-only tmpfs over it)");
      }
      if (!r.problem.empty()) {
        std::fprintf(out, "  would fail: %s\n", r.problem.c_str());
      }
      for (const std::string& c : r.calls) {
        std::fprintf(out, "  %s\n", c.c_str());
      }
      continue;
    }
    std::fprintf(out, "entry %zu: %s (%s%s)\n", s.index,
                 Quote(s.mount.destination).c_str(),
                 s.bind ? "bind of " : "type ",
                 Quote(s.bind ? s.mount.source : s.mount.type).c_str());
    std::string where = absl::StrCat("  destination: ", Quote(r.resolved));
    if (r.created.empty()) {
      absl::StrAppend(&where, " exists");
    } else {
      std::vector<std::string> q;
      for (const std::string& c : r.created) q.push_back(Quote(c));
      absl::StrAppend(&where, " exists; would create ", absl::StrJoin(q, ", "),
                      r.file_destination ? " (the last as an empty file)" : "");
    }
    std::fprintf(out, "%s\n", where.c_str());
    if (!r.problem.empty()) {
      std::fprintf(out, "  would fail: %s\n", r.problem.c_str());
    }
    for (const std::string& c : r.calls) {
      std::fprintf(out, "  %s\n", c.c_str());
    }
  }
}

}  // namespace

std::string ApplyUsage() {
  return "usage: linx apply FILE [--root DIR] [--in self|pid:N|path:P] "
         "[--dry-run] [--json]";
}

std::string ApplyHelp() {
  return absl::StrCat(
      ApplyUsage(),
      "\n\n"
      "Apply the mounts of an OCI runtime-spec config (config.json, or a bare\n"
      "JSON array of mount objects) inside a container root, in one trip\n"
      "into the target mount namespace. Options are translated as runc does\n"
      "(flag words, bind/rbind, propagation words as their own call, other\n"
      "words as data); words linx cannot honour (tmpcopyup, idmap, rro, ...)\n"
      "are refused by name before anything runs. Destinations are resolved\n"
      "inside the root (symlinks and .. never leave it) and created as\n"
      "directories, or as an empty file when a bind's source is not a\n"
      "directory. Then linux.readonlyPaths are bound read-only onto\n"
      "themselves (recursively) and linux.maskedPaths masked (/dev/null,\n"
      "the caller's, over a file; a read-only tmpfs over a directory);\n"
      "such a path missing in the root is skipped, as runc does. When\n"
      "entry K fails, everything entries 1..K-1 did is undone (mounts\n"
      "detached, created paths removed).\n"
      "\n"
      "  --root DIR      the container root (default: root.path of FILE,\n"
      "                  relative to FILE's directory; required for a bare\n"
      "                  array). A trusted path of the target namespace.\n"
      "  --in SPEC       self (default), pid:N or path:/ns/file\n"
      "  --dry-run       resolve and print the plan; change nothing\n"
      "  --json          print the plan and the result as one JSON object\n"
      "  -h, --help      print this help\n"
      "\n"
      "Relative bind sources are relative to FILE's directory; bind sources\n"
      "are paths of the target namespace (with --in self, the caller's).\n"
      "Exit status: 0 applied; 1 failed and rolled back; 2 usage error or a\n"
      "bad FILE (nothing touched).\n");
}

ParsedApplyCommand ParseApplyCommand(const std::vector<std::string>& args) {
  ApplyCommand cmd;
  bool seen_root = false, seen_in = false, options_done = false;
  std::vector<std::string> operands;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_done || arg.empty() || arg[0] != '-' || arg == "-") {
      operands.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      ParsedApplyCommand p;
      p.kind = ParsedApplyCommand::Kind::kHelp;
      return p;
    }
    std::string name = arg;
    std::optional<std::string> value;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    const bool takes_value = name == "--root" || name == "--in";
    const bool is_switch = name == "--dry-run" || name == "--json";
    if (!takes_value && !is_switch) {
      return Usage(absl::StrCat("unknown option ", Quote(arg)));
    }
    if (is_switch && value.has_value()) {
      return Usage(absl::StrCat(name, " takes no value"));
    }
    if (takes_value && !value.has_value()) {
      if (i + 1 >= args.size()) {
        return Usage(absl::StrCat(name, " needs a value"));
      }
      value = args[++i];
    }
    if (name == "--dry-run") {
      cmd.dry_run = true;
    } else if (name == "--json") {
      cmd.json = true;
    } else if (name == "--root") {
      if (seen_root) return Usage("--root given twice");
      seen_root = true;
      if (value->empty()) return Usage("--root needs a directory");
      if (value->find('\0') != std::string::npos || value->size() >= PATH_MAX) {
        return Usage("--root is not a usable path");
      }
      cmd.root = *value;
    } else {
      if (seen_in) return Usage("--in given twice");
      seen_in = true;
      if (std::string why = Namespace::SpecProblem(*value); !why.empty()) {
        return Usage(absl::StrCat("bad --in ", Quote(*value), ": ", why));
      }
      cmd.in = *value;
    }
  }
  if (operands.empty()) return Usage("missing operand FILE");
  if (operands.size() > 1) {
    return Usage(absl::StrCat("extra operand ", Quote(operands[1])));
  }
  if (operands[0].empty()) return Usage("FILE is empty");
  cmd.file = operands[0];
  ParsedApplyCommand p;
  p.kind = ParsedApplyCommand::Kind::kRun;
  p.command = std::move(cmd);
  return p;
}

absl::StatusOr<ApplyInputs> PrepareApply(const ApplyCommand& command,
                                         absl::string_view file_text,
                                         absl::string_view cwd) {
  ASSIGN_OR_RETURN(OciConfig config, ParseOciConfig(file_text));
  const std::string file_dir = DirName(Absolute(cwd, command.file));
  ApplyInputs inputs;
  if (!command.root.empty()) {
    inputs.root_dir = Absolute(cwd, command.root);
  } else if (config.root_path.has_value()) {
    inputs.root_dir = Absolute(file_dir, *config.root_path);
  } else {
    return BadArgumentError("apply", "root",
                            "is not given and FILE names none (a bare array "
                            "of mounts, or a config without root.path): give "
                            "--root DIR");
  }
  if (inputs.root_dir.size() >= PATH_MAX) {
    return BadArgumentError("apply", "root", "is longer than PATH_MAX");
  }
  OciTranslateOptions t;
  t.base_dir = file_dir;
  t.root_dir = inputs.root_dir;
  ASSIGN_OR_RETURN(inputs.steps, TranslateOciConfig(config, t));
  inputs.mounts = std::move(config.mounts);
  return inputs;
}

int RunParsedApplyCommand(const ApplyCommand& command, std::FILE* out,
                          std::FILE* err) {
  // Exit 2 before anything is touched: the report says why.
  auto refuse = [&](const absl::Status& s, const std::string& root,
                    const std::vector<OciStep>& steps) {
    if (command.json) {
      std::fputs(JsonReport(command, root, steps, nullptr, s, 2).c_str(), out);
    } else {
      absl::string_view msg = s.message();
      absl::ConsumePrefix(&msg, "apply: ");  // the line already says it
      std::fprintf(err, "linx apply: %s\n", std::string(msg).c_str());
    }
    return 2;
  };
  char cwd_buf[PATH_MAX];
  if (::getcwd(cwd_buf, sizeof(cwd_buf)) == nullptr) {
    int e = errno;
    return refuse(ErrnoToStatus(e, "getcwd"), "", {});
  }
  absl::StatusOr<std::string> text = ReadConfigFile(command.file);
  if (!text.ok()) return refuse(text.status(), "", {});
  absl::StatusOr<ApplyInputs> inputs = PrepareApply(command, *text, cwd_buf);
  if (!inputs.ok()) return refuse(inputs.status(), "", {});
  absl::StatusOr<Namespace> in = Namespace::Parse(command.in);
  if (!in.ok()) return refuse(in.status(), inputs->root_dir, inputs->steps);

  OciApplyOptions options;
  options.dry_run = command.dry_run;
  OciApplyResult result =
      ApplyOci(inputs->steps, inputs->root_dir, *in, options);
  const int code = result.status.ok() ? 0 : 1;
  if (command.json) {
    std::fputs(JsonReport(command, inputs->root_dir, inputs->steps, &result,
                          absl::OkStatus(), code)
                   .c_str(),
               out);
  } else if (command.dry_run) {
    PrintPlan(inputs->root_dir, inputs->steps, result, out);
  } else if (result.status.ok()) {
    size_t skipped = 0;
    for (const OciStepResult& r : result.steps) {
      if (r.state == OciStepState::kSkipped) ++skipped;
    }
    std::string also = skipped == 0
                           ? ""
                           : absl::StrCat(" (", skipped, " missing path",
                                          skipped == 1 ? "" : "s", " skipped)");
    std::fprintf(out, "linx apply: %zu entries applied in root %s%s\n",
                 inputs->steps.size() - skipped,
                 Quote(inputs->root_dir).c_str(), also.c_str());
  }
  if (!result.status.ok() && !command.json) {
    std::string msg(result.status.message());
    std::optional<OpError> e = GetOpError(result.status);
    if (e && !absl::StrContains(msg, StageName(e->stage))) {
      absl::StrAppend(&msg, " [stage ", StageName(e->stage), "]");
    }
    std::fprintf(err, "linx: %s\n", msg.c_str());
    if (result.rolled_back) {
      if (result.rollback_status.ok() && result.failed_index == 1) {
        std::fprintf(err,
                     "linx apply: rolled back: entry 1's partial work was "
                     "undone; nothing else had been done\n");
      } else if (result.rollback_status.ok()) {
        std::fprintf(err,
                     "linx apply: rolled back: what entries before entry %zu "
                     "did (and its own partial work) was undone\n",
                     result.failed_index);
      } else {
        std::fprintf(err, "linx apply: ROLLBACK INCOMPLETE: %s\n",
                     std::string(result.rollback_status.message()).c_str());
      }
    } else {
      std::fprintf(err, "linx apply: nothing was changed\n");
    }
  }
  return code;
}

int RunApplyCommand(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  ParsedApplyCommand parsed = ParseApplyCommand(args);
  switch (parsed.kind) {
    case ParsedApplyCommand::Kind::kHelp:
      std::fputs(ApplyHelp().c_str(), stdout);
      return 0;
    case ParsedApplyCommand::Kind::kUsageError:
      std::fprintf(stderr,
                   "linx apply: %s\n%s\nRun 'linx apply --help' for more.\n",
                   parsed.error.c_str(), ApplyUsage().c_str());
      return 2;
    case ParsedApplyCommand::Kind::kRun:
      break;
  }
  return RunParsedApplyCommand(parsed.command, stdout, stderr);
}

}  // namespace linx::tools
