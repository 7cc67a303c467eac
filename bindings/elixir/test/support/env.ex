defmodule Linx.TestSupport.Env do
  @moduledoc false
  # Decides, once per suite, whether the privileged cases can run, and sets up
  # their scratch tmpfs. See test/test_helper.exs.

  @cap_sys_chroot 18
  @cap_sys_admin 21

  def setup do
    cond do
      not capable?() ->
        {:unprivileged, "no CAP_SYS_ADMIN and CAP_SYS_CHROOT in the effective set"}

      System.get_env("LINX_TEST_ISOLATED") != "1" ->
        case System.cmd("unshare", ["--mount", "--propagation", "private", "true"],
               stderr_to_stdout: true
             ) do
          {_, 0} ->
            # System.argv() under `mix test` is ["test" | the task's arguments].
            {:reexec, Enum.drop_while(System.argv(), &(&1 == "test"))}

          {out, _} ->
            {:unprivileged, "unshare --mount fails here: #{String.trim(out)}"}
        end

      shared_root?() ->
        # Isolated in name only: a mount here could propagate to the host.
        {:unprivileged, "LINX_TEST_ISOLATED=1 but / is a shared mount"}

      true ->
        scratch = scratch_root()
        :persistent_term.put({__MODULE__, :scratch}, scratch)
        :privileged
    end
  end

  def privileged?, do: :persistent_term.get({__MODULE__, :scratch}, nil) != nil
  def scratch, do: :persistent_term.get({__MODULE__, :scratch})

  def unprivileged_reason,
    do: "needs CAP_SYS_ADMIN + CAP_SYS_CHROOT inside a private mount namespace"

  def capable? do
    with {:ok, status} <- File.read("/proc/self/status"),
         [_, hex] <- Regex.run(~r/^CapEff:\s*([0-9a-f]+)$/m, status) do
      caps = String.to_integer(hex, 16)

      Bitwise.band(caps, Bitwise.bsl(1, @cap_sys_admin)) != 0 and
        Bitwise.band(caps, Bitwise.bsl(1, @cap_sys_chroot)) != 0
    else
      _ -> false
    end
  end

  defp shared_root? do
    "/proc/self/mountinfo"
    |> File.read!()
    |> String.split("\n", trim: true)
    |> Enum.map(&String.split(&1, " "))
    |> Enum.filter(fn fields -> Enum.at(fields, 4) == "/" end)
    |> Enum.any?(fn fields -> Enum.any?(fields, &String.starts_with?(&1, "shared:")) end)
  end

  # A fresh tmpfs for everything the suite creates.
  defp scratch_root do
    base = System.get_env("TEST_TMPDIR") || System.tmp_dir!()
    dir = Path.join(base, "linx-exunit-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    {_, 0} = System.cmd("mount", ["-t", "tmpfs", "-o", "size=64m", "linx-exunit", dir])
    dir
  end
end
