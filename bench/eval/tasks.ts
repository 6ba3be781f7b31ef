/**
 * The tasks of `npm run eval`: each a prompt exact about file names, module system and signatures,
 * its metadata, and hidden tests the model never sees (placed in `.eval/` beside the program, so
 * they import it as `../main.js`, or from `/workspace` on Python's path).
 *
 * Tasks marked `offline` are answered by the offline provider's templates
 * (host-agent/python/atomic_agent/templates/): their prompts keep to the names and behaviour the
 * templates have (an entry file named main.*, the function names of templates/functions.py, the
 * REST routes of templates/python_programs.py and node_programs.py, the wc-like CLI). The others
 * take a real model. docs/EVAL.md says how to add one.
 */
import type { EvalTask } from "./task.ts";

const raw = String.raw;

// ---------------------------------------------------------------- shared hidden-test sources

/**
 * Node hidden tests of an HTTP API in `entry`, started as `node <entry>` with PORT and HOST set,
 * once per file; the tests run in order against that one server.
 */
function nodeApiTest(options: {
  entry: string;
  resource: string;
  valid: Record<string, string>;
  other: Record<string, string>;
  invalid: Array<Record<string, unknown>>;
}): string {
  const { entry, resource } = options;
  return raw`import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const VALID = ${JSON.stringify(options.valid)};
const OTHER = ${JSON.stringify(options.other)};
const INVALID = ${JSON.stringify(options.invalid)};
let server;
let base = "";
let output = "";

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const port = probe.address().port;
      probe.close(() => resolve(port));
    });
  });
}

async function call(method, path, body, rawBody) {
  const init = { method, headers: {} };
  if (body !== undefined || rawBody !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = rawBody !== undefined ? rawBody : JSON.stringify(body);
  }
  const response = await fetch(base + path, init);
  const text = await response.text();
  let json = null;
  try {
    json = text === "" ? null : JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, body: json };
}

before(async () => {
  const port = await freePort();
  base = "http://127.0.0.1:" + port;
  server = spawn(process.execPath, [${JSON.stringify(entry)}], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout.on("data", (data) => (output += data));
  server.stderr.on("data", (data) => (output += data));
  const deadline = Date.now() + 20000;
  for (;;) {
    if (server.exitCode !== null) throw new Error("node ${entry} exited: " + output.slice(-2000));
    try {
      await fetch(base + "/${resource}");
      return;
    } catch {
      if (Date.now() > deadline) throw new Error("node ${entry} did not answer in 20 s: " + output.slice(-2000));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
});

after(() => {
  if (server) server.kill("SIGKILL");
});

test("the list starts empty", async () => {
  assert.deepEqual(await call("GET", "/${resource}"), { status: 200, body: [] });
});

test("create answers 201 with the fields and id 1, then 2", async () => {
  const first = await call("POST", "/${resource}", VALID);
  assert.equal(first.status, 201);
  assert.deepEqual(first.body, { ...VALID, id: 1 });
  const second = await call("POST", "/${resource}", OTHER);
  assert.equal(second.status, 201);
  assert.deepEqual(second.body, { ...OTHER, id: 2 });
});

test("read one, and the list in creation order", async () => {
  assert.deepEqual(await call("GET", "/${resource}/1"), { status: 200, body: { ...VALID, id: 1 } });
  assert.deepEqual(await call("GET", "/${resource}"), {
    status: 200,
    body: [
      { ...VALID, id: 1 },
      { ...OTHER, id: 2 },
    ],
  });
});

test("replace answers 200 with the new fields", async () => {
  assert.deepEqual(await call("PUT", "/${resource}/1", OTHER), { status: 200, body: { ...OTHER, id: 1 } });
  assert.deepEqual(await call("GET", "/${resource}/1"), { status: 200, body: { ...OTHER, id: 1 } });
});

test("invalid bodies answer 400 and store nothing", async () => {
  for (const body of INVALID) assert.equal((await call("POST", "/${resource}", body)).status, 400, JSON.stringify(body));
  assert.equal((await call("POST", "/${resource}", undefined, "{not json")).status, 400);
  assert.equal((await call("PUT", "/${resource}/1", INVALID[0])).status, 400);
  assert.equal((await call("GET", "/${resource}")).body.length, 2);
});

test("delete answers 204, then the record is gone", async () => {
  assert.equal((await call("DELETE", "/${resource}/2")).status, 204);
  assert.equal((await call("GET", "/${resource}/2")).status, 404);
  assert.equal((await call("DELETE", "/${resource}/2")).status, 404);
});

test("unknown records and paths answer 404", async () => {
  assert.equal((await call("GET", "/${resource}/999")).status, 404);
  assert.equal((await call("PUT", "/${resource}/999", VALID)).status, 404);
  assert.equal((await call("GET", "/no-such-path")).status, 404);
});
`;
}

