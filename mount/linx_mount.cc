// The C ABI: raw arguments in, the C++ verbs of mount/mount.h behind, a
// struct linx_error out. Nothing may throw across this boundary.
#include "mount/linx_mount.h"

#include <sys/mount.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/op_error.h"
#include "base/status.h"
#include "mount/command.h"
#include "mount/flags.h"
#include "mount/mount.h"
#include "nsexec/nsexec.h"

// The stage numbers are ABI; they must follow base/op_error.h.
#define LINX_CHECK_STAGE(c_name, cc_name)                         \
  static_assert(c_name == static_cast<int>(linx::Stage::cc_name), \
                #c_name " must equal linx::Stage::" #cc_name)
LINX_CHECK_STAGE(LINX_STAGE_NONE, kNone);
LINX_CHECK_STAGE(LINX_STAGE_MOUNT, kMount);
LINX_CHECK_STAGE(LINX_STAGE_UMOUNT, kUmount);
LINX_CHECK_STAGE(LINX_STAGE_PIVOT_ROOT, kPivotRoot);
LINX_CHECK_STAGE(LINX_STAGE_OPEN_NS, kOpenNs);
LINX_CHECK_STAGE(LINX_STAGE_UNSHARE, kUnshare);
LINX_CHECK_STAGE(LINX_STAGE_SETNS, kSetns);
LINX_CHECK_STAGE(LINX_STAGE_CHDIR, kChdir);
LINX_CHECK_STAGE(LINX_STAGE_THREAD, kThread);
LINX_CHECK_STAGE(LINX_STAGE_CREATE, kCreate);
LINX_CHECK_STAGE(LINX_STAGE_OPEN_PIDNS, kOpenPidns);
LINX_CHECK_STAGE(LINX_STAGE_SETNS_PID, kSetnsPid);
LINX_CHECK_STAGE(LINX_STAGE_PIPE, kPipe);
LINX_CHECK_STAGE(LINX_STAGE_FORK, kFork);
LINX_CHECK_STAGE(LINX_STAGE_BAD_FLAG, kBadFlag);
LINX_CHECK_STAGE(LINX_STAGE_BAD_IN, kBadIn);
LINX_CHECK_STAGE(LINX_STAGE_BAD_ARGUMENT, kBadArgument);
LINX_CHECK_STAGE(LINX_STAGE_READ, kRead);
LINX_CHECK_STAGE(LINX_STAGE_RESOLVE, kResolve);
LINX_CHECK_STAGE(LINX_STAGE_SETNS_USER, kSetnsUser);
#undef LINX_CHECK_STAGE

namespace linx {
namespace {

// NULL and "" are the same to every C entry point.
absl::string_view Str(const char* s) {
  return s == nullptr ? absl::string_view() : absl::string_view(s);
}

// For a status without an errno (none of linx's own, but be total).
int ErrnoForCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kNotFound:
      return ENOENT;
    case absl::StatusCode::kPermissionDenied:
      return EPERM;
    case absl::StatusCode::kUnimplemented:
      return ENOSYS;
    case absl::StatusCode::kResourceExhausted:
      return ENOMEM;
    case absl::StatusCode::kAlreadyExists:
      return EEXIST;
    case absl::StatusCode::kFailedPrecondition:
      return EBUSY;
    case absl::StatusCode::kInvalidArgument:
      return EINVAL;
    default:
      return EIO;
  }
}

// Copies `msg` into `out` (size LINX_ERROR_MESSAGE_SIZE), cutting it at a
// UTF-8 character boundary if it does not fit; always NUL-terminated.
void CopyMessage(absl::string_view msg, char* out) {
  size_t n = msg.size();
  if (n >= LINX_ERROR_MESSAGE_SIZE) {
    n = LINX_ERROR_MESSAGE_SIZE - 1;
    // Back up over continuation bytes (10xxxxxx) so no character is split.
    while (n > 0 && (static_cast<unsigned char>(msg[n]) & 0xC0) == 0x80) --n;
  }
  std::memcpy(out, msg.data(), n);
  out[n] = '\0';
}

void Fill(linx_error* err, int stage, int errno_value, absl::string_view msg) {
  if (err == nullptr) return;
  err->stage = stage;
  err->errno_value = errno_value;
  CopyMessage(msg, err->message);
}

thread_local std::string t_kernel_message;

// The C result of a status: 0, or -1 with `err` and errno filled.
int Report(const absl::Status& status, linx_error* err) {
  t_kernel_message.clear();
  if (status.ok()) {
    Fill(err, LINX_STAGE_NONE, 0, "");
    return 0;
  }
  int stage = LINX_STAGE_NONE;
  int errno_value = 0;
  if (std::optional<MountError> e = GetMountError(status)) {
    stage = static_cast<int>(e->stage);
    errno_value = e->errno_value;
    t_kernel_message = e->kernel_message;
    // Argument errors make no syscall and carry errno 0 in C++; C callers
    // get the errno the kernel itself uses for bad arguments.
    if (errno_value == 0 && IsArgumentStage(e->stage)) errno_value = EINVAL;
  }
  if (errno_value == 0) errno_value = ErrnoForCode(status.code());
  Fill(err, stage, errno_value, status.message());
  errno = errno_value;
  return -1;
}

// Runs `fn` (which returns an absl::Status) and reports its result; an
// exception (only std::bad_alloc is plausible) never crosses into C.
template <typename Fn>
int Guard(linx_error* err, Fn fn) {
  try {
    return Report(fn(), err);
  } catch (const std::bad_alloc&) {
    Fill(err, LINX_STAGE_NONE, ENOMEM, "linx: out of memory");
    errno = ENOMEM;
  } catch (const std::exception& e) {
    Fill(err, LINX_STAGE_NONE, EINVAL, absl::StrCat("linx: ", e.what()));
    errno = EINVAL;
  } catch (...) {
    Fill(err, LINX_STAGE_NONE, EINVAL, "linx: unexpected exception");
    errno = EINVAL;
  }
  return -1;
}

// The namespace named by ns_path (and pidns_path): Self when both are empty.
absl::StatusOr<Namespace> NamespaceOf(absl::string_view ns_path,
                                      absl::string_view pidns_path) {
  if (ns_path.empty() && pidns_path.empty()) return Namespace::Self();
  if (ns_path.empty()) {
    return MakeOpError(
        {"open_ns", Stage::kBadIn, 0, std::string(pidns_path)},
        absl::StrCat("pidns_path \"", pidns_path,
                     "\" needs an ns_path (the mount namespace to act in)"));
  }
  if (pidns_path.empty()) return Namespace::Path(ns_path);
  return Namespace::Path(ns_path, pidns_path);
}

absl::Status DoMount(const char* source, const char* target, const char* fstype,
                     unsigned long bits, const char* data, const char* ns_path,
                     const char* pidns_path, int create_target) {
  ASSIGN_OR_RETURN(Namespace in, NamespaceOf(Str(ns_path), Str(pidns_path)));
  ASSIGN_OR_RETURN(
      Command c, CommandFromMountCall(Str(source), Str(target), Str(fstype),
                                      bits, Str(data), create_target != 0, in));
  return Execute(c);
}

// The root (and mkdir / source_in_root) on whichever command the flags
// made: each options struct has its own fields.
absl::Status SetRoot(Command& c, const char* root, int options) {
  if (Str(root).empty()) {
    return BadArgumentError("mount", "root", "is empty");
  }
  if ((options & ~(LINX_IN_ROOT_MKDIR | LINX_IN_ROOT_SOURCE_IN_ROOT)) != 0) {
    return MakeOpError(
        {"mount", Stage::kBadFlag, 0, absl::StrCat("options ", options)},
        absl::StrCat("mount: unknown in-root options ", options));
  }
  const bool mkdir = (options & LINX_IN_ROOT_MKDIR) != 0;
  const bool source_in_root = (options & LINX_IN_ROOT_SOURCE_IN_ROOT) != 0;
  return std::visit(
      [&](auto& cmd) -> absl::Status {
        using T = std::decay_t<decltype(cmd)>;
        if constexpr (std::is_same_v<T, PivotRootCommand>) {
          return BadArgumentError("pivot_root", "root", "takes no root");
        } else {
          cmd.options.root.dir = std::string(Str(root));
        }
        if constexpr (std::is_same_v<T, MountCommand>) {
          cmd.options.mkdir = mkdir;
        } else if constexpr (std::is_same_v<T, BindCommand>) {
          cmd.options.mkdir = mkdir;
          cmd.options.source_in_root = source_in_root;
        } else if (mkdir) {
          return BadArgumentError(OperationOf(c), "options",
                                  "LINX_IN_ROOT_MKDIR applies to new mounts "
                                  "and binds");
        }
        return absl::OkStatus();
      },
      c);
}

absl::Status DoMountInRoot(const char* root, const char* source,
                           const char* target, const char* fstype,
                           unsigned long bits, const char* data,
                           const char* ns_path, int create_target,
                           int options) {
  ASSIGN_OR_RETURN(Namespace in, NamespaceOf(Str(ns_path), ""));
  ASSIGN_OR_RETURN(
      Command c, CommandFromMountCall(Str(source), Str(target), Str(fstype),
                                      bits, Str(data), create_target != 0, in));
  RETURN_IF_ERROR(SetRoot(c, root, options));
  return Execute(c);
}

absl::Status DoUmount(const char* target, int bits, const char* ns_path) {
  UmountCommand c;
  c.target = std::string(Str(target));
  ASSIGN_OR_RETURN(c.options.flags, UmountFlagsFromBits(bits));
  ASSIGN_OR_RETURN(c.options.in, NamespaceOf(Str(ns_path), ""));
  return Execute(c);
}

absl::Status DoMountEx(const linx_mount_args* a) {
  if (a == nullptr) return BadArgumentError("mount", "args", "is NULL");
  // Fields past `size` are the caller's older struct: treat as zero.
  linx_mount_args args{};
  size_t n = a->size < sizeof(args) ? a->size : sizeof(args);
  if (n < offsetof(linx_mount_args, create_target) + sizeof(int)) {
    return BadArgumentError("mount", "args.size",
                            absl::StrCat("is too small (", a->size, ")"));
  }
  std::memcpy(&args, a, n);
  ASSIGN_OR_RETURN(Namespace in,
                   NamespaceOf(Str(args.ns_path), Str(args.pidns_path)));
  if (args.join_userns) {
    ASSIGN_OR_RETURN(in, in.WithUserNamespace());
  }
  ASSIGN_OR_RETURN(
      Command c, CommandFromMountCall(
                     Str(args.source), Str(args.target), Str(args.fstype),
                     args.flags, Str(args.data), args.create_target != 0, in));
  if (!Str(args.root).empty()) {
    int options = (args.mkdir ? LINX_IN_ROOT_MKDIR : 0) |
                  (args.source_in_root ? LINX_IN_ROOT_SOURCE_IN_ROOT : 0);
    RETURN_IF_ERROR(SetRoot(c, args.root, options));
  } else if (args.source_in_root) {
    return BadArgumentError("mount", "source_in_root", "needs a root");
  } else if (args.mkdir) {
    // No root: the target's directories are made inside "/".
    if (auto* m = std::get_if<MountCommand>(&c)) {
      m->options.mkdir = true;
    } else if (auto* b = std::get_if<BindCommand>(&c)) {
      b->options.mkdir = true;
    } else {
      return BadArgumentError(OperationOf(c), "mkdir",
                              "applies to new mounts and binds");
    }
  }
  if (!Str(args.idmap_userns).empty()) {
    auto* bind = std::get_if<BindCommand>(&c);
    if (bind == nullptr) {
      return BadArgumentError(OperationOf(c), "idmap_userns",
                              "applies to binds (MS_BIND) only");
    }
    ASSIGN_OR_RETURN(bind->options.idmap,
                     UserNamespace::Path(Str(args.idmap_userns)));
  }
  if (args.beneath) {
    if (auto* m = std::get_if<MountCommand>(&c)) {
      m->options.beneath = true;
    } else if (auto* b = std::get_if<BindCommand>(&c)) {
      b->options.beneath = true;
    } else {
      return BadArgumentError(OperationOf(c), "beneath",
                              "applies to new mounts and binds");
    }
  }
  return Execute(c);
}

absl::Status DoUmountInRoot(const char* root, const char* target, int bits,
                            const char* ns_path) {
  if (Str(root).empty()) return BadArgumentError("umount", "root", "is empty");
  UmountCommand c;
  c.target = std::string(Str(target));
  c.options.root.dir = std::string(Str(root));
  ASSIGN_OR_RETURN(c.options.flags, UmountFlagsFromBits(bits));
  ASSIGN_OR_RETURN(c.options.in, NamespaceOf(Str(ns_path), ""));
  return Execute(c);
}

absl::Status DoPivotRoot(const char* new_root, const char* put_old,
                         const char* ns_path) {
  PivotRootCommand c;
  c.new_root = std::string(Str(new_root));
  c.put_old = std::string(Str(put_old));
  ASSIGN_OR_RETURN(c.options.in, NamespaceOf(Str(ns_path), ""));
  return Execute(c);
}

}  // namespace
}  // namespace linx

