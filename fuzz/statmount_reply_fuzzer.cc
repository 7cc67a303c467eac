// Fuzzes ParseStatmount, the decoder of raw statmount(2) replies that
// ListMounts and StatMount also run on every kernel reply. For any bytes:
//  - it returns an entry or an error, never reads outside the input (ASan
//    under --config=fuzz) and never crashes;
//  - an error is kInvalidArgument with a reason;
//  - an accepted reply gives strings without NUL bytes, the 64-bit IDs of
//    its header, and an entry that survives FormatMountInfoLine ->
//    ParseMountInfoLine unchanged.
// Seeds: real replies from this kernel (6.18) for /, /proc, /sys, /dev and
// tmpfs mounts with blanks, escapes, a shared group and a read-only slave
// bind, with and without propagate_from, plus hand-broken copies.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fuzz/fuzz_check.h"
#include "mountinfo/mountinfo.h"
#include "mountinfo/statmount.h"

namespace {

bool HasNul(const std::string& s) { return s.find('\0') != std::string::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view reply(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<linx::StatmountEntry> e = linx::ParseStatmount(reply);
  if (!e.ok()) {
    LINX_FUZZ_CHECK(e.status().code() == absl::StatusCode::kInvalidArgument);
    LINX_FUZZ_CHECK(!e.status().message().empty());
    return 0;
  }
  const linx::MountInfo& m = e->info;
  for (const std::string* s : {&m.root, &m.target, &m.fstype, &m.source,
                               &m.fs_options, &m.vfs_options}) {
    LINX_FUZZ_CHECK(!HasNul(*s));
  }
  uint64_t header_id = 0;
  std::memcpy(&header_id, data + 40, sizeof(header_id));  // mnt_id
  LINX_FUZZ_CHECK(e->unique_id == header_id);
  // mountinfo's text cannot hold an empty field; the kernel never sends
  // one for the fields a line needs.
  if (m.root.empty() || m.target.empty() || m.fstype.empty() ||
      m.source.empty()) {
    return 0;
  }
  absl::StatusOr<linx::MountInfo> again =
      linx::ParseMountInfoLine(linx::FormatMountInfoLine(m));
  LINX_FUZZ_CHECK(again.ok());
  LINX_FUZZ_CHECK(*again == m);
  return 0;
}