/** Python hidden tests of an HTTP API in main.py, started as `python3 main.py` with PORT and HOST set, once per test. */
function pythonApiTest(options: {
  resource: string;
  valid: Record<string, string>;
  other: Record<string, string>;
  invalid: Array<Record<string, unknown>>;
}): string {
  const { resource } = options;
  return raw`import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VALID = json.loads(${JSON.stringify(JSON.stringify(options.valid))})
OTHER = json.loads(${JSON.stringify(JSON.stringify(options.other))})
INVALID = json.loads(${JSON.stringify(JSON.stringify(options.invalid))})


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def api():
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1"}
    log = tempfile.TemporaryFile()
    server = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def output():
        log.seek(0)
        return log.read().decode(errors="replace")[-2000:]

    def call(method, path, body=None, raw=None):
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            headers = {"Content-Type": "application/json"} if data is not None else {}
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            try:
                parsed = json.loads(text) if text else None
            except ValueError:
                parsed = text
            return response.status, parsed
        finally:
            connection.close()

    deadline = time.monotonic() + 20
    while True:
        if server.poll() is not None:
            raise AssertionError("python3 main.py exited: " + output())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                raise AssertionError("python3 main.py did not listen in 20 s: " + output())
            time.sleep(0.1)
    yield call
    server.kill()
    server.wait(10)
    log.close()


def test_crud(api):
    assert api("GET", "/${resource}") == (200, [])
    assert api("POST", "/${resource}", VALID) == (201, {**VALID, "id": 1})
    assert api("POST", "/${resource}", OTHER) == (201, {**OTHER, "id": 2})
    assert api("GET", "/${resource}/1") == (200, {**VALID, "id": 1})
    assert api("GET", "/${resource}") == (200, [{**VALID, "id": 1}, {**OTHER, "id": 2}])
    assert api("PUT", "/${resource}/1", OTHER) == (200, {**OTHER, "id": 1})
    assert api("GET", "/${resource}/1") == (200, {**OTHER, "id": 1})
    assert api("DELETE", "/${resource}/2")[0] == 204
    assert api("GET", "/${resource}/2")[0] == 404
    assert api("DELETE", "/${resource}/2")[0] == 404


def test_invalid_bodies_are_400(api):
    for body in INVALID:
        assert api("POST", "/${resource}", body)[0] == 400, body
    assert api("POST", "/${resource}", raw=b"{not json")[0] == 400
    assert api("GET", "/${resource}") == (200, [])


def test_unknown_records_and_paths_are_404(api):
    assert api("GET", "/${resource}/999")[0] == 404
    assert api("PUT", "/${resource}/999", VALID)[0] == 404
    assert api("GET", "/no-such-path")[0] == 404
`;
}

/** Python hidden tests of the wc-like CLI; `run(args, stdin)` runs the program and answers its CompletedProcess. */
function cliCases(run: string): string {
  return raw`def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return str(path)


def test_standard_input():
    done = ${run}([], "hello world\n")
    assert (done.returncode, done.stdout) == (0, "lines=1 words=2 chars=12\n")


def test_one_file_every_count(tmp_path):
    a = write(tmp_path, "a.txt", "one two\nthree\n")
    done = ${run}([a])
    assert (done.returncode, done.stdout) == (0, f"lines=2 words=3 chars=14 {a}\n")


def test_several_files_then_a_total(tmp_path):
    a = write(tmp_path, "a.txt", "one two\nthree\n")
    b = write(tmp_path, "b.txt", "four")
    done = ${run}(["--words", a, b])
    assert (done.returncode, done.stdout) == (0, f"words=3 {a}\nwords=1 {b}\nwords=4 total\n")


def test_options_keep_their_order(tmp_path):
    a = write(tmp_path, "a.txt", "x y\n")
    done = ${run}(["--chars", "--lines", a])
    assert (done.returncode, done.stdout) == (0, f"lines=1 chars=4 {a}\n")


def test_characters_not_bytes(tmp_path):
    a = write(tmp_path, "a.txt", "héllo wörld\n")
    done = ${run}(["--chars", a])
    assert done.stdout == f"chars=12 {a}\n"


def test_a_missing_file(tmp_path):
    a = write(tmp_path, "a.txt", "one\n")
    missing = str(tmp_path / "missing.txt")
    done = ${run}([missing, a])
    assert done.returncode == 1
    assert "missing.txt" in done.stderr
    assert f"lines=1 words=1 chars=4 {a}\n" in done.stdout
`;
}

// ---------------------------------------------------------------- Python

