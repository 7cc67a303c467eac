// Linx.Mount.Native: the Erlang NIF over linx (lib/linx/mount/native.ex has
// the Elixir side and the documentation of every function).
//
// Every function here is registered as a dirty I/O job
// (ERL_NIF_DIRTY_JOB_IO_BOUND), so a slow mount (NFS, a stuck FUSE daemon)
// blocks one dirty I/O scheduler thread, never a normal scheduler. No BEAM
// thread ever changes namespace, root or cwd: with the caller's own
// namespace linx's verbs run on the calling thread and never chdir; every
// other target, and every pivot_root, runs on a throwaway linx worker thread
// (nsexec/nsexec.h) that did unshare(CLONE_FS) first.
//
// The seed's functions (mount/8, umount/3, pivot_root/3, version/0) go
// through linx's C ABI (mount/linx_mount.h), which was made for them; the
// additions (run/2, list/1, open_namespace/1, flag_table/0) use the C++ API
// so that they can take a pid handle and return the whole message.
// Nothing is ever thrown across this boundary.
#include <erl_nif.h>
#include <string.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "base/op_error.h"
#include "mount/flags.h"
#include "mount/linx_mount.h"
#include "mount/mount.h"
#include "mountinfo/mountinfo.h"
#include "nsexec/nsexec.h"

namespace {

// More steps than any real recipe needs; a longer list is refused before
// anything runs rather than held in memory.
constexpr unsigned kMaxSteps = 4096;

ErlNifResourceType* g_namespace_type = nullptr;

// A linx::Namespace owned by a BEAM resource (Linx.Mount.Namespace): the
// pidfd or namespace files stay open until the BEAM collects the term.
struct NamespaceResource {
  linx::Namespace ns;
};

void DestroyNamespace(ErlNifEnv*, void* obj) {
  static_cast<NamespaceResource*>(obj)->~NamespaceResource();
}

ERL_NIF_TERM Atom(ErlNifEnv* env, const char* name) {
  return enif_make_atom(env, name);
}

ERL_NIF_TERM Ok(ErlNifEnv* env) { return Atom(env, "ok"); }

ERL_NIF_TERM Binary(ErlNifEnv* env, absl::string_view s) {
  ERL_NIF_TERM term;
  unsigned char* out = enif_make_new_binary(env, s.size(), &term);
  if (!s.empty()) std::memcpy(out, s.data(), s.size());
  return term;
}

// The BEAM's name for an errno (erl_errno_id: "eperm", "enoent", ...), or
// the number when glibc does not know it.
ERL_NIF_TERM ErrnoTerm(ErlNifEnv* env, int e) {
  const char* name = e > 0 ? strerrorname_np(e) : nullptr;
  if (name == nullptr) return enif_make_int(env, e);
  char lower[32];
  size_t n = 0;
  for (; name[n] != '\0' && n + 1 < sizeof(lower); ++n) {
    char c = name[n];
    lower[n] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  lower[n] = '\0';
  return Atom(env, lower);
}

ERL_NIF_TERM StageAtom(ErlNifEnv* env, linx::Stage stage) {
  return Atom(env, linx::StageName(stage));
}

// The errno a status stands for: its payload's, EINVAL for argument stages
// (which make no syscall), else a best guess from the code.
int ErrnoOf(const absl::Status& status, const std::optional<linx::OpError>& e) {
  if (e && e->errno_value != 0) return e->errno_value;
  if (e && linx::IsArgumentStage(e->stage)) return EINVAL;
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return ENOENT;
    case absl::StatusCode::kPermissionDenied:
      return EPERM;
    case absl::StatusCode::kResourceExhausted:
      return ENOMEM;
    case absl::StatusCode::kInvalidArgument:
      return EINVAL;
    case absl::StatusCode::kUnimplemented:
      return ENOSYS;
    default:
      return EIO;
  }
}

// "step 3 of 7: ..." (linx::Batch's prefix) → 3; 0 otherwise.
unsigned StepOf(absl::string_view message) {
  if (!absl::ConsumePrefix(&message, "step ")) return 0;
  size_t space = message.find(' ');
  unsigned step = 0;
  if (space == absl::string_view::npos ||
      !absl::SimpleAtoi(message.substr(0, space), &step)) {
    return 0;
  }
  return step;
}

// {:error, stage, errno, verb, value, message, step}: everything linx knows
// about a failure, for Linx.Mount to turn into a Linx.Mount.Error.
ERL_NIF_TERM DetailedError(ErlNifEnv* env, const absl::Status& status) {
  std::optional<linx::OpError> e = linx::GetOpError(status);
  linx::Stage stage = e ? e->stage : linx::Stage::kNone;
  ERL_NIF_TERM items[] = {
      Atom(env, "error"),
      StageAtom(env, stage),
      ErrnoTerm(env, ErrnoOf(status, e)),
      Binary(env, e ? e->operation : ""),
      Binary(env, e ? e->value : ""),
      Binary(env, status.message()),
      enif_make_uint(env, StepOf(status.message())),
  };
  return enif_make_tuple_from_array(env, items, 7);
}

ERL_NIF_TERM OutOfMemory(ErlNifEnv* env) {
  return DetailedError(env,
                       absl::ResourceExhaustedError("linx: out of memory"));
}

// Runs `body` and turns an escaping exception (only std::bad_alloc is
// plausible) into an error term: a NIF must never throw.
template <typename Body>
ERL_NIF_TERM Guard(ErlNifEnv* env, Body body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return OutOfMemory(env);
  } catch (...) {
    return DetailedError(env, absl::InternalError("linx: unexpected error"));
  }
}

