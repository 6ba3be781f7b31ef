"""The sandbox's supervisor: PID 1 of every sandbox container (the host-agent runs this file with
`python3 -c`, see host-agent/src/sandbox/run-input.ts).

Why a supervisor: a warm container is started before its request exists, and a run used to pay
for an interpreter's start (about 20 ms) and then for the engine to see the container exit and
answer `wait` and `inspect` (58 ms after the program's output on a 2-core machine) before its
result was known. Here an
interpreter is already running and waiting when the request arrives, and the run's status comes
back over the output stream the host-agent already reads, as soon as the program has ended.

At start-up it starts the *zygote*, a second interpreter (this file again, `--zygote`) that waits
for a command line. It then reads the run's input on stdin (never past what it needs, so the
program inherits stdin positioned at the request's own stdin):

    <32 bytes: the run's nonce, hex>
    <16 decimal digits: N> <N bytes: tar of the files, unpacked into /workspace>
    <16 decimal digits: M> <M bytes: the command line, its words separated by NUL>
    <the request's stdin, to EOF>

and hands the command line to the zygote, which starts a session of its own and becomes the
program: a Python program runs in the zygote itself, as `python3 <file>` would run it (the
modules the zygote imported are forgotten first, so the program's own files of those names are
what it imports), anything else is exec'd. When the program has ended, the supervisor kills every
other process of the container, reaps them, and writes one status line, `<nonce> <exit code>
<signal> <OOM kills>\\n`, at the end of stdout and at the end of stderr. Each line is the last
thing on its stream, so when the host has seen both it has all of the output.

Why the program cannot forge the status line: it never learns the nonce. The nonce is read after
the zygote started (a process of its own, which never holds it) and before the program starts,
and the supervisor makes itself non-dumpable first, so the program (same uid) cannot read its
memory through /proc (the seccomp profile also refuses ptrace and process_vm_readv). As PID 1 of
the container's PID namespace the supervisor is out of the program's reach under Linux: the
kernel drops every signal a process of the namespace sends it without a handler, SIGKILL and
SIGSTOP included, `kill(-1)` spares it, and its descriptors are closed to the program.
(ignore_signals() says what is left of that under gVisor.)

With `--relay` (gVisor) the program's stdout and stderr are pipes inside the sandbox, which the
supervisor copies to the container's own with full writes: gVisor answers a write() to the host's
pipe with a short count where Linux blocks, and programs that ignore the count lose output.

Exit status 125 with a message on stderr: the files could not be unpacked (e.g. they do not fit
the workspace's disk limit). Never run this outside a container: `kill(-1)` there reaches every
process of the user, so it refuses to start unless it is PID 1.
"""

import os
import sys

# What a fresh interpreter has loaded: a Python program starts with exactly these.
STARTUP_MODULES = frozenset(sys.modules)
# `python3 -c` puts the working directory, /workspace, first on the module path: nothing here may
# import the program's files (they arrive while this runs, and one could be named `signal.py`).
if sys.path[:1] == [""]:
    del sys.path[0]

import signal  # noqa: E402
import time  # noqa: E402 (loaded at start-up already)

NONCE_BYTES = 32
LENGTH_DIGITS = 16
WORKSPACE = "/workspace"
UNPACK_FAILED = 125
COPY_BYTES = 65536


def read_exact(fd, count):
    """Exactly `count` bytes of `fd` (fewer only at EOF), never reading past them."""
    pieces = []
    while count > 0:
        piece = os.read(fd, min(count, COPY_BYTES))
        if not piece:
            break
        pieces.append(piece)
        count -= len(piece)
    return b"".join(pieces)


