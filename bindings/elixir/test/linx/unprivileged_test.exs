defmodule Linx.UnprivilegedTest do
  # Everything that needs no privilege: these never skip.
  use Linx.Case, async: true
  import Bitwise

  describe "Native" do
    test "version/0 is linx's version as a charlist, the Mix project's version" do
      version = Native.version()
      assert is_list(version)
      assert List.to_string(version) == Mix.Project.config()[:version]
      assert List.to_string(version) =~ ~r/^\d+\.\d+\.\d+$/
    end

    test "every NIF call runs on a dirty I/O scheduler" do
      assert Native.thread_type() == :dirty_io
      # And the module registered all its functions that way: the loaded
      # NIF reports its functions through the module's exports.
      assert function_exported?(Native, :mount, 8)
      assert function_exported?(Native, :umount, 3)
      assert function_exported?(Native, :pivot_root, 3)
    end

    test "the flag tables are linx's own (21 MS_* words + nosymfollow, 4 umount words)" do
      {mount, umount} = Native.flag_table()
      assert Enum.sort(mount) == Enum.sort(Mount.mount_flags())
      assert Enum.sort(umount) == Enum.sort(Mount.umount_flags())
      assert length(Mount.mount_flags()) == 22
      assert length(Mount.umount_flags()) == 4
      # The kernel's values for a few, from <sys/mount.h>.
      assert Mount.mount_flags()[:ro] == 1
      assert Mount.mount_flags()[:bind] == 4096
      assert Mount.mount_flags()[:rec] == 16384
      assert Mount.mount_flags()[:private] == 1 <<< 18
      assert Mount.umount_flags()[:detach] == 2
    end

    test "a term of the wrong type raises ArgumentError" do
      assert_raise ArgumentError, fn -> Native.mount(:x, "/t", "", 0, "", "", "", 0) end
      assert_raise ArgumentError, fn -> Native.mount("", "/t", "", -1, "", "", "", 0) end
      assert_raise ArgumentError, fn -> Native.umount("/t", :detach, "") end
      assert_raise ArgumentError, fn -> Native.pivot_root("/a", 42, "") end
    end

    test "argument errors come back before any syscall" do
      # A NUL byte would cut a C string: refused.
      assert Native.mount("", "/mnt\0x", "tmpfs", 0, "", "", "", 0) ==
               {:error, {:bad_argument, :einval}}

      # An empty target.
      assert Native.umount("", 0, "") == {:error, {:bad_argument, :einval}}
      # A bit linx does not know (MS_NOSYMFOLLOW).
      assert Native.mount("none", "/mnt", "tmpfs", 512, "", "", "", 0) ==
               {:error, {:bad_flag, :einval}}

      assert Native.umount("/mnt", 0x100, "") == {:error, {:bad_flag, :einval}}
      # A relative namespace path, or a pidns_path without an ns_path.
      assert Native.umount("/mnt", 0, "proc/1/ns/mnt") == {:error, {:bad_in, :einval}}

      assert Native.mount("proc", "/p", "proc", 0, "", "", "/proc/1/ns/pid", 0) ==
               {:error, {:bad_in, :einval}}

      # create_target makes no sense with a move.
      assert Native.mount("/a", "/b", "", 0x2000, "", "", "", 1) ==
               {:error, {:bad_argument, :einval}}
    end

    test "a namespace file that does not exist fails at open_ns with :enoent" do
      assert Native.umount("/mnt", 0, "/nonexistent/ns/mnt") == {:error, {:open_ns, :enoent}}
    end
  end

  describe "bad flags" do
    test "an unknown word is {:bad_flag, word}" do
      assert Mount.mount("none", "/mnt", "tmpfs", flags: [:nosuid, :rw]) ==
               {:error, {:bad_flag, :rw}}

      assert Mount.bind("/a", "/b", flags: [:ro, :readonly]) == {:error, {:bad_flag, :readonly}}
      assert Mount.remount("/b", flags: [:nodev, :bogus]) == {:error, {:bad_flag, :bogus}}
      # Mount flags are not umount flags and vice versa.
      assert Mount.umount("/b", flags: [:ro]) == {:error, {:bad_flag, :ro}}

      assert Mount.mount("none", "/mnt", "tmpfs", flags: [:detach]) ==
               {:error, {:bad_flag, :detach}}
    end

    test "a non-atom is a bad flag too" do
      assert Mount.mount("none", "/mnt", "tmpfs", flags: ["ro"]) == {:error, {:bad_flag, "ro"}}
      assert Mount.umount("/b", flags: :detach) == {:error, {:bad_flag, :detach}}
      assert Mount.bind("/a", "/b", flags: [:ro | :rec]) == {:error, {:bad_flag, :rec}}
    end

    test "combinations the kernel would misread name a flag" do
      assert Mount.mount("", "/mnt", "", flags: [:private, :shared]) ==
               {:error, {:bad_flag, :shared}}

      assert Mount.mount("/a", "/b", "", flags: [:move, :ro]) == {:error, {:bad_flag, :ro}}
      assert Mount.bind("/a", "/b", flags: [:sync]) == {:error, {:bad_flag, :sync}}
      assert {:error, {:bad_flag, flag}} = Mount.umount("/b", flags: [:expire, :detach])
      assert flag in [:expire, :detach]
    end

    test "are checked before :in is opened" do
      assert Mount.mount("none", "/mnt", "tmpfs", flags: [:rw], in: {:pid, dead_pid()}) ==
               {:error, {:bad_flag, :rw}}
    end
  end

  describe "bad :in" do
    test "anything but :self, {:pid, n}, {:path, p} and linx's handles" do
      for bad <- [
            :foo,
            {:pid, 0},
            {:pid, -1},
            {:pid, "1"},
            {:pid, 1 <<< 40},
            {:path, "rel/ns"},
            {:path, 42},
            {:path, ""},
            {:path, "/a\0b"},
            {:pidfd, -1},
            {:pids, 1},
            "self",
            %{pid: 1}
          ] do
        assert Mount.mount("none", "/mnt", "tmpfs", in: bad) == {:error, {:bad_in, bad}}
        assert Mount.umount("/mnt", in: bad) == {:error, {:bad_in, bad}}
        assert Mount.pivot_root("/a", "/a/old", in: bad) == {:error, {:bad_in, bad}}
      end
    end

    test "a pid that does not exist fails at open_ns with :enoent" do
      assert {:error, %Error{operation: :open_ns, reason: :enoent} = e} =
               Mount.mount("none", "/mnt", "tmpfs", in: {:pid, dead_pid()})

      assert Exception.message(e) =~ "open_ns"
    end
  end

  describe "other bad arguments" do
    test "are errors, never crashes" do
      assert {:error, %Error{operation: :bad_argument, reason: :einval}} =
               Mount.mount("none", :target, "tmpfs")

      assert {:error, %Error{operation: :bad_argument}} = Mount.mount("none", "", "tmpfs")
      assert {:error, %Error{operation: :bad_argument}} = Mount.umount("/x", flags: [], bogus: 1)
      assert {:error, %Error{operation: :bad_argument}} = Mount.umount("/x", :notalist)
      assert {:error, %Error{operation: :bad_argument}} = Mount.umount("/x", recursive: 1)
      assert {:error, %Error{operation: :bad_argument}} = Mount.bind("/a", "/b", create: "yes")

      assert {:error, %Error{operation: :bad_argument, value: "target"}} =
               Mount.umount(String.duplicate("a", 5000))

      assert {:error, %Error{operation: :bad_argument}} =
               Mount.mount("none", "relative/t", "tmpfs", in: {:path, "/proc/self/ns/mnt"})
    end

    test "batch/2 checks every step before running any" do
      assert {:error, %Error{operation: :bad_argument, step: 2}} =
               Mount.batch([{:umount, "/a"}, {:frobnicate, "/b"}])

      assert {:error, {:bad_flag, :nope}} =
               Mount.batch([{:umount, "/a"}, {:bind, "/a", "/b", flags: [:nope]}])

      assert {:error, %Error{operation: :bad_argument, step: 1}} =
               Mount.batch([{:umount, "/a", in: {:pid, 1}}])
    end
  end

  describe "list" do
    test "list/0 is this node's table, as the kernel writes it" do
      assert {:ok, entries} = Mount.list()
      kernel = mountinfo()
      assert length(entries) == length(kernel)

      for {e, k} <- Enum.zip(entries, kernel) do
        assert %Entry{} = e
        assert e.id == k.id
        assert e.parent_id == k.parent
        assert e.mount_point == k.mount_point
        assert e.root == k.root
        assert e.fstype == k.fstype
        assert e.source == k.source
        assert e.super_options == k.super
        assert String.split(e.mount_options, ",") == k.opts
        assert e.optional_fields == k.optional
        assert is_integer(e.major) and is_integer(e.minor)
        assert is_boolean(e.unbindable)
        assert e.shared == shared_group(k.optional)
      end
    end

    test "list({:pid, n}) and list({:path, p}) read without setns" do
      assert {:ok, mine} = Mount.list({:pid, String.to_integer(System.pid())})
      assert Enum.map(mine, & &1.mount_point) == Enum.map(mountinfo(), & &1.mount_point)
      assert {:ok, same} = Mount.list({:path, "/proc/self/mountinfo"})
      assert Enum.map(same, & &1.id) == Enum.map(mine, & &1.id)
    end

    test "a dead pid gives {:error, :enoent}; bad targets {:error, :einval}" do
      assert Mount.list({:pid, dead_pid()}) == {:error, :enoent}
      assert Mount.list({:path, "/nonexistent/mountinfo"}) == {:error, :enoent}
      assert Mount.list({:pid, 0}) == {:error, :einval}
      assert Mount.list({:pid, -5}) == {:error, :einval}
      assert Mount.list(:bogus) == {:error, :einval}
      assert Mount.list({:path, 7}) == {:error, :einval}
    end
  end

  describe "Linx.Mount.Error" do
    test "is an exception whose message is the call written out" do
      e = %Error{
        operation: :umount,
        reason: :einval,
        message: "umount2(\"/x\", 0): umount: EINVAL"
      }

      assert Exception.exception?(e)
      assert Exception.message(e) == "umount2(\"/x\", 0): umount: EINVAL"
      assert_raise Error, ~r/umount2/, fn -> raise e end
    end
  end

  defp shared_group(optional) do
    Enum.find_value(optional, fn
      "shared:" <> n -> String.to_integer(n)
      _ -> nil
    end)
  end
end
