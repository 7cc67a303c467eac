// UserNamespace: a user namespace held open, for idmapped mounts
// (MOUNT_ATTR_IDMAP: the mount shows the files' owners through that
// namespace's uid/gid maps).
//
//   ASSIGN_OR_RETURN(linx::UserNamespace userns,
//   linx::UserNamespace::Pid(4242)); linx::BindOptions o; o.idmap = userns;
//   RETURN_IF_ERROR(linx::Bind("/srv/data", "/run/c1/rootfs/data", o));
//
// Opened eagerly, once: a pid recycled later cannot change what it names.
// Copies share the descriptor. Thread-safe to copy and read.
#ifndef LINX_NSEXEC_USERNS_H_
#define LINX_NSEXEC_USERNS_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/unique_fd.h"

namespace linx {

class UserNamespace {
 public:
  // The user namespace of process `pid`: /proc/<pid>/ns/user. Errors:
  // pid <= 0 → bad_in; no such process → open_ns ENOENT; not a user
  // namespace file → open_ns EINVAL.
  static absl::StatusOr<UserNamespace> Pid(pid_t pid);
  // A user-namespace file (or a bind mount of one); rules as
  // Namespace::Path, the type checked with NS_GET_NSTYPE.
  static absl::StatusOr<UserNamespace> Path(absl::string_view path);
  // "pid:N" or "userns:PATH", as the CLI's --idmap takes them.
  static absl::StatusOr<UserNamespace> Parse(absl::string_view spec);
  // A new, throwaway user namespace with these maps (user_namespaces(7)
  // /proc/<pid>/uid_map and gid_map format: "inside outside count" lines),
  // for an idmapped bind of an OCI mount with uidMappings/gidMappings: a
  // child is forked, unshares CLONE_NEWUSER, the maps are written, its
  // namespace is opened and the child is killed and reaped; the namespace
  // lives on through the descriptor. The writer needs CAP_SETUID/CAP_SETGID
  // over the ids mapped. Errors (operation "userns"): fork, unshare or the
  // writes at stage open_ns with the errno (EPERM: ids the caller may not
  // map; EINVAL: a malformed or overlapping map).
  static absl::StatusOr<UserNamespace> WithMaps(absl::string_view uid_map,
                                                absl::string_view gid_map);
  // What is wrong with the form of `spec`, "" when well formed (no I/O).
  static std::string SpecProblem(absl::string_view spec);

  // The descriptor (owned by this object and its copies).
  int fd() const { return fd_ ? fd_->get() : -1; }
  // "user namespace of pid 4242" / "user namespace at /x".
  const std::string& Describe() const { return what_; }

 private:
  UserNamespace(std::shared_ptr<UniqueFd> fd, std::string what)
      : fd_(std::move(fd)), what_(std::move(what)) {}
  std::shared_ptr<UniqueFd> fd_;
  std::string what_;
};

}  // namespace linx

#endif  // LINX_NSEXEC_USERNS_H_
