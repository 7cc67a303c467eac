// Fuzzes `linx apply`'s parse-only path (PrepareApply: JSON → OCI mounts →
// linx Commands; no syscalls) and checks what must hold for any FILE:
//  - it returns, with steps or with kInvalidArgument carrying an OpError at
//    an argument stage (bad_argument or bad_flag), never anything else;
//  - on success the root is absolute, every step is numbered in order,
//    every command has that root, every mount entry's command has mkdir
//    and every bind's source is absolute, the readonlyPaths/maskedPaths
//    entries follow the mounts (readonly first), create nothing and bind
//    the path onto itself / mask it with a ro tmpfs or /dev/null, and no
//    string handed to the kernel holds a NUL byte.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "base/op_error.h"
#include "fuzz/fuzz_check.h"
#include "mount/command.h"
#include "tools/apply_command.h"

namespace {

bool Clean(const std::string& s) { return s.find('\0') == std::string::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  linx::tools::ApplyCommand cmd;
  cmd.file = "bundle/config.json";
  absl::StatusOr<linx::tools::ApplyInputs> in =
      linx::tools::PrepareApply(cmd, text, "/work");
  if (!in.ok()) {
    LINX_FUZZ_CHECK(in.status().code() == absl::StatusCode::kInvalidArgument);
    std::optional<linx::OpError> e = linx::GetOpError(in.status());
    LINX_FUZZ_CHECK(e.has_value() && linx::IsArgumentStage(e->stage));
    return 0;
  }
  LINX_FUZZ_CHECK(!in->root_dir.empty() && in->root_dir[0] == '/');
  LINX_FUZZ_CHECK(in->steps.size() >= in->mounts.size());
  for (size_t i = 0; i < in->steps.size(); ++i) {
    const linx::OciStep& s = in->steps[i];
    LINX_FUZZ_CHECK(s.index == i + 1);
    LINX_FUZZ_CHECK(!s.mount.destination.empty());
    LINX_FUZZ_CHECK(Clean(s.mount.destination));
    if (i < in->mounts.size()) {
      LINX_FUZZ_CHECK(s.kind == linx::OciStepKind::kMount);
    } else {
      LINX_FUZZ_CHECK(s.kind != linx::OciStepKind::kMount);
      if (s.kind == linx::OciStepKind::kReadonlyPath) {
        LINX_FUZZ_CHECK(i == 0 || in->steps[i - 1].kind !=
                                      linx::OciStepKind::kMaskedPath);
        const auto& b = std::get<linx::BindCommand>(s.main);
        LINX_FUZZ_CHECK(s.bind && !s.mask_file.has_value());
        LINX_FUZZ_CHECK(b.source == s.mount.destination &&
                        b.target == s.mount.destination);
        LINX_FUZZ_CHECK(b.options.source_in_root && !b.options.mkdir &&
                        !b.options.create);
        LINX_FUZZ_CHECK(b.options.root.dir == in->root_dir);
      } else {
        const auto& m = std::get<linx::MountCommand>(s.main);
        LINX_FUZZ_CHECK(m.fstype == "tmpfs" && m.target == s.mount.destination);
        LINX_FUZZ_CHECK(!m.options.mkdir && !m.options.create);
        LINX_FUZZ_CHECK(m.options.root.dir == in->root_dir);
        LINX_FUZZ_CHECK(s.mask_file.has_value());
        const auto& f = std::get<linx::BindCommand>(*s.mask_file);
        LINX_FUZZ_CHECK(f.source == "/dev/null" &&
                        f.target == s.mount.destination);
        LINX_FUZZ_CHECK(!f.options.mkdir && !f.options.create &&
                        !f.options.source_in_root);
        LINX_FUZZ_CHECK(f.options.root.dir == in->root_dir);
      }
      LINX_FUZZ_CHECK(s.propagation.empty());
      continue;
    }
    if (const auto* b = std::get_if<linx::BindCommand>(&s.main)) {
      LINX_FUZZ_CHECK(s.bind);
      LINX_FUZZ_CHECK(!b->source.empty() && b->source[0] == '/');
      LINX_FUZZ_CHECK(Clean(b->source) && Clean(b->target));
      LINX_FUZZ_CHECK(b->options.root.dir == in->root_dir && b->options.mkdir);
    } else {
      const auto& m = std::get<linx::MountCommand>(s.main);
      LINX_FUZZ_CHECK(!s.bind && !m.fstype.empty());
      LINX_FUZZ_CHECK(Clean(m.source) && Clean(m.target) && Clean(m.fstype) &&
                      Clean(m.options.data));
      LINX_FUZZ_CHECK(m.options.data.size() <= 4095);
      LINX_FUZZ_CHECK(m.options.root.dir == in->root_dir && m.options.mkdir);
    }
    for (const linx::Command& p : s.propagation) {
      const auto& m = std::get<linx::MountCommand>(p);
      LINX_FUZZ_CHECK(m.source.empty() && m.fstype.empty());
      LINX_FUZZ_CHECK(m.target == s.mount.destination);
    }
  }
  return 0;
}
