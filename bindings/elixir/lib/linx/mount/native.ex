defmodule Linx.Mount.Native do
  @moduledoc """
  The NIF under `Linx.Mount` (`priv/linx_mount.so`, built by the
  `:linx_mount` Mix compiler from linx's C++ sources).

  Every function runs on a **dirty I/O scheduler**: a slow mount (NFS, a stuck
  FUSE daemon) occupies one dirty I/O thread and never a normal scheduler. No
  BEAM thread ever enters another namespace or changes its cwd or root: in
  the caller's own namespace linx's verbs never chdir, and every other target
  (and every `pivot_root`) runs on a throwaway linx worker thread that did
  `unshare(CLONE_FS)` + `setns(2)` (docs/nsexec.md).

  ## The seed's functions

  Raw arguments, exactly as the C ABI (`mount/linx_mount.h`) takes them:
  strings are binaries (or iolists), **empty means NULL** for `source`,
  `fstype` and `data` and **the caller's namespace** for `ns_path` and
  `pidns_path`; `flags` is the OR'd `MS_*` (or `MNT_*`) integer.

      Linx.Mount.Native.mount("none", "/mnt/x", "tmpfs", 0x6, "size=1m", "", "", 0)
      #=> :ok

  Results are `:ok` or `{:error, {stage, errno}}`:

  - `stage` is one of the seed's 13 atoms `:mount`, `:umount`, `:pivot_root`,
    `:open_ns`, `:unshare`, `:setns`, `:chdir`, `:thread`, `:create`,
    `:open_pidns`, `:setns_pid`, `:pipe`, `:fork`, or one of linx's additions
    `:bad_flag` (a bit linx does not know, or a combination the kernel would
    misread), `:bad_in` (an unusable `ns_path`/`pidns_path`, e.g. relative),
    `:bad_argument` (an empty target, a NUL byte inside a string, a path over
    4095 bytes, `create_target` with `MS_REMOUNT`/`MS_MOVE`), `:read` and
    `:none` (an unexpected failure such as out of memory). The argument
    stages carry `:einval`.
  - `errno` is the BEAM's lowercase name (`:enoent`, `:ebusy`, `:eperm`, ...),
    or the integer for an errno without a name.

  A term of the wrong type (an atom where a string belongs, a negative
  `flags`) raises `ArgumentError`, as BIFs do.

  ## Additions

  `run/2`, `list/1`, `open_namespace/1`, `flag_table/0` and `thread_type/0`
  back `Linx.Mount`; their shapes may change with it, so call `Linx.Mount`.
  """

  @on_load :load_nif
  @doc false
  def load_nif do
    path = :filename.join(:code.priv_dir(:linx), 'linx_mount')
    :erlang.load_nif(path, 0)
  end

  @typedoc "The stage that failed."
  @type stage ::
          :mount
          | :umount
          | :pivot_root
          | :open_ns
          | :unshare
          | :setns
          | :chdir
          | :thread
          | :create
          | :open_pidns
          | :setns_pid
          | :pipe
          | :fork
          | :bad_flag
          | :bad_in
          | :bad_argument
          | :read
          | :none

  @type result :: :ok | {:error, {stage, atom | integer}}

  @doc """
  `mount(2)` with linx's kernel rules: dispatched on `flags` in the kernel's
  order (`MS_REMOUNT`, then `MS_BIND`, then `MS_MOVE`, else a new mount; a
  propagation bit is applied by its own call). With a `pidns_path` (which
  needs an `ns_path`) the mount is made by a child forked inside that PID
  namespace, so a `proc` shows its processes. `create_target` 1 creates an
  empty placeholder file at `target` first.
  """
  @spec mount(iodata, iodata, iodata, non_neg_integer, iodata, iodata, iodata, 0 | 1) ::
          result
  def mount(_source, _target, _fstype, _flags, _data, _ns_path, _pidns_path, _create_target),
    do: :erlang.nif_error(:nif_not_loaded)

  @doc "`umount2(2)`; `flags` is a mask of MNT_FORCE, MNT_DETACH, MNT_EXPIRE, UMOUNT_NOFOLLOW."
  @spec umount(iodata, non_neg_integer, iodata) :: result
  def umount(_target, _flags, _ns_path), do: :erlang.nif_error(:nif_not_loaded)

  @doc """
  `pivot_root(2)` on a worker thread that `chdir`s into `new_root`, so the
  BEAM's own cwd never moves.
  """
  @spec pivot_root(iodata, iodata, iodata) :: result
  def pivot_root(_new_root, _put_old, _ns_path), do: :erlang.nif_error(:nif_not_loaded)

  @doc "linx's version as a charlist, e.g. `'0.1.0'`."
  @spec version() :: charlist
  def version, do: :erlang.nif_error(:nif_not_loaded)

  @doc false
  # run(in, steps): one verb, or several in one trip (linx::Batch).
  def run(_in, _steps), do: :erlang.nif_error(:nif_not_loaded)

  @doc false
  def list(_target), do: :erlang.nif_error(:nif_not_loaded)

  @doc false
  def open_namespace(_in), do: :erlang.nif_error(:nif_not_loaded)

  @doc false
  # linx's own flag tables: {[{word, bit}], [{word, bit}]}.
  def flag_table, do: :erlang.nif_error(:nif_not_loaded)

  @doc false
  # The kind of scheduler thread a NIF call runs on (:dirty_io expected).
  def thread_type, do: :erlang.nif_error(:nif_not_loaded)
end