extern "C" {

const char* linx_version(void) { return linx::Version(); }

const char* linx_kernel_message(void) { return linx::t_kernel_message.c_str(); }

const char* linx_stage_name(int stage) {
  if (stage < LINX_STAGE_NONE || stage > LINX_STAGE_SETNS_USER) {
    return "unknown";
  }
  return linx::StageName(static_cast<linx::Stage>(stage));
}

int linx_mount(const char* source, const char* target, const char* fstype,
               unsigned long flags, const char* data, const char* ns_path,
               const char* pidns_path, int create_target,
               struct linx_error* err) {
  return linx::Guard(err, [&] {
    return linx::DoMount(source, target, fstype, flags, data, ns_path,
                         pidns_path, create_target);
  });
}

int linx_mount_in_root(const char* root, const char* source, const char* target,
                       const char* fstype, unsigned long flags,
                       const char* data, const char* ns_path, int create_target,
                       int options, struct linx_error* err) {
  return linx::Guard(err, [&] {
    return linx::DoMountInRoot(root, source, target, fstype, flags, data,
                               ns_path, create_target, options);
  });
}

int linx_mount_ex(const struct linx_mount_args* args, struct linx_error* err) {
  return linx::Guard(err, [&] { return linx::DoMountEx(args); });
}

int linx_umount_in_root(const char* root, const char* target, int flags,
                        const char* ns_path, struct linx_error* err) {
  return linx::Guard(
      err, [&] { return linx::DoUmountInRoot(root, target, flags, ns_path); });
}

int linx_umount(const char* target, int flags, const char* ns_path,
                struct linx_error* err) {
  return linx::Guard(err,
                     [&] { return linx::DoUmount(target, flags, ns_path); });
}

int linx_pivot_root(const char* new_root, const char* put_old,
                    const char* ns_path, struct linx_error* err) {
  return linx::Guard(
      err, [&] { return linx::DoPivotRoot(new_root, put_old, ns_path); });
}

int linx_bind(const char* source, const char* target, unsigned long flags,
              const char* ns_path, int create_target, struct linx_error* err) {
  return linx_mount(source, target, nullptr, MS_BIND | flags, nullptr, ns_path,
                    nullptr, create_target, err);
}

int linx_move(const char* source, const char* target, const char* ns_path,
              struct linx_error* err) {
  return linx_mount(source, target, nullptr, MS_MOVE, nullptr, ns_path, nullptr,
                    0, err);
}

int linx_remount(const char* target, unsigned long flags, const char* data,
                 const char* ns_path, struct linx_error* err) {
  return linx_mount(nullptr, target, nullptr, MS_REMOUNT | flags, data, ns_path,
                    nullptr, 0, err);
}

}  // extern "C"
