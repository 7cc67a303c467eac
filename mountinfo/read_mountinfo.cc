// ReadMountInfo*: the only I/O of the mountinfo package.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/eintr.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/unique_fd.h"
#include "mountinfo/internal/huge_pages.h"
#include "mountinfo/mountinfo.h"

namespace linx {
namespace {

constexpr char kOperation[] = "read_mountinfo";

absl::Status ReadError(int err, absl::string_view what,
                       const std::string& path) {
  OpError e;
  e.operation = kOperation;
  e.stage = Stage::kRead;
  e.errno_value = err;
  e.value = path;
  return MakeOpError(
      e, absl::StrCat(what, " ", path, ": ", ErrnoDescription(err)));
}

absl::Status BadPath(absl::string_view path, absl::string_view why) {
  OpError e;
  e.operation = kOperation;
  e.stage = Stage::kBadArgument;
  e.value = std::string(path);
  return MakeOpError(e, absl::StrCat("read_mountinfo: path ", why));
}

// Huge pages for a big buffer before it is first touched
// (internal/huge_pages.h).
void AdviseHugePages(std::string* buf) {
  mountinfo_internal::AdviseHugePages(buf->data(), buf->capacity());
}

absl::StatusOr<MountTable> ParseRead(const std::string& path,
                                     const ReadOptions& options) {
  absl::StatusOr<std::string> text =
      ReadMountInfoText(path, options.initial_buffer_size);
  if (!text.ok()) return text.status();
  absl::StatusOr<MountTable> table =
      ParseMountInfo(std::move(text).value(), options.parse);
  if (!table.ok()) return PrefixStatus(table.status(), path + ": ");
  return table;
}

}  // namespace

absl::StatusOr<std::string> ReadMountInfoText(absl::string_view path,
                                              size_t initial_buffer_size) {
  if (path.empty()) return BadPath(path, "is empty");
  if (path.find('\0') != absl::string_view::npos) {
    return BadPath(path, "holds a NUL byte");
  }
  std::string p(path);
  UniqueFd fd(RetryOnEintr(
      [&] { return ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY); }));
  if (!fd.valid()) {
    int err = errno;
    return ReadError(err, "open", p);
  }
  size_t cap = initial_buffer_size < 64 ? 64 : initial_buffer_size;
  struct stat st;
  if (::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    // A regular file: one read of the whole size, plus one byte so the
    // same read can tell us the file did not grow meanwhile.
    cap = static_cast<size_t>(st.st_size) + 1;
  }
  // procfs (seq_file) returns at most one buffer page per read(2), whatever
  // the size asked for; keep reading until read(2) returns 0. The buffer
  // doubles when full, so a large table costs O(log n) reallocations.
  std::string buf;
  buf.reserve(cap);
  AdviseHugePages(&buf);
  buf.resize(cap);
  size_t len = 0;
  for (;;) {
    if (len == buf.size()) {
      buf.reserve(buf.size() * 2);
      AdviseHugePages(&buf);
      buf.resize(buf.capacity());
    }
    ssize_t n = RetryOnEintr(
        [&] { return ::read(fd.get(), &buf[len], buf.size() - len); });
    if (n < 0) {
      int err = errno;
      return ReadError(err, "read", p);
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  buf.resize(len);
  return buf;
}

absl::StatusOr<MountTable> ReadMountInfo(const ReadOptions& options) {
  return ParseRead("/proc/thread-self/mountinfo", options);
}

absl::StatusOr<MountTable> ReadMountInfoOfPid(pid_t pid,
                                              const ReadOptions& options) {
  if (pid <= 0) {
    OpError e;
    e.operation = kOperation;
    e.stage = Stage::kBadArgument;
    e.value = absl::StrCat(pid);
    return MakeOpError(
        e, absl::StrCat("read_mountinfo: pid ", pid, " is not a process ID"));
  }
  return ParseRead(absl::StrCat("/proc/", pid, "/mountinfo"), options);
}

absl::StatusOr<MountTable> ReadMountInfoFile(absl::string_view path,
                                             const ReadOptions& options) {
  if (path.empty()) return BadPath(path, "is empty");
  if (path.find('\0') != absl::string_view::npos) {
    return BadPath(path, "holds a NUL byte");
  }
  return ParseRead(std::string(path), options);
}

}  // namespace linx
