// Batch: a list of Commands handed to ExecuteBatch.
#include <string>
#include <utility>
#include <vector>

#include "mount/command.h"
#include "mount/mount.h"

namespace linx {

struct Batch::Step {
  Command command;
};

Batch::Batch() = default;
Batch::~Batch() = default;
Batch::Batch(const Batch&) = default;
Batch& Batch::operator=(const Batch&) = default;
Batch::Batch(Batch&&) noexcept = default;
Batch& Batch::operator=(Batch&&) noexcept = default;

size_t Batch::size() const { return steps_.size(); }

Batch& Batch::Mount(absl::string_view source, absl::string_view target,
                    absl::string_view fstype, const MountOptions& opts) {
  steps_.push_back({MountCommand{std::string(source), std::string(target),
                                 std::string(fstype), opts}});
  return *this;
}

Batch& Batch::Bind(absl::string_view source, absl::string_view target,
                   const BindOptions& opts) {
  steps_.push_back(
      {BindCommand{std::string(source), std::string(target), opts}});
  return *this;
}

Batch& Batch::BindFromHost(absl::string_view source, absl::string_view target,
                           const BindOptions& opts) {
  steps_.push_back({BindCommand{std::string(source), std::string(target), opts,
                                /*source_from_caller=*/true}});
  return *this;
}

Batch& Batch::Move(absl::string_view source, absl::string_view target,
                   const MoveOptions& opts) {
  steps_.push_back(
      {MoveCommand{std::string(source), std::string(target), opts}});
  return *this;
}

Batch& Batch::Remount(absl::string_view target, const RemountOptions& opts) {
  steps_.push_back({RemountCommand{std::string(target), opts}});
  return *this;
}

Batch& Batch::Umount(absl::string_view target, const UmountOptions& opts) {
  steps_.push_back({UmountCommand{std::string(target), opts}});
  return *this;
}

Batch& Batch::PivotRoot(absl::string_view new_root, absl::string_view put_old,
                        const PivotRootOptions& opts) {
  steps_.push_back(
      {PivotRootCommand{std::string(new_root), std::string(put_old), opts}});
  return *this;
}

absl::Status Batch::Run(const Namespace& in) const {
  std::vector<Command> commands;
  commands.reserve(steps_.size());
  for (const Step& s : steps_) commands.push_back(s.command);
  return ExecuteBatch(commands, in);
}

}  // namespace linx
