"""Unit tests of the verification driver's pure parts (verify.py), on the host's Python 3.

    python3 -m unittest discover -s host-agent/sandbox -p 'test_verify.py'

(host-agent/src/sandbox/verify-driver.test.ts runs them as part of `npm test`.) What the driver
does in the sandbox is tested against the real image by docker-verify.test.ts.
"""

import json
import os
import tempfile
import unittest

import verify

PYTEST_JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="4">
<testcase classname="tests.test_app" name="test_ok" time="0.001"/>
<testcase classname="tests.test_app" name="test_bad" time="0.001">
  <failure message="assert 2 == 3&#10; +  where 2 = add(1, 1)">long traceback</failure></testcase>
<testcase classname="tests.test_app.TestX" name="test_err" time="0.001">
  <error message="">ValueError: from the body</error></testcase>
<testcase classname="tests.test_app" name="test_later" time="0.000">
  <skipped type="pytest.skip" message="later">skipped</skipped></testcase>
</testsuite></testsuites>
"""

NODE_JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testcase name="adds" time="0.001" classname="test" file="/workspace/a.test.js"/>
  <testcase name="fails" time="0.001" classname="test" file="/workspace/a.test.js" failure="x">
    <failure type="testCodeFailure" message="Expected values to be strictly equal:&#10;&#10;2 !== 3">stack</failure>
  </testcase>
  <testcase name="todo one" time="0" classname="test" file="/workspace/a.test.js"><skipped type="todo" message="true"/></testcase>
  <testsuite name="group" tests="1" failures="1">
    <testcase name="inner" time="0" classname="group" file="/workspace/sub/b.test.ts">
      <failure type="testCodeFailure" message="boom"/></testcase>
  </testsuite>
  <!-- tests 4 -->
</testsuites>
"""


def junit_file(text):
    handle = tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False, encoding="utf-8")
    handle.write(text)
    handle.close()
    return handle.name


class ParseJunitTest(unittest.TestCase):
    def parse(self, text, max_failures=20):
        path = junit_file(text)
        try:
            return verify.parse_junit(path, max_failures)
        finally:
            os.unlink(path)

    def test_pytest_counts_failures_and_errors_as_failed_with_their_messages(self):
        counts, failures = self.parse(PYTEST_JUNIT)
        self.assertEqual(counts, {"passed": 1, "failed": 2, "skipped": 1})
        self.assertEqual(
            failures,
            [
                {"name": "tests.test_app.test_bad", "message": "assert 2 == 3\n +  where 2 = add(1, 1)"},
                {"name": "tests.test_app.TestX.test_err", "message": "ValueError: from the body"},
            ],
        )

    def test_node_names_the_file_and_suite_and_counts_todo_as_skipped(self):
        counts, failures = self.parse(NODE_JUNIT)
        self.assertEqual(counts, {"passed": 1, "failed": 2, "skipped": 1})
        self.assertEqual(
            [failure["name"] for failure in failures], ["a.test.js > fails", "sub/b.test.ts > group > inner"]
        )
        self.assertEqual(failures[0]["message"], "Expected values to be strictly equal:\n\n2 !== 3")

    def test_keeps_at_most_max_failures_but_counts_them_all(self):
        counts, failures = self.parse(PYTEST_JUNIT, max_failures=1)
        self.assertEqual(counts["failed"], 2)
        self.assertEqual(len(failures), 1)

    def test_a_missing_or_malformed_report_is_none(self):
        self.assertIsNone(verify.parse_junit("/nonexistent/junit.xml", 20))
        self.assertIsNone(self.parse("<testsuites><testcase"))


class BoundsTest(unittest.TestCase):
    def test_lengths_are_counted_as_javascript_does(self):
        self.assertEqual(verify.js_length("a😀"), 3)
        self.assertEqual(verify.head("😀😀", 3), "😀")
        self.assertEqual(verify.tail("ab😀", 2), "😀")
        self.assertEqual(verify.cut("abcdef", 4), "abc…")
        self.assertEqual(verify.cut("abc", 4), "abc")

    def test_output_tail_keeps_the_end_and_says_the_start_was_dropped(self):
        output = verify.OutputTail(100)
        for i in range(1000):
            output.push(("line %d é\n" % i).encode())
        text = output.text()
        self.assertLessEqual(verify.js_length(text), 100)
        self.assertTrue(text.startswith("[... earlier output not kept]\n"))
        self.assertTrue(text.endswith("line 999 é\n"))
        self.assertLessEqual(len(output.buffer), 400)

    def test_output_tail_keeps_short_output_whole(self):
        output = verify.OutputTail(100)
        output.push(b"short\n")
        output.note("[atomic-verify] a note")
        self.assertEqual(output.text(), "short\n[atomic-verify] a note\n")

    def test_bound_report_trims_messages_then_failures_then_output(self):
        report = {
            "passed": False,
            "steps": [{"name": "test", "output": "o" * 4000}],
            "failures": [{"name": "t%d" % i, "message": "é" * 1000} for i in range(20)],
        }
        bounded = verify.bound_report(json.loads(json.dumps(report)), 6000)
        self.assertLessEqual(verify.encoded_size(bounded), 6000)
        self.assertEqual(bounded["steps"][0]["output"], "o" * 4000)
        self.assertTrue(all(len(f["message"]) <= 80 for f in bounded["failures"]))

        tiny = verify.bound_report(json.loads(json.dumps(report)), 1000)
        self.assertLessEqual(verify.encoded_size(tiny), 1000)
        self.assertEqual(tiny["failures"], [])
        self.assertTrue(tiny["steps"][0]["output"])


class SettingsTest(unittest.TestCase):
    def test_defaults_fill_what_the_host_leaves_out(self):
        settings = verify.parse_settings('{"language": "python", "timeout_seconds": 12}')
        self.assertEqual(settings["timeout_seconds"], 12)
        self.assertEqual(settings["output_max_chars"], 4096)
        self.assertEqual(settings["report_max_bytes"], 48 * 1024)

    def test_refuses_an_unknown_language_or_a_bad_bound(self):
        with self.assertRaises(ValueError):
            verify.parse_settings('{"language": "cobol"}')
        with self.assertRaises(ValueError):
            verify.parse_settings('{"language": "python", "timeout_seconds": -1}')
        with self.assertRaises(ValueError):
            verify.parse_settings("[]")

    def test_a_settings_error_is_still_one_report(self):
        report = verify.failed_report("bad settings", 0.0)
        self.assertEqual(report["passed"], False)
        self.assertEqual(report["skipped_reason"], "bad settings")


class ListedTest(unittest.TestCase):
    def test_lists_paths_and_counts_those_that_do_not_fit(self):
        self.assertEqual(verify.listed("py", ["a.py", "-b.py"]), "py a.py ./-b.py")
        long = verify.listed("py", ["x" * 100 + ".py"] * 100, max_chars=1000)
        self.assertLessEqual(len(long), 1000)
        self.assertRegex(long, r" … \(\+\d+ more\)$")


class SweepTest(unittest.TestCase):
    def test_never_sweeps_on_a_host(self):
        # As root, or with a parent other than the container's init, kill(-1) is never used.
        self.assertFalse(verify.may_sweep() and (os.getuid() == 0 or os.getppid() != 1))


if __name__ == "__main__":
    unittest.main()
