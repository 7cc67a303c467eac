// UniqueFd: a move-only owner of one file descriptor.
//
//   linx::UniqueFd fd(::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
//   if (!fd.valid()) return linx::ErrnoToStatus(errno, "open");
//   ::setns(fd.get(), CLONE_NEWNS);
//
// The destructor closes the descriptor exactly once. close(2) is never retried
// on EINTR: on Linux the descriptor is released even when close reports EINTR,
// and a retry could close a descriptor another thread has just been given.
// Not thread-safe: one owner at a time, like std::unique_ptr.
#ifndef LINX_BASE_UNIQUE_FD_H_
#define LINX_BASE_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace linx {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  // The descriptor, or -1 when empty. Ownership stays here.
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership without closing; returns the descriptor.
  int release() { return std::exchange(fd_, -1); }
  // Closes the current descriptor (if any) and takes `fd`.
  void reset(int fd = -1) {
    int old = std::exchange(fd_, fd);
    if (old >= 0) ::close(old);
  }

 private:
  int fd_ = -1;
};

}  // namespace linx

#endif  // LINX_BASE_UNIQUE_FD_H_
