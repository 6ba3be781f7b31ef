"""The sandbox's verification driver: checks and tests the program in /workspace, prints one report.

The image holds it at /usr/local/lib/atomic/verify.py; a `sandbox.verify` job runs it as the
command of a sandbox run (cwd /workspace, uid 10001, read-only root, no network, /workspace and
/tmp on noexec tmpfs). Python 3 standard library only.

    python3 /usr/local/lib/atomic/verify.py '{"language": "python", "timeout_seconds": 30}'

Settings (one JSON object, the only argument):
    language            python | javascript | typescript
    test_command        optional: replaces the test step (`sh -c`, in /workspace)
    timeout_seconds     the run's wall-clock limit; every step ends before it (default 30)
    output_max_chars, max_failures, failure_message_max_chars, report_max_bytes
                        bounds of the report (defaults: the contract's LIMITS; the host passes them)

What it runs:
    python       typecheck: python3 -m py_compile <every .py file> (a syntax check; it stops at the
                 first file that does not compile); test: python3 -m pytest -q -p no:cacheprovider
                 --junitxml=/tmp/atomic-junit.xml
    javascript   typecheck: node --check, on each .js/.mjs/.cjs file; test: node --test with the
                 spec reporter on stdout and the junit reporter into /tmp/atomic-junit.xml, and
                 --test-concurrency bounded by the container's CPU, process and memory limits
    typescript   typecheck: tsc --noEmit -p <tsconfig> (the program's tsconfig.json, else a default
                 one written to /tmp/atomic-tsconfig.json, and then, if the program has no
                 package.json either, /workspace/package.json {"type": "module"}, so that tsc
                 takes the .ts files for ES modules as Node does); test: as for javascript (Node
                 strips the types of *.test.ts files itself)
    test_command replaces the test step; it gets ATOMIC_JUNIT_PATH=/tmp/atomic-junit.xml, and the
                 counts come from that file when the command writes it.

The tests run even when the type check fails (their failures help a repair), but the report then
does not pass. Counts and failures come from the JUnit XML only, never from scraping the output.

It prints exactly one JSON document on stdout, the contract's VerifyReport, on a line of its own
at the very end (after a newline), at most `report_max_bytes` long in UTF-8. Children never share
its stdout: each step gets a pipe, whose end is kept in a bounded buffer. After each step every
other process of the container is killed (kill(-1), which spares only this process and the
container's init), so nothing a test started can write after the report or outlive its step; and
the driver makes itself non-dumpable, so a test cannot ptrace it or reach it through /proc. A
test can still kill the driver: the host then believes nothing of the run's stdout (it takes the
report only from a driver that exited 0).
"""

import json
import os
import select
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree

WORKSPACE = "/workspace"
JUNIT_PATH = "/tmp/atomic-junit.xml"
DEFAULT_TSCONFIG_PATH = "/tmp/atomic-tsconfig.json"

# The contract's bounds (shared/src/limits.ts and shared/src/protocol/verification.ts); the host
# passes the LIMITS values in the settings, these are for running the driver by hand.
DEFAULTS = {
    "timeout_seconds": 30.0,
    "output_max_chars": 4096,
    "max_failures": 20,
    "failure_message_max_chars": 1000,
    # The sandbox keeps 64 KiB of stdout; the report stays well inside it.
    "report_max_bytes": 48 * 1024,
}
NAME_MAX_CHARS = 256
COMMAND_MAX_CHARS = 4096
REASON_MAX_CHARS = 1024

# Folders never searched for the program's own files (nor are hidden ones: .git, .venv, ...).
SKIPPED_DIRS = {"node_modules", "__pycache__"}

# What `node --test` runs when given no files (Node 24): these globs, node_modules excluded, and
# the same with .ts/.mts/.cts because Node strips types by default.
NODE_TEST_PATTERNS = (
    "**/*.test.{js,mjs,cjs}, **/*-test.*, **/*_test.*, **/test-*.*, **/test.*, **/test/**/*.* "
    "(also .ts, .mts, .cts)"
)

