// linx apply's OCI translation: the config file's shapes and errors, and
// the option words as runc's specconv reads them. Pure: no syscalls.
#include "mount/oci.h"

#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mount/flags.h"

namespace linx {
namespace {

using ::linx::testing::StageIs;
using ::linx::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

OciTranslateOptions Opts() {
  OciTranslateOptions o;
  o.base_dir = "/bundle";
  o.root_dir = "/bundle/rootfs";
  return o;
}

absl::StatusOr<OciStep> One(const OciMount& m) {
  absl::StatusOr<std::vector<OciStep>> steps = TranslateOciMounts({m}, Opts());
  if (!steps.ok()) return steps.status();
  return (*steps)[0];
}

TEST(ParseOciConfigTest, ReadsConfigJsonMountsAndRootPath) {
  absl::StatusOr<OciConfig> c = ParseOciConfig(R"({
    "ociVersion": "1.0.2",
    "process": {"args": ["sh"]},
    "root": {"path": "rootfs", "readonly": true},
    "mounts": [
      {"destination": "/proc", "type": "proc", "source": "proc"},
      {"destination": "/data", "type": "bind", "source": "data",
       "options": ["rbind", "ro"], "x-unknown": 1}
    ]})");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->mounts.size(), 2u);
  EXPECT_EQ(c->mounts[0].destination, "/proc");
  EXPECT_EQ(c->mounts[0].type, "proc");
  EXPECT_TRUE(c->mounts[0].options.empty());
  EXPECT_THAT(c->mounts[1].options, ElementsAre("rbind", "ro"));
  EXPECT_EQ(c->root_path, "rootfs");
}

TEST(ParseOciConfigTest, ReadsABareArrayWithoutRoot) {
  absl::StatusOr<OciConfig> c =
      ParseOciConfig(R"([{"destination": "/tmp", "type": "tmpfs"}])");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->mounts.size(), 1u);
  EXPECT_FALSE(c->root_path.has_value());
  absl::StatusOr<OciConfig> none = ParseOciConfig(R"({"ociVersion": "1"})");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->mounts.empty());
}

TEST(ParseOciConfigTest, RefusesBadShapesNamingWhere) {
  struct Case {
    const char* json;
    const char* message;
  } cases[] = {
      {"42",
       "config: the top level: expected an object or an array, got "
       "number"},
      {R"({"mounts": {}})", "config: mounts: expected an array, got object"},
      {R"({"mounts": [1]})", "config: mounts[0]: expected an object"},
      {R"([{"type": "tmpfs"}])", "config: [0]: has no \"destination\""},
      {R"([{"destination": 7}])", "[0].destination: expected a string"},
      {R"([{"destination": "/x", "options": "ro"}])",
       "[0].options: expected an array of strings, got string"},
      {R"([{"destination": "/x", "options": ["ro", 1]}])",
       "[0].options[1]: expected a string, got number"},
      {R"([{"destination": "/x\u0000y"}])", "[0].destination: holds a NUL"},
      {R"([{"destination": "/x", "uidMappings": [{"containerID": 0,
          "hostID": -1, "size": 1}]}])",
       "[0].uidMappings[0].hostID: must be a whole number"},
      {R"([{"destination": "/x", "gidMappings": [{"containerID": 0,
          "size": 1}]}])",
       "[0].gidMappings[0]: has no hostID"},
      {R"([{"destination": "/x", "uidMappings": {}}])",
       "[0].uidMappings: expected an array"},
      {R"({"root": "rootfs"})", "config: root: expected an object"},
      {R"({"root": {"path": ""}})", "config: root.path: is empty"},
      {R"({"mounts": [}")", "json line 1, column 13"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    absl::StatusOr<OciConfig> r = ParseOciConfig(c.json);
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr(c.message)));
    EXPECT_THAT(r.status(), StageIs(Stage::kBadArgument));
  }
  std::string long_path =
      "[{\"destination\": \"/" + std::string(5000, 'a') + "\"}]";
  EXPECT_THAT(ParseOciConfig(long_path).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is 5001 bytes; the limit is 4095")));
}

