"""Small named functions with a self-check, in Python, JavaScript and TypeScript."""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from typing import Any

from .common import INTRO, Program, SourceFile, language_label, module_stem, node_entry, python_entry, sibling
from .node_project import RUN_DIRECTLY_IMPORTS, project_files, run_directly


@dataclass(frozen=True)
class FunctionSpec:
    py_name: str
    js_name: str
    description: str
    python: str
    javascript: str
    typescript: str
    checks: tuple[tuple[tuple[Any, ...], Any], ...]
    sample: tuple[Any, ...]
    # Arguments the function refuses (ValueError in Python, RangeError in JavaScript), if any.
    invalid: tuple[Any, ...] | None = None


FUNCTIONS: dict[str, FunctionSpec] = {
    "fibonacci": FunctionSpec(
        "fibonacci",
        "fibonacci",
        "returns the n-th Fibonacci number",
        '''def fibonacci(n: int) -> int:
    """The n-th Fibonacci number: fibonacci(0) == 0, fibonacci(1) == 1."""
    if n < 0:
        raise ValueError("n must be >= 0")
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
''',
        """/** The n-th Fibonacci number: fibonacci(0) === 0, fibonacci(1) === 1 (exact up to n = 78). */
export function fibonacci(n) {
  if (!Number.isInteger(n) || n < 0) throw new RangeError("n must be a non-negative integer");
  let a = 0;
  let b = 1;
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}
""",
        """/** The n-th Fibonacci number: fibonacci(0) === 0, fibonacci(1) === 1 (exact up to n = 78). */
export function fibonacci(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError("n must be a non-negative integer");
  let a = 0;
  let b = 1;
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}
""",
        (((0,), 0), ((1,), 1), ((2,), 1), ((10,), 55), ((20,), 6765)),
        (10,),
        (-1,),
    ),
    "factorial": FunctionSpec(
        "factorial",
        "factorial",
        "returns n! (the product 1 * 2 * ... * n)",
        '''def factorial(n: int) -> int:
    """n! = 1 * 2 * ... * n, with factorial(0) == 1."""
    if n < 0:
        raise ValueError("n must be >= 0")
    result = 1
    for k in range(2, n + 1):
        result *= k
    return result
''',
        """/** n! = 1 * 2 * ... * n, with factorial(0) === 1 (exact up to n = 18). */
export function factorial(n) {
  if (!Number.isInteger(n) || n < 0) throw new RangeError("n must be a non-negative integer");
  let result = 1;
  for (let k = 2; k <= n; k++) result *= k;
  return result;
}
""",
        """/** n! = 1 * 2 * ... * n, with factorial(0) === 1 (exact up to n = 18). */
export function factorial(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError("n must be a non-negative integer");
  let result = 1;
  for (let k = 2; k <= n; k++) result *= k;
  return result;
}
""",
        (((0,), 1), ((1,), 1), ((5,), 120), ((10,), 3628800)),
        (5,),
        (-1,),
    ),
    "prime": FunctionSpec(
        "is_prime",
        "isPrime",
        "tells whether a number is prime",
        '''def is_prime(n: int) -> bool:
    """True when n is a prime number (trial division up to the square root)."""
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    k = 3
    while k * k <= n:
        if n % k == 0:
            return False
        k += 2
    return True
''',
        """/** True when n is a prime number (trial division up to the square root). */
export function isPrime(n) {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let k = 3; k * k <= n; k += 2) {
    if (n % k === 0) return false;
  }
  return true;
}
""",
        """/** True when n is a prime number (trial division up to the square root). */
export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let k = 3; k * k <= n; k += 2) {
    if (n % k === 0) return false;
  }
  return true;
}
""",
        (((1,), False), ((2,), True), ((9,), False), ((17,), True), ((21,), False), ((97,), True)),
        (97,),
    ),
    "palindrome": FunctionSpec(
        "is_palindrome",
        "isPalindrome",
        "tells whether a text reads the same backwards, ignoring case, spaces and punctuation",
        '''def is_palindrome(text: str) -> bool:
    """True when text reads the same backwards, ignoring case and anything not a letter or digit."""
    letters = [ch.lower() for ch in text if ch.isalnum()]
    return letters == letters[::-1]
''',
        """/** True when text reads the same backwards, ignoring case and anything not a letter or digit. */
export function isPalindrome(text) {
  const letters = [...text.toLowerCase().replace(/[^\\p{L}\\p{N}]/gu, "")];
  return letters.join("") === letters.reverse().join("");
}
""",
        """/** True when text reads the same backwards, ignoring case and anything not a letter or digit. */
export function isPalindrome(text: string): boolean {
  const letters = [...text.toLowerCase().replace(/[^\\p{L}\\p{N}]/gu, "")];
  return letters.join("") === letters.reverse().join("");
}
""",
        (
            (("racecar",), True),
            (("A man, a plan, a canal: Panama",), True),
            (("hello",), False),
            (("",), True),
        ),
        ("A man, a plan, a canal: Panama",),
    ),
    "reverse": FunctionSpec(
        "reverse_string",
        "reverseString",
        "reverses a string",
        '''def reverse_string(text: str) -> str:
    """The characters of text in reverse order."""
    return text[::-1]
''',
        """/** The characters of text in reverse order (by code point, so emoji stay whole). */
export function reverseString(text) {
  return [...text].reverse().join("");
}
""",
        """/** The characters of text in reverse order (by code point, so emoji stay whole). */
export function reverseString(text: string): string {
  return [...text].reverse().join("");
}
""",
        ((("hello",), "olleh"), (("",), ""), (("ab c",), "c ba")),
        ("hello",),
    ),
    "sum": FunctionSpec(
        "sum_numbers",
        "sumNumbers",
        "adds up a list of numbers",
        '''def sum_numbers(numbers: list[float]) -> float:
    """The sum of numbers (0 for an empty list)."""
    total = 0
    for number in numbers:
        total += number
    return total
''',
        """/** The sum of numbers (0 for an empty array). */
export function sumNumbers(numbers) {
  let total = 0;
  for (const number of numbers) total += number;
  return total;
}
""",
        """/** The sum of numbers (0 for an empty array). */
export function sumNumbers(numbers: readonly number[]): number {
  let total = 0;
  for (const number of numbers) total += number;
  return total;
}
""",
        ((([1, 2, 3],), 6), (([],), 0), (([-1, 1, 10],), 10)),
        ([1, 2, 3, 4],),
    ),
}


