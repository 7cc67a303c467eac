/* The C ABI (mount/linx_mount.h) from plain C: compiled as C, linked either
 * against liblinx_mount.so (linx_mount_c_shared_test) or the static
 * //mount:linx_mount library (linx_mount_c_test).
 *
 * The test enters a private mount namespace itself (unshare(CLONE_NEWNS),
 * "/" made rprivate, a scratch tmpfs under $TEST_TMPDIR) so nothing it does
 * reaches the host. The checks that need no privilege always run; without
 * CAP_SYS_ADMIN the privileged ones are reported as "SKIPPED: <reason>" and
 * the test exits 0, except with LINX_REQUIRE_PRIVILEGED=1 in the environment
 * (CI), where the missing capability is a failure. Cross-namespace cases run
 * against children forked into their own mount namespaces and parked on a pipe.
 * Every result is read back from the kernel (mountinfo, statvfs). Prints "N
 * passed, N failed"; exits 1 on any failure. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mount/linx_mount.h"

static int g_passed = 0;
static int g_failed = 0;
static const char* g_test = "";

static void check(int ok, const char* what, int line) {
  if (ok) {
    ++g_passed;
  } else {
    ++g_failed;
    fprintf(stderr, "FAIL %s (line %d): %s\n", g_test, line, what);
  }
}
#define CHECK(cond) check((cond) ? 1 : 0, #cond, __LINE__)

/* The error is printed when a check on it fails, to make failures readable. */
static void check_err(int ok, const struct linx_error* err, const char* what,
                      int line) {
  check(ok, what, line);
  if (!ok) {
    fprintf(stderr, "  err: stage=%d (%s) errno=%d message=%s\n", err->stage,
            linx_stage_name(err->stage), err->errno_value, err->message);
  }
}
#define CHECK_ERR(cond, err) check_err((cond) ? 1 : 0, (err), #cond, __LINE__)

/* Buffer sizes: scratch root < directory < path inside a directory, so
 * -Wformat-truncation can prove every snprintf fits. */
#define SCRATCH_SIZE 512
#define DIR_SIZE 1024
#define PATH_SIZE 2048

static char g_scratch[SCRATCH_SIZE];

static void die(const char* what) {
  fprintf(stderr, "FATAL: %s: %s\n", what, strerror(errno));
  exit(2);
}

static int has_cap_sys_admin(void) {
  struct __user_cap_header_struct header;
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  memset(&header, 0, sizeof(header));
  memset(data, 0, sizeof(data));
  header.version = _LINUX_CAPABILITY_VERSION_3;
  if (syscall(SYS_capget, &header, data) != 0) return 0;
  return (data[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32))) !=
         0;
}

/* A new directory under the scratch tmpfs. */
static void make_dir(char* out, size_t size, const char* name) {
  static int counter = 0;
  snprintf(out, size, "%s/%s-%d", g_scratch, name, counter++);
  if (mkdir(out, 0755) != 0) die(out);
}

/* Whether `mountinfo` (a /proc/.../mountinfo file) has a mount at
 * `mount_point`; its filesystem type is copied to `fstype` when given. The
 * last matching line wins (the top of a stack of mounts). */
static int find_mount(const char* mountinfo, const char* mount_point,
                      char* fstype, size_t fstype_size) {
  FILE* f = fopen(mountinfo, "re");
  char line[8192];
  int found = 0;
  if (f == NULL) die(mountinfo);
  while (fgets(line, sizeof(line), f) != NULL) {
    /* id parent major:minor root mount_point options [optional...] - type
     * source super_options */
    char* fields[6];
    char* save = NULL;
    char* tok = strtok_r(line, " ", &save);
    int n = 0;
    while (tok != NULL && n < 6) {
      fields[n++] = tok;
      if (n < 6) tok = strtok_r(NULL, " ", &save);
    }
    if (n < 6 || strcmp(fields[4], mount_point) != 0) continue;
    found = 1;
    if (fstype != NULL) {
      /* Skip to the " - " separator. */
      char* rest = fields[5] + strlen(fields[5]) + 1;
      char* dash = strstr(rest, "- ");
      if (dash != NULL) {
        char* type = dash + 2;
        size_t len = strcspn(type, " ");
        if (len >= fstype_size) len = fstype_size - 1;
        memcpy(fstype, type, len);
        fstype[len] = '\0';
      }
    }
  }
  fclose(f);
  return found;
}