TEST(ParseOciConfigTest, ReadsReadonlyAndMaskedPaths) {
  absl::StatusOr<OciConfig> c = ParseOciConfig(R"({
    "mounts": [{"destination": "/proc", "type": "proc"}],
    "linux": {"namespaces": [{"type": "mount"}],
              "readonlyPaths": ["/proc/sys", "/proc/bus"],
              "maskedPaths": ["/proc/kcore", "/sys/firmware", "rel"]}})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->readonly_paths, ElementsAre("/proc/sys", "/proc/bus"));
  EXPECT_THAT(c->masked_paths,
              ElementsAre("/proc/kcore", "/sys/firmware", "rel"));
  for (const char* none :
       {R"({"linux": {}})", R"({"linux": null})",
        R"({"linux": {"maskedPaths": null, "readonlyPaths": []}})",
        R"([{"destination": "/x", "type": "tmpfs"}])"}) {
    SCOPED_TRACE(none);
    absl::StatusOr<OciConfig> n = ParseOciConfig(none);
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_TRUE(n->readonly_paths.empty());
    EXPECT_TRUE(n->masked_paths.empty());
  }
  struct Case {
    const char* json;
    const char* message;
  } cases[] = {
      {R"({"linux": []})", "config: linux: expected an object, got array"},
      {R"({"linux": {"maskedPaths": "/proc/kcore"}})",
       "config: linux.maskedPaths: expected an array of strings, got string"},
      {R"({"linux": {"readonlyPaths": ["/a", 3]}})",
       "config: linux.readonlyPaths[1]: expected a string, got number"},
      {R"({"linux": {"maskedPaths": ["/a", ""]}})",
       "config: linux.maskedPaths[1]: is empty"},
      {R"({"linux": {"maskedPaths": ["/a\u0000b"]}})",
       "config: linux.maskedPaths[0]: holds a NUL byte"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.json);
    absl::StatusOr<OciConfig> r = ParseOciConfig(k.json);
    EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr(k.message)));
    EXPECT_THAT(r.status(), StageIs(Stage::kBadArgument));
  }
}

// readonlyPaths and maskedPaths follow the mounts, in that order, each a
// command inside the root that creates nothing.
TEST(TranslateOciConfigTest, PathsBecomeEntriesAfterTheMounts) {
  OciConfig config;
  config.mounts.push_back({"/proc", "proc", "proc", {}, {}, {}});
  config.readonly_paths = {"/proc/sys"};
  config.masked_paths = {"/proc/kcore", "/sys/firmware"};
  absl::StatusOr<std::vector<OciStep>> steps =
      TranslateOciConfig(config, Opts());
  ASSERT_TRUE(steps.ok()) << steps.status();
  ASSERT_EQ(steps->size(), 4u);
  EXPECT_EQ((*steps)[0].kind, OciStepKind::kMount);

  const OciStep& ro = (*steps)[1];
  EXPECT_EQ(ro.index, 2u);
  EXPECT_EQ(ro.kind, OciStepKind::kReadonlyPath);
  EXPECT_EQ(ro.path_index, 0u);
  EXPECT_TRUE(ro.bind);
  EXPECT_FALSE(ro.mask_file.has_value());
  const auto* b = std::get_if<BindCommand>(&ro.main);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->source, "/proc/sys");
  EXPECT_EQ(b->target, "/proc/sys");
  EXPECT_TRUE(b->options.source_in_root);
  EXPECT_FALSE(b->options.mkdir);
  EXPECT_FALSE(b->options.create);
  EXPECT_EQ(b->options.root.dir, "/bundle/rootfs");
  EXPECT_THAT(b->options.flags, ElementsAre(MountFlag::kRo, MountFlag::kRec));

  const OciStep& mask = (*steps)[3];
  EXPECT_EQ(mask.index, 4u);
  EXPECT_EQ(mask.kind, OciStepKind::kMaskedPath);
  EXPECT_EQ(mask.path_index, 1u);
  EXPECT_EQ(mask.mount.destination, "/sys/firmware");
  const auto* dir = std::get_if<MountCommand>(&mask.main);
  ASSERT_NE(dir, nullptr);
  EXPECT_EQ(dir->fstype, "tmpfs");
  EXPECT_EQ(dir->target, "/sys/firmware");
  EXPECT_THAT(dir->options.flags, ElementsAre(MountFlag::kRo));
  EXPECT_EQ(dir->options.data, "");
  EXPECT_FALSE(dir->options.mkdir);
  EXPECT_EQ(dir->options.root.dir, "/bundle/rootfs");
  ASSERT_TRUE(mask.mask_file.has_value());
  const auto* file = std::get_if<BindCommand>(&*mask.mask_file);
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->source, "/dev/null");
  EXPECT_EQ(file->target, "/sys/firmware");
  EXPECT_FALSE(file->options.source_in_root);
  EXPECT_FALSE(file->options.mkdir);
  EXPECT_FALSE(file->options.create);
  EXPECT_TRUE(file->options.flags.empty());

  EXPECT_STREQ(OciStepKindName(OciStepKind::kMaskedPath), "masked_path");
  EXPECT_STREQ(OciStepKindName(OciStepKind::kReadonlyPath), "readonly_path");
  EXPECT_STREQ(OciStepStateName(OciStepState::kSkipped), "skipped");
}