const python: EvalTask[] = [
  {
    id: "py-fibonacci",
    language: "python",
    offline: true,
    prompt:
      "Write a Python module main.py with a function fibonacci(n: int) -> int that returns the n-th Fibonacci " +
      "number, where fibonacci(0) == 0 and fibonacci(1) == 1, computed exactly for large n (fibonacci(100) is " +
      "an exact integer). It raises ValueError when n is negative.",
    metadata: { language: "python" },
    hidden: [
      {
        path: "test_eval_fibonacci.py",
        content: raw`import pytest

from main import fibonacci


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, 0), (1, 1), (2, 1), (3, 2), (10, 55), (30, 832040), (100, 354224848179261915075)],
)
def test_values(n, expected):
    assert fibonacci(n) == expected


def test_negative_is_a_value_error():
    with pytest.raises(ValueError):
        fibonacci(-1)


def test_large_n_is_fast():
    assert fibonacci(1000) % 1000000007 == 517691607
`,
      },
    ],
  },
  {
    id: "py-palindrome",
    language: "python",
    offline: true,
    prompt:
      "Write a Python module main.py with a function is_palindrome(text: str) -> bool that says whether text " +
      "reads the same backwards, ignoring letter case and every character that is not a letter or a digit " +
      '(so "A man, a plan, a canal: Panama" is one). The empty string is a palindrome.',
    metadata: { language: "python" },
    hidden: [
      {
        path: "test_eval_palindrome.py",
        content: raw`import pytest

from main import is_palindrome


@pytest.mark.parametrize(
    "text",
    ["racecar", "RaceCar", "A man, a plan, a canal: Panama", "", "a", "No 'x' in Nixon", "12321", "Was it a car or a cat I saw?"],
)
def test_palindromes(text):
    assert is_palindrome(text) is True


@pytest.mark.parametrize("text", ["hello", "ab", "123 45", "palindrome", "Aa b"])
def test_not_palindromes(text):
    assert is_palindrome(text) is False
`,
      },
    ],
  },
  {
    id: "py-todos-api",
    language: "python",
    offline: true,
    prompt:
      "Write a REST API for todos in Python in one file, main.py, on the standard library only (http.server), " +
      "keeping todos in memory. `python3 main.py` serves it on the host in the HOST environment variable " +
      "(default 127.0.0.1) and the port in PORT. JSON routes: GET /todos lists every todo (an array, in " +
      'creation order); POST /todos takes a JSON object with a required non-empty string "title" and answers 201 ' +
      'with the stored todo, which is the body\'s fields plus an integer "id" (1 for the first, then 2, ...); ' +
      "GET /todos/<id> answers that todo; PUT /todos/<id> replaces its fields (same validation) and answers 200 " +
      "with it; DELETE /todos/<id> answers 204 with no body. An unknown id or path answers 404; a body that is " +
      "not JSON, not an object, or without a valid title answers 400.",
    metadata: { language: "python" },
    hidden: [
      {
        path: "test_eval_todos_api.py",
        content: pythonApiTest({
          resource: "todos",
          valid: { title: "Write the tests" },
          other: { title: "Ship it" },
          invalid: [{}, { title: "" }, { title: "   " }, { title: 7 }],
        }),
      },
    ],
  },
  {
    id: "py-wc-cli",
    language: "python",
    offline: true,
    prompt:
      "Write a Python command-line tool main.py (argparse) that counts the lines, words and characters of the " +
      "files named as arguments, or of standard input when none is given, like wc. Lines are newline " +
      "characters, words are runs of non-whitespace, characters are Unicode characters (not bytes; files are " +
      "UTF-8). For each file it prints one line `lines=L words=W chars=C PATH`; for standard input the same " +
      "without the path. The options --lines, --words and --chars restrict the output to those counts, always " +
      "in the order lines, words, chars. With more than one file a last line gives the sums, named `total`. " +
      "A file that cannot be read: a message naming it on stderr, the other files are still counted, and the " +
      "exit status is 1; otherwise 0.",
    metadata: { language: "python" },
    hidden: [
      {
        path: "test_eval_wc_cli.py",
        content:
          raw`import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(args, stdin=""):
    return subprocess.run(
        [sys.executable, "main.py", *args], cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=60
    )


` + cliCases("run"),
      },
    ],
  },
  {
    id: "py-roman",
    language: "python",
    offline: false,
    prompt:
      "Write a Python module roman.py with to_roman(n: int) -> str, which converts 1..3999 to a standard " +
      "(subtractive) Roman numeral in capitals (4 is IV, 1994 is MCMXCIV), and from_roman(s: str) -> int, " +
      "which converts back and accepts only canonical numerals in capitals, exactly as to_roman writes them. " +
      'Both raise ValueError for anything else: 0, negative numbers, 4000 or more; "", "IIII", "IC", "VX", "iv".',
    metadata: { language: "python" },
    hidden: [
      {
        path: "test_eval_roman.py",
        content: raw`import pytest

from roman import from_roman, to_roman


@pytest.mark.parametrize(
    ("n", "numeral"),
    [(1, "I"), (4, "IV"), (9, "IX"), (14, "XIV"), (40, "XL"), (90, "XC"), (400, "CD"), (1994, "MCMXCIV"), (2024, "MMXXIV"), (3999, "MMMCMXCIX")],
)
def test_known_values(n, numeral):
    assert to_roman(n) == numeral
    assert from_roman(numeral) == n


def test_round_trip():
    for n in range(1, 4000):
        assert from_roman(to_roman(n)) == n


@pytest.mark.parametrize("n", [0, -1, 4000, 10000])
def test_out_of_range(n):
    with pytest.raises(ValueError):
        to_roman(n)


@pytest.mark.parametrize("s", ["", "IIII", "IC", "VX", "iv", "MMMM", "IIV", "XM", "ABC", "VV", "DD"])
def test_not_canonical(s):
    with pytest.raises(ValueError):
        from_roman(s)
`,
      },
    ],
  },
  {
    id: "py-lru-cache",
    language: "python",
    offline: false,
    prompt:
      "Write a Python module lru_cache.py with a class LRUCache(capacity: int). get(key) returns the value " +
      "stored for key, or None when there is none, and makes key the most recently used. put(key, value) " +
      "inserts or updates key and makes it the most recently used; when that takes the cache over capacity it " +
      "evicts the least recently used key. len(cache) is the number of keys; keys() returns the keys as a list " +
      "from least to most recently used. A capacity below 1 raises ValueError.",
    metadata: { language: "python" },
    hidden: [
      {
        path: "test_eval_lru_cache.py",
        content: raw`import pytest

from lru_cache import LRUCache


def test_get_and_put():
    cache = LRUCache(2)
    assert cache.get("a") is None
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    assert len(cache) == 2


def test_evicts_the_least_recently_used():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("a")
    cache.put("c", 3)
    assert cache.get("b") is None
    assert cache.get("a") == 1
    assert cache.get("c") == 3
    assert len(cache) == 2


def test_update_refreshes():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    cache.put("c", 3)
    assert cache.keys() == ["a", "c"]
    assert cache.get("a") == 10


def test_keys_order():
    cache = LRUCache(3)
    for key in "abc":
        cache.put(key, key)
    cache.get("a")
    assert cache.keys() == ["b", "c", "a"]


def test_falsy_values_are_values():
    cache = LRUCache(1)
    cache.put("zero", 0)
    assert cache.get("zero") == 0


def test_capacity_one():
    cache = LRUCache(1)
    cache.put(1, "x")
    cache.put(2, "y")
    assert cache.keys() == [2]


@pytest.mark.parametrize("capacity", [0, -3])
def test_bad_capacity(capacity):
    with pytest.raises(ValueError):
        LRUCache(capacity)
`,
      },
    ],
  },
  {
    id: "py-intervals",
    language: "python",
    offline: false,
    prompt:
      "Write a Python module intervals.py with merge_intervals(intervals: list[tuple[int, int]]) -> " +
      "list[tuple[int, int]] that merges overlapping or touching closed intervals ((1, 3) and (3, 5) merge into " +
      "(1, 5); (1, 2) and (3, 4) stay apart) and returns them as tuples sorted by start. The input need not be " +
      "sorted and is not modified. An interval whose start is greater than its end raises ValueError.",
    metadata: { language: "python" },
    hidden: [
      {
        path: "test_eval_intervals.py",
        content: raw`import random

import pytest

from intervals import merge_intervals


def test_examples():
    assert merge_intervals([]) == []
    assert merge_intervals([(1, 3)]) == [(1, 3)]
    assert merge_intervals([(1, 3), (2, 6), (8, 10), (15, 18)]) == [(1, 6), (8, 10), (15, 18)]
    assert merge_intervals([(1, 3), (3, 5)]) == [(1, 5)]
    assert merge_intervals([(1, 2), (3, 4)]) == [(1, 2), (3, 4)]
    assert merge_intervals([(5, 6), (1, 10)]) == [(1, 10)]
    assert merge_intervals([(4, 4), (1, 1), (1, 1)]) == [(1, 1), (4, 4)]


def test_results_are_tuples():
    assert all(type(item) is tuple for item in merge_intervals([(1, 2), (2, 3), (7, 9)]))


def test_input_is_not_modified():
    given = [(3, 4), (1, 2)]
    merge_intervals(given)
    assert given == [(3, 4), (1, 2)]


def test_start_after_end():
    with pytest.raises(ValueError):
        merge_intervals([(1, 2), (5, 3)])


def test_random_against_points():
    rng = random.Random(7)
    for _ in range(300):
        intervals = []
        for _ in range(rng.randint(1, 8)):
            start = rng.randint(0, 40)
            intervals.append((start, start + rng.randint(0, 6)))
        result = merge_intervals(intervals)
        points = {x for start, end in intervals for x in range(start, end + 1)}
        assert {x for start, end in result for x in range(start, end + 1)} == points
        for (_, end), (start, _) in zip(result, result[1:]):
            assert start > end
`,
      },
    ],
  },
  {
    id: "py-word-stats",
    language: "python",
    offline: false,
    prompt:
      "Write a Python module text_stats.py. Words are the matches of the regular expression [a-z0-9']+ in the " +
      "lower-cased text, with apostrophes stripped from both ends of each match and matches that become empty " +
      "dropped. word_counts(text: str) -> dict[str, int] gives each word's count. top_words(text: str, n: int) " +
      "-> list[tuple[str, int]] gives the n most frequent words with their counts, by count descending and then " +
      "by word ascending (fewer when there are fewer words); n below 0 raises ValueError.",
    metadata: { language: "python" },
    hidden: [
      {
        path: "test_eval_word_stats.py",
        content: raw`import pytest

from text_stats import top_words, word_counts


def test_counts():
    assert word_counts("The cat and the hat. THE END") == {"the": 3, "cat": 1, "and": 1, "hat": 1, "end": 1}
    assert word_counts("") == {}
    assert word_counts("... !!!") == {}


def test_apostrophes():
    assert word_counts("Don't stop 'quoted' words ''") == {"don't": 1, "stop": 1, "quoted": 1, "words": 1}


def test_digits_and_punctuation():
    assert word_counts("route 66, route-66!") == {"route": 2, "66": 2}


def test_top_words_order():
    text = "b a c b a b d"
    assert top_words(text, 2) == [("b", 3), ("a", 2)]
    assert top_words(text, 4) == [("b", 3), ("a", 2), ("c", 1), ("d", 1)]
    assert top_words(text, 10) == [("b", 3), ("a", 2), ("c", 1), ("d", 1)]
    assert top_words(text, 0) == []


def test_ties_by_word():
    assert top_words("zeta alpha mid", 3) == [("alpha", 1), ("mid", 1), ("zeta", 1)]


def test_negative_n():
    with pytest.raises(ValueError):
        top_words("a", -1)
`,
      },
    ],
  },
];

