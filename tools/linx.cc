// linx: the command-line tool. Dispatches to one subcommand per verb.
//
// Exit status: 0 success; 1 the operation failed (message on stderr);
// 2 usage error. No exception leaves main: every input-sized read and
// allocation is bounded (mountinfo/mountinfo.h, ReadOptions), and a
// std::bad_alloc or other exception that still escapes a command is caught
// here as a last resort and reported as a failure (exit 1).
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>

#include "tools/apply_command.h"
#include "tools/features_command.h"
#include "tools/find_command.h"
#include "tools/list_command.h"
#include "tools/verb_commands.h"
#include "tools/watch_command.h"

namespace {

void PrintUsage(std::FILE* out) {
  std::fputs(
      "usage: linx COMMAND [ARGS...]\n"
      "\n"
      "Read the mount table:\n"
      "  list [--pid N | --file PATH] [--json | --tree] [--strict]\n"
      "       [--backend text|statmount|auto]\n"
      "  find PATH [--json] | find --is-mount-point PATH\n"
      "  watch [--pid N] [--json] [--count N] [--timeout S]\n"
      "\n"
      "Change it (each takes --in self|pid:N|path:P):\n"
      "  mount SOURCE TARGET FSTYPE [--flags w1,w2] [--data STR] [--create]\n"
      "  bind SOURCE TARGET [--flags rec,ro] [--data STR] [--create]\n"
      "  move SOURCE TARGET\n"
      "  remount TARGET [--flags ...] [--data STR]\n"
      "  umount TARGET [--flags detach,...] [--recursive]\n"
      "  pivot-root NEW_ROOT PUT_OLD\n"
      "  apply FILE [--root DIR] [--dry-run] [--json]   (OCI config mounts,\n"
      "        in one step, rolled back on failure)\n"
      "\n"
      "About this machine:\n"
      "  features [--json]     which kernel mount features are here\n"
      "  version\n"
      "\n"
      "Run 'linx COMMAND --help' for a command's options.\n",
      out);
}

int Main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return 2;
  }
  const char* cmd = argv[1];
  if (std::strcmp(cmd, "--help") == 0 || std::strcmp(cmd, "-h") == 0 ||
      std::strcmp(cmd, "help") == 0) {
    PrintUsage(stdout);
    return 0;
  }
  if (std::strcmp(cmd, "list") == 0) {
    return linx::tools::RunListCommand(argc - 1, argv + 1);
  }
  if (std::strcmp(cmd, "find") == 0) {
    return linx::tools::RunFindCommand(argc - 1, argv + 1);
  }
  if (std::strcmp(cmd, "apply") == 0) {
    return linx::tools::RunApplyCommand(argc - 1, argv + 1);
  }
  if (std::strcmp(cmd, "features") == 0) {
    return linx::tools::RunFeaturesCommand(argc - 1, argv + 1);
  }
  if (std::strcmp(cmd, "watch") == 0) {
    return linx::tools::RunWatchCommand(argc - 1, argv + 1);
  }
  int rc = linx::tools::RunVerbCommand(argc - 1, argv + 1);
  if (rc == linx::tools::kUnknownCommand) {
    std::fprintf(stderr, "linx: unknown command '%s'\n", cmd);
    PrintUsage(stderr);
    return 2;
  }
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fputs("linx: out of memory\n", stderr);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "linx: internal error: %s\n", e.what());
  } catch (...) {
    std::fputs("linx: internal error: unknown exception\n", stderr);
  }
  return 1;
}
