// RetryOnEintr: repeat a syscall while it fails with EINTR.
//
//   ssize_t n = linx::RetryOnEintr([&] { return ::read(fd, buf, len); });
//
// For read, write, open, waitpid and friends. Never for close(2) (see
// unique_fd.h). errno is left as the failing call set it.
#ifndef LINX_BASE_EINTR_H_
#define LINX_BASE_EINTR_H_

#include <cerrno>

namespace linx {

template <typename F>
auto RetryOnEintr(F&& f) -> decltype(f()) {
  decltype(f()) r;
  do {
    r = f();
  } while (r == -1 && errno == EINTR);
  return r;
}

}  // namespace linx

#endif  // LINX_BASE_EINTR_H_
