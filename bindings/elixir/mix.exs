defmodule Mix.Tasks.Compile.LinxMount do
  @moduledoc """
  The `:linx_mount` compiler: puts the NIF at `priv/linx_mount.so`, offline.

  - With `LINX_MOUNT_NIF=/path/to/linx_mount.so` in the environment it copies
    that file (the Bazel test does this, so Bazel is never called from inside
    Bazel).
  - Otherwise it runs `tools/bazel build //bindings/elixir:linx_mount_nif` at
    the root of the linx checkout this project lives in, and copies the result.
    Bazel is only started when the `.so` is missing or a C++ source of linx is
    newer than it. `tools/bazel` installs the Debian packages it needs first;
    nothing is downloaded from anywhere else.
  """
  use Mix.Task.Compiler

  @so "linx_mount.so"
  # The linx packages the NIF is built from: a newer file in any of them means
  # the NIF is stale.
  @sources ~w(base mount mountinfo nsexec bindings/elixir/c_src)

  @impl true
  def run(_args) do
    priv = Path.join(File.cwd!(), "priv")
    File.mkdir_p!(priv)
    dest = Path.join(priv, @so)

    case System.get_env("LINX_MOUNT_NIF", "") do
      "" -> from_bazel(dest)
      prebuilt -> copy(Path.expand(prebuilt), dest)
    end
  end

  @impl true
  def clean, do: File.rm(Path.join([File.cwd!(), "priv", @so]))

  defp copy(src, dest) do
    cond do
      not File.regular?(src) ->
        error("LINX_MOUNT_NIF=#{src}: no such file")

      File.exists?(dest) and File.read!(src) == File.read!(dest) ->
        {:noop, []}

      true ->
        # Replace, never overwrite in place: a running BEAM may have the old
        # file mapped.
        tmp = dest <> ".tmp"
        File.cp!(src, tmp)
        File.rename!(tmp, dest)
        {:ok, []}
    end
  end

  defp from_bazel(dest) do
    root = Path.expand("../..", __DIR__)
    bazel = Path.join(root, "tools/bazel")

    cond do
      not File.exists?(bazel) ->
        error("no #{bazel}: build the NIF elsewhere and set LINX_MOUNT_NIF")

      File.exists?(dest) and not stale?(root, dest) ->
        {:noop, []}

      true ->
        Mix.shell().info("Building the NIF: tools/bazel build //bindings/elixir:linx_mount_nif")

        with {out, status} <-
               System.cmd(bazel, ["build", "//bindings/elixir:linx_mount_nif"],
                 cd: root,
                 stderr_to_stdout: true
               ),
             :ok <- show(out),
             0 <- status,
             {bin, 0} <- System.cmd(bazel, ["info", "bazel-bin"], cd: root) do
          built = Path.join([String.trim(bin), "bindings/elixir", @so])
          File.rm(dest)
          copy(built, dest)
        else
          {_, status} -> error("tools/bazel info failed with exit status #{status}")
          status -> error("tools/bazel build failed with exit status #{status}")
        end
    end
  end

  # Bazel's output without Debian linux-sandbox's debug lines.
  defp show(out) do
    out
    |> String.split("\n")
    |> Enum.reject(&String.contains?(&1, "src/main/tools/linux-sandbox"))
    |> Enum.join("\n")
    |> IO.write()
  end

  defp stale?(root, dest) do
    %File.Stat{mtime: built} = File.stat!(dest, time: :posix)

    Enum.any?(@sources, fn dir ->
      Path.wildcard(Path.join([root, dir, "**", "*.{h,cc,c,lds}"]))
      |> Enum.any?(fn f -> File.stat!(f, time: :posix).mtime > built end)
    end)
  end

  defp error(message) do
    Mix.shell().error("linx_mount: " <> message)

    {:error,
     [
       %Mix.Task.Compiler.Diagnostic{
         compiler_name: "linx_mount",
         file: "mix.exs",
         message: message,
         position: nil,
         severity: :error
       }
     ]}
  end
end

defmodule Linx.MixProject do
  use Mix.Project

  def project do
    [
      app: :linx,
      version: linx_version(),
      elixir: "~> 1.14",
      compilers: [:linx_mount] ++ Mix.compilers(),
      elixirc_paths: elixirc_paths(Mix.env()),
      start_permanent: false,
      # No dependencies at all: nothing comes from Hex.
      deps: []
    ]
  end

  def application, do: [extra_applications: []]

  # version.bzl is the one place linx's version is written.
  defp linx_version do
    with {:ok, text} <- File.read(Path.expand("../../version.bzl", __DIR__)),
         [_, v] <- Regex.run(~r/LINX_VERSION = "([^"]+)"/, text) do
      v
    else
      _ -> "0.0.0"
    end
  end

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]
end
