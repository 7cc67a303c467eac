defmodule Linx.Mount.Namespace do
  @moduledoc """
  An opened mount namespace (a linx addition): a handle that `:in` accepts in
  place of `{:pid, n}`, safe against pid reuse.

  `{:pid, n}` names a number. `open({:pid, n})` opens the process itself once
  (a pidfd on Linux 5.8+, else an `O_PATH` handle on `/proc/<n>` from which
  both namespace files are taken at once) and keeps it open while the handle
  lives: if that process exits and the number is given to a stranger, verbs
  through the handle fail (`:setns`/`:esrch` with a pidfd) instead of
  entering the stranger's namespace. Open it while you know the pid is
  yours, e.g. right after starting the child.

      {:ok, ns} = Linx.Mount.Namespace.open({:pid, child})
      :ok = Linx.Mount.mount("proc", "/proc", "proc", in: ns)

  The descriptors are closed when the BEAM garbage-collects the handle.
  `open/1` also takes `{:path, p}` (a namespace file), `{:path, mnt, pidns}`
  and `{:pidfd, fd}` (a pidfd number in this OS process; it is duplicated).
  """
  defstruct [:ref, :spec]

  @type t :: %__MODULE__{ref: reference, spec: term}

  @doc "Opens the namespace `spec` names; errors as `Linx.Mount`'s verbs."
  @spec open(term) :: {:ok, t} | {:error, Linx.Mount.Error.t() | {:bad_in, term}}
  def open(spec) do
    with {:ok, native} <- Linx.Mount.native_in(spec) do
      case Linx.Mount.Native.open_namespace(native) do
        {:ok, ref} -> {:ok, %__MODULE__{ref: ref, spec: spec}}
        error -> Linx.Mount.native_error(error, spec)
      end
    end
  end
end

defimpl Inspect, for: Linx.Mount.Namespace do
  def inspect(%{spec: spec}, _opts), do: "#Linx.Mount.Namespace<#{Kernel.inspect(spec)}>"
end