def _py(value: Any) -> str:
    return repr(value)


def _js(value: Any) -> str:
    """A JSON literal; for the ASCII strings of these templates, also a Python string literal."""
    return json.dumps(value)


def _python_example(spec: FunctionSpec) -> tuple[str, str]:
    """(the call the program prints, the line it prints)."""
    call = f"{spec.py_name}({', '.join(_py(a) for a in spec.sample)})"
    return call, f"{call} = {_py(_expected(spec))}"


def _js_example(spec: FunctionSpec) -> tuple[str, str]:
    call = f"{spec.js_name}({', '.join(_js(a) for a in spec.sample)})"
    return call, f"{call} = {_js(_expected(spec))}"


def _expected(spec: FunctionSpec) -> Any:
    """What the function answers for the sample (one of its checks, or the known value)."""
    for args, expected in spec.checks:
        if args == spec.sample:
            return expected
    return _SAMPLE_RESULTS[spec.py_name]


# Samples that are not among the checks.
_SAMPLE_RESULTS: dict[str, Any] = {"sum_numbers": 10}


def _python_source(spec: FunctionSpec) -> str:
    call, _ = _python_example(spec)
    return (
        f'"""{spec.py_name}: {spec.description}."""\n\n\n'
        f"{spec.python}\n\n"
        'if __name__ == "__main__":\n'
        f"    print({_js(call + ' =')}, repr({call}))\n"
    )


