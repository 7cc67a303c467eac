// ReadMountInfo*: the only I/O of the mountinfo package.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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

absl::Status TooBig(const std::string& path, size_t max_size) {
  OpError e;
  e.operation = kOperation;
  e.stage = Stage::kRead;
  e.errno_value = EFBIG;
  e.value = path;
  return MakeOpError(
      e, absl::StrCat("read ", path, ": larger than ", max_size,
                      " bytes (ReadOptions::max_size); not a mountinfo file?"));
}

absl::Status NotAFile(const std::string& path, absl::string_view kind) {
  OpError e;
  e.operation = kOperation;
  e.stage = Stage::kBadArgument;
  e.value = path;
  return MakeOpError(e, absl::StrCat("read_mountinfo: ", path, " is a ", kind,
                                     ", not a file"));
}

absl::StatusOr<MountTable> ParseRead(const std::string& path,
                                     const ReadOptions& options) {
  absl::StatusOr<std::string> text =
      ReadMountInfoText(path, options.initial_buffer_size, options.max_size);
  if (!text.ok()) return text.status();
  absl::StatusOr<MountTable> table =
      ParseMountInfo(std::move(text).value(), options.parse);
  if (!table.ok()) return PrefixStatus(table.status(), path + ": ");
  return table;
}

}  // namespace

absl::StatusOr<std::string> ReadMountInfoText(absl::string_view path,
                                              size_t initial_buffer_size,
                                              size_t max_size) {
  if (path.empty()) return BadPath(path, "is empty");
  if (path.find('\0') != absl::string_view::npos) {
    return BadPath(path, "holds a NUL byte");
  }
  std::string p(path);
  // O_NONBLOCK: open(2) of a FIFO blocks until a writer appears (fifo(7)).
  UniqueFd fd(RetryOnEintr([&] {
    return ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  }));
  if (!fd.valid()) {
    int err = errno;
    return ReadError(err, "open", p);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    int err = errno;
    return ReadError(err, "fstat", p);
  }
  if (S_ISCHR(st.st_mode)) return NotAFile(p, "character device");
  if (S_ISBLK(st.st_mode)) return NotAFile(p, "block device");
  if (S_ISSOCK(st.st_mode)) return NotAFile(p, "socket");
  // Reads block again from here on (a FIFO waits for its writer's data).
  int fl = ::fcntl(fd.get(), F_GETFL);
  if (fl < 0 || ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK) != 0) {
    int err = errno;
    return ReadError(err, "fcntl", p);
  }
  size_t cap = initial_buffer_size < 64 ? 64 : initial_buffer_size;
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    // A regular file: refuse one larger than the bound before allocating
    // anything (a sparse multi-GB file costs nothing to create); else one
    // read of the whole size, plus one byte so the same read can tell us
    // the file did not grow meanwhile.
    if (static_cast<uint64_t>(st.st_size) > max_size)
      return TooBig(p, max_size);
    cap = static_cast<size_t>(st.st_size) + 1;
  }
  // One byte past the bound, so a read that fills it proves the input is
  // larger (and SIZE_MAX as a bound does not wrap to 0).
  const size_t limit = max_size == SIZE_MAX ? max_size : max_size + 1;
  cap = std::min(cap, limit);
  // procfs (seq_file) returns at most one buffer page per read(2), whatever
  // the size asked for; keep reading until read(2) returns 0. The buffer
  // doubles when full, so a large table costs O(log n) reallocations, and
  // stops at `limit` bytes: filling that is the error.
  std::string buf;
  buf.reserve(cap);
  AdviseHugePages(&buf);
  buf.resize(cap);
  size_t len = 0;
  for (;;) {
    if (len == buf.size()) {
      if (len > max_size) return TooBig(p, max_size);
      buf.reserve(std::min(buf.size() * 2, limit));
      AdviseHugePages(&buf);
      buf.resize(std::min(buf.capacity(), limit));
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
  if (len > max_size) return TooBig(p, max_size);
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