DEFAULT_TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "target": "es2022",
        "module": "nodenext",
        "moduleResolution": "nodenext",
        "allowImportingTsExtensions": True,
        # Node runs .ts files by erasing their types: enums, namespaces and parameter properties
        # would type-check and then fail at run time.
        "erasableSyntaxOnly": True,
        "noEmit": True,
        "types": ["node"],
        "skipLibCheck": True,
    },
    "include": [WORKSPACE + "/**/*"],
    "exclude": [WORKSPACE + "/node_modules"],
}

# Written to /workspace when a TypeScript program brings neither a tsconfig.json nor a package.json.
DEFAULT_PACKAGE_JSON = '{"type": "module"}\n'

# After a step's process has exited, how long a grandchild may keep its output pipe open.
LINGER_SECONDS = 0.5


# --------------------------------------------------------------------------------------------
# Text bounds. The host checks lengths as JavaScript counts them (UTF-16 code units).


def js_length(text):
    """Length of `text` in UTF-16 code units, as JavaScript's `.length` counts it."""
    return len(text.encode("utf-16-le")) // 2


def head(text, max_units):
    """The longest start of `text` of at most `max_units` UTF-16 units."""
    if js_length(text) <= max_units:
        return text
    out, used = [], 0
    for char in text:
        units = 2 if ord(char) > 0xFFFF else 1
        if used + units > max_units:
            break
        out.append(char)
        used += units
    return "".join(out)


def tail(text, max_units):
    """The longest end of `text` of at most `max_units` UTF-16 units."""
    return head(text[::-1], max_units)[::-1]


def cut(text, max_units, marker="…"):
    """`text` cut to `max_units`, ending in `marker` when cut."""
    if js_length(text) <= max_units:
        return text
    return head(text, max_units - js_length(marker)) + marker


class OutputTail:
    """Keeps the last bytes of a stream (a bounded buffer) and counts the rest."""

    def __init__(self, max_chars):
        self.max_chars = max_chars
        # A character takes at most 4 bytes in UTF-8.
        self.limit = max_chars * 4
        self.buffer = bytearray()
        self.total = 0

    def push(self, data):
        self.total += len(data)
        self.buffer += data
        excess = len(self.buffer) - self.limit
        if excess > 0:
            del self.buffer[:excess]

    def note(self, line):
        self.push(("\n" if self.buffer and not self.buffer.endswith(b"\n") else "").encode() + line.encode() + b"\n")

    def text(self):
        text = bytes(self.buffer).decode("utf-8", errors="replace")
        dropped = self.total - len(self.buffer)
        if dropped == 0 and js_length(text) <= self.max_chars:
            return text
        if dropped > 0:
            # The cut may have split the first character.
            text = text.lstrip("\ufffd")
        prefix = "[... earlier output not kept]\n"
        return prefix + tail(text, self.max_chars - js_length(prefix))


# --------------------------------------------------------------------------------------------
# Processes


def child_env(extra=None):
    env = dict(os.environ)
    env.update(
        {
            "HOME": env.get("HOME", WORKSPACE),
            # (py_compile writes byte code all the same, into /workspace/__pycache__. Not
            # PYTHONPYCACHEPREFIX: it would hide the image's byte code of the standard library and
            # pytest, and every run would compile them again.)
            "PYTHONDONTWRITEBYTECODE": "1",
            "NODE_DISABLE_COMPILE_CACHE": "1",
            "NO_COLOR": "1",
        }
    )
    env.pop("PYTHONPYCACHEPREFIX", None)
    env.pop("FORCE_COLOR", None)
    env.pop("NODE_COMPILE_CACHE", None)
    env.pop("NODE_OPTIONS", None)
    if extra:
        env.update(extra)
    return env


def may_sweep():
    """Whether killing every other process is safe: only as the sandbox's driver, never on a host.

    In the sandbox the driver is not root and its parent is the container's init (PID 1 of the
    container's PID namespace); kill(-1) then reaches exactly the processes of this run.
    """
    if os.environ.get("ATOMIC_VERIFY_NO_SWEEP") == "1":
        return False
    return os.getuid() != 0 and os.getppid() == 1