// A binary or iolist (a charlist too) as bytes. The view points into the
// caller's term or into env-owned memory: valid for this call only.
bool GetBytes(ErlNifEnv* env, ERL_NIF_TERM term, absl::string_view* out) {
  ErlNifBinary bin;
  if (!enif_inspect_iolist_as_binary(env, term, &bin)) return false;
  *out = absl::string_view(reinterpret_cast<const char*>(bin.data), bin.size);
  return true;
}

bool GetBool(ErlNifEnv* env, ERL_NIF_TERM term, bool* out) {
  char name[8];
  if (enif_get_atom(env, term, name, sizeof(name), ERL_NIF_LATIN1) > 0) {
    if (std::strcmp(name, "true") == 0) return *out = true, true;
    if (std::strcmp(name, "false") == 0) return *out = false, true;
    return false;
  }
  int i;
  if (!enif_get_int(env, term, &i)) return false;
  *out = i != 0;
  return true;
}

// ---- The seed's functions, over the C ABI --------------------------------

// A C string for the C ABI. A NUL byte inside would silently cut the string
// there, so such an argument is refused.
bool GetCString(ErlNifEnv* env, ERL_NIF_TERM term, std::string* out,
                bool* has_nul) {
  absl::string_view bytes;
  if (!GetBytes(env, term, &bytes)) return false;
  *has_nul = bytes.find('\0') != absl::string_view::npos;
  out->assign(bytes.data(), bytes.size());
  return true;
}

ERL_NIF_TERM SeedError(ErlNifEnv* env, int stage, int errno_value) {
  return enif_make_tuple2(
      env, Atom(env, "error"),
      enif_make_tuple2(env, Atom(env, linx_stage_name(stage)),
                       ErrnoTerm(env, errno_value)));
}

ERL_NIF_TERM SeedResult(ErlNifEnv* env, int rc, const linx_error& err) {
  if (rc == 0) return Ok(env);
  return SeedError(env, err.stage, err.errno_value);
}