def write_all(fd, data):
    """Writes all of `data`, retrying short writes (gVisor's host pipes return them)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def read_length(fd):
    field = read_exact(fd, LENGTH_DIGITS)
    if len(field) != LENGTH_DIGITS or not field.isdigit():
        raise EOFError("a length field is missing")
    return int(field)


# --- the zygote: becomes the program --------------------------------------------------------------


def zygote(command_fd):
    """Waits for the command line, then becomes the program. Never returns: the process exits."""
    words = read_all(command_fd)
    os.close(command_fd)
    if not words:
        os._exit(UNPACK_FAILED)
    argv = [os.fsdecode(word) for word in words.split(b"\0")]
    os.setsid()
    if argv[0] == "python3" and len(argv) > 1 and not argv[1].startswith("-"):
        run_python(argv[1:])
    # Python ignores these two at start-up, and an ignored signal stays ignored across exec.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    try:
        os.execvp(argv[0], argv)
    except OSError as error:
        os.write(2, ("atomic-sandbox: cannot run %s: %s\n" % (argv[0], error.strerror)).encode())
        os._exit(127)


def read_all(fd):
    pieces = []
    while True:
        piece = os.read(fd, COPY_BYTES)
        if not piece:
            return b"".join(pieces)
        pieces.append(piece)


def run_python(argv):
    """Runs `python3 <argv>` in this interpreter, as a fresh one would, and exits with its status."""
    path = os.path.abspath(argv[0])
    for name in [name for name in sys.modules if name not in STARTUP_MODULES]:
        del sys.modules[name]
    main = type(sys)("__main__")
    main.__file__ = path
    main.__cached__ = None
    main.__loader__ = sys.modules["_frozen_importlib_external"].SourceFileLoader("__main__", path)
    main.__builtins__ = sys.modules["builtins"]
    main.__annotations__ = {}
    sys.modules["__main__"] = main
    sys.argv = list(argv)
    sys.orig_argv = ["python3", *argv]
    # What the interpreter made at start-up stays: its exit then does not walk it again (~2 ms).
    import gc

    del sys.modules["gc"]
    gc.freeze()
    sys.path.insert(0, os.path.dirname(path))
    try:
        with open(path, "rb") as file:
            source = file.read()
    except OSError as error:
        sys.stderr.write("python3: can't open file %r: [Errno %d] %s\n" % (path, error.errno, error.strerror))
        sys.exit(2)
    try:
        exec(compile(source, path, "exec", dont_inherit=True), main.__dict__)
    except SystemExit:
        # The interpreter's own handling: None is 0, an int is the status, anything else is printed.
        raise
    except BaseException as error:
        # As an uncaught exception of `python3 <file>`: the traceback starts in the program (this
        # frame is left out), through the program's own sys.excepthook if it set one.
        error.__traceback__ = error.__traceback__.tb_next
        sys.excepthook(type(error), error, error.__traceback__)
        if isinstance(error, KeyboardInterrupt):
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        sys.exit(1)
    sys.exit(0)


# --- the supervisor -------------------------------------------------------------------------------


def undumpable():
    """PR_SET_DUMPABLE 0: the program (same uid) cannot read this process's memory or descriptors."""
    import ctypes

    if ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")


def unpack(fd, length):
    """Unpacks `length` bytes of tar from `fd` into the workspace: regular files and directories only."""
    import tarfile

    class Section:
        def __init__(self):
            self.left = length

        def read(self, size=-1):
            if size is None or size < 0 or size > self.left:
                size = self.left
            data = read_exact(fd, size)
            self.left -= len(data)
            if len(data) < size:
                raise EOFError("the files ended early")
            return data

    section = Section()
    with tarfile.open(fileobj=section, mode="r|") as archive:
        for member in archive:
            name = os.path.normpath(member.name)
            if name.startswith(("/", "..")) or name == ".":
                raise ValueError("%r is not a path inside the workspace" % member.name)
            target = os.path.join(WORKSPACE, name)
            if member.isdir():
                os.makedirs(target, exist_ok=True)
            elif member.isfile():
                os.makedirs(os.path.dirname(target), exist_ok=True)
                source = archive.extractfile(member)
                with open(target, "wb") as out:
                    while True:
                        chunk = source.read(COPY_BYTES)
                        if not chunk:
                            break
                        out.write(chunk)
            else:
                raise ValueError("%r is neither a file nor a directory" % member.name)
    # What tar's end-of-archive blocks leave unread.
    if section.left > 0:
        section.read(section.left)


def relay(source, target):
    """Copies one of the program's streams to the container's, until every writer has gone."""
    while True:
        data = os.read(source, COPY_BYTES)
        if not data:
            break
        try:
            write_all(target, data)
        except OSError:
            pass  # nobody reads the container's output any more: keep draining
    os.close(source)


def oom_kills():
    """How many processes of this container the kernel killed for memory, or -1 when it cannot tell."""
    for path, key in (
        ("/sys/fs/cgroup/memory.events", "oom_kill"),  # cgroup v2
        ("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill"),  # cgroup v1
    ):
        try:
            with open(path) as file:
                for line in file:
                    name, _, value = line.partition(" ")
                    if name == key:
                        return int(value)
        except (OSError, ValueError):
            continue
    return -1


