// What the threaded statmount listing (statmount_list.cc) needs from the
// single-mount code (statmount.cc). Private to mountinfo/.
#ifndef LINX_MOUNTINFO_INTERNAL_STATMOUNT_DECODE_H_
#define LINX_MOUNTINFO_INTERNAL_STATMOUNT_DECODE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "mountinfo/mountinfo.h"
#include "mountinfo/statmount.h"

namespace linx::statmount_internal {

// One statmount(2) of `id` (in namespace `ns_id`, 0: the caller's) with
// `mask`, decoded into *out (default-constructed). 0, or the errno; EBADMSG,
// with *problem saying why, for a reply that does not hold together.
// `buf` is scratch space reused between calls.
int StatmountDecoded(uint64_t id, uint64_t ns_id, uint64_t mask,
                     std::vector<uint64_t>* buf, MountInfo* out,
                     std::string* problem);
int StatmountDecoded(uint64_t id, uint64_t ns_id, uint64_t mask,
                     std::vector<uint64_t>* buf, StatmountEntry* out,
                     std::string* problem);

// The MountInfo inside either entry type.
MountInfo& InfoOf(MountInfo& m);
MountInfo& InfoOf(StatmountEntry& e);

// A failed statmount(2) of `id` (stage read, the errno, the reply's problem).
absl::Status StatmountError(int err, uint64_t id, const std::string& problem);

// ENOSYS for a listing the kernel cannot do ("needs Linux 6.13+").
absl::Status Unimplemented(absl::string_view what);

}  // namespace linx::statmount_internal

#endif  // LINX_MOUNTINFO_INTERNAL_STATMOUNT_DECODE_H_
