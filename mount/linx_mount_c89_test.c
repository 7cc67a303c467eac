/* mount/linx_mount.h is strict C89: this file is compiled with -std=c89
 * -pedantic-errors, includes the header, and calls through it once. No
 * privileges needed: the calls it makes fail before any syscall. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mount/linx_mount.h"

int main(void) {
  struct linx_error err;
  int failed = 0;
  memset(&err, 0, sizeof(err));
  if (sizeof(err.message) != LINX_ERROR_MESSAGE_SIZE) failed = 1;
  if (strcmp(linx_stage_name(LINX_STAGE_BAD_IN), "bad_in") != 0) failed = 1;
  if (linx_version()[0] == '\0') failed = 1;
  /* An empty target is refused before any syscall. */
  if (linx_umount("", 0, NULL, &err) != -1 ||
      err.stage != LINX_STAGE_BAD_ARGUMENT || err.errno_value != EINVAL) {
    fprintf(stderr, "umount(\"\"): stage %d errno %d: %s\n", err.stage,
            err.errno_value, err.message);
    failed = 1;
  }
  printf("%s\n", failed ? "FAIL" : "PASS");
  return failed;
}