// The option words, one by one and in combination, as runc reads them.
TEST(TranslateOciMountsTest, FlagWordsSetAndClearInOrder) {
  struct Case {
    std::vector<std::string> options;
    std::string flags;  // JoinMountFlags of the main command
    std::string data;
  } cases[] = {
      {{}, "", ""},
      {{"ro"}, "ro", ""},
      {{"ro", "rw"}, "", ""},
      {{"rw", "ro"}, "ro", ""},
      {{"nosuid", "nodev", "noexec"}, "nosuid,nodev,noexec", ""},
      {{"nosuid", "suid", "nodev", "dev", "noexec", "exec"}, "", ""},
      {{"sync", "async"}, "", ""},
      {{"sync"}, "sync", ""},
      {{"dirsync"}, "dirsync", ""},
      {{"mand"}, "mandlock", ""},
      {{"mand", "nomand"}, "", ""},
      {{"noatime"}, "noatime", ""},
      {{"noatime", "atime"}, "", ""},
      {{"nodiratime", "diratime"}, "", ""},
      {{"nodiratime"}, "nodiratime", ""},
      {{"relatime"}, "relatime", ""},
      {{"relatime", "norelatime"}, "", ""},
      {{"strictatime"}, "strictatime", ""},
      {{"strictatime", "nostrictatime"}, "", ""},
      {{"lazytime"}, "lazytime", ""},
      {{"lazytime", "nolazytime"}, "", ""},
      {{"silent"}, "silent", ""},
      {{"silent", "loud"}, "", ""},
      {{"defaults"}, "", ""},
      {{"nosymfollow"}, "nosymfollow", ""},
      {{"nosymfollow", "symfollow"}, "", ""},
      {{"nosuid", "mode=755", "size=65536k", "strictatime"},
       "nosuid,strictatime",
       "mode=755,size=65536k"},
      {{"newinstance", "ptmxmode=0666", "gid=5"},
       "",
       "newinstance,ptmxmode=0666,gid=5"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::PrintToString(c.options));
    absl::StatusOr<OciStep> s = One({"/dev", "tmpfs", "tmpfs", c.options});
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_FALSE(s->bind);
    const auto* m = std::get_if<MountCommand>(&s->main);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(JoinMountFlags(m->options.flags), c.flags);
    EXPECT_EQ(m->options.data, c.data);
    EXPECT_EQ(m->source, "tmpfs");
    EXPECT_EQ(m->fstype, "tmpfs");
    EXPECT_EQ(m->target, "/dev");
    EXPECT_EQ(m->options.root.dir, "/bundle/rootfs");
    EXPECT_TRUE(m->options.mkdir);
    EXPECT_FALSE(m->options.create);
    EXPECT_TRUE(s->propagation.empty());
  }
}

