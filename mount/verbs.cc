// The verbs of mount/mount.h (and UmountTree): each builds its Command and
// hands it to the executor.
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "mount/command.h"
#include "mount/mount.h"
#include "mount/umount_tree.h"

namespace linx {

const char* Version() { return LINX_VERSION; }

std::optional<MountError> GetMountError(const absl::Status& status) {
  return GetOpError(status);
}

absl::Status Mount(absl::string_view source, absl::string_view target,
                   absl::string_view fstype, const MountOptions& opts) {
  return Execute(MountCommand{std::string(source), std::string(target),
                              std::string(fstype), opts});
}

absl::Status Bind(absl::string_view source, absl::string_view target,
                  const BindOptions& opts) {
  return Execute(BindCommand{std::string(source), std::string(target), opts});
}

absl::Status BindFromHost(absl::string_view source, absl::string_view target,
                          const BindOptions& opts) {
  return Execute(BindCommand{std::string(source), std::string(target), opts,
                             /*source_from_caller=*/true});
}

absl::Status Move(absl::string_view source, absl::string_view target,
                  const MoveOptions& opts) {
  return Execute(MoveCommand{std::string(source), std::string(target), opts});
}

absl::Status Remount(absl::string_view target, const RemountOptions& opts) {
  return Execute(RemountCommand{std::string(target), opts});
}

absl::Status Umount(absl::string_view target, const UmountOptions& opts) {
  return Execute(UmountCommand{std::string(target), opts});
}

absl::Status UmountTree(absl::string_view target, const UmountOptions& opts) {
  UmountOptions tree = opts;
  tree.recursive = true;
  return Execute(UmountCommand{std::string(target), std::move(tree)});
}

absl::Status PivotRoot(absl::string_view new_root, absl::string_view put_old,
                       const PivotRootOptions& opts) {
  return Execute(
      PivotRootCommand{std::string(new_root), std::string(put_old), opts});
}

absl::StatusOr<std::vector<MountInfo>> List() {
  ASSIGN_OR_RETURN(MountTable t, ReadMountInfo());
  return t.ToMountInfos();
}

absl::StatusOr<std::vector<MountInfo>> List(pid_t pid) {
  ASSIGN_OR_RETURN(MountTable t, ReadMountInfoOfPid(pid));
  return t.ToMountInfos();
}

absl::StatusOr<std::vector<MountInfo>> List(absl::string_view path) {
  ASSIGN_OR_RETURN(MountTable t, ReadMountInfoFile(path));
  return t.ToMountInfos();
}

}  // namespace linx