static int mounted_here(const char* mount_point) {
  return find_mount("/proc/thread-self/mountinfo", mount_point, NULL, 0);
}

static int mounted_in(pid_t pid, const char* mount_point) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
  return find_mount(path, mount_point, NULL, 0);
}

/* ---- A child parked in its own mount namespace ------------------------ */

struct parked {
  pid_t pid;
  int release_fd; /* write end: closing it lets the child run on */
  int result_fd;  /* read end: the child's verdict after release */
  char ns_path[64];
};

/* Forks a child that unshares its mount namespace, signals readiness and
 * waits until released. After release it runs `after` (may be NULL) and
 * exits with its return value. */
static void park_child(struct parked* p, int (*after)(void* arg), void* arg) {
  int ready[2];
  int release[2];
  char byte = 0;
  if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(release, O_CLOEXEC) != 0) {
    die("pipe2");
  }
  p->pid = fork();
  if (p->pid < 0) die("fork");
  if (p->pid == 0) {
    int code = 0;
    close(ready[0]);
    close(release[1]);
    if (unshare(CLONE_NEWNS) != 0) _exit(100);
    if (write(ready[1], "r", 1) != 1) _exit(101);
    /* Parked: returns on EOF, when the parent closes the write end. */
    while (read(release[0], &byte, 1) > 0) {
    }
    if (after != NULL) code = after(arg);
    _exit(code);
  }
  close(ready[1]);
  close(release[0]);
  if (read(ready[0], &byte, 1) != 1) die("child did not get ready");
  close(ready[0]);
  p->release_fd = release[1];
  p->result_fd = -1;
  snprintf(p->ns_path, sizeof(p->ns_path), "/proc/%d/ns/mnt", (int)p->pid);
}