// mount(source, target, fstype, flags, data, ns_path, pidns_path,
// create_target)
ERL_NIF_TERM SeedMount(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  std::string s[7];
  bool nul = false;
  const int strings[] = {0, 1, 2, 4, 5, 6};
  unsigned long flags = 0;
  int create = 0;
  return Guard(env, [&] {
    for (int i : strings) {
      bool has_nul = false;
      if (!GetCString(env, argv[i], &s[i], &has_nul)) {
        return enif_make_badarg(env);
      }
      nul = nul || has_nul;
    }
    if (!enif_get_ulong(env, argv[3], &flags) ||
        !enif_get_int(env, argv[7], &create)) {
      return enif_make_badarg(env);
    }
    if (nul) return SeedError(env, LINX_STAGE_BAD_ARGUMENT, EINVAL);
    linx_error err;
    int rc = linx_mount(s[0].c_str(), s[1].c_str(), s[2].c_str(), flags,
                        s[4].c_str(), s[5].c_str(), s[6].c_str(), create, &err);
    return SeedResult(env, rc, err);
  });
}

// umount(target, flags, ns_path)
ERL_NIF_TERM SeedUmount(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return Guard(env, [&] {
    std::string target, ns_path;
    bool nul1 = false, nul2 = false;
    int flags = 0;
    if (!GetCString(env, argv[0], &target, &nul1) ||
        !enif_get_int(env, argv[1], &flags) ||
        !GetCString(env, argv[2], &ns_path, &nul2)) {
      return enif_make_badarg(env);
    }
    if (nul1 || nul2) return SeedError(env, LINX_STAGE_BAD_ARGUMENT, EINVAL);
    linx_error err;
    int rc = linx_umount(target.c_str(), flags, ns_path.c_str(), &err);
    return SeedResult(env, rc, err);
  });
}

// pivot_root(new_root, put_old, ns_path)
ERL_NIF_TERM SeedPivotRoot(ErlNifEnv* env, int argc,
                           const ERL_NIF_TERM argv[]) {
  return Guard(env, [&] {
    std::string s[3];
    bool nul = false;
    for (int i = 0; i < 3; ++i) {
      bool has_nul = false;
      if (!GetCString(env, argv[i], &s[i], &has_nul)) {
        return enif_make_badarg(env);
      }
      nul = nul || has_nul;
    }
    if (nul) return SeedError(env, LINX_STAGE_BAD_ARGUMENT, EINVAL);
    linx_error err;
    int rc = linx_pivot_root(s[0].c_str(), s[1].c_str(), s[2].c_str(), &err);
    return SeedResult(env, rc, err);
  });
}

ERL_NIF_TERM SeedVersion(ErlNifEnv* env, int, const ERL_NIF_TERM[]) {
  return enif_make_string(env, linx_version(), ERL_NIF_LATIN1);
}

// ---- Additions, over the C++ API -----------------------------------------

// `in`: :self | {:pid, n} | {:path, p} | {:path, mnt, pidns} |
// {:pidfd, fd} | a namespace resource. A term of another shape is badarg
// (Linx.Mount checks shapes first); linx refuses bad values (pid <= 0, a
// relative path) with stage bad_in.
bool ParseIn(ErlNifEnv* env, ERL_NIF_TERM term,
             absl::StatusOr<linx::Namespace>* out) {
  NamespaceResource* res = nullptr;
  if (enif_get_resource(env, term, g_namespace_type,
                        reinterpret_cast<void**>(&res))) {
    *out = res->ns;
    return true;
  }
  char tag[8];
  if (enif_get_atom(env, term, tag, sizeof(tag), ERL_NIF_LATIN1) > 0) {
    if (std::strcmp(tag, "self") != 0) return false;
    *out = linx::Namespace::Self();
    return true;
  }
  const ERL_NIF_TERM* t;
  int arity;
  if (!enif_get_tuple(env, term, &arity, &t) || arity < 2 ||
      enif_get_atom(env, t[0], tag, sizeof(tag), ERL_NIF_LATIN1) <= 0) {
    return false;
  }
  if (arity == 2 && std::strcmp(tag, "pid") == 0) {
    ErlNifSInt64 pid;
    if (!enif_get_int64(env, t[1], &pid)) return false;
    if (pid <= 0 || pid > INT32_MAX) {
      *out = linx::MakeOpError(
          {"open_ns", linx::Stage::kBadIn, 0, absl::StrCat("pid:", pid)},
          absl::StrCat("open_ns: pid ", pid, " is not a process ID"));
      return true;
    }
    *out = linx::Namespace::Pid(static_cast<pid_t>(pid));
    return true;
  }
  if (arity == 2 && std::strcmp(tag, "pidfd") == 0) {
    int fd;
    if (!enif_get_int(env, t[1], &fd)) return false;
    *out = linx::Namespace::Pidfd(fd);
    return true;
  }
  if (std::strcmp(tag, "path") == 0 && (arity == 2 || arity == 3)) {
    absl::string_view mnt, pidns;
    if (!GetBytes(env, t[1], &mnt)) return false;
    if (arity == 2) {
      *out = linx::Namespace::Path(mnt);
      return true;
    }
    if (!GetBytes(env, t[2], &pidns)) return false;
    *out = linx::Namespace::Path(mnt, pidns);
    return true;
  }
  return false;
}

