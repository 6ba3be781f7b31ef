"""What every JavaScript and TypeScript template carries besides its code: package.json (ES
modules, `npm test` = `node --test`), tsconfig.json for TypeScript, and the check that runs a file's
program only when node was started with that file, never when a test imports it."""

from __future__ import annotations

import json

from .common import SourceFile

# Node >= 22.18 runs .ts files itself (type stripping) and `node --test` finds *.test.ts files.
NODE_ENGINES = {"javascript": ">=22", "typescript": ">=22.18"}

# The sandbox's default for a program without a tsconfig.json is the same: strict, nodenext, imports
# with their .ts extension. verbatimModuleSyntax makes type-only imports say so (`import type`),
# which type stripping needs; erasableSyntaxOnly refuses what it cannot run (enums, namespaces,
# parameter properties).
TSCONFIG = """{
  "compilerOptions": {
    "target": "esnext",
    "module": "nodenext",
    "strict": true,
    "noEmit": true,
    "allowImportingTsExtensions": true,
    "verbatimModuleSyntax": true,
    "erasableSyntaxOnly": true,
    "types": ["node"],
    "skipLibCheck": true
  }
}
"""

_RUN_DIRECTLY = {
    "javascript": """
/** True when node was started with this file (`node __FILE__`), false when a test imports it. */
function runDirectly() {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}
""",
    "typescript": """
/** True when node was started with this file (`node __FILE__`), false when a test imports it. */
function runDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}
""",
}
RUN_DIRECTLY_IMPORTS = 'import { realpathSync } from "node:fs";\nimport { fileURLToPath } from "node:url";\n'


def run_directly(language: str, file_name: str) -> str:
    """The `runDirectly()` function (it needs RUN_DIRECTLY_IMPORTS)."""
    return _RUN_DIRECTLY[language].replace("__FILE__", file_name)


def package_json(name: str, entry: str, language: str, *, express: bool = False) -> SourceFile:
    typescript = language == "typescript"
    scripts = {"start": f"node {entry}", "test": "node --test"}
    if typescript:
        scripts["typecheck"] = "tsc"
    package: dict[str, object] = {
        "name": name,
        "version": "1.0.0",
        "private": True,
        "type": "module",
        "scripts": scripts,
        "engines": {"node": NODE_ENGINES[language]},
    }
    if express:
        package["dependencies"] = {"express": "^5.1.0"}
    dev: dict[str, str] = {}
    if express:
        dev["supertest"] = "^7.1.0"
    if typescript:
        dev.update({"@types/node": "^24.0.0", "typescript": "^6.0.0"})
        if express:
            dev.update({"@types/express": "^5.0.0", "@types/supertest": "^7.0.0"})
    if dev:
        package["devDependencies"] = dict(sorted(dev.items()))
    return SourceFile("package.json", "json", json.dumps(package, indent=2) + "\n")


def project_files(name: str, entry: str, language: str, *, express: bool = False) -> list[SourceFile]:
    """package.json, and tsconfig.json for TypeScript."""
    files = [package_json(name, entry, language, express=express)]
    if language == "typescript":
        files.append(SourceFile("tsconfig.json", "json", TSCONFIG))
    return files


def test_command(language: str) -> str:
    return "npx tsc && node --test" if language == "typescript" else "node --test"
