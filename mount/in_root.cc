#include "mount/in_root.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <deque>
#include <iterator>
#include <optional>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/eintr.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/syscalls.h"
#include "mount/internal/in_root_hooks.h"
#include "mount/internal/in_root_util.h"

namespace linx {
namespace {

using in_root_internal::BadArgument;
using in_root_internal::FdIdentity;
using in_root_internal::FdProcPath;
using in_root_internal::Identity;
using in_root_internal::NoOpenat2;
using in_root_internal::ReopenPath;
using in_root_internal::RootName;

// path_resolution(7): at most 40 symlinks per resolution (MAXSYMLINKS).
constexpr int kMaxSymlinks = 40;
// openat2(2) EAGAIN under RESOLVE_IN_ROOT means "a rename or mount raced
// with '..'"; retry a bounded number of times, then walk instead.
constexpr int kOpenat2Retries = 16;
// Names that keep appearing between ENOENT and O_EXCL/mkdirat.
constexpr int kCreateRetries = 8;

absl::Status ResolveError(int root_fd, absl::string_view path, int err,
                          absl::string_view detail) {
  OpError e;
  e.operation = "resolve";
  e.stage = Stage::kResolve;
  e.errno_value = err;
  e.value = std::string(path);
  return MakeOpError(
      e, absl::StrCat("resolve ", Quote(path), " in root ", RootName(root_fd),
                      ": ", detail, ": ", ErrnoDescription(err)));
}

absl::Status CheckPathArgument(absl::string_view what, absl::string_view p) {
  if (p.empty()) return BadArgument(what, p, "empty");
  if (p.find('\0') != absl::string_view::npos) {
    return BadArgument(what, p, "contains a NUL byte");
  }
  if (p.size() >= PATH_MAX) {
    return BadArgument(what, p,
                       absl::StrCat("longer than ", PATH_MAX - 1, " bytes"));
  }
  return absl::OkStatus();
}

// One resolution by components (see the header). Holds every directory fd
// from the root down, so ".." is a pop and never a lookup.
class Walk {
 public:
  Walk(int root_fd, absl::string_view path, const InRootOptions& options)
      : root_fd_(root_fd), path_(path), options_(options) {}

  absl::StatusOr<InRootPath> Run() {
    absl::StatusOr<InRootPath> r = RunOnce();
    if (!r.ok() && !created_.empty()) RemoveCreated(root_fd_, created_);
    return r;
  }

 private:
  struct Component {
    std::string name;
    bool from_link;  // spelled by a symlink's text, not by the caller
  };
  struct Level {
    UniqueFd fd;
    std::string name;
  };

  int Top() const {
    return levels_.empty() ? root_fd_ : levels_.back().fd.get();
  }

  // The canonical path must stay a usable path (shorter than PATH_MAX); this
  // also bounds the fds held to about PATH_MAX / 2.
  absl::Status CheckLength(absl::string_view name) {
    if (canonical_size_ + 1 + name.size() >= PATH_MAX) {
      return Fail(
          ENAMETOOLONG, name,
          absl::StrCat("resolved path longer than ", PATH_MAX - 1, " bytes"));
    }
    return absl::OkStatus();
  }
  void Enter(UniqueFd fd, const std::string& name) {
    canonical_size_ += 1 + name.size();
    levels_.push_back({std::move(fd), name});
  }
  void Pop() {
    canonical_size_ -= 1 + levels_.back().name.size();
    levels_.pop_back();
  }

  std::string Canonical() const {
    if (levels_.empty()) return "/";
    std::string out;
    for (const Level& l : levels_) absl::StrAppend(&out, "/", l.name);
    return out;
  }
  std::string Child(absl::string_view name) const {
    return levels_.empty() ? absl::StrCat("/", name)
                           : absl::StrCat(Canonical(), "/", name);
  }

  absl::Status Fail(int err, absl::string_view name, absl::string_view what) {
    return ResolveError(root_fd_, path_, err,
                        absl::StrCat("at ", Quote(Child(name)), " (component ",
                                     Quote(name), "): ", what));
  }

