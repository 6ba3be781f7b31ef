"""Small named functions with a self-check, in Python, JavaScript and TypeScript."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .common import INTRO, Program, SourceFile, entry_path, language_label


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
    return json.dumps(value)


def _python_source(spec: FunctionSpec) -> str:
    call = lambda args: f"{spec.py_name}({', '.join(_py(a) for a in args)})"  # noqa: E731
    checks = "\n".join(
        f"    assert {call(args)} == {_py(expected)}, {_py(call(args) + ' should be ' + _py(expected))}"
        for args, expected in spec.checks
    )
    sample = call(spec.sample)
    return (
        f'"""{spec.py_name}: {spec.description}, with a self-check that runs first."""\n\n\n'
        f"{spec.python}\n\n"
        f"def self_check() -> None:\n{checks}\n\n\n"
        'if __name__ == "__main__":\n'
        "    self_check()\n"
        f'    print("{sample.replace(chr(34), chr(92) + chr(34))} =", repr({sample}))\n'
        '    print("all checks passed")\n'
    )


def _node_source(spec: FunctionSpec, typescript: bool) -> str:
    call = lambda args: f"{spec.js_name}({', '.join(_js(a) for a in args)})"  # noqa: E731
    checks = "\n".join(f"  assert.deepEqual({call(args)}, {_js(expected)});" for args, expected in spec.checks)
    sample = call(spec.sample)
    body = spec.typescript if typescript else spec.javascript
    void = ": void" if typescript else ""
    return (
        f"// {spec.js_name}: {spec.description}, with a self-check that runs first.\n"
        'import assert from "node:assert/strict";\n\n'
        f"{body}\n"
        f"function selfCheck(){void} {{\n{checks}\n}}\n\n"
        "selfCheck();\n"
        f"console.log({_js(sample + ' =')}, JSON.stringify({sample}));\n"
        'console.log("all checks passed");\n'
    )


def function_program(language: str, spec: FunctionSpec, requested_entry: str) -> Program:
    if language == "python":
        path = entry_path(requested_entry, "python", "main.py")
        source, name, run = _python_source(spec), spec.py_name, f"python3 {path}"
    else:
        ext = "ts" if language == "typescript" else "js"
        path = entry_path(requested_entry, language, f"main.{ext}")
        source, name, run = _node_source(spec, language == "typescript"), spec.js_name, f"node {path}"
    return Program(
        intro=INTRO + f"a {language_label(language)} function `{name}` that {spec.description}, with a self-check.",
        files=[SourceFile(path, language, source)],
        outro=f"Run it with `{run}`: it checks the function, then prints an example.",
    )