// ---------------------------------------------------------------- JavaScript

const javascript: EvalTask[] = [
  {
    id: "js-factorial",
    language: "javascript",
    offline: true,
    prompt:
      "Write an ES module main.js (Node 24, `export function`) with factorial(n) that returns n! as a number, " +
      "with factorial(0) === 1. It throws a RangeError when n is negative or not an integer.",
    metadata: { language: "javascript" },
    hidden: [
      {
        path: "factorial.test.mjs",
        content: raw`import assert from "node:assert/strict";
import { test } from "node:test";
import { factorial } from "../main.js";

test("values", () => {
  assert.equal(factorial(0), 1);
  assert.equal(factorial(1), 1);
  assert.equal(factorial(5), 120);
  assert.equal(factorial(10), 3628800);
  assert.equal(factorial(18), 6402373705728000);
});

test("a negative n is a RangeError", () => {
  assert.throws(() => factorial(-1), RangeError);
});

test("a fraction is a RangeError", () => {
  assert.throws(() => factorial(2.5), RangeError);
});
`,
      },
    ],
  },
  {
    id: "js-reverse",
    language: "javascript",
    offline: true,
    prompt:
      "Write an ES module main.js (Node 24, `export function`) with reverseString(text) that returns the string " +
      "reversed by Unicode code points, so that a character outside the Basic Multilingual Plane (an emoji) stays " +
      "whole.",
    metadata: { language: "javascript" },
    hidden: [
      {
        path: "reverse.test.mjs",
        content: raw`import assert from "node:assert/strict";
import { test } from "node:test";
import { reverseString } from "../main.js";

test("ASCII", () => {
  assert.equal(reverseString("hello"), "olleh");
  assert.equal(reverseString("ab c"), "c ba");
  assert.equal(reverseString("x"), "x");
});

test("empty", () => {
  assert.equal(reverseString(""), "");
});

test("code points stay whole", () => {
  assert.equal(reverseString("a\u{1F44D}b"), "b\u{1F44D}a");
  assert.equal(reverseString("\u{1F600}\u{1F601}"), "\u{1F601}\u{1F600}");
});
`,
      },
    ],
  },
  {
    id: "js-sum",
    language: "javascript",
    offline: true,
    prompt:
      "Write an ES module main.js (Node 24, `export function`) with sumNumbers(numbers) that returns the sum of " +
      "an array of numbers (0 for an empty array) without modifying the array.",
    metadata: { language: "javascript" },
    hidden: [
      {
        path: "sum.test.mjs",
        content: raw`import assert from "node:assert/strict";
import { test } from "node:test";
import { sumNumbers } from "../main.js";

test("sums", () => {
  assert.equal(sumNumbers([1, 2, 3]), 6);
  assert.equal(sumNumbers([-1, 1, 10]), 10);
  assert.equal(sumNumbers([0.5, 0.25]), 0.75);
  assert.equal(sumNumbers([42]), 42);
});

test("empty is 0", () => {
  assert.equal(sumNumbers([]), 0);
});

test("the array is not modified", () => {
  const numbers = [3, 1, 2];
  sumNumbers(numbers);
  assert.deepEqual(numbers, [3, 1, 2]);
});
`,
      },
    ],
  },
  {
    id: "js-notes-api",
    language: "javascript",
    offline: true,
    prompt:
      "Write a REST API for notes in JavaScript on Node's built-in node:http module, without dependencies, as " +
      "ES modules; `node main.js` serves it on the host in the HOST environment variable (default 127.0.0.1) " +
      "and the port in PORT (default 3000), keeping notes in memory. JSON routes: GET /notes lists every note " +
      '(an array, in creation order); POST /notes takes a JSON object with a required non-empty string "title" ' +
      'and answers 201 with the stored note, which is the body\'s fields plus an integer "id" (1 for the first, ' +
      "then 2, ...); GET /notes/:id answers that note; PUT /notes/:id replaces its fields (same validation) and " +
      "answers 200 with it; DELETE /notes/:id answers 204 with no body. An unknown id or path answers 404; a body " +
      "that is not JSON, not an object, or without a valid title answers 400.",
    metadata: { language: "javascript" },
    hidden: [
      {
        path: "notes-api.test.mjs",
        content: nodeApiTest({
          entry: "main.js",
          resource: "notes",
          valid: { title: "Groceries" },
          other: { title: "Call the bank" },
          invalid: [{}, { title: "" }, { title: 12 }],
        }),
      },
    ],
  },
  {
    id: "js-slugify",
    language: "javascript",
    offline: false,
    prompt:
      "Write an ES module slugify.js (Node 24) exporting slugify(text, options = {}). It lower-cases text, " +
      "removes diacritics (Unicode NFKD, then drop combining marks), replaces every run of characters other than " +
      'a-z and 0-9 with one separator (options.separator, default "-") and trims separators from both ends. ' +
      "When options.maxLength is given the slug is cut to at most that many characters, with no separator left " +
      "at its end.",
    metadata: { language: "javascript" },
    hidden: [
      {
        path: "slugify.test.mjs",
        content: raw`import assert from "node:assert/strict";
import { test } from "node:test";
import { slugify } from "../slugify.js";

test("basics", () => {
  assert.equal(slugify("Hello, World!"), "hello-world");
  assert.equal(slugify("  Many   spaces  "), "many-spaces");
  assert.equal(slugify("already-a-slug"), "already-a-slug");
  assert.equal(slugify("Version 2.0 (beta)"), "version-2-0-beta");
  assert.equal(slugify(""), "");
  assert.equal(slugify("!!!"), "");
});

test("diacritics", () => {
  assert.equal(slugify("Crème Brûlée"), "creme-brulee");
  assert.equal(slugify("Ångström naïve café"), "angstrom-naive-cafe");
});

test("separator", () => {
  assert.equal(slugify("Hello World", { separator: "_" }), "hello_world");
  assert.equal(slugify("--a--b--", { separator: "_" }), "a_b");
});

test("maxLength", () => {
  assert.equal(slugify("hello wonderful world", { maxLength: 15 }), "hello-wonderful");
  assert.equal(slugify("hello wonderful world", { maxLength: 6 }), "hello");
  assert.equal(slugify("abc", { maxLength: 10 }), "abc");
});
`,
      },
    ],
  },
  {
    id: "js-emitter",
    language: "javascript",
    offline: false,
    prompt:
      "Write an ES module emitter.js (Node 24) exporting a class Emitter with: on(event, listener), which " +
      "returns a function that removes that listener; once(event, listener), a listener called at most once; " +
      "off(event, listener); emit(event, ...args), which calls the event's listeners in the order they were " +
      "added with args and returns true when it called any, else false; listenerCount(event). A listener added " +
      "or removed while an emit runs does not change which listeners that emit calls. Do not use node:events.",
    metadata: { language: "javascript" },
    hidden: [
      {
        path: "emitter.test.mjs",
        content: raw`import assert from "node:assert/strict";
import { test } from "node:test";
import { Emitter } from "../emitter.js";

test("on and emit, in order, with arguments", () => {
  const emitter = new Emitter();
  const calls = [];
  emitter.on("x", (a, b) => calls.push(["first", a, b]));
  emitter.on("x", (a, b) => calls.push(["second", a, b]));
  assert.equal(emitter.emit("x", 1, 2), true);
  assert.deepEqual(calls, [
    ["first", 1, 2],
    ["second", 1, 2],
  ]);
  assert.equal(emitter.emit("nobody"), false);
});

test("on returns an unsubscribe function", () => {
  const emitter = new Emitter();
  let count = 0;
  const off = emitter.on("x", () => count++);
  emitter.emit("x");
  off();
  emitter.emit("x");
  assert.equal(count, 1);
  assert.equal(emitter.listenerCount("x"), 0);
});

test("once", () => {
  const emitter = new Emitter();
  let count = 0;
  emitter.once("x", () => count++);
  assert.equal(emitter.listenerCount("x"), 1);
  emitter.emit("x");
  emitter.emit("x");
  assert.equal(count, 1);
  assert.equal(emitter.listenerCount("x"), 0);
});

test("off removes one listener", () => {
  const emitter = new Emitter();
  const calls = [];
  const a = () => calls.push("a");
  const b = () => calls.push("b");
  emitter.on("x", a);
  emitter.on("x", b);
  emitter.off("x", a);
  emitter.emit("x");
  assert.deepEqual(calls, ["b"]);
  assert.equal(emitter.listenerCount("x"), 1);
});

test("changes during an emit apply to the next one", () => {
  const emitter = new Emitter();
  const calls = [];
  const late = () => calls.push("late");
  const second = () => calls.push("second");
  emitter.on("x", () => {
    calls.push("first");
    emitter.on("x", late);
    emitter.off("x", second);
  });
  emitter.on("x", second);
  emitter.emit("x");
  assert.deepEqual(calls, ["first", "second"]);
  calls.length = 0;
  emitter.emit("x");
  assert.deepEqual(calls, ["first", "late"]);
});
`,
      },
    ],
  },
  {
    id: "js-query-string",
    language: "javascript",
    offline: false,
    prompt:
      "Write an ES module query.js (Node 24) exporting parseQuery(query) and stringifyQuery(object). " +
      'parseQuery takes a query string with or without a leading "?", splits it at "&" (skipping empty parts), ' +
      'decodes percent-encoding and "+" as a space in keys and values, gives a key without "=" the value "", and ' +
      "returns a plain object in which a key that appears more than once holds an array of its values in order. " +
      'stringifyQuery(object) writes key=value pairs joined by "&" in the object\'s key order, encoding keys and ' +
      "values with encodeURIComponent, an array as the key repeated once per element, and leaving out keys whose " +
      'value is undefined; no leading "?".',
    metadata: { language: "javascript" },
    hidden: [
      {
        path: "query.test.mjs",
        content: raw`import assert from "node:assert/strict";
import { test } from "node:test";
import { parseQuery, stringifyQuery } from "../query.js";

test("parse", () => {
  assert.deepEqual(parseQuery("?a=1&b=two"), { a: "1", b: "two" });
  assert.deepEqual(parseQuery("a=1&b=two"), { a: "1", b: "two" });
  assert.deepEqual(parseQuery(""), {});
  assert.deepEqual(parseQuery("?"), {});
});

test("parse decodes", () => {
  assert.deepEqual(parseQuery("q=hello+world&x=%26%3D%20"), { q: "hello world", x: "&= " });
  assert.deepEqual(parseQuery("caf%C3%A9=cr%C3%A8me"), { "café": "crème" });
});

test("parse repeated keys, bare keys, empty parts", () => {
  assert.deepEqual(parseQuery("t=a&t=b&u=1&t=c"), { t: ["a", "b", "c"], u: "1" });
  assert.deepEqual(parseQuery("flag&x=1&&"), { flag: "", x: "1" });
});

test("stringify", () => {
  assert.equal(stringifyQuery({ a: "1", b: "two" }), "a=1&b=two");
  assert.equal(stringifyQuery({ q: "hello world", x: "&=" }), "q=hello%20world&x=%26%3D");
  assert.equal(stringifyQuery({ t: ["a", "b"], n: 3 }), "t=a&t=b&n=3");
  assert.equal(stringifyQuery({ a: undefined, b: "" }), "b=");
  assert.equal(stringifyQuery({}), "");
});

test("round trip", () => {
  const value = { name: "Zoë & co", tags: ["x y", "z"], empty: "" };
  assert.deepEqual(parseQuery(stringifyQuery(value)), value);
});
`,
      },
    ],
  },
];