def reap_all(program):
    """Waits for the program, reaping orphans meanwhile; returns its (exit code, signal)."""
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 255, 0
        except InterruptedError:
            continue
        if pid == program:
            if os.WIFSIGNALED(status):
                return 128 + os.WTERMSIG(status), os.WTERMSIG(status)
            return os.waitstatus_to_exitcode(status), 0


def kill_the_rest():
    """Kills every other process of the container and reaps them: none can fork past this."""
    waits = 0
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            # A process killed in the middle of a system call can take a moment to die: yield a
            # few times, then sleep, so a slow one does not keep this core spinning.
            waits += 1
            if waits < 20:
                os.sched_yield()
            else:
                time.sleep(0.001)


def ignore_signals():
    """Ignores every signal the program could send that would end or stop this process.

    Linux already drops, for PID 1, any signal from inside its namespace that it has no handler
    for (Python's SIGINT handler would be one); gVisor (the 2022 release Debian ships) does not, so
    they are ignored here, which it honours. SIGKILL and SIGSTOP cannot be ignored: under gVisor a
    program can still kill or stop the supervisor, and the run then ends as the container does (the
    host reads its status from the engine) or at its deadline. gVisor also lets the program see
    /proc/1/maps and /proc/1/fd, but not /proc/1/mem, where the nonce is. SIGCHLD keeps its
    default, which waitpid() needs; faults the interpreter itself could raise keep theirs.
    """
    keep = {signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD, signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL}
    for number in signal.valid_signals():
        if number not in keep:
            try:
                signal.signal(number, signal.SIG_IGN)
            except (OSError, ValueError):
                pass  # reserved by the C library


def supervise(program, command_fd, relay_fds):
    """Feeds the zygote, waits for the program, and reports its status."""
    # Imported before the run's input is read, so that the run does not wait for them.
    import tarfile  # noqa: F401 (unpack's import then finds it loaded)
    import threading

    relays = [threading.Thread(target=relay, args=(fd, target), daemon=True) for fd, target in zip(relay_fds, (1, 2))]
    for thread in relays:
        thread.start()
    nonce = read_exact(0, NONCE_BYTES)
    if len(nonce) != NONCE_BYTES:
        return 0  # stdin closed without a run: a warm container that was not needed
    try:
        unpack(0, read_length(0))
        words = read_exact(0, read_length(0))
    except (OSError, EOFError, ValueError) as error:
        detail = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        write_all(2, ("atomic-sandbox: could not unpack the files into /workspace: %s\n" % detail).encode())
        words = b""
    if words:
        try:
            write_all(command_fd, words)
        except OSError:
            pass  # the zygote did not start: its exit status (127) is the run's
    os.close(command_fd)
    exit_code, signal_number = reap_all(program) if words else (UNPACK_FAILED, 0)
    kill_the_rest()
    for thread in relays:
        thread.join()
    line = b"%s %d %d %d\n" % (nonce, exit_code, signal_number, oom_kills())
    for fd in (1, 2):
        try:
            write_all(fd, line)
        except OSError:
            pass
    return exit_code


def start_zygote(command_fd, output_fds):
    """Starts the zygote: this file again, in an interpreter of its own, its stdout and stderr the
    relays' pipes under `--relay`. A fresh interpreter rather than a fork of this one: a forked
    child's exit pays for copying every page of the parent it touches (about 8 ms here)."""
    os.set_inheritable(command_fd, True)
    zygote_argv = [sys.executable, "-c", sys.orig_argv[2], "--zygote", str(command_fd)]
    pid = os.fork()
    if pid == 0:
        try:
            if output_fds:
                os.dup2(output_fds[0], 1)
                os.dup2(output_fds[1], 2)
            os.execv(sys.executable, zygote_argv)
        finally:
            os._exit(127)
    return pid


def main():
    arguments = sys.argv[1:]
    if arguments[:1] == ["--zygote"]:
        return zygote(int(arguments[1]))
    if os.getpid() != 1:
        sys.stderr.write("atomic-sandbox: the supervisor runs only as a container's PID 1\n")
        return UNPACK_FAILED
    command_read, command_write = os.pipe()
    pipes = [os.pipe(), os.pipe()] if "--relay" in arguments else []
    program = start_zygote(command_read, [write_end for _, write_end in pipes])
    os.close(command_read)
    for _, write_end in pipes:
        os.close(write_end)
    ignore_signals()
    undumpable()
    return supervise(program, command_write, [read_end for read_end, _ in pipes])


if __name__ == "__main__":
    sys.exit(main())
