defmodule Linx.CrossNamespaceTest do
  # Verbs in the namespaces of real child processes parked in fresh mount +
  # PID namespaces (Linx.TestSupport.Child), checked from inside the child.
  use Linx.Case, async: false
  @moduletag :privileged
  import Bitwise
  alias Linx.Mount.Namespace

  setup %{dir: dir} do
    # Everything the child should see must exist before it copies our
    # namespace.
    rootfs = mkdir!(dir, "rootfs")
    for d <- ["old_root", "proc", "dev", "bin", "mnt"], do: mkdir!(rootfs, d)
    File.write!(Path.join(rootfs, "marker"), "the new root")

    File.cp!(
      System.find_executable("busybox") || "/bin/busybox",
      Path.join(rootfs, "bin/busybox")
    )

    vol = mkdir!(dir, "vol")
    procdir = mkdir!(dir, "proc")
    child = Child.start()
    on_exit(fn -> Child.stop(child) end)
    {:ok, child: child, rootfs: rootfs, vol: vol, procdir: procdir}
  end

  # Polls every 10 ms (at most `tries` times) until process PID is gone or
  # a zombie: either way it has finished exiting, and a PID namespace's init
  # has torn its namespace down by then.
  defp wait_gone(pid, tries) do
    exited =
      case File.read("/proc/#{pid}/status") do
        {:ok, status} -> status =~ ~r/^State:\s+Z/m
        {:error, _} -> true
      end

    cond do
      exited ->
        :ok

      tries == 0 ->
        flunk("process #{pid} did not exit")

      true ->
        Process.sleep(10)
        wait_gone(pid, tries - 1)
    end
  end

  defp numeric(listing) do
    listing |> String.split() |> Enum.filter(&(&1 =~ ~r/^\d+$/)) |> Enum.map(&String.to_integer/1)
  end

  test "hot-mounting into a running child, then unmounting there", c do
    before = mountinfo()
    assert Mount.mount("tmpfs", c.vol, "tmpfs", flags: [:nosuid], in: {:pid, c.child.pid}) == :ok
    # The child sees it; we do not.
    assert mount_at(c.vol, mountinfo_of(c.child.pid)).fstype == "tmpfs"
    assert {"", 0} = Child.sh(c.child, "echo inside > #{c.vol}/f")
    assert {"inside", 0} = Child.sh(c.child, "cat #{c.vol}/f")
    refute File.exists?(Path.join(c.vol, "f"))
    assert mountinfo() == before
    # list/1 reads the child's table without entering it.
    {:ok, theirs} = Mount.list({:pid, c.child.pid})
    assert Enum.any?(theirs, &(&1.mount_point == c.vol and &1.fstype == "tmpfs"))
    {:ok, ours} = Mount.list()
    refute Enum.any?(ours, &(&1.mount_point == c.vol and &1.fstype == "tmpfs"))

    assert Mount.umount(c.vol, in: {:pid, c.child.pid}) == :ok
    assert mount_at(c.vol, mountinfo_of(c.child.pid)) == nil

    assert {:error, %Error{operation: :umount, reason: :einval} = e} =
             Mount.umount(c.vol, in: {:pid, c.child.pid})

    assert e.message =~ "in mount namespace of pid #{c.child.pid}"
    assert e.message =~ "not a mount point"
  end

  test "proc with in: {:pid, n} shows only the child's PID namespace", c do
    assert Mount.mount("proc", c.procdir, "proc",
             flags: [:nosuid, :nodev, :noexec],
             in: {:pid, c.child.pid}
           ) == :ok

    {listing, 0} = Child.sh(c.child, "ls #{c.procdir}")
    pids = numeric(listing)
    # pid 1 is the child's shell; the only others are its own commands.
    assert 1 in pids
    assert Enum.all?(pids, &(&1 < 10)), inspect(pids)
    {cmdline, 0} = Child.sh(c.child, "cat #{c.procdir}/1/cmdline | tr '\\0' ' '")
    assert cmdline =~ "sh"
    refute String.to_integer(System.pid()) in pids
    assert mount_at(c.procdir) == nil
  end

  test "proc with in: {:path, ns} enters the mount namespace only", c do
    ns = "/proc/#{c.child.pid}/ns/mnt"
    assert Mount.mount("proc", c.procdir, "proc", in: {:path, ns}) == :ok
    # Processes come and go in our PID namespace: ls may lose a race.
    {listing, _} = Child.sh(c.child, "ls #{c.procdir}")
    # Our PID namespace's view: this BEAM is in it.
    assert String.to_integer(System.pid()) in numeric(listing)
  end

  test "the rootfs pivot recipe, every step with in: {:pid, n}", c do
    before = mountinfo()
    cwd = File.cwd!()
    in_child = [in: {:pid, c.child.pid}]

    assert Mount.bind(c.rootfs, c.rootfs, in_child) == :ok
    assert Mount.mount("", c.rootfs, "", [flags: [:private]] ++ in_child) == :ok
    assert Mount.pivot_root(c.rootfs, Path.join(c.rootfs, "old_root"), in_child) == :ok
    # A new proc needs a fully visible proc in the namespace when we are in a
    # user namespace (Bazel's sandbox), so it comes before the old root goes.
    assert Mount.mount("proc", "/proc", "proc", [flags: [:nosuid, :nodev, :noexec]] ++ in_child) ==
             :ok

    assert Mount.mount(
             "tmpfs",
             "/dev",
             "tmpfs",
             [flags: [:nosuid], data: "mode=0755"] ++ in_child
           ) ==
             :ok

    assert Mount.bind("/old_root/dev/null", "/dev/null", [create: true] ++ in_child) == :ok
    assert Mount.umount("/old_root", [flags: [:detach]] ++ in_child) == :ok

    assert_recipe(c.child)
    # Nothing of it happened here.
    assert mountinfo() == before
    assert File.cwd!() == cwd
  end

  test "the same recipe as one batch (one trip)", c do
    before = mountinfo()

    assert Mount.batch(
             [
               {:bind, c.rootfs, c.rootfs},
               {:mount, "", c.rootfs, "", flags: [:private]},
               {:pivot_root, c.rootfs, "old_root"},
               {:mount, "proc", "/proc", "proc", flags: [:nosuid, :nodev, :noexec]},
               {:mount, "tmpfs", "/dev", "tmpfs", flags: [:nosuid], data: "mode=0755"},
               {:bind, "/old_root/dev/null", "/dev/null", create: true},
               {:umount, "/old_root", flags: [:detach]}
             ],
             in: {:pid, c.child.pid}
           ) == :ok

    assert_recipe(c.child)
    assert mountinfo() == before
  end

  test "the recipe through the seed's raw Native functions and namespace paths", c do
    mnt = "/proc/#{c.child.pid}/ns/mnt"
    pidns = "/proc/#{c.child.pid}/ns/pid"
    # MS_BIND, MS_PRIVATE, MS_NOSUID|MS_NODEV|MS_NOEXEC, MS_BIND|MS_RDONLY;
    # MNT_DETACH.
    assert Native.mount(c.rootfs, c.rootfs, "", 0x1000, "", mnt, "", 0) == :ok
    assert Native.mount("", c.rootfs, "", 0x40000, "", mnt, "", 0) == :ok
    assert Native.pivot_root(c.rootfs, "old_root", mnt) == :ok
    assert Native.mount("proc", "/proc", "proc", 0xE, "", mnt, pidns, 0) == :ok
    assert Native.mount("tmpfs", "/dev", "tmpfs", 0x2, "mode=0755", mnt, "", 0) == :ok
    assert Native.mount("/old_root/dev/null", "/dev/null", "", 0x1000, "", mnt, "", 1) == :ok
    assert Native.umount("/old_root", 0x2, mnt) == :ok
    assert_recipe(c.child)
    # A ro bind in the child, read back from its table.
    assert Native.mount("/bin", "/mnt", "", 0x1000 ||| 0x1, "", mnt, "", 0) == :ok
    assert "ro" in mount_at("/mnt", mountinfo_of(c.child.pid)).opts
    assert Native.umount("/mnt", 0, mnt) == :ok
    assert Native.umount("/mnt", 0, mnt) == {:error, {:umount, :einval}}
  end

  test "a failing batch step is named", c do
    assert {:error, %Error{operation: :umount, reason: :einval, step: 2} = e} =
             Mount.batch(
               [{:mount, "tmpfs", c.vol, "tmpfs"}, {:umount, c.rootfs}],
               in: {:pid, c.child.pid}
             )

    assert e.message =~ "step 2 of 2"
  end

  defp assert_recipe(child) do
    assert {"the new root", 0} = Child.sh(child, "cat /marker")
    assert {"", 0} = Child.sh(child, "ls -A /old_root")
    {listing, 0} = Child.sh(child, "ls /proc")
    pids = numeric(listing)
    assert 1 in pids and Enum.all?(pids, &(&1 < 10)), inspect(pids)
    assert {"ok", 0} = Child.sh(child, "echo discard > /dev/null && echo ok")
    assert {"", 0} = Child.sh(child, "cat /dev/null")
  end

  test "pivot_root errors name the violated precondition", c do
    in_child = [in: {:pid, c.child.pid}]

    assert {:error, %Error{operation: :pivot_root, reason: :einval} = e} =
             Mount.pivot_root(c.rootfs, Path.join(c.rootfs, "old_root"), in_child)

    assert e.message =~ "new_root is not a mount point"

    assert {:error, %Error{operation: :chdir, reason: :enoent}} =
             Mount.pivot_root("/no/such/root", "/no/such/root/old", in_child)
  end

  test "each namespace stage and errno", c do
    # open_ns: a process that does not exist.
    assert {:error, %Error{operation: :open_ns, reason: :enoent}} =
             Mount.umount("/x", in: {:pid, dead_pid()})

    # setns: a regular file that is no namespace.
    file = Path.join(c.vol, "plain-file")
    File.write!(file, "")

    assert {:error, %Error{operation: :setns, reason: :einval}} =
             Mount.umount("/x", in: {:path, file})

    # open_ns: a namespace file of another type.
    assert {:error, %Error{operation: :open_ns, reason: :einval}} =
             Mount.umount("/x", in: {:path, "/proc/#{c.child.pid}/ns/net"})

    # create: the placeholder's directory is missing in the child.
    assert {:error, %Error{operation: :create, reason: :enoent}} =
             Mount.bind("/dev/null", "/no/such/dir/null", create: true, in: {:pid, c.child.pid})
  end

  test "fork fails with :enomem in a PID namespace whose init died", c do
    # Keep the child's PID namespace alive by a bind mount of its file.
    held = Path.join(c.vol, "pidns")
    File.write!(held, "")
    sh!("mount", ["--bind", "/proc/#{c.child.pid}/ns/pid", held])
    Child.stop(c.child)
    Child.await_exit(c.child)
    # The port reports the unshare wrapper's exit, which can come before
    # the namespace's init has finished dying: a fork in that window is
    # born and then killed by the kernel's teardown (stage fork, no errno,
    # which the NIF reports as :eio; seen once in CI). Wait until the init
    # is gone from /proc.
    wait_gone(c.child.pid, 500)

    assert Native.mount("proc", "/proc", "proc", 0, "", "/proc/self/ns/mnt", held, 0) ==
             {:error, {:fork, :enomem}}

    assert {:error, %Error{operation: :fork, reason: :enomem}} =
             Mount.mount("proc", "/proc", "proc", in: {:path, "/proc/self/ns/mnt", held})
  end

  test "a Namespace handle is safe against pid reuse", c do
    {:ok, ns} = Namespace.open({:pid, c.child.pid})
    assert inspect(ns) =~ "Linx.Mount.Namespace"
    assert Mount.mount("tmpfs", c.vol, "tmpfs", in: ns) == :ok
    assert mount_at(c.vol, mountinfo_of(c.child.pid)).fstype == "tmpfs"
    Child.stop(c.child)
    Child.await_exit(c.child)
    # The handle names that process, not its number: it is gone.
    assert {:error, %Error{operation: :setns, reason: :esrch}} = Mount.umount(c.vol, in: ns)
    assert Namespace.open({:pid, 0}) == {:error, {:bad_in, {:pid, 0}}}
  end

  test "binding a path of ours into the child (from_host: true)", c do
    src = Path.join(c.rootfs, "marker")
    target = Path.join(c.vol, "marker")
    assert {"", 0} = Child.sh(c.child, "touch #{target}")

    assert Mount.bind(src, target, from_host: true, flags: [:ro], in: {:pid, c.child.pid}) ==
             :ok

    assert {"the new root", 0} = Child.sh(c.child, "cat #{target}")
  end

  # Runs `code` in a second BEAM started through `launcher` (setpriv,
  # prlimit, ...) with this project's modules and NIF; returns its output.
  defp other_beam(launcher, code) do
    ebin = Path.dirname(:code.which(Linx.Mount))
    elixir = System.find_executable("elixir")
    [cmd | args] = launcher ++ ["--", elixir, "-pa", ebin, "-e", code]
    {out, status} = System.cmd(cmd, args, stderr_to_stdout: true)
    assert status == 0, out
    out
  end

  @report """
  case result do
    {:error, %Linx.Mount.Error{operation: op, reason: r}} -> IO.puts("result \#{op} \#{r}")
    other -> IO.puts("result \#{inspect(other)}")
  end
  """

  test "setns without CAP_SYS_CHROOT is :eperm (a BEAM without it)", c do
    code = """
    result = Linx.Mount.umount("/x", in: {:pid, #{c.child.pid}})
    #{@report}
    """

    assert other_beam(["setpriv", "--bounding-set", "-sys_chroot"], code) =~ "result setns eperm"
  end

  test "pipe fails with :emfile in a BEAM out of descriptors", c do
    pid = c.child.pid

    code = """
    # A first verb into the child runs linx's one-time pidfd probe.
    {:error, _} = Linx.Mount.umount("#{c.procdir}", in: {:pid, #{pid}})
    files =
      Stream.repeatedly(fn -> File.open("/dev/null") end)
      |> Enum.take_while(&match?({:ok, _}, &1))
    # One descriptor free: enough for the pidfd, not for the pipe.
    {:ok, last} = List.last(files)
    :ok = File.close(last)
    result = Linx.Mount.mount("proc", "#{c.procdir}", "proc", in: {:pid, #{pid}})
    #{@report}
    """

    assert other_beam(["prlimit", "--nofile=200:200"], code) =~ "result pipe emfile"
  end
end
