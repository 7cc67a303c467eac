defmodule Linx.ConcurrencyTest do
  # 100 BEAM processes doing cross-namespace verbs at once, while a timer
  # process keeps ticking and, for the whole run, as many verbs as there are
  # normal schedulers hang on a FUSE mount whose daemon never answers: the
  # normal schedulers are never blocked, and afterwards the BEAM's own
  # namespace, cwd and root are what they were.
  use Linx.Case, async: false
  @moduletag :privileged
  @moduletag timeout: 300_000

  @workers 100
  @rounds 5
  @tick_ms 5

  setup %{dir: dir} do
    stuck = stuck_fuse(mkdir!(dir, "fuse"))
    on_exit(fn -> System.cmd("kill", ["-KILL", "#{stuck.pid}"], stderr_to_stdout: true) end)
    targets = for i <- 1..@workers, do: mkdir!(dir, "w#{i}")
    children = for _ <- 1..4, do: Child.start()
    on_exit(fn -> Enum.each(children, &Child.stop/1) end)
    {:ok, targets: targets, children: children, stuck: stuck}
  end

  # A FUSE file system nobody serves: /dev/fuse is opened and mounted by a
  # shell that then sleeps holding it, and never answers the kernel's INIT.
  # Any path lookup below the mount point waits in fuse_get_req (state D,
  # only SIGKILL or the connection's end wakes it): a stuck FUSE daemon.
  # Killing the holder closes /dev/fuse, which aborts the connection.
  defp stuck_fuse(mount_point) do
    script =
      "exec 3<>/dev/fuse && busybox mount -t fuse " <>
        "-o fd=3,rootmode=40000,user_id=0,group_id=0 linx-stuck #{mount_point} && " <>
        "echo mounted && exec sleep 100000"

    port =
      Port.open({:spawn_executable, "/bin/sh"}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        {:line, 4096},
        args: ["-c", script]
      ])

    {:os_pid, pid} = Port.info(port, :os_pid)

    receive do
      {^port, {:data, {:eol, "mounted"}}} -> :ok
      {^port, {:data, {:eol, line}}} -> flunk("stuck FUSE mount failed: #{line}")
      {^port, {:exit_status, status}} -> flunk("stuck FUSE mount failed: #{status}")
    after
      10_000 -> flunk("stuck FUSE mount never came up")
    end

    %{port: port, pid: pid, mount_point: mount_point}
  end

  # Ticks every @tick_ms until told to stop; reports the longest gap.
  defp ticker(parent, last, longest, count) do
    receive do
      :stop -> send(parent, {:ticks, count, longest})
    after
      @tick_ms ->
        now = System.monotonic_time(:millisecond)
        ticker(parent, now, max(longest, now - last), count + 1)
    end
  end

  test "100 processes, cross-namespace verbs, normal schedulers free", c do
    view_before = stable_view()
    table_before = mountinfo()
    cwd_before = File.cwd!()
    child_tables = for ch <- c.children, do: mountinfo_of(ch.pid)

    # Occupy as many dirty I/O threads as there are normal schedulers (but
    # leave dirty I/O threads for the workers): were the NIF to run on a
    # normal scheduler, nothing could run any more.
    n_stuck = min(System.schedulers_online(), :erlang.system_info(:dirty_io_schedulers) - 2)

    stuck =
      for k <- 1..n_stuck do
        Task.async(fn ->
          Mount.mount("tmpfs", Path.join(c.stuck.mount_point, "x#{k}"), "tmpfs")
        end)
      end

    Process.sleep(300)
    assert Enum.all?(stuck, &(Task.yield(&1, 0) == nil)), "the FUSE verbs did not hang"

    parent = self()
    t0 = System.monotonic_time(:millisecond)
    tick = spawn_link(fn -> ticker(parent, t0, 0, 0) end)

    tasks =
      for {target, i} <- Enum.with_index(c.targets) do
        child = Enum.at(c.children, rem(i, length(c.children)))

        Task.async(fn ->
          for round <- 1..@rounds do
            in_child = [in: {:pid, child.pid}]
            # Alternate the plain verbs, the proc path and a batch.
            case rem(round + i, 3) do
              0 ->
                :ok = Mount.mount("tmpfs", target, "tmpfs", [flags: [:nosuid]] ++ in_child)
                :ok = Mount.umount(target, in_child)

              1 ->
                :ok = Mount.mount("proc", target, "proc", in_child)
                :ok = Mount.umount(target, [flags: [:detach]] ++ in_child)

              2 ->
                :ok =
                  Mount.batch(
                    [
                      {:mount, "tmpfs", target, "tmpfs"},
                      {:bind, target, target, flags: [:ro]},
                      {:umount, target},
                      {:umount, target}
                    ],
                    in_child
                  )
            end

            # An error path too, with its message built each time.
            {:error, %Error{operation: :umount, reason: :einval}} = Mount.umount(target, in_child)
          end

          Native.thread_type()
        end)
      end

    thread_types = Task.await_many(tasks, 240_000)
    elapsed = System.monotonic_time(:millisecond) - t0
    send(tick, :stop)
    assert_receive {:ticks, ticks, longest}, 5_000

    assert Enum.uniq(thread_types) == [:dirty_io]
    # The stuck verbs are still stuck; ending the connection releases them.
    assert Enum.all?(stuck, &(Task.yield(&1, 0) == nil))
    System.cmd("kill", ["-KILL", "#{c.stuck.pid}"])

    for task <- stuck do
      assert {:error, %Error{operation: :mount, reason: reason}} = Task.await(task, 30_000)
      assert reason in [:enotconn, :econnaborted]
    end

    # The timer kept ticking all along: it got a scheduler within a fraction
    # of the run (a NIF blocking the normal schedulers would stall it for
    # the whole run).
    assert ticks > 0
    assert longest < max(div(elapsed, 2), 1000), "longest tick gap #{longest} ms of #{elapsed} ms"

    # Our namespace, table, cwd and root are untouched; so are the
    # children's tables (every mount was undone).
    assert stable_view() == view_before
    assert mountinfo() == table_before
    assert File.cwd!() == cwd_before
    assert for(ch <- c.children, do: mountinfo_of(ch.pid)) == child_tables
  end

  # {mount namespace, root, cwd} of every BEAM thread, which must be one and
  # the same triple. A thread that is just exiting may not be readable; a
  # linx worker that is just being joined may still show its target, so the
  # view is retried until it settles.
  defp stable_view(tries \\ 50) do
    views =
      beam_view()
      |> Map.values()
      |> Enum.filter(fn v -> Enum.all?(Map.values(v), &match?({:ok, _}, &1)) end)
      |> Enum.uniq()

    case views do
      [one] ->
        one

      _ when tries > 0 ->
        Process.sleep(20)
        stable_view(tries - 1)

      many ->
        many
    end
  end
end
