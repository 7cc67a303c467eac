defmodule Linx.Mount.Error do
  @moduledoc """
  A failed `Linx.Mount` verb, returned as `{:error, %Linx.Mount.Error{}}` (and
  raisable: it implements `Exception`).

  - `operation`: the stage that failed, as the seed names it: `:mount`,
    `:umount`, `:pivot_root`, `:open_ns`, `:unshare`, `:setns`, `:chdir`,
    `:thread`, `:create`, `:open_pidns`, `:setns_pid`, `:pipe`, `:fork`; or
    one of linx's `:bad_argument`, `:bad_flag`, `:bad_in`, `:read`, `:none`.
  - `reason`: the errno as the BEAM names it (`:enoent`, `:ebusy`, `:eperm`,
    ...), or the integer for an errno without a name; `:einval` for the
    argument stages.
  - `message`: the call written out as it was made, with flags by name, the
    namespace, the stage, the kernel's error text and, where the errno alone
    misleads, a hint:

        umount2("/mnt/x", 0): umount: EINVAL (Invalid argument): not a mount point

  Additions (not in the seed; `nil` when they do not apply):

  - `verb`: linx's name for the verb that failed (`:mount`, `:bind`, `:move`,
    `:remount`, `:umount`, `:pivot_root`), or `nil`.
  - `step`: in `Linx.Mount.batch/2`, the 1-based index of the failing step.
  - `value`: for the argument stages, the offending value or argument name.
  """
  defexception [:operation, :reason, :message, verb: nil, step: nil, value: nil]

  @type t :: %__MODULE__{
          operation: atom,
          reason: atom | integer,
          message: String.t(),
          verb: atom | nil,
          step: pos_integer | nil,
          value: String.t() | nil
        }
end
