"""Every Python, JavaScript and TypeScript template renders its program with tests that follow the
conventions of docs/generation-format.md. (The tests themselves run in the end-to-end tests, in
the sandbox image: `python3 -m tests.template_cases DIR` writes them all out.)"""

from __future__ import annotations

import json
import posixpath
import re
import unittest

from atomic_agent.protocol import Requirements
from atomic_agent.templates import build_program

from .support import split_files
from .template_cases import PROMPTS, cases, render

PYTHON_TEST = re.compile(r"(^|/)(test_[^/]*|[^/]*_test)\.py$")
NODE_TEST = re.compile(r"(^|/)[^/]*\.test\.(js|ts)$")
RELATIVE_IMPORT = re.compile(r'^import .* from "(\.[^"]*)";$', re.M)


class TemplateTestsTest(unittest.TestCase):
    def test_every_kind_in_every_language_is_covered(self) -> None:
        names = {name for name, *_ in cases()}
        for kind in PROMPTS:
            for ext in ("py", "js", "ts"):
                self.assertIn(f"{kind}-{ext}", names)
        self.assertIn("rest-express-ts", names)

    def test_every_template_has_tests_that_import_its_code(self) -> None:
        for name, prompt, language, framework, entry in cases():
            with self.subTest(name=name):
                text = render(prompt, language, framework, entry)
                files = split_files(text)
                program = build_program(prompt, Requirements(language, framework, entry, prompt))
                self.assertEqual(list(files), [source.path for source in program.files], "every file is fenced with its path")
                self.assertIn(entry, files)
                if language == "python":
                    self.check_python(files, entry)
                else:
                    self.check_node(files, entry, language, express=framework == "express")

    def check_python(self, files: dict[str, str], entry: str) -> None:
        tests = [path for path in files if PYTHON_TEST.search(path)]
        self.assertTrue(tests, "pytest finds test files")
        module = posixpath.splitext(posixpath.basename(entry))[0]
        for path in tests:
            self.assertEqual(posixpath.dirname(path), posixpath.dirname(entry), "tests sit next to the code")
            self.assertRegex(files[path], rf"(?m)^from {module} import |^import {module}$")
            self.assertRegex(files[path], r"(?m)^def test_")
        self.assertIn('if __name__ == "__main__":', files[entry], "importing the program starts nothing")

    def check_node(self, files: dict[str, str], entry: str, language: str, express: bool) -> None:
        ext = "ts" if language == "typescript" else "js"
        tests = [path for path in files if NODE_TEST.search(path)]
        self.assertTrue(tests, "node --test finds test files")
        package = json.loads(files["package.json"])
        self.assertEqual(package["type"], "module")
        self.assertEqual(package["scripts"]["test"], "node --test")
        if language == "typescript":
            self.assertEqual(json.loads(files["tsconfig.json"])["compilerOptions"]["allowImportingTsExtensions"], True)
        for path, content in files.items():
            if not path.endswith("." + ext):
                continue
            for target in RELATIVE_IMPORT.findall(content):
                self.assertTrue(target.endswith("." + ext), f"{path} imports {target} with its extension")
                self.assertIn(posixpath.normpath(posixpath.join(posixpath.dirname(path), target)), files)
            if language == "typescript":
                self.assertNotRegex(content, r"\benum\b|\bnamespace\b|constructor\(\s*(private|public|protected|readonly)")
                for line in re.findall(r'^import \{[^}]*\} from "express";$', content, re.M):
                    self.fail(f"{path}: types from express need `import type`: {line}")
        for path in tests:
            self.assertIn('from "node:test"', files[path])
            self.assertIn('from "node:assert/strict"', files[path])
            self.assertRegex(files[path], r'from "\./')
        # Starting anything is up to the entry file, and only when node runs it.
        for path, content in files.items():
            if path.endswith("." + ext) and path != entry:
                self.assertNotIn(".listen(port", content)
        self.assertIn("if (runDirectly())", files[entry])
        if express:
            self.assertIn("supertest", package["devDependencies"])
            self.assertTrue(any('import request from "supertest";' in files[path] for path in tests))
        else:
            self.assertNotIn("dependencies", package)

    def test_the_seeds_example_is_an_express_app_in_typescript_tested_with_supertest(self) -> None:
        files = split_files(render("Create a REST API for user management", "typescript", "express", "main.ts"))
        self.assertEqual(list(files), ["app.ts", "main.ts", "app.test.ts", "package.json", "tsconfig.json"])
        self.assertIn("export function createApp(): Express", files["app.ts"])
        self.assertIn('import type { Express, NextFunction, Request, Response } from "express";', files["app.ts"])
        self.assertIn('import { createApp } from "./app.ts";', files["main.ts"])
        self.assertIn('import { createApp, validate } from "./app.ts";', files["app.test.ts"])
        package = json.loads(files["package.json"])
        self.assertEqual(package["dependencies"], {"express": "^5.1.0"})
        self.assertEqual(
            sorted(package["devDependencies"]), ["@types/express", "@types/node", "@types/supertest", "supertest", "typescript"]
        )

    def test_entry_files_tests_would_mistake_for_tests_or_modules_fall_back(self) -> None:
        cases_ = [
            ("python", "test_app.py", "main.py"),
            ("python", "json.py", "main.py"),
            ("python", "my-app.py", "main.py"),
            ("python", "src/wc.py", "src/wc.py"),
            ("javascript", "main.test.js", "main.js"),
            ("javascript", "test/main.js", "main.js"),
            ("typescript", "src/server.ts", "src/server.ts"),
        ]
        for language, requested, expected in cases_:
            with self.subTest(requested=requested):
                files = split_files(render("Hello World", language, None, requested))
                self.assertEqual(next(iter(files)), expected)


if __name__ == "__main__":
    unittest.main()