  // Puts the components of `text` in front of what is left to do. A
  // trailing "/" becomes "." so the name before it must be a directory.
  void Queue(absl::string_view text, bool from_link) {
    std::vector<Component> parts;
    for (absl::string_view p : absl::StrSplit(text, '/', absl::SkipEmpty())) {
      parts.push_back({std::string(p), from_link});
    }
    if (!text.empty() && text.back() == '/' && !parts.empty()) {
      parts.push_back({".", from_link});
    }
    todo_.insert(todo_.begin(), parts.begin(), parts.end());
  }

  absl::StatusOr<InRootPath> RunOnce() {
    Queue(path_, false);
    int retries = 0;
    while (!todo_.empty()) {
      Component c = std::move(todo_.front());
      todo_.pop_front();
      if (c.name == ".") continue;
      if (c.name == "..") {
        if (!levels_.empty()) Pop();  // ".." of "/" is "/"
        continue;
      }
      const bool last = todo_.empty();
      const int top = Top();
      UniqueFd fd(RetryOnEintr([&] {
        return ::openat(top, c.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
      }));
      if (!fd.valid()) {
        int err = errno;
        if (err != ENOENT) return Fail(err, c.name, "open");
        const bool may_create =
            last ? (options_.mkdir || options_.create_file) : options_.mkdir;
        if (!may_create) return Fail(ENOENT, c.name, "does not exist");
        if (c.from_link) {
          return Fail(ENOENT, c.name,
                      "named by a dangling symlink; refusing to create "
                      "through it");
        }
        const bool directory = !last || !options_.create_file;
        RETURN_IF_ERROR(CheckLength(c.name));
        absl::StatusOr<UniqueFd> made = Create(c.name, directory);
        if (!made.ok()) {
          if (GetOpError(made.status()).has_value() &&
              GetOpError(made.status())->errno_value == EEXIST &&
              ++retries <= kCreateRetries) {
            todo_.push_front(std::move(c));  // appeared meanwhile: look again
            continue;
          }
          return made.status();
        }
        Enter(*std::move(made), c.name);
        continue;
      }
      struct stat st {};
      if (::fstat(fd.get(), &st) != 0) return Fail(errno, c.name, "fstat");
      if (S_ISLNK(st.st_mode)) {
        RETURN_IF_ERROR(FollowLink(fd.get(), c.name));
        continue;
      }
      if (!last && !S_ISDIR(st.st_mode)) {
        return Fail(ENOTDIR, c.name, "not a directory");
      }
      RETURN_IF_ERROR(CheckLength(c.name));
      Enter(std::move(fd), c.name);
    }
    InRootPath out;
    out.path = Canonical();
    if (levels_.empty()) {
      out.fd = ReopenPath(root_fd_);
      if (!out.fd.valid()) {
        return ResolveError(root_fd_, path_, errno, "reopen the root");
      }
    } else {
      out.fd = std::move(levels_.back().fd);
    }
    out.created = std::move(created_);
    created_.clear();
    return out;
  }

  absl::Status FollowLink(int link_fd, absl::string_view name) {
    if (++links_ > kMaxSymlinks) {
      return Fail(ELOOP, name,
                  absl::StrCat("more than ", kMaxSymlinks, " symlinks"));
    }
    // Magic links (proc(5): /proc/<pid>/{root,cwd,exe,fd/N,ns/...}) jump to
    // an object, not a path; their text cannot be re-resolved safely. Every
    // procfs symlink is refused, since from userspace a magic one cannot be
    // told from /proc/self.
    struct statfs sfs {};
    if (::fstatfs(link_fd, &sfs) != 0) return Fail(errno, name, "fstatfs");
    if (sfs.f_type == PROC_SUPER_MAGIC) {
      return Fail(ELOOP, name, "symlink on procfs (magic link) refused");
    }
    char buf[PATH_MAX];
    ssize_t n = ::readlinkat(link_fd, "", buf, sizeof(buf));
    if (n < 0) return Fail(errno, name, "readlinkat");
    if (n >= static_cast<ssize_t>(sizeof(buf))) {
      return Fail(ENAMETOOLONG, name, "symlink text too long");
    }
    if (n == 0) return Fail(ENOENT, name, "empty symlink");
    absl::string_view text(buf, static_cast<size_t>(n));
    if (text.front() == '/') {  // absolute: from the root
      levels_.clear();
      canonical_size_ = 0;
    }
    Queue(text, true);
    return absl::OkStatus();
  }

  absl::StatusOr<UniqueFd> Create(const std::string& name, bool directory) {
    const int top = Top();
    const std::string child = Child(name);
    if (directory) {
      if (::mkdirat(top, name.c_str(), 0755) != 0) {
        return Fail(errno, name, "mkdirat");
      }
      created_.push_back({child, true});
      // O_NOFOLLOW | O_DIRECTORY: a symlink swapped in since mkdirat fails
      // with ENOTDIR instead of being followed.
      UniqueFd fd(RetryOnEintr([&] {
        return ::openat(top, name.c_str(),
                        O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
      }));
      if (!fd.valid()) {
        int err = errno;
        return Fail(err == ENOTDIR || err == ENOENT ? EAGAIN : err, name,
                    "the directory just created was replaced");
      }
      struct stat st {};
      if (::fstat(fd.get(), &st) == 0) {
        created_.back().dev = st.st_dev;
        created_.back().ino = st.st_ino;
      }
      return fd;
    }
    UniqueFd file(RetryOnEintr([&] {
      return ::openat(top, name.c_str(),
                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      0644);
    }));
    if (!file.valid()) return Fail(errno, name, "openat(O_CREAT|O_EXCL)");
    created_.push_back({child, false});
    struct stat st {};
    if (::fstat(file.get(), &st) == 0) {
      created_.back().dev = st.st_dev;
      created_.back().ino = st.st_ino;
    }
    UniqueFd fd(RetryOnEintr([&] {
      return ::openat(top, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    }));
    Identity made, now;
    if (!fd.valid() || FdIdentity(file.get(), &made) != 0 ||
        FdIdentity(fd.get(), &now) != 0 || !made.SameAs(now)) {
      return Fail(EAGAIN, name, "the file just created was replaced");
    }
    return fd;
  }

  const int root_fd_;
  const absl::string_view path_;
  const InRootOptions& options_;
  std::deque<Component> todo_;
  std::vector<Level> levels_;
  std::vector<Created> created_;
  size_t canonical_size_ = 0;  // of Canonical()
  int links_ = 0;
};

// The canonical in-root path of `fd` (resolved under `root_fd`), read from
// /proc and proven by resolving it again without symlinks; nullopt when that
// cannot be done.
std::optional<std::string> ProvenPath(int root_fd, int fd) {
  std::string root = FdProcPath(root_fd);
  std::string full = FdProcPath(fd);
  if (root.empty() || full.empty() || root.front() != '/' ||
      full.front() != '/') {
    return std::nullopt;
  }
  std::string rel;
  if (root == "/") {
    rel = full;
  } else if (full == root) {
    rel = "/";
  } else if (full.size() > root.size() &&
             full.compare(0, root.size(), root) == 0 &&
             full[root.size()] == '/') {
    rel = full.substr(root.size());
  } else {
    return std::nullopt;
  }
  sys::OpenHow how;
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve =
      sys::kResolveInRoot | sys::kResolveNoSymlinks | sys::kResolveNoMagiclinks;
  UniqueFd again(
      RetryOnEintr([&] { return sys::Openat2(root_fd, rel.c_str(), &how); }));
  Identity a, b;
  if (!again.valid() || FdIdentity(fd, &a) != 0 ||
      FdIdentity(again.get(), &b) != 0 || !a.SameAs(b)) {
    return std::nullopt;
  }
  return rel;
}

}  // namespace

absl::StatusOr<UniqueFd> OpenRoot(absl::string_view dir) {
  RETURN_IF_ERROR(CheckPathArgument("root", dir));
  std::string d(dir);
  UniqueFd fd(RetryOnEintr(
      [&] { return ::open(d.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC); }));
  if (!fd.valid()) {
    int err = errno;
    OpError e;
    e.operation = "resolve";
    e.stage = Stage::kResolve;
    e.errno_value = err;
    e.value = d;
    return MakeOpError(
        e, absl::StrCat("open root ", Quote(d), ": ", ErrnoDescription(err)));
  }
  return fd;
}

absl::StatusOr<InRootPath> ResolveInRoot(int root_fd, absl::string_view path,
                                         const InRootOptions& options) {
  RETURN_IF_ERROR(CheckPathArgument("path", path));
  if (root_fd < 0) return BadArgument("root fd", "-1", "not open");
  if (!mount_internal::ForceNoOpenat2() && !NoOpenat2().load()) {
    std::string p(path);
    sys::OpenHow how;
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = sys::kResolveInRoot | sys::kResolveNoMagiclinks;
    int fd = -1;
    int err = 0;
    for (int i = 0; i <= kOpenat2Retries; ++i) {
      fd = RetryOnEintr([&] { return sys::Openat2(root_fd, p.c_str(), &how); });
      err = fd < 0 ? errno : 0;
      if (err != EAGAIN) break;
    }
    if (err == ENOSYS) {
      NoOpenat2().store(true);
    } else if (err == EPERM) {
      // Container seccomp profiles often refuse openat2 with EPERM (its
      // argument is a pointer they cannot filter); the walk needs only
      // openat. Not cached: EPERM may also be a real answer, which the
      // walk then reports itself.
    } else if (fd >= 0) {
      UniqueFd owned(fd);
      if (std::optional<std::string> canon = ProvenPath(root_fd, owned.get())) {
        InRootPath out;
        out.fd = std::move(owned);
        out.path = *std::move(canon);
        return out;
      }
      // No usable /proc, or the tree changed under us: the walk gives both
      // the fd and its name.
    } else if (err != EAGAIN &&
               !(err == ENOENT && (options.mkdir || options.create_file))) {
      // The walk names the failing component; if it succeeds (the tree
      // changed in between), report what openat2 said.
      InRootOptions none;
      absl::StatusOr<InRootPath> w = Walk(root_fd, path, none).Run();
      if (!w.ok()) return w.status();
      return ResolveError(root_fd, path, err, "openat2(RESOLVE_IN_ROOT)");
    }
  }
  return Walk(root_fd, path, options).Run();
}

void RemoveCreated(int root_fd, const std::vector<Created>& created) {
  // `dir` holds the directory `dir_path` names. For a nested chain (the
  // usual "/a", "/a/b", "/a/b/c") the next parent is reached with ".." from
  // a directory proven by its recorded inode to be one we created (inside
  // the root, so its parent is too), which keeps a deep rollback linear.
  UniqueFd dir;
  std::string dir_path;
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    absl::string_view p = it->path;
    size_t slash = p.rfind('/');
    if (slash == absl::string_view::npos) continue;
    std::string name(p.substr(slash + 1));
    if (name.empty() || name == "." || name == "..") continue;
    std::string parent(slash == 0 ? "/" : p.substr(0, slash));
    if (!dir.valid() || dir_path != parent) {
      dir.reset();
      absl::StatusOr<InRootPath> resolved = ResolveInRoot(root_fd, parent, {});
      if (!resolved.ok()) continue;
      dir = std::move(resolved->fd);
      dir_path = parent;
    }
    struct stat st {};
    if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        (it->ino == 0 || (st.st_ino == it->ino && st.st_dev == it->dev))) {
      // unlinkat on an O_PATH directory fd works like on any directory fd;
      // with AT_REMOVEDIR it removes only an empty directory, without it
      // only a non-directory, whatever was swapped in after the fstatat.
      if (it->directory && S_ISDIR(st.st_mode)) {
        ::unlinkat(dir.get(), name.c_str(), AT_REMOVEDIR);
      } else if (!it->directory && S_ISREG(st.st_mode)) {
        ::unlinkat(dir.get(), name.c_str(), 0);
      }
    }
    auto next = std::next(it);
    struct stat here {};
    if (next != created.rend() && next->path == dir_path && next->directory &&
        next->ino != 0 && ::fstat(dir.get(), &here) == 0 &&
        here.st_ino == next->ino && here.st_dev == next->dev) {
      UniqueFd up(RetryOnEintr([&] {
        return ::openat(dir.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
      }));
      size_t s = dir_path.rfind('/');
      dir = std::move(up);
      dir_path = s == 0 ? "/" : dir_path.substr(0, s);
    } else {
      dir.reset();
    }
  }
}

}  // namespace linx