TEST(TranslateOciMountsTest, BindWordsMakeBindsWithSourcesFromTheBundle) {
  struct Case {
    OciMount mount;
    std::string source;
    std::string flags;
  } cases[] = {
      {{"/data", "bind", "data", {"bind"}}, "/bundle/data", ""},
      {{"/data", "none", "/srv/data", {"rbind"}}, "/srv/data", "rec"},
      {{"/data", "", "./d", {"rbind", "ro", "nosuid"}},
       "/bundle/./d",
       "ro,nosuid,rec"},
      // type "bind" alone is a bind too (runc 1.1 would fail with ENODEV).
      {{"/data", "bind", "../x", {"ro"}}, "/bundle/../x", "ro"},
      {{"/data", "bind", "/srv", {"bind", "relatime", "norelatime", "noatime"}},
       "/srv",
       "noatime"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.mount.source);
    absl::StatusOr<OciStep> s = One(c.mount);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_TRUE(s->bind);
    const auto* b = std::get_if<BindCommand>(&s->main);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->source, c.source);
    EXPECT_EQ(b->target, "/data");
    EXPECT_EQ(JoinMountFlags(b->options.flags), c.flags);
    EXPECT_EQ(b->options.root.dir, "/bundle/rootfs");
    EXPECT_TRUE(b->options.mkdir);
    EXPECT_FALSE(b->options.source_in_root);
  }
}

TEST(TranslateOciMountsTest, PropagationWordsAreTheirOwnCallsInOrder) {
  absl::StatusOr<OciStep> s =
      One({"/data", "bind", "/srv", {"bind", "rprivate", "ro", "slave"}});
  ASSERT_TRUE(s.ok()) << s.status();
  const auto* b = std::get_if<BindCommand>(&s->main);
  ASSERT_NE(b, nullptr);
  // The bind stays non-recursive: rprivate's MS_REC is the propagation's.
  EXPECT_EQ(JoinMountFlags(b->options.flags), "ro");
  ASSERT_EQ(s->propagation.size(), 2u);
  const auto& p1 = std::get<MountCommand>(s->propagation[0]);
  EXPECT_EQ(JoinMountFlags(p1.options.flags), "private,rec");
  EXPECT_EQ(p1.target, "/data");
  EXPECT_TRUE(p1.source.empty());
  EXPECT_TRUE(p1.fstype.empty());
  EXPECT_EQ(p1.options.root.dir, "/bundle/rootfs");
  EXPECT_FALSE(p1.options.mkdir);
  const auto& p2 = std::get<MountCommand>(s->propagation[1]);
  EXPECT_EQ(JoinMountFlags(p2.options.flags), "slave");

  for (const char* word : {"private", "rprivate", "shared", "rshared", "slave",
                           "rslave", "unbindable", "runbindable"}) {
    SCOPED_TRACE(word);
    absl::StatusOr<OciStep> t = One({"/t", "tmpfs", "tmpfs", {word}});
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_TRUE(std::get<MountCommand>(t->main).options.flags.empty());
    ASSERT_EQ(t->propagation.size(), 1u);
    std::string want = word[0] == 'r' ? std::string(word + 1) + ",rec" : word;
    EXPECT_EQ(
        JoinMountFlags(std::get<MountCommand>(t->propagation[0]).options.flags),
        want);
  }
}

// idmap/ridmap with uidMappings/gidMappings: a bind whose user namespace
// maps are kept for the run (UserNamespace::WithMaps); ridmap is recursive.
TEST(TranslateOciMountsTest, IdmappedBindsCarryTheirMaps) {
  absl::StatusOr<OciConfig> c = ParseOciConfig(R"([
    {"destination": "/data", "type": "bind", "source": "/srv/data",
     "options": ["rbind", "ro", "idmap"],
     "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
     "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536},
                     {"containerID": 65536, "hostID": 300000, "size": 1}]},
    {"destination": "/tree", "type": "bind", "source": "/srv/tree",
     "options": ["ridmap"],
     "uidMappings": [{"containerID": 0, "hostID": 200000, "size": 10}],
     "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 10}]}])");
  ASSERT_TRUE(c.ok()) << c.status();
  OciTranslateOptions o;
  o.base_dir = "/b";
  o.root_dir = "/b/rootfs";
  absl::StatusOr<std::vector<OciStep>> t = TranslateOciMounts(c->mounts, o);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[0].uid_map, "0 100000 65536\n");
  EXPECT_EQ((*t)[0].gid_map, "0 100000 65536\n65536 300000 1\n");
  EXPECT_EQ(JoinMountFlags(std::get<BindCommand>((*t)[0].main).options.flags),
            "ro,rec");
  EXPECT_EQ((*t)[1].uid_map, "0 200000 10\n");
  EXPECT_TRUE((*t)[1].bind);
  EXPECT_EQ(JoinMountFlags(std::get<BindCommand>((*t)[1].main).options.flags),
            "rec");
  // Only binds, and only with both maps.
  for (const char* bad : {
           R"([{"destination": "/a", "type": "tmpfs", "options": ["idmap"],
                "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}],
                "gidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}])",
           R"([{"destination": "/a", "source": "/s", "options": ["bind",
                "idmap"]}])",
           R"([{"destination": "/a", "source": "/s", "options": ["bind"],
                "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}])",
       }) {
    SCOPED_TRACE(bad);
    absl::StatusOr<OciConfig> bc = ParseOciConfig(bad);
    ASSERT_TRUE(bc.ok()) << bc.status();
    EXPECT_FALSE(TranslateOciMounts(bc->mounts, o).ok());
  }
}

