// `linx features`: which of the kernel's mount features this machine has
// (mount/features.h), probed without side effects.
//
//   linx features            # a table: FEATURE SINCE HERE
//   linx features --json     # {"kernel": "6.18.44", "features": [{"name":
//                            #  "fsopen", "since": "5.2", "available": true,
//                            #  "detail": ""}, ...]}  (available: null when
//                            #  unknown, e.g. fsopen probes without
//                            #  CAP_SYS_ADMIN)
//
// Exit status: 0, or 2 for a usage error.
#ifndef LINX_TOOLS_FEATURES_COMMAND_H_
#define LINX_TOOLS_FEATURES_COMMAND_H_

namespace linx::tools {

// argv[0] is "features".
int RunFeaturesCommand(int argc, char** argv);

}  // namespace linx::tools

#endif  // LINX_TOOLS_FEATURES_COMMAND_H_