def sweep():
    """Kills every process this one may signal except itself and init: whatever a step left behind."""
    if may_sweep():
        try:
            os.kill(-1, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return "signal %d" % number


def run_command(argv, output, deadline, env):
    """Runs one command with its output into `output`; returns (exit code, timed_out).

    The command gets its own process group, no stdin and a pipe for stdout and stderr together;
    the process group is killed at `deadline`.
    """
    try:
        proc = subprocess.Popen(
            argv,
            cwd=WORKSPACE,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            close_fds=True,
            start_new_session=True,
        )
    except OSError as error:
        output.note("[atomic-verify] could not start %s: %s" % (argv[0], error))
        return 127, False
    fd = proc.stdout.fileno()
    timed_out = False
    exited_at = None
    try:
        while True:
            now = time.monotonic()
            if now >= deadline:
                timed_out = proc.poll() is None
                break
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            if exited_at is not None and now - exited_at > LINGER_SECONDS:
                break  # a grandchild holds the pipe open; the sweep below ends it
            ready, _, _ = select.select([fd], [], [], min(deadline - now, 0.1))
            if ready:
                data = os.read(fd, 65536)
                if not data:
                    break
                output.push(data)
    finally:
        if proc.poll() is None:
            kill_group(proc)
        sweep()
        drain(fd, output, time.monotonic() + 0.5)
        proc.stdout.close()
        code = proc.wait()
    if timed_out:
        output.note("[atomic-verify] killed: the step's deadline passed")
        return None, True
    if code < 0:
        # As a shell reports it: 128 + the signal's number.
        output.note("[atomic-verify] the command was killed by %s" % signal_name(-code))
        return 128 - code, False
    return code, False


def drain(fd, output, until):
    """Reads what is left in the pipe once its writers are gone (or until `until`)."""
    while time.monotonic() < until:
        ready, _, _ = select.select([fd], [], [], max(0.0, until - time.monotonic()))
        if not ready:
            return
        data = os.read(fd, 65536)
        if not data:
            return
        output.push(data)


class Step:
    def __init__(self, name, command, settings):
        self.name = name
        self.command = command
        self.output = OutputTail(settings["output_max_chars"])
        self.exit_code = None
        self.timed_out = False
        self.duration_ms = 0.0

    def run(self, commands, deadline, env=None):
        """Runs `commands` one after another (all of them, even after a failure) until `deadline`."""
        started = time.monotonic()
        env = env or child_env()
        first_failure = None
        for argv in commands:
            code, timed_out = run_command(argv, self.output, deadline, env)
            if timed_out:
                self.timed_out = True
                break
            if code != 0 and first_failure is None:
                first_failure = code
        self.exit_code = None if self.timed_out else (first_failure or 0)
        self.duration_ms = round((time.monotonic() - started) * 1000, 1)
        return self

    @property
    def ok(self):
        return not self.timed_out and self.exit_code == 0

    def as_json(self, settings):
        return {
            "name": self.name,
            "command": cut(self.command, COMMAND_MAX_CHARS),
            "exit_code": self.exit_code,
            "timed_out": self.timed_out,
            "duration_ms": self.duration_ms,
            "output": tail(self.output.text(), settings["output_max_chars"]),
        }


# --------------------------------------------------------------------------------------------
# The program's files


def program_files(extensions):
    """Paths under /workspace (relative, sorted) ending in one of `extensions`."""
    found = []
    for root, dirs, files in os.walk(WORKSPACE):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        for name in files:
            if name.endswith(extensions):
                found.append(os.path.relpath(os.path.join(root, name), WORKSPACE))
    return sorted(found)


def as_argument(path):
    """A path as a command-line argument that no option parser takes for an option."""
    return "./" + path if path.startswith("-") else path


def listed(prefix, paths, max_chars=COMMAND_MAX_CHARS):
    """`prefix` followed by as many paths as fit, then how many more there are."""
    shown = prefix
    for index, path in enumerate(paths):
        rest = len(paths) - index
        piece = " " + as_argument(path)
        if js_length(shown + piece) + 32 > max_chars:
            return shown + " … (+%d more)" % rest
        shown += piece
    return shown


# --------------------------------------------------------------------------------------------
# The steps of each language


def typecheck_step(language, settings):
    """(step, commands) of the type check, or None when there is nothing to check."""
    if language == "python":
        files = program_files((".py",))
        if not files:
            return None
        argv = ["python3", "-m", "py_compile"] + [as_argument(path) for path in files]
        return Step("typecheck", listed("python3 -m py_compile", files), settings), [argv]
    if language == "javascript":
        files = program_files((".js", ".mjs", ".cjs"))
        if not files:
            return None
        commands = [["node", "--check", as_argument(path)] for path in files]
        return Step("typecheck", listed("node --check, on each of:", files), settings), commands
    # typescript
    notes = []
    if os.path.isfile(os.path.join(WORKSPACE, "tsconfig.json")):
        project = "tsconfig.json"
    else:
        with open(DEFAULT_TSCONFIG_PATH, "w", encoding="utf-8") as handle:
            json.dump(DEFAULT_TSCONFIG, handle, indent=2)
        project = DEFAULT_TSCONFIG_PATH
        notes.append(
            "the program has no tsconfig.json; the default: %s"
            % json.dumps(DEFAULT_TSCONFIG["compilerOptions"], separators=(",", ":"))
        )
        if not os.path.exists(os.path.join(WORKSPACE, "package.json")):
            # Without a package.json, tsc (nodenext) takes .ts files for CommonJS while Node runs
            # them as ES modules (by their import/export syntax): top-level await and import.meta
            # would fail the check, extensionless imports pass it and fail at run time.
            with open(os.path.join(WORKSPACE, "package.json"), "w", encoding="utf-8") as handle:
                handle.write(DEFAULT_PACKAGE_JSON)
            notes.append(
                "and no package.json: wrote /workspace/package.json %s, as Node runs .ts files"
                % DEFAULT_PACKAGE_JSON.strip()
            )
    argv = ["tsc", "--noEmit", "-p", project, "--pretty", "false"]
    command = " ".join(argv)
    if notes:
        command += " (%s)" % ", ".join(notes)
    return Step("typecheck", command, settings), [argv]


NODE_TEST = [
    "node",
    "--test",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    "--test-reporter=junit",
    "--test-reporter-destination=" + JUNIT_PATH,
]

# What one test file's process costs at most, about: node:test runs each file in a process of its
# own (about 11 threads, each counted by the process limit, and 50-100 MB).
THREADS_PER_NODE = 12
MEMORY_PER_NODE = 128 * 1024 * 1024


def cgroup_number(paths):
    text = read_first(paths)
    if text is None:
        return None
    try:
        return int(text.split()[0])
    except (ValueError, IndexError):
        return None


def node_test_concurrency():
    """How many test files node --test may run at once in this container.

    Node's own default is one less than the CPUs it sees, which in a container are the host's:
    on a large host that many processes would pass the run's process or memory limit. Bounded
    here by the container's CPU quota, process limit and memory limit, whichever is smallest.
    """
    bounds = [len(os.sched_getaffinity(0))]
    quota = cgroup_number(["/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us"])
    period = cgroup_number(["/sys/fs/cgroup/cpu/cpu.cfs_period_us", "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us"])
    text = read_first(["/sys/fs/cgroup/cpu.max"])
    if text is not None and text.split()[0] != "max":
        try:
            quota, period = int(text.split()[0]), int(text.split()[1])
        except (ValueError, IndexError):
            quota = None
    if quota is not None and quota > 0 and period:
        bounds.append(-(-quota // period))
    cpus = min(bounds)
    limits = [max(1, cpus - 1)]
    pids = cgroup_number(["/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/pids.max"])
    if pids is not None:
        # The driver, init, the runner itself and some room.
        limits.append((pids - 2 * THREADS_PER_NODE) // THREADS_PER_NODE)
    memory = cgroup_number(["/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max"])
    if memory is not None:
        limits.append(memory // MEMORY_PER_NODE - 1)
    return max(1, min(limits))


def test_step(language, settings):
    """(step, argv, env extras) of the test step."""
    command = settings.get("test_command")
    if command:
        argv = ["sh", "-c", command]
        return Step("test", command, settings), argv, {"ATOMIC_JUNIT_PATH": JUNIT_PATH}
    if language == "python":
        argv = ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml=" + JUNIT_PATH]
    else:
        argv = NODE_TEST[:2] + ["--test-concurrency=%d" % node_test_concurrency()] + NODE_TEST[2:]
    return Step("test", " ".join(argv), settings), argv, None


def no_tests_reason(language, settings):
    if settings.get("test_command"):
        return "no tests found: the test command's JUnit report (ATOMIC_JUNIT_PATH) lists no tests"
    if language == "python":
        return (
            "no tests found: pytest collected no tests (it looks for test_*.py and *_test.py files "
            "holding test_* functions and Test* classes with test_* methods)"
        )
    return "no tests found: node --test found no test files (it runs %s)" % NODE_TEST_PATTERNS


# --------------------------------------------------------------------------------------------
# JUnit


def failure_name(case):
    classname = case.get("classname") or ""
    name = case.get("name") or "(unnamed)"
    path = case.get("file")
    if path:
        # node:test names the file; its classname is the enclosing suite, or "test" at top level.
        if os.path.isabs(path):
            path = os.path.relpath(path, WORKSPACE)
        parts = [path] + ([classname] if classname and classname != "test" else []) + [name]
        return " > ".join(parts)
    return classname + "." + name if classname else name


def failure_message(element):
    message = (element.get("message") or "").strip()
    if not message:
        message = (element.text or "").strip()
    if not message:
        message = element.get("type") or element.tag
    return message


def parse_junit(path, max_failures):
    """(counts, failures) from a JUnit XML report, or None when it is missing or malformed."""
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError):
        return None
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    failures = []
    for case in root.iter("testcase"):
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            counts["failed"] += 1
            if len(failures) < max_failures:
                failures.append({"name": failure_name(case), "message": failure_message(problem)})
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return counts, failures


# --------------------------------------------------------------------------------------------
# cgroup figures


def read_first(paths):
    for path in paths:
        try:
            with open(path, encoding="ascii") as handle:
                return handle.read()
        except OSError:
            continue
    return None


def cgroup_cpu_ms():
    """CPU time of the container so far, in ms (cgroup v1 cpuacct, or v2 cpu.stat), or None."""
    text = read_first(
        [
            "/sys/fs/cgroup/cpuacct/cpuacct.usage",
            "/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage",
            "/sys/fs/cgroup/cpuacct,cpu/cpuacct.usage",
        ]
    )
    if text is not None:
        try:
            return round(int(text.strip()) / 1e6, 1)
        except ValueError:
            pass
    text = read_first(["/sys/fs/cgroup/cpu.stat"])
    if text is not None:
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                try:
                    return round(int(value) / 1000, 1)
                except ValueError:
                    return None
    return None


def cgroup_peak_memory():
    """Peak memory of the container, in bytes (v1 memory.max_usage_in_bytes, v2 memory.peak), or None."""
    text = read_first(["/sys/fs/cgroup/memory/memory.max_usage_in_bytes", "/sys/fs/cgroup/memory.peak"])
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
# The report


def encoded_size(report):
    return len(json.dumps(report, ensure_ascii=False).encode("utf-8"))


def bound_report(report, max_bytes):
    """Trims `report` until it takes at most `max_bytes`: failure messages first, then the
    failures themselves (the counts stay), then the steps' output."""
    while encoded_size(report) > max_bytes:
        messages = [f for f in report["failures"] if js_length(f["message"]) > 80]
        if messages:
            for failure in messages:
                failure["message"] = cut(failure["message"], max(80, js_length(failure["message"]) // 2))
            continue
        if report["failures"]:
            report["failures"].pop()
            continue
        outputs = [s for s in report["steps"] if s["output"]]
        if not outputs:
            break
        for step in outputs:
            step["output"] = tail(step["output"], js_length(step["output"]) // 2)
    return report


def verify(settings, started):
    language = settings["language"]
    timeout = float(settings["timeout_seconds"])
    # Room at the end to read the report and print it before the host's deadline kills the run.
    margin = min(2.0, max(0.3, timeout * 0.1))
    deadline = started + max(0.5, timeout - margin)

    steps = []
    typecheck_ok = True
    planned = typecheck_step(language, settings)
    if planned is not None:
        step, commands = planned
        # The type check may take at most about half the time, so the tests still get theirs.
        now = time.monotonic()
        step.run(commands, now + (deadline - now) * 0.5)
        steps.append(step)
        typecheck_ok = step.ok

    try:
        os.unlink(JUNIT_PATH)
    except FileNotFoundError:
        pass
    step, argv, extra_env = test_step(language, settings)
    step.run([argv], deadline, child_env(extra_env))
    steps.append(step)

    parsed = parse_junit(JUNIT_PATH, settings["max_failures"])
    counts, failures = parsed if parsed is not None else (None, [])
    skipped_reason = None
    total = None if counts is None else counts["passed"] + counts["failed"] + counts["skipped"]
    custom = bool(settings.get("test_command"))

    if step.timed_out:
        tests_ok = False
    elif (not custom and language == "python" and step.exit_code == 5) or total == 0:
        # The contract's `tests` is null when no tests were found.
        skipped_reason = no_tests_reason(language, settings)
        counts, failures = None, []
        tests_ok = False
    elif counts is None:
        # No report: a custom command's exit status decides; the default runners always write one,
        # so its absence means the runner died before reporting.
        tests_ok = custom and step.exit_code == 0
    elif counts["passed"] == 0 and counts["failed"] == 0:
        skipped_reason = "every test was skipped (%d)" % counts["skipped"]
        tests_ok = False
    else:
        tests_ok = counts["failed"] == 0 and step.exit_code == 0

    for failure in failures:
        failure["name"] = cut(failure["name"], NAME_MAX_CHARS)
        failure["message"] = cut(failure["message"], settings["failure_message_max_chars"])

    report = {
        "passed": typecheck_ok and tests_ok,
        "steps": [s.as_json(settings) for s in steps],
        "tests": counts,
        "failures": failures,
        "report": "junit" if counts is not None else None,
        "duration_ms": round((time.monotonic() - started) * 1000, 1),
        "cpu_ms": cgroup_cpu_ms(),
        "peak_memory_bytes": cgroup_peak_memory(),
    }
    if skipped_reason is not None:
        report["skipped_reason"] = cut(skipped_reason, REASON_MAX_CHARS)
    return report


def parse_settings(text):
    settings = dict(DEFAULTS)
    given = json.loads(text)
    if not isinstance(given, dict):
        raise ValueError("settings must be a JSON object")
    settings.update({key: value for key, value in given.items() if value is not None})
    if settings.get("language") not in ("python", "javascript", "typescript"):
        raise ValueError("unknown language %r (known: python, javascript, typescript)" % settings.get("language"))
    for key in DEFAULTS:
        if not isinstance(settings[key], (int, float)) or settings[key] <= 0:
            raise ValueError("%s must be a positive number" % key)
    for key in ("output_max_chars", "max_failures", "failure_message_max_chars", "report_max_bytes"):
        settings[key] = int(settings[key])
    return settings


def failed_report(reason, started):
    return {
        "passed": False,
        "steps": [],
        "tests": None,
        "failures": [],
        "report": None,
        "duration_ms": round((time.monotonic() - started) * 1000, 1),
        "cpu_ms": cgroup_cpu_ms(),
        "peak_memory_bytes": cgroup_peak_memory(),
        "skipped_reason": cut(reason, REASON_MAX_CHARS),
    }


def undumpable():
    """Makes this process non-dumpable, so that the tests it runs (same uid) can neither ptrace it
    nor open its memory or file descriptors through /proc. Best effort."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):
        pass


def main(argv):
    started = time.monotonic()
    if may_sweep():
        undumpable()
    max_bytes = DEFAULTS["report_max_bytes"]
    try:
        settings = parse_settings(argv[1] if len(argv) > 1 else "")
        max_bytes = settings["report_max_bytes"]
        report = verify(settings, started)
    except (ValueError, IndexError) as error:
        report = failed_report("the verification driver's settings are invalid: %s" % error, started)
    except Exception as error:  # a bug of the driver: still one honest report
        report = failed_report("the verification driver failed: %s: %s" % (type(error).__name__, error), started)
    document = json.dumps(bound_report(report, max_bytes), ensure_ascii=False)
    # On a line of its own, after anything a child may have managed to write before it.
    sys.stdout.buffer.write(b"\n" + document.encode("utf-8") + b"\n")
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
