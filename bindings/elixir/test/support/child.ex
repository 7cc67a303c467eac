defmodule Linx.TestSupport.Child do
  @moduledoc false
  # A real child process parked in fresh mount + PID namespaces:
  #
  #   unshare --fork --pid --mount --propagation private -- busybox sh -c LOOP
  #
  # `pid` is the host pid of the shell, which is pid 1 of the new PID
  # namespace (unshare itself stays in ours). The shell runs one command per
  # line sent to it and reports its output and exit status, so tests can look
  # at the namespace from inside (also after a pivot_root, since busybox runs
  # its applets without a file system). stop/1 sends SIGKILL, which ends the
  # whole PID namespace.
  defstruct [:port, :pid, :unshare_pid]

  @loop ~S"""
  echo __linx_ready
  while read -r line; do
    out=$(eval "$line" 2>&1)
    printf '%s\n__linx_done %d\n' "$out" "$?"
  done
  """

  def start do
    unshare = System.find_executable("unshare") || raise "no unshare(1)"
    busybox = System.find_executable("busybox") || "/bin/busybox"

    port =
      Port.open({:spawn_executable, unshare}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        {:line, 65_536},
        args:
          ["--fork", "--pid", "--mount", "--propagation", "private", "--"] ++
            [busybox, "sh", "-c", @loop]
      ])

    {:os_pid, unshare_pid} = Port.info(port, :os_pid)

    receive do
      {^port, {:data, {:eol, "__linx_ready"}}} -> :ok
      {^port, {:exit_status, status}} -> raise "parked child exited with #{status}"
    after
      10_000 -> raise "parked child never got ready"
    end

    [pid] = children(unshare_pid)

    %__MODULE__{port: port, pid: pid, unshare_pid: unshare_pid}
  end

  # The children of `parent`: from /proc/<p>/task/<p>/children where the
  # kernel has it (CONFIG_PROC_CHILDREN), else by scanning /proc for the ppid.
  defp children(parent) do
    case File.read("/proc/#{parent}/task/#{parent}/children") do
      {:ok, list} ->
        list |> String.split() |> Enum.map(&String.to_integer/1)

      {:error, _} ->
        for entry <- File.ls!("/proc"),
            entry =~ ~r/^\d+$/,
            {:ok, stat} <- [File.read("/proc/#{entry}/stat")],
            # "pid (comm) state ppid ...": comm may hold spaces and
            # parentheses, so take what follows the last ") ".
            [_, rest] <- [Regex.run(~r/^.*\) (.*)$/s, stat)],
            [_state, ppid | _] <- [String.split(rest, " ")],
            String.to_integer(ppid) == parent,
            do: String.to_integer(entry)
    end
  end

  @doc "Runs `command` in the child's shell: {output, exit status}."
  def sh(%__MODULE__{port: port}, command) do
    true = Port.command(port, command <> "\n")
    collect(port, [])
  end

  defp collect(port, acc) do
    receive do
      {^port, {:data, {:eol, "__linx_done " <> status}}} ->
        {acc |> Enum.reverse() |> Enum.join("\n"), String.to_integer(status)}

      {^port, {:data, {:eol, line}}} ->
        collect(port, [line | acc])

      {^port, {:data, {:noeol, part}}} ->
        collect(port, [part | acc])

      {^port, {:exit_status, status}} ->
        raise "parked child exited with #{status}"
    after
      15_000 -> raise "parked child did not answer"
    end
  end

  @doc "SIGKILL to the child (ending its PID namespace) and to unshare."
  def stop(%__MODULE__{pid: pid, unshare_pid: upid}) do
    System.cmd("kill", ["-KILL", "#{pid}", "#{upid}"], stderr_to_stdout: true)
    :ok
  end

  @doc "Waits until the child's port reports its exit (owner process only)."
  def await_exit(%__MODULE__{port: port}) do
    receive do
      {^port, {:exit_status, _}} -> :ok
    after
      10_000 -> raise "parked child did not exit"
    end
  end
end
