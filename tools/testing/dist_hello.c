/* Built outside Bazel against the install tree of //tools:dist with
 *   cc dist_hello.c $(pkg-config --cflags --libs linx-mount)
 * In a throwaway mount namespace it mounts and unmounts a tmpfs through the
 * C ABI and checks the stage/errno of a failing call. Prints "ok <version>". */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "mount/linx_mount.h"

int main(int argc, char** argv) {
  struct linx_error err;
  char target[4096];
  if (argc != 2) return 2;
  if (unshare(CLONE_NEWNS) != 0) {
    printf("SKIPPED: unshare(CLONE_NEWNS): %s\n", strerror(errno));
    return 0;
  }
  if (linx_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL, NULL, NULL, 0,
                 &err) != 0) {
    fprintf(stderr, "rprivate: %s\n", err.message);
    return 1;
  }
  /* Everything below happens on a scratch tmpfs. */
  if (linx_mount("dist-scratch", argv[1], "tmpfs", 0, "size=1m", NULL, NULL, 0,
                 &err) != 0) {
    fprintf(stderr, "scratch: %s\n", err.message);
    return 1;
  }
  snprintf(target, sizeof target, "%s/t", argv[1]);
  mkdir(target, 0755);
  if (linx_mount("dist", target, "tmpfs", MS_NOSUID, "size=1m", "", "", 0,
                 &err) != 0) {
    fprintf(stderr, "mount: %s\n", err.message);
    return 1;
  }
  if (linx_umount(target, 0, NULL, &err) != 0) {
    fprintf(stderr, "umount: %s\n", err.message);
    return 1;
  }
  /* Now it is not a mount point any more. */
  if (linx_umount(target, 0, NULL, &err) != -1 ||
      err.stage != LINX_STAGE_UMOUNT || err.errno_value != EINVAL) {
    fprintf(stderr, "expected umount/EINVAL, got stage %d errno %d: %s\n",
            err.stage, err.errno_value, err.message);
    return 1;
  }
  if (linx_umount(argv[1], 0, NULL, &err) != 0) {
    fprintf(stderr, "umount scratch: %s\n", err.message);
    return 1;
  }
  printf("ok %s\n", linx_version());
  return 0;
}