TEST(TranslateOciMountsTest, RefusesWhatLinxCannotHonourByName) {
  for (const char* word : {"tmpcopyup",   "rro",          "rrw",
                           "rnosuid",     "rsuid",        "rnodev",
                           "rdev",        "rnoexec",      "rexec",
                           "rnoatime",    "ratime",       "rrelatime",
                           "rnorelatime", "rstrictatime", "rnostrictatime",
                           "rnodiratime", "rdiratime",    "rnosymfollow",
                           "rsymfollow",  "acl",          "noacl",
                           "iversion",    "noiversion",   "remount"}) {
    SCOPED_TRACE(word);
    absl::StatusOr<std::vector<OciStep>> s = TranslateOciMounts(
        {{"/ok", "tmpfs", "tmpfs", {}}, {"/dev/shm", "tmpfs", "shm", {word}}},
        Opts());
    EXPECT_THAT(s.status(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(absl::StrCat("entry 2 (\"/dev/shm\"): "
                                                "option \"",
                                                word, "\" is not supported"))));
    std::optional<OpError> e = GetOpError(s.status());
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->stage, Stage::kBadFlag);
    EXPECT_EQ(e->value, word);
  }
}

TEST(TranslateOciMountsTest, RefusesBadEntries) {
  struct Case {
    OciMount mount;
    Stage stage;
    const char* message;
  } cases[] = {
      {{"", "tmpfs", "", {}}, Stage::kBadArgument, "destination is empty"},
      {{"/x", "", "", {"ro"}},
       Stage::kBadArgument,
       "no type, and the options hold no bind or rbind"},
      {{"/sys/fs/cgroup", "cgroup", "cgroup", {}},
       Stage::kBadArgument,
       "write \"cgroup2\""},
      {{"/x", "bind", "", {"bind"}},
       Stage::kBadArgument,
       "a bind needs a source"},
      {{"/x", "bind", "/s", {"bind", "sync"}},
       Stage::kBadFlag,
       "MS_SYNCHRONOUS is a superblock flag"},
      {{"/x", "bind", "/s", {"bind", "lazytime"}},
       Stage::kBadFlag,
       "MS_LAZYTIME is a superblock flag"},
      {{"/x", "bind", "/s", {"bind", "relatime", "strictatime"}},
       Stage::kBadFlag,
       "contradictory atime flags"},
      {{"/x", "tmpfs", "tmpfs", {std::string(4096, 'a')}},
       Stage::kBadArgument,
       "the data string is 4096 bytes"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    absl::StatusOr<OciStep> s = One(c.mount);
    EXPECT_THAT(s.status(), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr(c.message)));
    EXPECT_THAT(s.status(), StageIs(c.stage));
    EXPECT_THAT(s.status().message(), HasSubstr("entry 1 ("));
  }
  OciTranslateOptions rel = Opts();
  rel.root_dir = "rootfs";
  EXPECT_THAT(
      TranslateOciMounts({}, rel).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("root_dir")));
}

}  // namespace
}  // namespace linx