/* Releases the child and returns its exit status (or -1). */
static int release_child(struct parked* p) {
  int status = 0;
  close(p->release_fd);
  if (waitpid(p->pid, &status, 0) != p->pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- Tests -------------------------------------------------------------- */

static void test_version_and_stage_names(void) {
  const char* v = linx_version();
  g_test = "version_and_stage_names";
  CHECK(v != NULL && v[0] >= '0' && v[0] <= '9');
  CHECK(strchr(v, '.') != NULL);
  CHECK(strcmp(linx_stage_name(LINX_STAGE_NONE), "none") == 0);
  CHECK(strcmp(linx_stage_name(LINX_STAGE_UMOUNT), "umount") == 0);
  CHECK(strcmp(linx_stage_name(LINX_STAGE_OPEN_NS), "open_ns") == 0);
  CHECK(strcmp(linx_stage_name(LINX_STAGE_SETNS), "setns") == 0);
  CHECK(strcmp(linx_stage_name(LINX_STAGE_BAD_FLAG), "bad_flag") == 0);
  CHECK(strcmp(linx_stage_name(LINX_STAGE_READ), "read") == 0);
  CHECK(strcmp(linx_stage_name(-1), "unknown") == 0);
  CHECK(strcmp(linx_stage_name(LINX_STAGE_RESOLVE), "resolve") == 0);
  CHECK(strcmp(linx_stage_name(LINX_STAGE_SETNS_USER), "setns_user") == 0);
  CHECK(strcmp(linx_stage_name(LINX_STAGE_SETNS_USER + 1), "unknown") == 0);
}

/* Argument checks happen before any syscall that needs a privilege, so
 * they run (never skip) as any user. Nothing may be mounted afterwards. */
static void test_argument_errors_need_no_privilege(void) {
  const char* dir = "/nonexistent-linx-c-test-dir";
  struct linx_error err;
  g_test = "argument_errors_need_no_privilege";
  CHECK(linx_mount("none", dir, "tmpfs", MS_NOSUID | MS_POSIXACL, NULL, NULL,
                   NULL, 0, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_FLAG && err.errno_value == EINVAL,
            &err);
  CHECK(linx_mount("none", dir, "tmpfs", 1UL << 31, NULL, NULL, NULL, 0,
                   &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_FLAG, &err);
  CHECK(linx_umount(dir, 0x10, NULL, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_FLAG && err.errno_value == EINVAL,
            &err);
  CHECK(linx_mount(dir, dir, NULL, MS_MOVE | MS_RDONLY, NULL, NULL, NULL, 0,
                   &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_FLAG, &err);
  CHECK(linx_remount(dir, MS_MOVE, NULL, NULL, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_FLAG, &err);
  CHECK(linx_mount(dir, dir, NULL, MS_MOVE, NULL, NULL, NULL, 1, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_ARGUMENT && err.errno_value == EINVAL,
            &err);
  CHECK(linx_mount("none", dir, "tmpfs", 0, NULL, "/nonexistent/ns/mnt", NULL,
                   0, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_OPEN_NS && err.errno_value == ENOENT, &err);
  CHECK(linx_mount("proc", dir, "proc", 0, NULL, NULL, "/proc/self/ns/pid", 0,
                   &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_IN && err.errno_value == EINVAL, &err);
  CHECK(linx_umount(dir, 0, "proc/self/ns/mnt", &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_IN, &err);
  CHECK(!mounted_here(dir));
}

static void test_tmpfs_mount_and_umount(void) {
  char dir[DIR_SIZE];
  char fstype[64] = "";
  struct linx_error err;
  struct statvfs st;
  g_test = "tmpfs_mount_and_umount";
  make_dir(dir, sizeof(dir), "tmpfs");
  memset(&err, 0x55, sizeof(err)); /* reset on success */
  CHECK_ERR(linx_mount("none", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m",
                       NULL, NULL, 0, &err) == 0,
            &err);
  CHECK(err.stage == LINX_STAGE_NONE && err.errno_value == 0 &&
        err.message[0] == '\0');
  CHECK(find_mount("/proc/thread-self/mountinfo", dir, fstype, sizeof(fstype)));
  CHECK(strcmp(fstype, "tmpfs") == 0);
  CHECK(statvfs(dir, &st) == 0);
  CHECK((st.f_flag & ST_NOSUID) != 0 && (st.f_flag & ST_NODEV) != 0);
  CHECK((st.f_flag & ST_RDONLY) == 0);

  CHECK_ERR(linx_umount(dir, 0, NULL, &err) == 0, &err);
  CHECK(!mounted_here(dir));

  /* "" means NULL / the caller's namespace; err may be NULL. */
  CHECK(linx_mount("", dir, "tmpfs", 0, "", "", "", 0, NULL) == 0);
  CHECK(mounted_here(dir));
  CHECK(linx_umount(dir, MNT_DETACH, "", NULL) == 0);
  CHECK(!mounted_here(dir));
}

static void test_bind_rdonly_really_ends_read_only(void) {
  char src[DIR_SIZE];
  char dst[DIR_SIZE];
  struct linx_error err;
  struct statvfs st;
  g_test = "bind_rdonly_really_ends_read_only";
  make_dir(src, sizeof(src), "bind-src");
  make_dir(dst, sizeof(dst), "bind-dst");
  /* mount(2) alone would ignore MS_RDONLY on MS_BIND. */
  CHECK_ERR(linx_mount(src, dst, NULL, MS_BIND | MS_RDONLY, NULL, NULL, NULL, 0,
                       &err) == 0,
            &err);
  CHECK(mounted_here(dst));
  CHECK(statvfs(dst, &st) == 0 && (st.f_flag & ST_RDONLY) != 0);
  CHECK(statvfs(src, &st) == 0 && (st.f_flag & ST_RDONLY) == 0);

  /* Back to read-write with linx_remount(MS_BIND), then move it. */
  CHECK_ERR(linx_remount(dst, MS_BIND, NULL, NULL, &err) == 0, &err);
  CHECK(statvfs(dst, &st) == 0 && (st.f_flag & ST_RDONLY) == 0);
  {
    char moved[DIR_SIZE];
    make_dir(moved, sizeof(moved), "moved");
    CHECK_ERR(linx_move(dst, moved, NULL, &err) == 0, &err);
    CHECK(!mounted_here(dst));
    CHECK(mounted_here(moved));
    CHECK_ERR(linx_umount(moved, 0, NULL, &err) == 0, &err);
    CHECK(!mounted_here(moved));
  }

  /* linx_bind is the same call. */
  CHECK_ERR(linx_bind(src, dst, MS_RDONLY, NULL, 0, &err) == 0, &err);
  CHECK(statvfs(dst, &st) == 0 && (st.f_flag & ST_RDONLY) != 0);
  CHECK_ERR(linx_umount(dst, 0, NULL, &err) == 0, &err);
  CHECK(!mounted_here(dst));
}

static void test_umount_of_a_non_mount_fails_at_umount_with_einval(void) {
  char dir[DIR_SIZE];
  struct linx_error err;
  g_test = "umount_of_a_non_mount_fails_at_umount_with_einval";
  make_dir(dir, sizeof(dir), "not-a-mount");
  errno = 0;
  CHECK(linx_umount(dir, 0, NULL, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_UMOUNT, &err);
  CHECK_ERR(err.errno_value == EINVAL, &err);
  CHECK(errno == EINVAL);
  CHECK_ERR(strstr(err.message, "umount") != NULL, &err);
  CHECK_ERR(strstr(err.message, "EINVAL") != NULL, &err);
  CHECK_ERR(strstr(err.message, dir) != NULL, &err);
  CHECK(strlen(err.message) < sizeof(err.message));
  /* Without err, errno still tells. */
  errno = 0;
  CHECK(linx_umount(dir, 0, NULL, NULL) == -1 && errno == EINVAL);
}

static void test_unknown_flag_bits_fail_at_bad_flag(void) {
  char dir[DIR_SIZE];
  struct linx_error err;
  g_test = "unknown_flag_bits_fail_at_bad_flag";
  make_dir(dir, sizeof(dir), "bad-flag");
  /* MS_POSIXACL is a kernel-internal bit no flag word names. */
  CHECK(linx_mount("none", dir, "tmpfs", MS_NOSUID | MS_POSIXACL, NULL, NULL,
                   NULL, 0, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_FLAG, &err);
  CHECK_ERR(err.errno_value == EINVAL, &err);
  CHECK(!mounted_here(dir));
  CHECK(linx_mount("none", dir, "tmpfs", 1UL << 31, NULL, NULL, NULL, 0,
                   &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_FLAG, &err);
  CHECK(!mounted_here(dir));
  /* The legacy MS_MGC_VAL magic is accepted and dropped, as by the kernel. */
  CHECK_ERR(linx_mount("none", dir, "tmpfs", MS_MGC_VAL | MS_NOSUID, NULL, NULL,
                       NULL, 0, &err) == 0,
            &err);
  CHECK(mounted_here(dir));
  CHECK(linx_umount(dir, 0, NULL, NULL) == 0);
  /* umount2 flags: 0x10 is no MNT_* / UMOUNT_* bit. */
  CHECK(linx_umount(dir, 0x10, NULL, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_FLAG, &err);
  CHECK_ERR(err.errno_value == EINVAL, &err);
  /* MS_MOVE with a flag the move would ignore is refused, not dropped. */
  CHECK(linx_mount(dir, dir, NULL, MS_MOVE | MS_RDONLY, NULL, NULL, NULL, 0,
                   &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_FLAG, &err);
  /* A remount whose only flag is a propagation bit is a propagation change
   * (as `linx remount DIR --flags private`); on a plain directory the
   * kernel answers EINVAL at stage mount. */
  CHECK(linx_remount(dir, MS_PRIVATE, NULL, NULL, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_MOUNT, &err);
  CHECK_ERR(err.errno_value == EINVAL, &err);
  CHECK(strstr(err.message, "MS_PRIVATE") != NULL);
  CHECK(strstr(err.message, "MS_REMOUNT") == NULL);
  /* A remount cannot move. */
  CHECK(linx_remount(dir, MS_MOVE, NULL, NULL, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_FLAG, &err);
  /* create_target means nothing to a move. */
  CHECK(linx_mount(dir, dir, NULL, MS_MOVE, NULL, NULL, NULL, 1, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_ARGUMENT, &err);
  CHECK_ERR(err.errno_value == EINVAL, &err);
}

static void test_bad_namespaces(void) {
  char dir[DIR_SIZE];
  char file[PATH_SIZE];
  struct linx_error err;
  int fd;
  g_test = "bad_namespaces";
  make_dir(dir, sizeof(dir), "bad-ns");
  CHECK(linx_mount("none", dir, "tmpfs", 0, NULL, "/nonexistent/ns/mnt", NULL,
                   0, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_OPEN_NS, &err);
  CHECK_ERR(err.errno_value == ENOENT, &err);
  CHECK(!mounted_here(dir));

  /* A regular file opens fine but is no namespace: setns says EINVAL. */
  snprintf(file, sizeof(file), "%s/not-a-namespace", dir);
  fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  CHECK(fd >= 0);
  if (fd >= 0) close(fd);
  CHECK(linx_mount("none", dir, "tmpfs", 0, NULL, file, NULL, 0, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_SETNS, &err);
  CHECK_ERR(err.errno_value == EINVAL, &err);
  CHECK(linx_umount(dir, 0, file, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_SETNS && err.errno_value == EINVAL, &err);
  CHECK(!mounted_here(dir));

  /* A PID namespace alone names no mount namespace. */
  CHECK(linx_mount("proc", dir, "proc", 0, NULL, NULL, "/proc/self/ns/pid", 0,
                   &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_IN, &err);
  CHECK_ERR(err.errno_value == EINVAL, &err);
  /* A relative namespace path is refused before anything is opened. */
  CHECK(linx_umount(dir, 0, "proc/self/ns/mnt", &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_IN, &err);
}

static void test_long_messages_are_truncated_and_terminated(void) {
  char target[SCRATCH_SIZE + 2100];
  struct linx_error err;
  size_t len;
  int i;
  g_test = "long_messages_are_truncated_and_terminated";
  /* A 2 KiB path that does not exist (ten 199-byte components, each under
   * NAME_MAX): the message quotes it in full, so it cannot fit. */
  len = (size_t)snprintf(target, sizeof(target), "%s", g_scratch);
  for (i = 0; i < 10; ++i) {
    target[len++] = '/';
    memset(target + len, 'x', 199);
    len += 199;
  }
  target[len] = '\0';
  memset(&err, 'Z', sizeof(err));
  CHECK(linx_umount(target, 0, NULL, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_UMOUNT && err.errno_value == ENOENT, &err);
  CHECK(memchr(err.message, '\0', sizeof(err.message)) != NULL);
  CHECK(strlen(err.message) == sizeof(err.message) - 1);
  CHECK(strncmp(err.message, "umount2(", 8) == 0);
}

/* Checks, inside a child, that a file named `arg` is visible at "/". */
static int root_has_marker(void* arg) {
  struct stat st;
  char path[256];
  snprintf(path, sizeof(path), "/%s", (const char*)arg);
  if (stat(path, &st) != 0) return 10;
  if (stat("/old", &st) != 0) return 11;
  return 0;
}

static void test_mount_in_another_namespace(void) {
  char dir[DIR_SIZE];
  struct parked child;
  struct linx_error err;
  g_test = "mount_in_another_namespace";
  make_dir(dir, sizeof(dir), "cross-ns");
  park_child(&child, NULL, NULL);

  CHECK_ERR(linx_mount("none", dir, "tmpfs", MS_NOSUID, "size=1m",
                       child.ns_path, NULL, 0, &err) == 0,
            &err);
  CHECK(mounted_in(child.pid, dir));
  CHECK(!mounted_here(dir));

  /* umount there; the caller's own table was never touched. */
  CHECK_ERR(linx_umount(dir, 0, child.ns_path, &err) == 0, &err);
  CHECK(!mounted_in(child.pid, dir));
  CHECK(linx_umount(dir, 0, child.ns_path, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_UMOUNT && err.errno_value == EINVAL, &err);
  CHECK(release_child(&child) == 0);
}

static void test_pivot_root_in_another_namespace(void) {
  char new_root[DIR_SIZE];
  char put_old[PATH_SIZE];
  char marker[PATH_SIZE];
  const char* marker_name = "marker-of-new-root";
  struct parked child;
  struct linx_error err;
  struct stat root_before;
  struct stat root_after;
  char cwd_before[4096];
  char cwd_after[4096];
  int fd;
  g_test = "pivot_root_in_another_namespace";
  make_dir(new_root, sizeof(new_root), "new-root");
  snprintf(put_old, sizeof(put_old), "%s/old", new_root);
  snprintf(marker, sizeof(marker), "%s/%s", new_root, marker_name);
  if (mkdir(put_old, 0755) != 0) die(put_old);
  fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) die(marker);
  close(fd);
  CHECK(stat("/", &root_before) == 0);
  CHECK(getcwd(cwd_before, sizeof(cwd_before)) != NULL);

  park_child(&child, root_has_marker, (void*)marker_name);
  /* pivot_root(2) needs new_root to be a mount point: bind it onto itself. */
  CHECK_ERR(linx_bind(new_root, new_root, 0, child.ns_path, 0, &err) == 0,
            &err);
  /* put_old outside new_root violates a precondition: EINVAL, named. */
  CHECK(linx_pivot_root(new_root, g_scratch, child.ns_path, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_PIVOT_ROOT && err.errno_value == EINVAL,
            &err);
  CHECK_ERR(strstr(err.message, "pivot_root") != NULL, &err);

  CHECK_ERR(linx_pivot_root(new_root, put_old, child.ns_path, &err) == 0, &err);
  /* In the child's table the new root is "/" with the old one at /old
   * (paths in /proc/<pid>/mountinfo are relative to that process's root,
   * which pivot_root moved). */
  CHECK(mounted_in(child.pid, "/old"));
  /* Our own root, cwd and table are untouched. */
  CHECK(stat("/", &root_after) == 0);
  CHECK(root_before.st_dev == root_after.st_dev &&
        root_before.st_ino == root_after.st_ino);
  CHECK(getcwd(cwd_after, sizeof(cwd_after)) != NULL &&
        strcmp(cwd_before, cwd_after) == 0);
  CHECK(!mounted_here("/old"));
  CHECK(!mounted_here(new_root));
  /* The child sees the marker at "/" and the old root at /old. */
  CHECK(release_child(&child) == 0);
}

/* A proc mounted with a pidns_path shows that PID namespace: a child
 * unshares mount + PID namespaces and forks the namespace's init, which is
 * parked; linx mounts proc into its namespaces. */
static void test_proc_mount_with_pidns_path(void) {
  char dir[DIR_SIZE];
  char ns_mnt[64];
  char ns_pid[64];
  char mountinfo[64];
  char proc_dir[PATH_SIZE];
  char fstype[64] = "";
  struct linx_error err;
  int ready[2];
  int release[2];
  pid_t mid;
  pid_t init = 0;
  int status = 0;
  int entries = 0;
  int only_pid_1 = 1;
  DIR* d;
  g_test = "proc_mount_with_pidns_path";
  make_dir(dir, sizeof(dir), "proc");
  if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(release, O_CLOEXEC) != 0) {
    die("pipe2");
  }
  mid = fork();
  if (mid < 0) die("fork");
  if (mid == 0) {
    pid_t child;
    char byte;
    close(ready[0]);
    close(release[1]);
    if (unshare(CLONE_NEWNS | CLONE_NEWPID) != 0) _exit(100);
    child = fork(); /* pid 1 of the new PID namespace */
    if (child < 0) _exit(101);
    if (child == 0) {
      while (read(release[0], &byte, 1) > 0) {
      }
      _exit(0);
    }
    if (write(ready[1], &child, sizeof(child)) != (ssize_t)sizeof(child)) {
      _exit(102);
    }
    close(ready[1]);
    close(release[0]);
    if (waitpid(child, &status, 0) != child) _exit(103);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 104);
  }
  close(ready[1]);
  close(release[0]);
  if (read(ready[0], &init, sizeof(init)) != (ssize_t)sizeof(init)) {
    die("no init pid");
  }
  close(ready[0]);
  snprintf(ns_mnt, sizeof(ns_mnt), "/proc/%d/ns/mnt", (int)init);
  snprintf(ns_pid, sizeof(ns_pid), "/proc/%d/ns/pid", (int)init);
  snprintf(mountinfo, sizeof(mountinfo), "/proc/%d/mountinfo", (int)init);

  CHECK_ERR(linx_mount("proc", dir, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                       NULL, ns_mnt, ns_pid, 0, &err) == 0,
            &err);
  CHECK(find_mount(mountinfo, dir, fstype, sizeof(fstype)));
  CHECK(strcmp(fstype, "proc") == 0);
  CHECK(!mounted_here(dir));
  /* Seen through the init's root: only pid 1 lives in that namespace. */
  snprintf(proc_dir, sizeof(proc_dir), "/proc/%d/root%s", (int)init, dir);
  d = opendir(proc_dir);
  CHECK(d != NULL);
  if (d != NULL) {
    struct dirent* e;
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      ++entries;
      if (strcmp(e->d_name, "1") != 0) only_pid_1 = 0;
    }
    closedir(d);
  }
  CHECK(entries == 1 && only_pid_1);

  close(release[1]);
  CHECK(waitpid(mid, &status, 0) == mid && WIFEXITED(status) &&
        WEXITSTATUS(status) == 0);
}

/* A privileged part that cannot run: skipped with its reason, or a failure
 * when LINX_REQUIRE_PRIVILEGED=1. */
static void cannot_run(const char* reason) {
  const char* require = getenv("LINX_REQUIRE_PRIVILEGED");
  if (require != NULL && strcmp(require, "1") == 0) {
    g_test = "enter_sandbox";
    fprintf(stderr, "FAIL: LINX_REQUIRE_PRIVILEGED=1, cannot skip: %s\n",
            reason);
    ++g_failed;
  } else {
    printf("SKIPPED (privileged checks): %s\n", reason);
  }
}

static int enter_sandbox(void) {
  const char* tmp = getenv("TEST_TMPDIR");
  if (!has_cap_sys_admin()) {
    cannot_run("CAP_SYS_ADMIN is not in the effective capability set");
    return 0;
  }
  if (unshare(CLONE_NEWNS) != 0) {
    char reason[256];
    snprintf(reason, sizeof(reason), "unshare(CLONE_NEWNS): %s",
             strerror(errno));
    cannot_run(reason);
    return 0;
  }
  /* mount_namespaces(7): the copy keeps "/"'s propagation; cut it first so
   * nothing reaches the host. */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
    die("make / rprivate");
  }
  snprintf(g_scratch, sizeof(g_scratch), "%s/linx-c-scratch",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  if (mkdir(g_scratch, 0755) != 0 && errno != EEXIST) die(g_scratch);
  if (mount("linx-c-scratch", g_scratch, "tmpfs", MS_NOSUID | MS_NODEV,
            "size=64m") != 0) {
    die("mount scratch tmpfs");
  }
  return 1;
}

/* A rootfs whose dev is a symlink to ../host/etc: with a root, the bind
 * fails at LINX_STAGE_RESOLVE and nothing appears in host/etc; with the
 * directory present inside the root, the bind lands there, read-only. */
static void test_mount_in_root(void) {
  char top[DIR_SIZE];
  char rootfs[DIR_SIZE + 32], host_etc[DIR_SIZE + 32], link[PATH_SIZE];
  char inside[PATH_SIZE], placed[PATH_SIZE];
  struct linx_error err;
  struct statvfs st;
  g_test = "mount_in_root";
  make_dir(top, sizeof(top), "in-root");
  snprintf(rootfs, sizeof(rootfs), "%s/rootfs", top);
  snprintf(host_etc, sizeof(host_etc), "%s/host", top);
  CHECK(mkdir(rootfs, 0755) == 0 && mkdir(host_etc, 0755) == 0);
  snprintf(host_etc, sizeof(host_etc), "%s/host/etc", top);
  CHECK(mkdir(host_etc, 0755) == 0);
  snprintf(link, sizeof(link), "%s/dev", rootfs);
  CHECK(symlink("../host/etc", link) == 0);
  CHECK(linx_mount_in_root(rootfs, "/dev/null", "/dev/null", NULL,
                           MS_BIND | MS_RDONLY, NULL, NULL, 1, 0, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_RESOLVE, &err);
  CHECK_ERR(err.errno_value == ENOENT, &err);
  snprintf(placed, sizeof(placed), "%s/null", host_etc);
  CHECK(access(placed, F_OK) != 0);
  /* Create ROOTFS/host/etc: the link now leads there, inside. */
  snprintf(inside, sizeof(inside), "%s/host", rootfs);
  CHECK(mkdir(inside, 0755) == 0);
  snprintf(inside, sizeof(inside), "%s/host/etc", rootfs);
  CHECK(mkdir(inside, 0755) == 0);
  CHECK_ERR(linx_mount_in_root(rootfs, "/dev/null", "dev/null", NULL,
                               MS_BIND | MS_RDONLY, NULL, NULL, 1, 0,
                               &err) == 0,
            &err);
  snprintf(placed, sizeof(placed), "%s/host/etc/null", rootfs);
  CHECK(mounted_here(placed));
  CHECK(statvfs(placed, &st) == 0 && (st.f_flag & ST_RDONLY) != 0);
  /* A tmpfs with LINX_IN_ROOT_MKDIR, then both unmounted in the root. */
  CHECK_ERR(linx_mount_in_root(rootfs, "none", "/run/a/b", "tmpfs", MS_NOSUID,
                               "size=1m", NULL, 0, LINX_IN_ROOT_MKDIR,
                               &err) == 0,
            &err);
  snprintf(inside, sizeof(inside), "%s/run/a/b", rootfs);
  CHECK(mounted_here(inside));
  CHECK_ERR(linx_umount_in_root(rootfs, "/run/a/b", 0, NULL, &err) == 0, &err);
  CHECK(!mounted_here(inside));
  CHECK_ERR(linx_umount_in_root(rootfs, "/dev/null", 0, NULL, &err) == 0,
            &err);
  CHECK(!mounted_here(placed));
  /* The kernel's own words come back from the fd-based path. */
  CHECK(linx_mount_in_root(rootfs, "none", "/run/c", "tmpfs", 0, "size=bogus",
                           NULL, 0, LINX_IN_ROOT_MKDIR, &err) == -1);
  CHECK_ERR(err.errno_value == EINVAL, &err);
  CHECK(strstr(linx_kernel_message(), "Bad value for") != NULL);
  CHECK(strstr(err.message, linx_kernel_message()) != NULL);
  CHECK_ERR(linx_umount_in_root(rootfs, "/dev/null", 0, NULL, &err) == -1,
            &err);
  CHECK(strcmp(linx_kernel_message(), "") == 0);
  /* Unknown option bits and an empty root are refused before anything. */
  CHECK(linx_mount_in_root(rootfs, "none", "/x", "tmpfs", 0, NULL, NULL, 0,
                           0x100, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_FLAG, &err);
  CHECK(linx_umount_in_root("", "/x", 0, NULL, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_ARGUMENT, &err);
}

/* linx_mount_ex: an idmapped bind is refused for a path that is no user
 * namespace; beneath slides a tmpfs under another; mkdir without a root. */
static void test_mount_ex(void) {
  char dir[DIR_SIZE];
  char deep[PATH_SIZE], file[PATH_SIZE];
  struct linx_error err;
  struct linx_mount_args a;
  g_test = "mount_ex";
  make_dir(dir, sizeof(dir), "mount-ex");
  CHECK(linx_mount("old", dir, "tmpfs", 0, NULL, NULL, NULL, 0, &err) == 0);
  snprintf(file, sizeof(file), "%s/marker", dir);
  CHECK(close(open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) == 0);
  memset(&a, 0, sizeof(a));
  a.size = sizeof(a);
  a.source = "new";
  a.target = dir;
  a.fstype = "tmpfs";
  a.beneath = 1;
  CHECK_ERR(linx_mount_ex(&a, &err) == 0, &err);
  CHECK(access(file, F_OK) == 0); /* the old one is still on top */
  CHECK(linx_umount(dir, 0, NULL, &err) == 0);
  CHECK(access(file, F_OK) != 0); /* the new, empty one is revealed */
  CHECK(mounted_here(dir));
  CHECK(linx_umount(dir, 0, NULL, &err) == 0);
  /* mkdir without a root: inside "/". */
  snprintf(deep, sizeof(deep), "%s/a/b", dir);
  memset(&a, 0, sizeof(a));
  a.size = sizeof(a);
  a.source = "none";
  a.target = deep;
  a.fstype = "tmpfs";
  a.mkdir = 1;
  CHECK_ERR(linx_mount_ex(&a, &err) == 0, &err);
  CHECK(mounted_here(deep));
  CHECK(linx_umount(deep, 0, NULL, &err) == 0);
  /* idmap_userns must name a user namespace file. */
  memset(&a, 0, sizeof(a));
  a.size = sizeof(a);
  a.source = dir;
  a.target = deep;
  a.flags = MS_BIND;
  a.idmap_userns = "/proc/self/ns/mnt";
  CHECK(linx_mount_ex(&a, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_OPEN_NS, &err);
  CHECK_ERR(err.errno_value == EINVAL, &err);
  CHECK(!mounted_here(deep));
  /* join_userns needs another namespace: "self" has none to join. */
  memset(&a, 0, sizeof(a));
  a.size = sizeof(a);
  a.source = "none";
  a.target = dir;
  a.fstype = "tmpfs";
  a.join_userns = 1;
  CHECK(linx_mount_ex(&a, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_IN, &err);
  a.size = 3; /* too small to hold the basic fields */
  CHECK(linx_mount_ex(&a, &err) == -1);
  CHECK_ERR(err.stage == LINX_STAGE_BAD_ARGUMENT, &err);
}

int main(void) {
  /* Children report through exit codes; make sure none lingers on failure. */
  signal(SIGPIPE, SIG_IGN);
  test_version_and_stage_names();
  test_argument_errors_need_no_privilege();
  if (!enter_sandbox()) {
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
  }
  test_tmpfs_mount_and_umount();
  test_bind_rdonly_really_ends_read_only();
  test_umount_of_a_non_mount_fails_at_umount_with_einval();
  test_unknown_flag_bits_fail_at_bad_flag();
  test_bad_namespaces();
  test_long_messages_are_truncated_and_terminated();
  test_mount_in_another_namespace();
  test_pivot_root_in_another_namespace();
  test_proc_mount_with_pidns_path();
  test_mount_in_root();
  test_mount_ex();
  printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