// One step of run/2, parsed into owned strings.
struct Step {
  std::string verb;
  std::string a, b, c, data;
  unsigned long flags = 0;
  bool create = false;
  bool recursive = false;
  // `flags` typed by TypeFlags.
  std::vector<linx::MountFlag> mount_flags;
  std::vector<linx::UmountFlag> umount_flags;
};

bool GetString(ErlNifEnv* env, ERL_NIF_TERM term, std::string* out) {
  absl::string_view v;
  if (!GetBytes(env, term, &v)) return false;
  out->assign(v.data(), v.size());
  return true;
}

// {:mount, source, target, fstype, flags, data, create}
// {:bind, source, target, flags, data, create}
// {:bind_from_host, source, target, flags, create}
// {:move, source, target}
// {:remount, target, flags, data}
// {:umount, target, flags, recursive}
// {:pivot_root, new_root, put_old}
bool ParseStep(ErlNifEnv* env, ERL_NIF_TERM term, Step* s) {
  const ERL_NIF_TERM* t;
  int n;
  char verb[16];
  if (!enif_get_tuple(env, term, &n, &t) || n < 1 ||
      enif_get_atom(env, t[0], verb, sizeof(verb), ERL_NIF_LATIN1) <= 0) {
    return false;
  }
  s->verb = verb;
  auto str = [&](int i, std::string* out) { return GetString(env, t[i], out); };
  auto flags = [&](int i) { return enif_get_ulong(env, t[i], &s->flags); };
  auto boolean = [&](int i, bool* out) { return GetBool(env, t[i], out); };
  if (s->verb == "mount") {
    return n == 7 && str(1, &s->a) && str(2, &s->b) && str(3, &s->c) &&
           flags(4) && str(5, &s->data) && boolean(6, &s->create);
  }
  if (s->verb == "bind") {
    return n == 6 && str(1, &s->a) && str(2, &s->b) && flags(3) &&
           str(4, &s->data) && boolean(5, &s->create);
  }
  if (s->verb == "bind_from_host") {
    return n == 5 && str(1, &s->a) && str(2, &s->b) && flags(3) &&
           boolean(4, &s->create);
  }
  if (s->verb == "move" || s->verb == "pivot_root") {
    return n == 3 && str(1, &s->a) && str(2, &s->b);
  }
  if (s->verb == "remount") {
    return n == 4 && str(1, &s->a) && flags(2) && str(3, &s->data);
  }
  if (s->verb == "umount") {
    return n == 4 && str(1, &s->a) && flags(2) && boolean(3, &s->recursive);
  }
  return false;
}

