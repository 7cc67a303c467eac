# Privileged cases need CAP_SYS_ADMIN (+ CAP_SYS_CHROOT for setns) and must
# never touch the host's mount table. The BEAM cannot leave its own mount
# namespace (it is multithreaded, and its threads must never setns anyway),
# so the whole suite runs inside a private one:
#   - under Bazel, test/exunit_test.sh starts `mix test` under
#     `unshare --mount --propagation private` and sets LINX_TEST_ISOLATED=1;
#   - a plain `mix test` with the capability re-runs itself the same way here.
# Every directory a test makes lives on a scratch tmpfs mounted inside that
# namespace; the namespace, and every mount in it, dies with the BEAM.
alias Linx.TestSupport.Env

case Env.setup() do
  {:reexec, args} ->
    {_, status} =
      System.cmd(
        "unshare",
        [
          "--mount",
          "--propagation",
          "private",
          "--",
          System.find_executable("mix"),
          "test" | args
        ],
        env: [{"LINX_TEST_ISOLATED", "1"}],
        into: IO.stream(:stdio, :line),
        stderr_to_stdout: true
      )

    System.halt(status)

  :privileged ->
    ExUnit.start()

  {:unprivileged, reason} ->
    if System.get_env("LINX_REQUIRE_PRIVILEGED") == "1" do
      # The privileged cases run and fail with the reason (Linx.Case).
      IO.puts("LINX_REQUIRE_PRIVILEGED=1 and no privilege: #{reason}")
      ExUnit.start()
    else
      IO.puts("Skipping the privileged cases: #{reason}")
      ExUnit.start(exclude: [:privileged])
    end
end
