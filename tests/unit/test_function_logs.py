"""Function output goes to the current stack's log file; everything else stays on the terminal."""

from __future__ import annotations

import sys
import threading

from infra.local import function_logs


def test_output_inside_a_function_goes_to_the_log_and_a_second_stack_gets_its_own(tmp_path, capsys):
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    function_logs.install(first)
    stream = sys.stdout  # what a logger created now would keep
    try:
        with function_logs.function_output():
            print("from a function")
        print("from the CLI")
        function_logs.uninstall()
        function_logs.install(second)

        def later_invocation() -> None:
            with function_logs.function_output():
                stream.write("from a function of the second stack\n")

        worker = threading.Thread(target=later_invocation)
        worker.start()
        worker.join()
    finally:
        function_logs.uninstall()
    assert first.read_text() == "from a function\n"
    assert second.read_text() == "from a function of the second stack\n"
    assert "from the CLI" in capsys.readouterr().out
