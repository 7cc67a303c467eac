// ParseOciConfig (mount/oci.h): a config file's mounts, root and
// linux.readonlyPaths/maskedPaths, checked field by field (errors name the JSON
// path: "[0].uidMappings[1].size").
#include <climits>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/json.h"
#include "base/op_error.h"
#include "base/status.h"
#include "mount/oci.h"

namespace linx {
namespace {

absl::Status ConfigError(absl::string_view where, absl::string_view what) {
  OpError e;
  e.operation = "apply";
  e.stage = Stage::kBadArgument;
  e.value = std::string(where);
  return MakeOpError(e, absl::StrCat("config: ", where, ": ", what));
}

absl::Status TypeError(absl::string_view where, absl::string_view want,
                       const JsonValue& got) {
  return ConfigError(
      where, absl::StrCat("expected ", want, ", got ", JsonTypeName(got.type)));
}

// A string member that the kernel will see: no NUL, shorter than PATH_MAX.
absl::Status GetString(const JsonValue& v, const std::string& where,
                       std::string* out) {
  if (!v.is_string()) return TypeError(where, "a string", v);
  if (v.text.find('\0') != std::string::npos) {
    return ConfigError(where, "holds a NUL byte");
  }
  if (v.text.size() >= PATH_MAX) {
    return ConfigError(
        where, absl::StrCat("is ", v.text.size(), " bytes; the limit is ",
                            PATH_MAX - 1));
  }
  *out = v.text;
  return absl::OkStatus();
}

// A whole number in [0, 2^32) (JSON numbers are doubles).
absl::Status GetUint32(const JsonValue& v, const std::string& where,
                       uint32_t* out) {
  if (v.type != JsonType::kNumber) return TypeError(where, "a number", v);
  if (!(v.number >= 0 && v.number <= 4294967295.0) ||
      v.number != static_cast<double>(static_cast<uint64_t>(v.number))) {
    return ConfigError(where, "must be a whole number from 0 to 4294967295");
  }
  *out = static_cast<uint32_t>(v.number);
  return absl::OkStatus();
}

// "uidMappings"/"gidMappings": [{"containerID", "hostID", "size"}, ...].
absl::Status ParseMappings(const JsonValue& v, const std::string& where,
                           std::vector<OciIdMapping>* out) {
  // user_namespaces(7): a map holds at most 340 lines (since 4.15).
  constexpr size_t kMaxLines = 340;
  if (!v.is_array()) return TypeError(where, "an array", v);
  if (v.items.size() > kMaxLines) {
    return ConfigError(where, absl::StrCat("has more than ", kMaxLines,
                                           " entries (the kernel's limit)"));
  }
  for (size_t i = 0; i < v.items.size(); ++i) {
    const JsonValue& item = v.items[i];
    const std::string at = absl::StrCat(where, "[", i, "]");
    if (!item.is_object()) return TypeError(at, "an object", item);
    OciIdMapping m;
    for (auto [key, field] :
         {std::pair<const char*, uint32_t*>{"containerID", &m.container_id},
          {"hostID", &m.host_id},
          {"size", &m.size}}) {
      const JsonValue* f = item.Find(key);
      if (f == nullptr) return ConfigError(at, absl::StrCat("has no ", key));
      RETURN_IF_ERROR(GetUint32(*f, absl::StrCat(at, ".", key), field));
    }
    if (m.size == 0) return ConfigError(at + ".size", "must be positive");
    out->push_back(m);
  }
  return absl::OkStatus();
}

absl::StatusOr<OciMount> ParseMount(const JsonValue& v,
                                    const std::string& where) {
  if (!v.is_object()) return TypeError(where, "an object", v);
  OciMount m;
  for (const JsonMember& member : v.members) {
    const std::string at = absl::StrCat(where, ".", member.key);
    if (member.key == "destination") {
      RETURN_IF_ERROR(GetString(member.value, at, &m.destination));
    } else if (member.key == "type") {
      RETURN_IF_ERROR(GetString(member.value, at, &m.type));
    } else if (member.key == "source") {
      RETURN_IF_ERROR(GetString(member.value, at, &m.source));
    } else if (member.key == "options") {
      if (member.value.is_null()) continue;
      if (!member.value.is_array()) {
        return TypeError(at, "an array of strings", member.value);
      }
      for (size_t i = 0; i < member.value.items.size(); ++i) {
        std::string word;
        RETURN_IF_ERROR(GetString(member.value.items[i],
                                  absl::StrCat(at, "[", i, "]"), &word));
        m.options.push_back(std::move(word));
      }
    } else if (member.key == "uidMappings" || member.key == "gidMappings") {
      RETURN_IF_ERROR(ParseMappings(
          member.value, at,
          member.key == "uidMappings" ? &m.uid_mappings : &m.gid_mappings));
    }
    // Anything else the spec does not define is ignored, as runc does.
  }
  if (v.Find("destination") == nullptr) {
    return ConfigError(where, "has no \"destination\"");
  }
  return m;
}

// "linux.readonlyPaths" / "linux.maskedPaths": arrays of non-empty
// strings (null: none).
absl::Status ParsePaths(const JsonValue& v, const std::string& where,
                        std::vector<std::string>* out) {
  if (v.is_null()) return absl::OkStatus();
  if (!v.is_array()) return TypeError(where, "an array of strings", v);
  for (size_t i = 0; i < v.items.size(); ++i) {
    const std::string at = absl::StrCat(where, "[", i, "]");
    std::string path;
    RETURN_IF_ERROR(GetString(v.items[i], at, &path));
    if (path.empty()) return ConfigError(at, "is empty");
    out->push_back(std::move(path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<OciConfig> ParseOciConfig(absl::string_view text) {
  ASSIGN_OR_RETURN(JsonValue doc, ParseJson(text));
  OciConfig config;
  const JsonValue* mounts = nullptr;
  std::string where = "mounts";
  if (doc.is_array()) {
    mounts = &doc;
    where = "";
  } else if (doc.is_object()) {
    mounts = doc.Find("mounts");
    if (mounts != nullptr && mounts->is_null()) mounts = nullptr;
    if (mounts != nullptr && !mounts->is_array()) {
      return TypeError("mounts", "an array", *mounts);
    }
    if (const JsonValue* root = doc.Find("root");
        root != nullptr && !root->is_null()) {
      if (!root->is_object()) return TypeError("root", "an object", *root);
      if (const JsonValue* path = root->Find("path")) {
        std::string p;
        RETURN_IF_ERROR(GetString(*path, "root.path", &p));
        if (p.empty()) return ConfigError("root.path", "is empty");
        config.root_path = std::move(p);
      }
    }
    if (const JsonValue* linux_object = doc.Find("linux");
        linux_object != nullptr && !linux_object->is_null()) {
      if (!linux_object->is_object()) {
        return TypeError("linux", "an object", *linux_object);
      }
      if (const JsonValue* ro = linux_object->Find("readonlyPaths")) {
        RETURN_IF_ERROR(
            ParsePaths(*ro, "linux.readonlyPaths", &config.readonly_paths));
      }
      if (const JsonValue* masked = linux_object->Find("maskedPaths")) {
        RETURN_IF_ERROR(
            ParsePaths(*masked, "linux.maskedPaths", &config.masked_paths));
      }
    }
  } else {
    return TypeError("the top level", "an object or an array", doc);
  }
  if (mounts == nullptr) return config;
  for (size_t i = 0; i < mounts->items.size(); ++i) {
    ASSIGN_OR_RETURN(OciMount m, ParseMount(mounts->items[i],
                                            absl::StrCat(where, "[", i, "]")));
    config.mounts.push_back(std::move(m));
  }
  return config;
}

}  // namespace linx
