defmodule Linx.VerbsTest do
  # The verbs in this node's own (private, throwaway) mount namespace, each
  # read back from the kernel.
  use Linx.Case, async: false
  @moduletag :privileged
  import Bitwise

  describe "Native (the seed's raw functions)" do
    test "mount/8 and umount/3", %{dir: dir} do
      t = mkdir!(dir, "t")
      # MS_NOSUID | MS_NODEV
      assert Native.mount("none", t, "tmpfs", 0x6, "size=1m", "", "", 0) == :ok
      m = mount_at(t)
      assert m.fstype == "tmpfs"
      assert "nosuid" in m.opts and "nodev" in m.opts
      assert m.super =~ "size=1024k"
      assert Native.umount(t, 0, "") == :ok
      assert mount_at(t) == nil
    end

    test "errors are {stage, errno}", %{dir: dir} do
      assert Native.mount("none", Path.join(dir, "missing"), "tmpfs", 0, "", "", "", 0) ==
               {:error, {:mount, :enoent}}

      assert Native.mount("none", dir, "nosuchfs", 0, "", "", "", 0) ==
               {:error, {:mount, :enodev}}

      assert Native.umount(mkdir!(dir, "plain"), 0, "") == {:error, {:umount, :einval}}

      assert Native.mount("/dev/null", Path.join(dir, "nodir/f"), "", 0x1000, "", "", "", 1) ==
               {:error, {:create, :enoent}}

      # A regular file that is no namespace: the kernel's own answer, at setns.
      file = Path.join(dir, "not-a-namespace")
      File.write!(file, "")
      assert Native.umount("/x", 0, file) == {:error, {:setns, :einval}}
      # A PID namespace file that does not exist / is no namespace.
      assert Native.mount("proc", "/p", "proc", 0, "", "/proc/self/ns/mnt", file <> "x", 0) ==
               {:error, {:open_pidns, :enoent}}

      assert Native.mount("proc", "/p", "proc", 0, "", "/proc/self/ns/mnt", file, 0) ==
               {:error, {:setns_pid, :einval}}

      # pivot_root: a new_root that does not exist fails at the worker's chdir.
      assert Native.pivot_root(Path.join(dir, "nope"), "old", "") == {:error, {:chdir, :enoent}}
    end

    test "a bind with MS_RDONLY ends read-only", %{dir: dir} do
      src = mkdir!(dir, "src")
      dst = mkdir!(dir, "dst")
      assert Native.mount(src, dst, "", 0x1000 ||| 0x1, "", "", "", 0) == :ok
      assert "ro" in mount_at(dst).opts
      assert File.write(Path.join(dst, "f"), "x") == {:error, :erofs}
    end
  end

  describe "mount/4" do
    test "a tmpfs with flags and data", %{dir: dir} do
      t = mkdir!(dir, "t")

      assert Mount.mount("tmpfs", t, "tmpfs", flags: [:nosuid, :nodev, :noexec], data: "size=2m") ==
               :ok

      m = mount_at(t)
      assert m.fstype == "tmpfs" and m.source == "tmpfs"
      assert Enum.all?(~w(nosuid nodev noexec), &(&1 in m.opts))
      assert m.super =~ "size=2048k"
    end

    test "every visible flag word ends up in the mount's options", %{dir: dir} do
      for {word, opt} <- [
            ro: "ro",
            nosuid: "nosuid",
            nodev: "nodev",
            noexec: "noexec",
            noatime: "noatime",
            nodiratime: "nodiratime",
            relatime: "relatime",
            sync: "sync",
            dirsync: "dirsync",
            lazytime: "lazytime"
          ] do
        t = mkdir!(dir, "w-#{word}")
        assert Mount.mount("tmpfs", t, "tmpfs", flags: [word]) == :ok, "#{word}"
        m = mount_at(t)
        assert opt in m.opts or m.super =~ opt, "#{word}: #{inspect(m)}"
      end
    end

    test "propagation words are their own call", %{dir: dir} do
      t = mkdir!(dir, "p")
      assert Mount.mount("tmpfs", t, "tmpfs", flags: [:shared]) == :ok
      assert Enum.any?(mount_at(t).optional, &String.starts_with?(&1, "shared:"))
      {:ok, entries} = Mount.list()
      entry = entries |> Enum.filter(&(&1.mount_point == t)) |> List.last()
      assert is_integer(entry.shared)
      assert Mount.mount("", t, "", flags: [:private]) == :ok
      assert mount_at(t).optional == []
      assert Mount.mount("", t, "", flags: [:unbindable]) == :ok
      assert mount_at(t).optional == ["unbindable"]
      {:ok, entries} = Mount.list()
      assert (entries |> Enum.filter(&(&1.mount_point == t)) |> List.last()).unbindable
    end

    test ":bind, :move and :remount in flags dispatch like the kernel", %{dir: dir} do
      src = mkdir!(dir, "src")
      File.write!(Path.join(src, "marker"), "hi")
      a = mkdir!(dir, "a")
      b = mkdir!(dir, "b")
      assert Mount.mount(src, a, "", flags: [:bind]) == :ok
      assert File.read!(Path.join(a, "marker")) == "hi"
      assert Mount.mount("", a, "", flags: [:remount, :bind, :ro]) == :ok
      assert "ro" in mount_at(a).opts
      assert Mount.mount(a, b, "", flags: [:move]) == :ok
      assert mount_at(a) == nil
      assert File.read!(Path.join(b, "marker")) == "hi"
    end

    test "errors carry the stage, the errno and the call written out", %{dir: dir} do
      missing = Path.join(dir, "missing")

      assert {:error, %Error{operation: :mount, reason: :enoent, verb: :mount} = e} =
               Mount.mount("none", missing, "tmpfs", flags: [:nosuid], data: "size=1m")

      assert e.message ==
               ~s[mount("none", "#{missing}", "tmpfs", MS_NOSUID, "size=1m"): mount: ENOENT (No such file or directory)]

      assert {:error, %Error{operation: :mount, reason: :enodev} = e} =
               Mount.mount("none", dir, "nosuchfs")

      assert e.message =~ "nosuchfs"
    end

    test "create: true makes a placeholder for a device bind", %{dir: dir} do
      dev = mkdir!(dir, "dev")
      null = Path.join(dev, "null")
      refute File.exists?(null)
      assert Mount.bind("/dev/null", null, create: true) == :ok
      assert File.write(null, "discarded") == :ok
      assert File.read!(null) == ""
      assert mount_at(null) != nil

      assert {:error, %Error{operation: :create, reason: :enoent}} =
               Mount.bind("/dev/null", Path.join(dir, "nodir/null"), create: true)
    end
  end

  describe "bind/3 and remount/2" do
    test "bind with :ro ends read-only", %{dir: dir} do
      src = mkdir!(dir, "src")
      dst = mkdir!(dir, "dst")
      assert Mount.bind(src, dst, flags: [:ro]) == :ok
      assert "ro" in mount_at(dst).opts
      assert File.write(Path.join(dst, "f"), "x") == {:error, :erofs}
      assert File.write(Path.join(src, "f"), "x") == :ok
    end

    test "bind, then remount read-only", %{dir: dir} do
      src = mkdir!(dir, "src")
      dst = mkdir!(dir, "dst")
      assert Mount.bind(src, dst) == :ok
      assert File.write(Path.join(dst, "f"), "x") == :ok
      assert Mount.remount(dst, flags: [:bind, :ro]) == :ok
      assert "ro" in mount_at(dst).opts
      assert File.write(Path.join(dst, "g"), "x") == {:error, :erofs}
    end

    test "rec + ro makes the whole tree read-only", %{dir: dir} do
      src = mkdir!(dir, "src")
      sub = mkdir!(src, "sub")
      sh!("mount", ["-t", "tmpfs", "inner", sub])
      dst = mkdir!(dir, "dst")
      assert Mount.bind(src, dst, flags: [:rec, :ro]) == :ok
      assert "ro" in mount_at(Path.join(dst, "sub")).opts
      assert File.write(Path.join([dst, "sub", "f"]), "x") == {:error, :erofs}
    end

    test "a failed bind leaves nothing behind", %{dir: dir} do
      before = mountinfo()

      assert {:error, %Error{operation: :mount, reason: :enoent}} =
               Mount.bind(Path.join(dir, "nope"), mkdir!(dir, "dst"), flags: [:ro])

      assert mountinfo() == before
    end
  end

  describe "umount/2" do
    test "not a mount point is :einval, with the hint", %{dir: dir} do
      plain = mkdir!(dir, "plain")

      assert {:error, %Error{operation: :umount, reason: :einval} = e} = Mount.umount(plain)
      assert e.message =~ "not a mount point"
    end

    test "busy is :ebusy; :detach unmounts lazily", %{dir: dir} do
      t = mkdir!(dir, "busy")
      :ok = Mount.mount("tmpfs", t, "tmpfs")
      {:ok, file} = File.open(Path.join(t, "open"), [:write])

      assert {:error, %Error{operation: :umount, reason: :ebusy} = e} = Mount.umount(t)
      assert e.message =~ "target is busy"
      assert mount_at(t) != nil
      assert Mount.umount(t, flags: [:detach]) == :ok
      assert mount_at(t) == nil
      # The open file keeps working on the detached mount.
      assert IO.binwrite(file, "still here") == :ok
      File.close(file)
    end

    test "recursive: true unmounts a whole subtree", %{dir: dir} do
      t = mkdir!(dir, "tree")
      :ok = Mount.mount("tmpfs", t, "tmpfs")
      :ok = Mount.mount("tmpfs", mkdir!(t, "a"), "tmpfs")
      :ok = Mount.mount("tmpfs", mkdir!(Path.join(t, "a"), "b"), "tmpfs")
      assert Mount.umount(t, recursive: true) == :ok
      assert Enum.filter(mountinfo(), &String.starts_with?(&1.mount_point, t)) == []
    end
  end

  describe "move/3" do
    test "moves a mount", %{dir: dir} do
      a = mkdir!(dir, "a")
      b = mkdir!(dir, "b")
      :ok = Mount.mount("tmpfs", a, "tmpfs")
      File.write!(Path.join(a, "m"), "moved")
      assert Mount.move(a, b) == :ok
      assert mount_at(a) == nil
      assert File.read!(Path.join(b, "m")) == "moved"

      assert {:error, %Error{operation: :mount, reason: :einval}} = Mount.move(a, b)
    end
  end

  describe "pivot_root/3 in our own namespace" do
    test "a new_root that is no mount point is :einval, naming the precondition", %{dir: dir} do
      r = mkdir!(dir, "rootfs")
      mkdir!(r, "old")
      cwd = File.cwd!()

      assert {:error, %Error{operation: :pivot_root, reason: :einval} = e} =
               Mount.pivot_root(r, "old")

      assert e.message =~ "not a mount point"
      assert File.cwd!() == cwd
    end
  end
end
