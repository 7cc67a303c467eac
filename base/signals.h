// The signal set for threads a library creates behind its caller's back
// (nsexec workers, statmount listing workers).
#ifndef LINX_BASE_SIGNALS_H_
#define LINX_BASE_SIGNALS_H_

#include <signal.h>

namespace linx {

// Every signal except the synchronous faults (SIGSEGV, SIGBUS, SIGFPE,
// SIGILL, SIGTRAP, SIGSYS), which go to the faulting thread whatever its
// mask (blocking them only turns a fault into a kill). With this set
// blocked, a process-directed signal is delivered to one of the caller's
// own threads, never to a worker it does not know about.
inline sigset_t AsyncSignals() {
  sigset_t set;
  ::sigfillset(&set);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS}) {
    ::sigdelset(&set, sig);
  }
  return set;
}

}  // namespace linx

#endif  // LINX_BASE_SIGNALS_H_
