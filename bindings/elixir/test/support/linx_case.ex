defmodule Linx.Case do
  @moduledoc false
  # The case template of the suite. A module tagged `@moduletag :privileged`
  # gets, per test, `dir`: a fresh tmpfs of its own under the suite's scratch
  # tmpfs, detached (with everything below it) when the test ends. Without
  # the privilege such a test fails when LINX_REQUIRE_PRIVILEGED=1 and is
  # excluded otherwise (test/test_helper.exs).
  use ExUnit.CaseTemplate
  alias Linx.TestSupport.Env

  using do
    quote do
      import Linx.Case
      alias Linx.Mount
      alias Linx.Mount.{Entry, Error, Native}
      alias Linx.TestSupport.Child
    end
  end

  setup tags do
    if tags[:privileged] do
      if not Env.privileged?() do
        flunk("privileged case cannot run: " <> Env.unprivileged_reason())
      end

      dir = Path.join(Env.scratch(), "t#{System.unique_integer([:positive])}")
      File.mkdir_p!(dir)
      sh!("mount", ["-t", "tmpfs", "-o", "size=16m", "linx-test", dir])
      on_exit(fn -> System.cmd("umount", ["--lazy", dir], stderr_to_stdout: true) end)
      {:ok, dir: dir}
    else
      :ok
    end
  end

  @doc "Runs a command, asserting exit status 0; returns its output."
  def sh!(cmd, args) do
    {out, status} = System.cmd(cmd, args, stderr_to_stdout: true)

    if status != 0 do
      raise "#{cmd} #{Enum.join(args, " ")} exited with #{status}: #{out}"
    end

    out
  end

  @doc """
  The kernel's mount table, parsed here (independently of linx): a list of
  maps with the decoded mount point, options, optional fields, fstype, source
  and super options.
  """
  def mountinfo(file \\ "/proc/self/mountinfo") do
    file
    |> File.read!()
    |> String.split("\n", trim: true)
    |> Enum.map(fn line ->
      [left, right] = String.split(line, " - ", parts: 2)
      [id, parent, _dev, root, mp, opts | optional] = String.split(left, " ")
      [fstype, source, super] = String.split(right, " ", parts: 3)

      %{
        id: String.to_integer(id),
        parent: String.to_integer(parent),
        root: unescape(root),
        mount_point: unescape(mp),
        opts: String.split(opts, ","),
        optional: optional,
        fstype: fstype,
        source: unescape(source),
        super: super
      }
    end)
  end

  defp unescape(s) do
    Regex.replace(~r/\\([0-7]{3})/, s, fn _, oct -> <<String.to_integer(oct, 8)>> end)
  end

  @doc "The topmost mount at `mount_point` in `table`, or nil."
  def mount_at(mount_point, table \\ mountinfo()) do
    table |> Enum.filter(&(&1.mount_point == mount_point)) |> List.last()
  end

  @doc "The kernel's table of process `pid` (read from /proc, no setns)."
  def mountinfo_of(pid), do: mountinfo("/proc/#{pid}/mountinfo")

  @doc "A directory under `parent`, created."
  def mkdir!(parent, name) do
    path = Path.join(parent, name)
    File.mkdir_p!(path)
    path
  end

  @doc "The pid of a process that has exited (and been reaped)."
  def dead_pid do
    {out, 0} = System.cmd("sh", ["-c", "echo $$"])
    String.to_integer(String.trim(out))
  end

  @doc "What this BEAM's threads see: mount namespace, root and cwd of each."
  def beam_view do
    tasks = File.ls!("/proc/self/task")

    for tid <- tasks, into: %{} do
      base = "/proc/self/task/#{tid}"

      view =
        for link <- ["ns/mnt", "root", "cwd"], into: %{} do
          {link, File.read_link(Path.join(base, link))}
        end

      {tid, view}
    end
  end
end
