// LINX_FUZZ_CHECK(cond): a fuzz target's invariant. When `cond` is false it
// prints the condition and its place to stderr and aborts, which libFuzzer
// reports as a crash and the replay test as a failure.
#ifndef LINX_FUZZ_FUZZ_CHECK_H_
#define LINX_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define LINX_FUZZ_CHECK(cond)                                                 \
  do {                                                                        \
    if (!(cond)) {                                                            \
      std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, \
                   __LINE__);                                                 \
      std::abort();                                                           \
    }                                                                         \
  } while (0)

#endif  // LINX_FUZZ_FUZZ_CHECK_H_
