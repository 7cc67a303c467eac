#include "mount/internal/render.h"

#include <sys/mount.h>

#include <string>
#include <variant>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "mount/flags.h"
#include "mount/internal/fd_api.h"

namespace linx::mount_internal {

std::string QuoteOrNull(absl::string_view s) {
  return s.empty() ? "NULL" : Quote(s);
}

std::string MountCall(absl::string_view source, absl::string_view target,
                      absl::string_view fstype, unsigned long flags,
                      absl::string_view data) {
  return absl::StrCat("mount(", QuoteOrNull(source), ", ", Quote(target), ", ",
                      QuoteOrNull(fstype), ", ", RenderMountFlags(flags), ", ",
                      QuoteOrNull(data), ")");
}

namespace {

struct PrimaryCallOf {
  std::string operator()(const NewMountPlan& p) const {
    if (!p.main_call) return MountCall("", p.target, "", p.propagation, "");
    return MountCall(p.source, p.target, p.fstype, p.flags, p.data);
  }
  std::string operator()(const BindPlan& p) const {
    if (p.from_caller) {
      std::string tree =
          p.tree ? absl::StrCat(p.tree->get())
                 : absl::StrCat("open_tree(", Quote(p.source), ")");
      return absl::StrCat("move_mount(", tree, ", \"\", AT_FDCWD, ",
                          Quote(p.target), ", MOVE_MOUNT_F_EMPTY_PATH)");
    }
    return MountCall(p.source, p.target, "", MS_BIND | (p.rec ? MS_REC : 0),
                     p.data);
  }
  std::string operator()(const MovePlan& p) const {
    return MountCall(p.source, p.target, "", MS_MOVE, "");
  }
  std::string operator()(const RemountPlan& p) const {
    if (!p.main_call) return MountCall("", p.target, "", p.propagation, "");
    if (p.recursive) {
      return MountCall("", p.target, "",
                       MS_REMOUNT | MS_BIND | MS_REC | p.per_mount, "");
    }
    return MountCall("", p.target, "", p.flags, p.data);
  }
  std::string operator()(const UmountPlan& p) const {
    return absl::StrCat("umount2(", Quote(p.target), ", ",
                        RenderUmountFlags(p.flags), ")");
  }
  std::string operator()(const PivotRootPlan& p) const {
    return absl::StrCat("pivot_root(", Quote(p.new_root), ", ",
                        Quote(p.put_old), ")");
  }
};

}  // namespace

std::string PrimaryCall(const Plan& plan) {
  return std::visit(PrimaryCallOf{}, plan.call);
}

namespace {

struct FollowUps {
  const Plan& plan;
  std::vector<std::string>* out;
  void Propagation(const std::string& target, unsigned long propagation) {
    if (propagation != 0) {
      out->push_back(MountCall("", target, "", propagation, ""));
    }
  }
  void operator()(const NewMountPlan& p) {
    Propagation(p.target, p.main_call ? p.propagation : 0);
  }
  void operator()(const BindPlan& p) {
    if (p.per_mount != 0 || p.idmap) {
      if (UseOpenTreeBinds()) {
        out->push_back(absl::StrCat(
            "mount_setattr(<the detached tree>, \"\", AT_EMPTY_PATH",
            p.rec ? "|AT_RECURSIVE" : "",
            ", {attr_set=", RenderMountFlags(p.per_mount),
            p.idmap ? "|MOUNT_ATTR_IDMAP" : "", "}) before it is attached"));
      } else {
        out->push_back(absl::StrCat(
            MountCall("", p.target, "", MS_REMOUNT | MS_BIND | p.per_mount, ""),
            " + the per-mount flags in force",
            p.rec ? ", on every mount of the tree" : ""));
      }
    }
    Propagation(p.target, p.propagation);
  }
  void operator()(const MovePlan&) {}
  void operator()(const RemountPlan& p) {
    Propagation(p.target, p.main_call ? p.propagation : 0);
  }
  void operator()(const UmountPlan&) {}
  void operator()(const PivotRootPlan&) {}
};

}  // namespace

std::vector<std::string> DescribeCalls(const Plan& plan) {
  std::vector<std::string> out = {PrimaryCall(plan)};
  std::visit(FollowUps{plan, &out}, plan.call);
  return out;
}

absl::Status CallError(const Plan& plan, absl::string_view call, Stage stage,
                       int err, absl::string_view hint,
                       absl::string_view kernel_message) {
  std::string msg = absl::StrCat(call, plan.in_suffix, ": ", StageName(stage),
                                 ": ", ErrnoDescription(err));
  if (!hint.empty()) absl::StrAppend(&msg, ": ", hint);
  if (!kernel_message.empty()) absl::StrAppend(&msg, ": ", kernel_message);
  return MakeOpError(
      {plan.operation, stage, err, "", std::string(kernel_message)}, msg);
}

std::string MainCallHint(const Plan& plan, int err) {
  if (std::holds_alternative<MovePlan>(plan.call) && err == EINVAL) {
    return "source is not a mount point, or target is under source, or the "
           "parent mount of source is shared (mount(2), MS_MOVE)";
  }
  const auto* m = std::get_if<NewMountPlan>(&plan.call);
  if (m != nullptr && err == ENODEV && !m->fstype.empty()) {
    return absl::StrCat("filesystem type ", Quote(m->fstype),
                        " is not configured in the kernel");
  }
  return "";
}

}  // namespace linx::mount_internal