def _python_test(spec: FunctionSpec, path: str) -> str:
    module = module_stem(path)
    cases = "\n".join(f"        ({_py(args)}, {_py(expected)})," for args, expected in spec.checks)
    _, line = _python_example(spec)
    invalid = ""
    if spec.invalid is not None:
        invalid = (
            f"\n\ndef test_{spec.py_name}_refuses_invalid_input():\n"
            "    with pytest.raises(ValueError):\n"
            f"        {spec.py_name}({', '.join(_py(a) for a in spec.invalid)})\n"
        )
    return (
        f'"""Tests of {posixpath.basename(path)}: run them with `python3 -m pytest`."""\n\n'
        "import subprocess\n"
        "import sys\n"
        "from pathlib import Path\n\n"
        "import pytest\n\n"
        f"from {module} import {spec.py_name}\n\n"
        f"PROGRAM = Path(__file__).with_name({_js(posixpath.basename(path))})\n\n\n"
        "@pytest.mark.parametrize(\n"
        '    ("args", "expected"),\n'
        "    [\n"
        f"{cases}\n"
        "    ],\n"
        ")\n"
        f"def test_{spec.py_name}(args, expected):\n"
        f"    assert {spec.py_name}(*args) == expected\n"
        f"{invalid}\n\n"
        "def test_running_the_program_prints_an_example():\n"
        "    done = subprocess.run([sys.executable, str(PROGRAM)], capture_output=True, text=True, timeout=60, check=False)\n"
        "    assert done.returncode == 0, done.stderr\n"
        f"    assert done.stdout == {_js(line + chr(10))}\n"
    )


def _node_source(spec: FunctionSpec, language: str, path: str) -> str:
    call, _ = _js_example(spec)
    body = spec.typescript if language == "typescript" else spec.javascript
    return (
        f"// {spec.js_name}: {spec.description}.\n"
        f"{RUN_DIRECTLY_IMPORTS}\n"
        f"{body}"
        f"{run_directly(language, posixpath.basename(path))}\n"
        f"if (runDirectly()) console.log({_js(call + ' =')}, JSON.stringify({call}));\n"
    )


def _node_test(spec: FunctionSpec, path: str) -> str:
    name = posixpath.basename(path)
    checks = []
    for args, expected in spec.checks:
        call = f"{spec.js_name}({', '.join(_js(a) for a in args)})"
        checks.append(
            f"test({_js(f'{call} is {_js(expected)}')}, () => {{\n"
            f"  assert.deepEqual({call}, {_js(expected)});\n"
            "});\n"
        )
    if spec.invalid is not None:
        call = f"{spec.js_name}({', '.join(_js(a) for a in spec.invalid)})"
        checks.append(
            f"test({_js(f'{call} throws a RangeError')}, () => {{\n"
            f"  assert.throws(() => {call}, RangeError);\n"
            "});\n"
        )
    _, line = _js_example(spec)
    checks.append(
        'test("running the program prints an example", () => {\n'
        '  const done = spawnSync(process.execPath, [program], { encoding: "utf8" });\n'
        "  assert.equal(done.status, 0, done.stderr);\n"
        f"  assert.equal(done.stdout, {_js(line + chr(10))});\n"
        "});\n"
    )
    return (
        f"// Tests of {name}: run them with `node --test`.\n"
        'import assert from "node:assert/strict";\n'
        'import { spawnSync } from "node:child_process";\n'
        'import { test } from "node:test";\n'
        'import { fileURLToPath } from "node:url";\n'
        f'import {{ {spec.js_name} }} from "./{name}";\n\n'
        f'const program = fileURLToPath(new URL("./{name}", import.meta.url));\n\n'
        + "\n".join(checks)
    )


def function_program(language: str, spec: FunctionSpec, requested_entry: str) -> Program:
    if language == "python":
        path = python_entry(requested_entry)
        files = [
            SourceFile(path, "python", _python_source(spec)),
            SourceFile(sibling(path, f"test_{module_stem(path)}.py"), "python", _python_test(spec, path)),
        ]
        name, run, test = spec.py_name, f"python3 {path}", "`python3 -m pytest`"
    else:
        ext = "ts" if language == "typescript" else "js"
        path = node_entry(requested_entry, language)
        files = [
            SourceFile(path, language, _node_source(spec, language, path)),
            SourceFile(sibling(path, f"{module_stem(path)}.test.{ext}"), language, _node_test(spec, path)),
            *project_files(spec.js_name.lower(), path, language),
        ]
        name, run, test = spec.js_name, f"node {path}", "`node --test`"
    return Program(
        intro=INTRO + f"a {language_label(language)} function `{name}` that {spec.description}, with its tests.",
        files=files,
        outro=f"Run it with `{run}` (it prints an example); test it with {test}.",
    )