// ---------------------------------------------------------------- TypeScript

const TS_NOTE =
  " Node 24 runs the .ts files directly (type stripping): import local modules with their .ts extension and " +
  "use only erasable TypeScript syntax (no enums, no namespaces, no parameter properties).";

const typescript: EvalTask[] = [
  {
    id: "ts-users-api",
    language: "typescript",
    offline: true,
    prompt:
      "Create a REST API for user management. In TypeScript on express; `node main.ts` starts it on the host in " +
      "the HOST environment variable (default 127.0.0.1) and the port in PORT (default 3000), keeping users in " +
      "memory. JSON routes: GET /users lists every user (an array, in creation order); POST /users takes a JSON " +
      'object with required non-empty strings "name" and "email" (an email must contain "@") and answers 201 ' +
      'with the stored user, which is the body\'s fields plus an integer "id" (1 for the first, then 2, ...); ' +
      "GET /users/:id answers that user; PUT /users/:id replaces its fields (same validation) and answers 200 " +
      "with it; DELETE /users/:id answers 204 with no body. An unknown id or path answers 404; a body that is " +
      "not JSON, not an object, or invalid answers 400." +
      TS_NOTE,
    metadata: { language: "typescript", framework: "express" },
    hidden: [
      {
        path: "users-api.test.ts",
        content: nodeApiTest({
          entry: "main.ts",
          resource: "users",
          valid: { name: "Ada Lovelace", email: "ada@example.com" },
          other: { name: "Grace Hopper", email: "grace@example.com" },
          invalid: [
            {},
            { name: "Ada" },
            { email: "ada@example.com" },
            { name: "", email: "ada@example.com" },
            { name: "Ada", email: "not-an-email" },
            { name: 3, email: "ada@example.com" },
          ],
        }),
      },
    ],
  },
  {
    id: "ts-prime",
    language: "typescript",
    offline: true,
    prompt:
      "Write a TypeScript module main.ts exporting isPrime(n: number): boolean, which tells whether n is a prime " +
      "number; it answers false for numbers below 2 and for numbers that are not integers." +
      TS_NOTE,
    metadata: { language: "typescript" },
    hidden: [
      {
        path: "prime.test.ts",
        content: raw`import assert from "node:assert/strict";
import { test } from "node:test";
import { isPrime } from "../main.ts";

test("primes", () => {
  for (const n of [2, 3, 5, 7, 11, 13, 97, 7919, 104729, 2147483647]) assert.equal(isPrime(n), true, String(n));
});

test("not primes", () => {
  for (const n of [1, 4, 9, 15, 21, 25, 100, 7917, 104730, 2147483649]) assert.equal(isPrime(n), false, String(n));
});

test("below 2 and fractions", () => {
  for (const n of [0, -1, -7, 2.5, 7.1, Number.NaN]) assert.equal(isPrime(n), false, String(n));
});
`,
      },
    ],
  },
  {
    id: "ts-fibonacci",
    language: "typescript",
    offline: true,
    prompt:
      "Write a TypeScript module main.ts exporting fibonacci(n: number): number, which returns the n-th Fibonacci " +
      "number with fibonacci(0) === 0 and fibonacci(1) === 1, in linear time; it throws a RangeError when n is " +
      "negative or not an integer." +
      TS_NOTE,
    metadata: { language: "typescript" },
    hidden: [
      {
        path: "fibonacci.test.ts",
        content: raw`import assert from "node:assert/strict";
import { test } from "node:test";
import { fibonacci } from "../main.ts";

test("values", () => {
  const expected = [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55];
  expected.forEach((value, n) => assert.equal(fibonacci(n), value));
  assert.equal(fibonacci(20), 6765);
  assert.equal(fibonacci(50), 12586269025);
  assert.equal(fibonacci(78), 8944394323791464);
});

test("RangeError for a negative n or a fraction", () => {
  assert.throws(() => fibonacci(-1), RangeError);
  assert.throws(() => fibonacci(1.5), RangeError);
});
`,
      },
    ],
  },
  {
    id: "ts-rpn",
    language: "typescript",
    offline: false,
    prompt:
      "Write a TypeScript module rpn.ts exporting evaluateRpn(expression: string): number, which evaluates a " +
      "Reverse Polish Notation expression: tokens separated by any whitespace, numbers (integers or decimals, " +
      "possibly negative such as -3 or -0.5) and the operators + - * / (division is floating point). It throws an " +
      "Error for an empty expression, an unknown token, an operator without two operands, division by zero, or " +
      "operands left over at the end." +
      TS_NOTE,
    metadata: { language: "typescript" },
    hidden: [
      {
        path: "rpn.test.ts",
        content: raw`import assert from "node:assert/strict";
import { test } from "node:test";
import { evaluateRpn } from "../rpn.ts";

test("arithmetic", () => {
  assert.equal(evaluateRpn("3 4 +"), 7);
  assert.equal(evaluateRpn("5 1 2 + 4 * + 3 -"), 14);
  assert.equal(evaluateRpn("2 3 4 * +"), 14);
  assert.equal(evaluateRpn("10 4 /"), 2.5);
  assert.equal(evaluateRpn("10 4 -"), 6);
  assert.equal(evaluateRpn("42"), 42);
});

test("negative numbers, decimals, whitespace", () => {
  assert.equal(evaluateRpn("-3 4 *"), -12);
  assert.equal(evaluateRpn("  1.5\t-0.5 \n +  "), 1);
});

test("errors", () => {
  for (const bad of ["", "   ", "1 +", "+", "1 2", "1 0 /", "1 2 ^", "1 x +", "2 3 + +"]) {
    assert.throws(() => evaluateRpn(bad), Error, JSON.stringify(bad));
  }
});
`,
      },
    ],
  },
  {
    id: "ts-priority-queue",
    language: "typescript",
    offline: false,
    prompt:
      "Write a TypeScript module priority-queue.ts exporting a generic class PriorityQueue<T>, constructed with a " +
      "compare function (a: T, b: T) => number (negative when a comes out first). Methods: push(value: T): void; " +
      "pop(): T | undefined, which removes and returns the first value; peek(): T | undefined; and a getter size: " +
      "number. Values that compare equal come out in the order they were pushed. push and pop take O(log n)." +
      TS_NOTE,
    metadata: { language: "typescript" },
    hidden: [
      {
        path: "priority-queue.test.ts",
        content: raw`import assert from "node:assert/strict";
import { test } from "node:test";
import { PriorityQueue } from "../priority-queue.ts";

test("empty", () => {
  const queue = new PriorityQueue<number>((a, b) => a - b);
  assert.equal(queue.size, 0);
  assert.equal(queue.pop(), undefined);
  assert.equal(queue.peek(), undefined);
});

test("order", () => {
  const queue = new PriorityQueue<number>((a, b) => a - b);
  for (const n of [5, 1, 4, 2, 3]) queue.push(n);
  assert.equal(queue.size, 5);
  assert.equal(queue.peek(), 1);
  const out = [];
  while (queue.size > 0) out.push(queue.pop());
  assert.deepEqual(out, [1, 2, 3, 4, 5]);
});

test("max-first with another compare", () => {
  const queue = new PriorityQueue<number>((a, b) => b - a);
  for (const n of [5, 1, 4]) queue.push(n);
  assert.equal(queue.pop(), 5);
});

test("stable for equal priorities", () => {
  const queue = new PriorityQueue<{ p: number; name: string }>((a, b) => a.p - b.p);
  const names = ["a", "b", "c", "d", "e", "f", "g", "h"];
  names.forEach((name, i) => queue.push({ p: i % 2, name }));
  const out = [];
  while (queue.size > 0) out.push(queue.pop()?.name);
  assert.deepEqual(out, ["a", "c", "e", "g", "b", "d", "f", "h"]);
});

test("many values, interleaved, against a sort", () => {
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) % 1000;
  const queue = new PriorityQueue<number>((a, b) => a - b);
  const mirror = [];
  for (let i = 0; i < 20000; i++) {
    if (i % 3 === 2) {
      mirror.sort((a, b) => a - b);
      assert.equal(queue.pop(), mirror.shift());
    } else {
      const n = random();
      queue.push(n);
      mirror.push(n);
    }
  }
  assert.equal(queue.size, mirror.length);
});
`,
      },
    ],
  },
  {
    id: "ts-csv",
    language: "typescript",
    offline: false,
    prompt:
      "Write a TypeScript module csv.ts exporting parseCsv(text: string): string[][] and toCsv(rows: string[][]): " +
      "string. parseCsv follows RFC 4180: fields separated by commas; a field may be quoted with double quotes, " +
      'and a quoted field may hold commas, line breaks and doubled quotes ("" is one quote); records end with ' +
      "\\n or \\r\\n; a line break at the very end adds no empty record; an empty text is no records. toCsv " +
      "quotes a field only when it holds a comma, a double quote, \\r or \\n (doubling its quotes), and joins " +
      "records with \\n, with no line break at the end." +
      TS_NOTE,
    metadata: { language: "typescript" },
    hidden: [
      {
        path: "csv.test.ts",
        content: raw`import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCsv, toCsv } from "../csv.ts";

test("plain", () => {
  assert.deepEqual(parseCsv("a,b,c\n1,2,3"), [
    ["a", "b", "c"],
    ["1", "2", "3"],
  ]);
  assert.deepEqual(parseCsv("a,b\r\n1,2\r\n"), [
    ["a", "b"],
    ["1", "2"],
  ]);
  assert.deepEqual(parseCsv(""), []);
  assert.deepEqual(parseCsv("a,,c"), [["a", "", "c"]]);
  assert.deepEqual(parseCsv(","), [["", ""]]);
});

test("quoted fields", () => {
  assert.deepEqual(parseCsv('"a,b","say ""hi""",c'), [["a,b", 'say "hi"', "c"]]);
  assert.deepEqual(parseCsv('"line\nbreak",x\ny,z'), [
    ["line\nbreak", "x"],
    ["y", "z"],
  ]);
  assert.deepEqual(parseCsv('""'), [[""]]);
});

test("toCsv", () => {
  assert.equal(toCsv([["a", "b"], ["1", "2"]]), "a,b\n1,2");
  assert.equal(toCsv([["a,b", 'q"t', "x\ny", "plain"]]), '"a,b","q""t","x\ny",plain');
  assert.equal(toCsv([]), "");
});

test("round trip", () => {
  const rows = [
    ["id", "text", "note"],
    ["1", "hello, world", ""],
    ["2", 'she said "no"', "multi\r\nline"],
  ];
  assert.deepEqual(parseCsv(toCsv(rows)), rows);
});
`,
      },
    ],
  },
  {
    id: "ts-template",
    language: "typescript",
    offline: false,
    prompt:
      "Write a TypeScript module template.ts exporting render(template: string, data: Record<string, unknown>): " +
      "string. It replaces {{ path }} (spaces inside the braces optional) with the value at a dotted path of data " +
      "(user.name is data.user.name), HTML-escaped: & < > \" ' become &amp; &lt; &gt; &quot; &#39;. {{{ path }}} " +
      "inserts the value without escaping. A missing value (undefined or null, or a path through one) renders as " +
      "an empty string; other values render as String(value). Everything else is copied as it is." +
      TS_NOTE,
    metadata: { language: "typescript" },
    hidden: [
      {
        path: "template.test.ts",
        content: raw`import assert from "node:assert/strict";
import { test } from "node:test";
import { render } from "../template.ts";

test("values and paths", () => {
  assert.equal(render("Hello, {{name}}!", { name: "Ada" }), "Hello, Ada!");
  assert.equal(render("{{ user.name }} ({{user.age}})", { user: { name: "Ada", age: 36 } }), "Ada (36)");
  assert.equal(render("{{ a }}{{b}}", { a: true, b: 0 }), "true0");
  assert.equal(render("no tags", {}), "no tags");
});

test("escaping", () => {
  assert.equal(render("{{ x }}", { x: "<b>\"Tom\" & 'Jerry'</b>" }), "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;");
  assert.equal(render("{{{ x }}}", { x: "<b>raw</b>" }), "<b>raw</b>");
  assert.equal(render("{{{x}}} {{x}}", { x: "&" }), "& &amp;");
});

test("missing values are empty", () => {
  assert.equal(render("[{{ nope }}]", {}), "[]");
  assert.equal(render("[{{ a.b.c }}]", { a: null }), "[]");
  assert.equal(render("[{{ a.b }}]", { a: {} }), "[]");
  assert.equal(render("[{{{ gone }}}]", { gone: undefined }), "[]");
});

test("repeated tags", () => {
  assert.equal(render("{{x}}-{{x}}-{{ x }}", { x: 1 }), "1-1-1");
});
`,
      },
    ],
  },
];

export const TASKS: readonly EvalTask[] = [...python, ...javascript, ...typescript];