// The flag bits of `s` as linx's typed flags; bad_flag for bits linx does
// not know. Checked for every step before anything runs.
absl::Status TypeFlags(Step* s) {
  if (s->verb == "umount") {
    if (s->flags > 0xff) {
      return linx::MakeOpError(
          {"umount", linx::Stage::kBadFlag, 0, absl::StrCat(s->flags)},
          absl::StrCat("umount: unknown umount flag bits ", s->flags));
    }
    absl::StatusOr<std::vector<linx::UmountFlag>> f =
        linx::UmountFlagsFromBits(static_cast<int>(s->flags));
    if (!f.ok()) return f.status();
    s->umount_flags = *std::move(f);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<linx::MountFlag>> f =
      linx::MountFlagsFromBits(s->flags);
  if (!f.ok()) return f.status();
  s->mount_flags = *std::move(f);
  return absl::OkStatus();
}

// The options of a verb run alone carry `in`; a batch step keeps Self.
template <typename Options>
void Where(Options* o, const linx::Namespace& in, const linx::Batch* batch) {
  if (batch == nullptr) o->in = in;
}

// Runs the verb `s` names in `in`, or, with a `batch`, adds it there (the
// batch's steps keep `in` = Self; Batch::Run gets the namespace). A verb run
// alone is called directly so its errors read exactly like the C++ verb's
// (no "step 1 of 1: " prefix).
absl::Status Apply(const Step& s, const linx::Namespace& in,
                   linx::Batch* batch) {
  if (s.verb == "mount") {
    linx::MountOptions o;
    o.flags = s.mount_flags;
    o.data = s.data;
    o.create = s.create;
    Where(&o, in, batch);
    if (batch == nullptr) return linx::Mount(s.a, s.b, s.c, o);
    batch->Mount(s.a, s.b, s.c, o);
  } else if (s.verb == "bind" || s.verb == "bind_from_host") {
    linx::BindOptions o;
    o.flags = s.mount_flags;
    o.data = s.data;
    o.create = s.create;
    Where(&o, in, batch);
    bool host = s.verb == "bind_from_host";
    if (batch == nullptr) {
      return host ? linx::BindFromHost(s.a, s.b, o) : linx::Bind(s.a, s.b, o);
    }
    host ? batch->BindFromHost(s.a, s.b, o) : batch->Bind(s.a, s.b, o);
  } else if (s.verb == "move") {
    linx::MoveOptions o;
    Where(&o, in, batch);
    if (batch == nullptr) return linx::Move(s.a, s.b, o);
    batch->Move(s.a, s.b, o);
  } else if (s.verb == "remount") {
    linx::RemountOptions o;
    o.flags = s.mount_flags;
    o.data = s.data;
    Where(&o, in, batch);
    if (batch == nullptr) return linx::Remount(s.a, o);
    batch->Remount(s.a, o);
  } else if (s.verb == "umount") {
    linx::UmountOptions o;
    o.flags = s.umount_flags;
    o.recursive = s.recursive;
    Where(&o, in, batch);
    if (batch == nullptr) return linx::Umount(s.a, o);
    batch->Umount(s.a, o);
  } else {
    linx::PivotRootOptions o;
    Where(&o, in, batch);
    if (batch == nullptr) return linx::PivotRoot(s.a, s.b, o);
    batch->PivotRoot(s.a, s.b, o);
  }
  return absl::OkStatus();
}

// run(in, steps): :ok | {:error, stage, errno, verb, value, message, step}
ERL_NIF_TERM Run(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return Guard(env, [&]() -> ERL_NIF_TERM {
    unsigned len = 0;
    if (!enif_get_list_length(env, argv[1], &len)) {
      return enif_make_badarg(env);
    }
    if (len > kMaxSteps) {
      return DetailedError(
          env,
          linx::MakeOpError(
              {"batch", linx::Stage::kBadArgument, 0, "steps"},
              absl::StrCat("batch: ", len, " steps, at most ", kMaxSteps)));
    }
    std::vector<Step> steps(len);
    ERL_NIF_TERM list = argv[1], head;
    for (unsigned i = 0; i < len; ++i) {
      enif_get_list_cell(env, list, &head, &list);
      if (!ParseStep(env, head, &steps[i])) return enif_make_badarg(env);
    }
    for (Step& s : steps) {
      absl::Status typed = TypeFlags(&s);
      if (!typed.ok()) return DetailedError(env, typed);
    }
    absl::StatusOr<linx::Namespace> in = linx::Namespace::Self();
    if (!ParseIn(env, argv[0], &in)) return enif_make_badarg(env);
    if (!in.ok()) return DetailedError(env, in.status());
    if (steps.empty()) return Ok(env);
    absl::Status status;
    if (steps.size() == 1) {
      status = Apply(steps[0], *in, nullptr);
    } else {
      linx::Batch batch;
      for (const Step& s : steps) Apply(s, *in, &batch).IgnoreError();
      status = batch.Run(*in);
    }
    return status.ok() ? Ok(env) : DetailedError(env, status);
  });
}

// open_namespace(in): {:ok, resource} | {:error, ...}
ERL_NIF_TERM OpenNamespace(ErlNifEnv* env, int argc,
                           const ERL_NIF_TERM argv[]) {
  return Guard(env, [&]() -> ERL_NIF_TERM {
    absl::StatusOr<linx::Namespace> in = linx::Namespace::Self();
    if (!ParseIn(env, argv[0], &in)) return enif_make_badarg(env);
    if (!in.ok()) return DetailedError(env, in.status());
    void* mem =
        enif_alloc_resource(g_namespace_type, sizeof(NamespaceResource));
    if (mem == nullptr) return OutOfMemory(env);
    new (mem) NamespaceResource{*std::move(in)};
    ERL_NIF_TERM term = enif_make_resource(env, mem);
    enif_release_resource(mem);
    return enif_make_tuple2(env, Ok(env), term);
  });
}

ERL_NIF_TERM OptionalUint(ErlNifEnv* env, const std::optional<uint32_t>& v) {
  return v ? enif_make_uint(env, *v) : Atom(env, "nil");
}

ERL_NIF_TERM EntryTuple(ErlNifEnv* env, const linx::MountInfo& m) {
  std::vector<ERL_NIF_TERM> fields;
  fields.reserve(m.optional_fields.size());
  for (const std::string& f : m.optional_fields) {
    fields.push_back(Binary(env, f));
  }
  ERL_NIF_TERM items[] = {
      enif_make_int(env, m.id),
      enif_make_int(env, m.parent_id),
      enif_make_uint(env, m.major),
      enif_make_uint(env, m.minor),
      Binary(env, m.root),
      Binary(env, m.target),
      Binary(env, m.vfs_options),
      enif_make_list_from_array(env, fields.data(),
                                static_cast<unsigned>(fields.size())),
      Binary(env, m.fstype),
      Binary(env, m.source),
      Binary(env, m.fs_options),
      OptionalUint(env, m.shared),
      OptionalUint(env, m.master),
      OptionalUint(env, m.propagate_from),
      Atom(env, m.unbindable ? "true" : "false"),
  };
  return enif_make_tuple_from_array(env, items, 15);
}

// list(:self | {:pid, n} | {:path, p}): {:ok, [tuple]} | {:error, errno,
// message}. Read from /proc without setns.
ERL_NIF_TERM List(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return Guard(env, [&]() -> ERL_NIF_TERM {
    absl::StatusOr<std::vector<linx::MountInfo>> table =
        absl::InvalidArgumentError("list: bad target");
    const ERL_NIF_TERM* t;
    int arity;
    char tag[8];
    if (enif_get_atom(env, argv[0], tag, sizeof(tag), ERL_NIF_LATIN1) > 0 &&
        std::strcmp(tag, "self") == 0) {
      table = linx::List();
    } else if (enif_get_tuple(env, argv[0], &arity, &t) && arity == 2 &&
               enif_get_atom(env, t[0], tag, sizeof(tag), ERL_NIF_LATIN1) > 0) {
      ErlNifSInt64 pid;
      absl::string_view path;
      if (std::strcmp(tag, "pid") == 0 && enif_get_int64(env, t[1], &pid)) {
        if (pid <= 0 || pid > INT32_MAX) {
          table =
              linx::MakeOpError({"read_mountinfo", linx::Stage::kBadArgument, 0,
                                 absl::StrCat(pid)},
                                absl::StrCat("read_mountinfo: pid ", pid,
                                             " is not a process ID"));
        } else {
          table = linx::List(static_cast<pid_t>(pid));
        }
      } else if (std::strcmp(tag, "path") == 0 && GetBytes(env, t[1], &path)) {
        table = linx::List(path);
      } else {
        return enif_make_badarg(env);
      }
    } else {
      return enif_make_badarg(env);
    }
    if (!table.ok()) {
      std::optional<linx::OpError> e = linx::GetOpError(table.status());
      return enif_make_tuple3(env, Atom(env, "error"),
                              ErrnoTerm(env, ErrnoOf(table.status(), e)),
                              Binary(env, table.status().message()));
    }
    std::vector<ERL_NIF_TERM> entries;
    entries.reserve(table->size());
    for (const linx::MountInfo& m : *table) {
      entries.push_back(EntryTuple(env, m));
    }
    return enif_make_tuple2(
        env, Ok(env),
        enif_make_list_from_array(env, entries.data(),
                                  static_cast<unsigned>(entries.size())));
  });
}

// flag_table(): {[{word, bit}], [{word, bit}]} from linx's own tables, so
// the Elixir side can be checked against them.
ERL_NIF_TERM FlagTable(ErlNifEnv* env, int, const ERL_NIF_TERM[]) {
  return Guard(env, [&] {
    std::vector<ERL_NIF_TERM> mount, umount;
    for (linx::MountFlag f : linx::AllMountFlags()) {
      mount.push_back(
          enif_make_tuple2(env, Atom(env, linx::MountFlagName(f)),
                           enif_make_ulong(env, linx::MountFlagBit(f))));
    }
    for (linx::UmountFlag f : linx::AllUmountFlags()) {
      umount.push_back(
          enif_make_tuple2(env, Atom(env, linx::UmountFlagName(f)),
                           enif_make_int(env, linx::UmountFlagBit(f))));
    }
    return enif_make_tuple2(
        env,
        enif_make_list_from_array(env, mount.data(),
                                  static_cast<unsigned>(mount.size())),
        enif_make_list_from_array(env, umount.data(),
                                  static_cast<unsigned>(umount.size())));
  });
}

// The kind of thread this call runs on (:dirty_io, :dirty_cpu, :normal,
// :other): lets the test suite prove every call is a dirty I/O job.
ERL_NIF_TERM ThreadType(ErlNifEnv* env, int, const ERL_NIF_TERM[]) {
  switch (enif_thread_type()) {
    case ERL_NIF_THR_DIRTY_IO_SCHEDULER:
      return Atom(env, "dirty_io");
    case ERL_NIF_THR_DIRTY_CPU_SCHEDULER:
      return Atom(env, "dirty_cpu");
    case ERL_NIF_THR_NORMAL_SCHEDULER:
      return Atom(env, "normal");
    default:
      return Atom(env, "other");
  }
}

int Load(ErlNifEnv* env, void**, ERL_NIF_TERM) {
  g_namespace_type =
      enif_open_resource_type(env, nullptr, "linx_namespace", DestroyNamespace,
                              ERL_NIF_RT_CREATE, nullptr);
  return g_namespace_type == nullptr ? 1 : 0;
}

constexpr int kDirtyIo = ERL_NIF_DIRTY_JOB_IO_BOUND;

ErlNifFunc g_functions[] = {
    {"mount", 8, SeedMount, kDirtyIo},
    {"umount", 3, SeedUmount, kDirtyIo},
    {"pivot_root", 3, SeedPivotRoot, kDirtyIo},
    {"version", 0, SeedVersion, kDirtyIo},
    {"run", 2, Run, kDirtyIo},
    {"list", 1, List, kDirtyIo},
    {"open_namespace", 1, OpenNamespace, kDirtyIo},
    {"flag_table", 0, FlagTable, kDirtyIo},
    {"thread_type", 0, ThreadType, kDirtyIo},
};

}  // namespace

ERL_NIF_INIT(Elixir.Linx.Mount.Native, g_functions, Load, nullptr, nullptr,
             nullptr)
