defmodule Linx.Mount do
  @moduledoc """
  Linux mounts from the BEAM: `mount(2)`, `umount2(2)`, `pivot_root(2)` and
  the helpers bind, move and remount, in this node's mount namespace or in any
  process's, plus the mount table. Backed by linx (C++) through the
  `Linx.Mount.Native` NIF; docs/elixir.md has the whole story.

      # A tmpfs, flags by name:
      :ok = Linx.Mount.mount("tmpfs", "/run/app", "tmpfs", flags: [:nosuid, :nodev], data: "size=64m")

      # A read-only bind that really ends read-only:
      :ok = Linx.Mount.bind("/srv/data", "/run/app/data", flags: [:ro])

      # proc inside a container: enters pid 4242's mount AND PID namespaces,
      # so the new /proc shows the container's processes:
      :ok = Linx.Mount.mount("proc", "/proc", "proc", flags: [:nosuid, :nodev, :noexec], in: {:pid, 4242})

      {:error, %Linx.Mount.Error{operation: :umount, reason: :einval}} = Linx.Mount.umount("/not/a/mount")

  ## Options

  - `:flags`: a list of flag atoms, see `mount_flags/0` (the seed's 21 `MS_*` words plus
    `:nosymfollow`) and
    `umount_flags/0` (4 `MNT_*` words). An unknown word (or a non-atom) is
    `{:error, {:bad_flag, word}}` and nothing runs.
  - `:data`: the filesystem's options string (`"size=1m,mode=0755"`).
  - `:create`: `true` creates an empty file at the target first (inside the
    target namespace), for binding a file or device node onto a fresh tmpfs.
  - `:in`: where the verb runs: `:self` (default), `{:pid, n}` (process `n`'s
    mount namespace; a `proc` mount also enters its PID namespace), or
    `{:path, p}` (a namespace file such as `/proc/<n>/ns/mnt`). linx adds
    `%Linx.Mount.Namespace{}` (a handle safe against pid reuse) and
    `{:pidfd, fd}`. Anything else is `{:error, {:bad_in, term}}` and nothing
    runs. With a target other than `:self`, paths must be absolute.

  ## Results

  `:ok`, `{:error, {:bad_flag, atom}}`, `{:error, {:bad_in, term}}`, or
  `{:error, %Linx.Mount.Error{}}` whose `operation` is the stage that failed
  (`:mount`, `:umount`, `:pivot_root`, `:open_ns`, `:setns`, `:thread`,
  `:create`, `:open_pidns`, `:setns_pid`, `:pipe`, `:fork`, ...), `reason` the
  errno atom and `message` the call written out.

  Every call runs on a dirty I/O scheduler; the BEAM's own threads never
  enter another namespace or change cwd or root.
  """

  alias Linx.Mount.{Entry, Error, Namespace, Native}
  import Bitwise

  @mount_flags [
    ro: 0x1,
    nosuid: 0x2,
    nodev: 0x4,
    noexec: 0x8,
    sync: 0x10,
    remount: 0x20,
    mandlock: 0x40,
    dirsync: 0x80,
    noatime: 0x400,
    nodiratime: 0x800,
    bind: 0x1000,
    move: 0x2000,
    rec: 0x4000,
    silent: 0x8000,
    unbindable: 0x20000,
    private: 0x40000,
    slave: 0x80000,
    shared: 0x100000,
    relatime: 0x200000,
    strictatime: 0x1000000,
    lazytime: 0x2000000,
    # linx's addition to the seed's 21 words (Linux 5.10+)
    nosymfollow: 0x100
  ]
  @umount_flags [force: 0x1, detach: 0x2, expire: 0x4, no_follow: 0x8]

  @ms_remount 0x20
  @ms_bind 0x1000
  @ms_move 0x2000

  @type flag :: atom
  @type target ::
          :self | {:pid, pos_integer} | {:path, String.t()} | {:pidfd, integer} | Namespace.t()
  @type result :: :ok | {:error, {:bad_flag, term} | {:bad_in, term} | Error.t()}

  @doc "The mount flag words and their `MS_*` bits (mount(2))."
  @spec mount_flags() :: [{flag, pos_integer}]
  def mount_flags, do: @mount_flags

  @doc "The umount flag words and their bits (umount2(2))."
  @spec umount_flags() :: [{flag, pos_integer}]
  def umount_flags, do: @umount_flags

  @doc """
  `mount(2)`. `flags` decides the operation the way the kernel does:
  `:remount` changes the mount at `target` (as `remount/2`), `:bind` makes a
  bind mount (as `bind/3`), `:move` moves one (as `move/3`), anything else
  mounts `fstype` from `source`. A propagation word (`:private`, `:shared`,
  `:slave`, `:unbindable`) is its own `mount(2)` call; alone with empty
  `source` and `fstype` it only changes `target`'s propagation:

      :ok = Linx.Mount.mount("", "/rootfs", "", flags: [:rec, :private])

  Options: `:flags`, `:data`, `:create`, `:in`. A `proc` mount with
  `in: {:pid, n}` is made by a child forked inside `n`'s PID namespace.
  """
  @spec mount(String.t(), String.t(), String.t(), keyword) :: result
  def mount(source, target, fstype, opts \\ []) do
    with {:ok, o} <- options(:mount, opts, [:flags, :data, :create, :in]),
         {:ok, words, bits} <- mount_bits(o[:flags]),
         {:ok, native_in} <- native_in(o[:in]),
         {:ok, step} <- mount_step(source, target, fstype, words, bits, o) do
      run(native_in, [step], o[:in])
    end
  end

  @doc """
  A bind mount of `source` at `target`. With `:ro` (or `:nosuid`, `:nodev`,
  `:noexec`, an atime word) the bind is followed by a remount that keeps the
  flags already in force, so it really ends read-only, also where those flags
  are locked; with `:rec` the whole tree. If the follow-up fails the bind is
  undone. Options: `:flags`, `:data`, `:create`, `:in`; and (linx) `from_host:
  true` to bind a path of *this* node's namespace into the `:in` namespace
  (`open_tree(2)` + `move_mount(2)`, Linux 5.2+).
  """
  @spec bind(String.t(), String.t(), keyword) :: result
  def bind(source, target, opts \\ []) do
    with {:ok, o} <- options(:bind, opts, [:flags, :data, :create, :in, :from_host]),
         {:ok, _words, bits} <- mount_bits(o[:flags]),
         {:ok, native_in} <- native_in(o[:in]),
         {:ok, step} <- bind_step(source, target, bits &&& bnot(@ms_bind), o) do
      run(native_in, [step], o[:in])
    end
  end

  @doc "Moves the mount at `source` to `target` (`MS_MOVE`). Options: `:in`."
  @spec move(String.t(), String.t(), keyword) :: result
  def move(source, target, opts \\ []) do
    with {:ok, o} <- options(:move, opts, [:in]),
         {:ok, native_in} <- native_in(o[:in]),
         {:ok, step} <- move_step(source, target) do
      run(native_in, [step], o[:in])
    end
  end

  @doc """
  Changes the flags (and `:data`) of the mount at `target` (`MS_REMOUNT`).
  `flags` is the whole new set; add `:bind` to change only the per-mount
  flags and leave the filesystem alone. Options: `:flags`, `:data`, `:in`.
  """
  @spec remount(String.t(), keyword) :: result
  def remount(target, opts \\ []) do
    with {:ok, o} <- options(:remount, opts, [:flags, :data, :in]),
         {:ok, _words, bits} <- mount_bits(o[:flags]),
         {:ok, native_in} <- native_in(o[:in]),
         {:ok, step} <- remount_step(target, bits &&& bnot(@ms_remount), o) do
      run(native_in, [step], o[:in])
    end
  end

  @doc """
  `umount2(2)`. Options: `:flags` (`:force`, `:detach`, `:expire`,
  `:no_follow`), `:in`; and (linx) `recursive: true` to unmount everything
  below `target` too, deepest first. `:einval` means "not a mount point",
  `:ebusy` "target is busy".
  """
  @spec umount(String.t(), keyword) :: result
  def umount(target, opts \\ []) do
    with {:ok, o} <- options(:umount, opts, [:flags, :in, :recursive]),
         {:ok, bits} <- umount_bits(o[:flags]),
         {:ok, native_in} <- native_in(o[:in]),
         {:ok, step} <- umount_step(target, bits, o) do
      run(native_in, [step], o[:in])
    end
  end

  @doc """
  `pivot_root(2)`: makes `new_root` the root and puts the old root at
  `put_old` (absolute, or relative to `new_root`). Runs on a linx worker that
  `chdir`s into `new_root`, so the BEAM's cwd never moves; meant for another
  namespace (`in: {:pid, n}`). The kernel's preconditions (`new_root` a mount
  point, `put_old` under it, no shared parent) fail with `:einval` and a
  message naming the violated one. Options: `:in`.
  """
  @spec pivot_root(String.t(), String.t(), keyword) :: result
  def pivot_root(new_root, put_old, opts \\ []) do
    with {:ok, o} <- options(:pivot_root, opts, [:in]),
         {:ok, native_in} <- native_in(o[:in]),
         {:ok, step} <- pivot_step(new_root, put_old) do
      run(native_in, [step], o[:in])
    end
  end

  @doc """
  Several verbs in one trip into a namespace (a linx addition): one worker
  thread, one `setns(2)`, then each step in order, stopping at the first
  failure (the error's `step` says which). Every step is checked before
  anything runs. Steps are tuples named after the functions, options last
  and optional; `opts` takes `:in`, which applies to every step (a step's own
  `:in` is refused):

      Linx.Mount.batch(
        [
          {:bind, "/rootfs", "/rootfs"},
          {:mount, "", "/rootfs", "", flags: [:private]},
          {:pivot_root, "/rootfs", "/rootfs/old_root"},
          {:mount, "proc", "/proc", "proc"},
          {:umount, "/old_root", flags: [:detach]}
        ],
        in: {:pid, child}
      )

  Steps after a `:pivot_root` see the new root. A `proc` mount into another
  namespace is its own (forked) trip.
  """
  @spec batch([tuple], keyword) :: result
  def batch(steps, opts \\ []) do
    with {:ok, o} <- options(:batch, opts, [:in]),
         {:ok, native_in} <- native_in(o[:in]),
         {:ok, native_steps} <- batch_steps(steps) do
      run(native_in, native_steps, o[:in])
    end
  end

  @doc """
  The mount table of this node's namespace (read from
  `/proc/thread-self/mountinfo`).
  """
  @spec list() :: {:ok, [Entry.t()]} | {:error, atom | integer}
  def list, do: list_native(:self)

  @doc """
  The mount table of process `n` (`{:pid, n}`, `/proc/<n>/mountinfo`) or of
  a mountinfo file (`{:path, p}`), read without entering any namespace. A
  process that does not exist gives `{:error, :enoent}`.
  """
  @spec list({:pid, pos_integer} | {:path, String.t()}) ::
          {:ok, [Entry.t()]} | {:error, atom | integer}
  def list({:pid, pid}) when is_integer(pid), do: list_native({:pid, pid})

  def list({:path, path}) do
    case to_path(path) do
      {:ok, p} -> list_native({:path, p})
      :error -> {:error, :einval}
    end
  end

  def list(_other), do: {:error, :einval}

  defp list_native(target) do
    case Native.list(target) do
      {:ok, entries} -> {:ok, Enum.map(entries, &Entry.from_native/1)}
      {:error, errno, _message} -> {:error, errno}
    end
  end

  # ---- steps ----------------------------------------------------------------

  defp mount_step(source, target, fstype, words, bits, o) do
    create = o[:create]

    cond do
      (bits &&& @ms_remount) != 0 ->
        if create,
          do: bad_argument(:remount, "create", "create applies to new mounts and binds"),
          else: remount_step(target, bits &&& bnot(@ms_remount), o)

      (bits &&& @ms_bind) != 0 ->
        bind_step(source, target, bits &&& bnot(@ms_bind), o)

      (bits &&& @ms_move) != 0 ->
        # The kernel ignores other flags with MS_MOVE; say so instead.
        case Enum.find(words, &(&1 not in [:move, :rec, :silent])) do
          nil ->
            if create,
              do: bad_argument(:move, "create", "create applies to new mounts and binds"),
              else: move_step(source, target)

          word ->
            {:error, {:bad_flag, word}}
        end

      true ->
        with {:ok, s} <- string(:mount, "source", source),
             {:ok, t} <- string(:mount, "target", target),
             {:ok, f} <- string(:mount, "fstype", fstype),
             {:ok, d} <- string(:mount, "data", o[:data]) do
          {:ok, {:mount, s, t, f, bits, d, create == true}}
        end
    end
  end

  defp bind_step(source, target, bits, o) do
    with {:ok, s} <- string(:bind, "source", source),
         {:ok, t} <- string(:bind, "target", target),
         {:ok, d} <- string(:bind, "data", o[:data]) do
      if o[:from_host] do
        {:ok, {:bind_from_host, s, t, bits, o[:create] == true}}
      else
        {:ok, {:bind, s, t, bits, d, o[:create] == true}}
      end
    end
  end

  defp move_step(source, target) do
    with {:ok, s} <- string(:move, "source", source),
         {:ok, t} <- string(:move, "target", target) do
      {:ok, {:move, s, t}}
    end
  end

  defp remount_step(target, bits, o) do
    with {:ok, t} <- string(:remount, "target", target),
         {:ok, d} <- string(:remount, "data", o[:data]) do
      {:ok, {:remount, t, bits, d}}
    end
  end

  defp umount_step(target, bits, o) do
    with {:ok, t} <- string(:umount, "target", target) do
      {:ok, {:umount, t, bits, o[:recursive] == true}}
    end
  end

  defp pivot_step(new_root, put_old) do
    with {:ok, n} <- string(:pivot_root, "new_root", new_root),
         {:ok, p} <- string(:pivot_root, "put_old", put_old) do
      {:ok, {:pivot_root, n, p}}
    end
  end

  defp batch_steps(steps) when is_list(steps) do
    steps
    |> Enum.with_index(1)
    |> Enum.reduce_while({:ok, []}, fn {step, i}, {:ok, acc} ->
      case batch_step(step) do
        {:ok, s} -> {:cont, {:ok, [s | acc]}}
        {:error, %Error{} = e} -> {:halt, {:error, %{e | step: i}}}
        {:error, other} -> {:halt, {:error, other}}
      end
    end)
    |> case do
      {:ok, acc} -> {:ok, Enum.reverse(acc)}
      error -> error
    end
  end

  defp batch_steps(other),
    do: bad_argument(:batch, "steps", "must be a list, got #{inspect(other)}")

  defp batch_step({:mount, s, t, f}), do: batch_step({:mount, s, t, f, []})
  defp batch_step({:bind, s, t}), do: batch_step({:bind, s, t, []})
  defp batch_step({:move, s, t}), do: batch_step({:move, s, t, []})
  defp batch_step({:remount, t}), do: batch_step({:remount, t, []})
  defp batch_step({:umount, t}), do: batch_step({:umount, t, []})
  defp batch_step({:pivot_root, n, p}), do: batch_step({:pivot_root, n, p, []})

  defp batch_step({:mount, s, t, f, opts}) do
    with {:ok, o} <- step_options(:mount, opts, [:flags, :data, :create]),
         {:ok, words, bits} <- mount_bits(o[:flags]) do
      mount_step(s, t, f, words, bits, o)
    end
  end

  defp batch_step({:bind, s, t, opts}) do
    with {:ok, o} <- step_options(:bind, opts, [:flags, :data, :create, :from_host]),
         {:ok, _words, bits} <- mount_bits(o[:flags]) do
      bind_step(s, t, bits &&& bnot(@ms_bind), o)
    end
  end

  defp batch_step({:move, s, t, opts}) do
    with {:ok, _o} <- step_options(:move, opts, []), do: move_step(s, t)
  end

  defp batch_step({:remount, t, opts}) do
    with {:ok, o} <- step_options(:remount, opts, [:flags, :data]),
         {:ok, _words, bits} <- mount_bits(o[:flags]) do
      remount_step(t, bits &&& bnot(@ms_remount), o)
    end
  end

  defp batch_step({:umount, t, opts}) do
    with {:ok, o} <- step_options(:umount, opts, [:flags, :recursive]),
         {:ok, bits} <- umount_bits(o[:flags]) do
      umount_step(t, bits, o)
    end
  end

  defp batch_step({:pivot_root, n, p, opts}) do
    with {:ok, _o} <- step_options(:pivot_root, opts, []), do: pivot_step(n, p)
  end

  defp batch_step(other),
    do: bad_argument(:batch, "step", "unknown step #{inspect(other)}")

  defp step_options(verb, opts, allowed) do
    if is_list(opts) and Keyword.has_key?(opts, :in) do
      bad_argument(verb, "in", "a batch step takes no :in; give it to batch/2")
    else
      options(verb, opts, allowed)
    end
  end

  # ---- running and results -------------------------------------------------

  defp run(native_in, steps, in_term) do
    case Native.run(native_in, steps) do
      :ok -> :ok
      error -> native_error(error, in_term)
    end
  end

  @verbs ~w(mount bind move remount umount pivot_root)

  @doc false
  # The NIF's detailed error as the public result.
  def native_error({:error, stage, errno, verb, value, message, step}, in_term) do
    case stage do
      :bad_in ->
        {:error, {:bad_in, in_term || :self}}

      :bad_flag ->
        case known_flag(value) do
          nil -> {:error, error(stage, errno, verb, value, message, step)}
          word -> {:error, {:bad_flag, word}}
        end

      _ ->
        {:error, error(stage, errno, verb, value, message, step)}
    end
  end

  defp error(stage, errno, verb, value, message, step) do
    %Error{
      operation: stage,
      reason: errno,
      message: message,
      verb: if(verb in @verbs, do: String.to_existing_atom(verb)),
      step: if(step > 0, do: step),
      value: if(value != "", do: value)
    }
  end

  # linx names a refused combination by its words ("private,shared"): the
  # last known word is the one that conflicts.
  defp known_flag(value) do
    names = Enum.map(@mount_flags ++ @umount_flags, fn {w, _} -> Atom.to_string(w) end)

    value
    |> String.split([",", "|"])
    |> Enum.reverse()
    |> Enum.find(&(&1 in names))
    |> case do
      nil -> nil
      word -> String.to_existing_atom(word)
    end
  end

  # ---- argument checks (before anything runs) ------------------------------

  @booleans [:create, :recursive, :from_host]

  defp options(verb, opts, allowed) when is_list(opts) do
    if Keyword.keyword?(opts) do
      cond do
        k = Enum.find_value(opts, fn {k, _} -> if k not in allowed, do: k end) ->
          bad_argument(verb, "options", "unknown option #{inspect(k)}")

        k = Enum.find_value(opts, fn {k, v} -> if k in @booleans and not is_boolean(v), do: k end) ->
          bad_argument(verb, "options", "#{inspect(k)} must be true or false")

        true ->
          {:ok, opts}
      end
    else
      bad_argument(verb, "options", "must be a keyword list, got #{inspect(opts)}")
    end
  end

  defp options(verb, opts, _allowed),
    do: bad_argument(verb, "options", "must be a keyword list, got #{inspect(opts)}")

  defp mount_bits(nil), do: {:ok, [], 0}
  defp mount_bits(words) when is_list(words), do: bits(words, @mount_flags, [], 0)
  defp mount_bits(other), do: {:error, {:bad_flag, other}}

  defp umount_bits(nil), do: {:ok, 0}

  defp umount_bits(words) when is_list(words) do
    with {:ok, _words, bits} <- bits(words, @umount_flags, [], 0), do: {:ok, bits}
  end

  defp umount_bits(other), do: {:error, {:bad_flag, other}}

  defp bits([], _table, words, acc), do: {:ok, Enum.reverse(words), acc}

  defp bits([word | rest], table, words, acc) when is_atom(word) do
    case Keyword.fetch(table, word) do
      {:ok, bit} -> bits(rest, table, [word | words], acc ||| bit)
      :error -> {:error, {:bad_flag, word}}
    end
  end

  defp bits([word | _], _table, _words, _acc), do: {:error, {:bad_flag, word}}
  defp bits(improper, _table, _words, _acc), do: {:error, {:bad_flag, improper}}

  @doc false
  # `:in` as the NIF takes it, or {:error, {:bad_in, term}}.
  def native_in(nil), do: {:ok, :self}
  def native_in(:self), do: {:ok, :self}
  def native_in(%Namespace{ref: ref}) when is_reference(ref), do: {:ok, ref}

  def native_in({:pid, pid} = t) when is_integer(pid) do
    if pid > 0 and pid <= 0x7FFFFFFF, do: {:ok, t}, else: {:error, {:bad_in, t}}
  end

  def native_in({:pidfd, fd} = t) when is_integer(fd) do
    if fd >= 0 and fd <= 0x7FFFFFFF, do: {:ok, t}, else: {:error, {:bad_in, t}}
  end

  def native_in({:path, path} = t) do
    case to_path(path) do
      {:ok, "/" <> _ = p} -> {:ok, {:path, p}}
      _ -> {:error, {:bad_in, t}}
    end
  end

  def native_in({:path, mnt, pidns} = t) do
    with {:ok, "/" <> _ = m} <- to_path(mnt),
         {:ok, "/" <> _ = p} <- to_path(pidns) do
      {:ok, {:path, m, p}}
    else
      _ -> {:error, {:bad_in, t}}
    end
  end

  def native_in(other), do: {:error, {:bad_in, other}}

  defp to_path(path) do
    case string(:in, "path", path) do
      {:ok, ""} -> :error
      {:ok, p} -> if String.contains?(p, <<0>>), do: :error, else: {:ok, p}
      _ -> :error
    end
  end

  # Strings are binaries; charlists are accepted, nil means "".
  defp string(_verb, _what, nil), do: {:ok, ""}
  defp string(_verb, _what, s) when is_binary(s), do: {:ok, s}

  defp string(verb, what, l) when is_list(l) do
    try do
      {:ok, IO.chardata_to_string(l)}
    rescue
      ArgumentError -> bad_argument(verb, what, "must be a string, got #{inspect(l)}")
    end
  end

  defp string(verb, what, other),
    do: bad_argument(verb, what, "must be a string, got #{inspect(other)}")

  defp bad_argument(verb, what, why) do
    {:error,
     %Error{
       operation: :bad_argument,
       reason: :einval,
       message: "#{verb}: #{what} #{why}",
       verb: if(verb in [:mount, :bind, :move, :remount, :umount, :pivot_root], do: verb),
       value: what
     }}
  end
end
