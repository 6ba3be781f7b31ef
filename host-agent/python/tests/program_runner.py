"""Runs generated programs: writes their files to a folder and starts them like a person would."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any

from atomic_agent.protocol import Requirements
from atomic_agent.templates import build_markdown

from .support import split_files

# Express is not installed on this machine (no registry access in tests), so the express templates
# run against this small stand-in that implements the part of express's API they use: routing
# with :params, express.json(), res.status/json/end, error middleware, app.listen.
EXPRESS_STAND_IN = r"""
import http from "node:http";

function compile(path) {
  const names = [];
  const source = path.replace(/:([A-Za-z_]+)/g, (_match, name) => {
    names.push(name);
    return "([^/]+)";
  });
  const regex = new RegExp(`^${source}/?$`);
  return (pathname) => {
    const match = regex.exec(pathname);
    if (!match) return null;
    return Object.fromEntries(names.map((name, index) => [name, decodeURIComponent(match[index + 1])]));
  };
}

function express() {
  const stack = [];
  const add = (method) => (path, ...handlers) => {
    for (const handler of handlers) stack.push({ method, match: compile(path), handler });
    return app;
  };
  function handle(req, res) {
    req.path = new URL(req.url, "http://localhost").pathname;
    res.status = (code) => {
      res.statusCode = code;
      return res;
    };
    res.json = (value) => {
      const body = JSON.stringify(value);
      res.setHeader("Content-Type", "application/json");
      res.setHeader("Content-Length", Buffer.byteLength(body));
      res.end(body);
      return res;
    };
    let index = 0;
    const next = (error) => {
      while (index < stack.length) {
        const layer = stack[index++];
        if (layer.method && layer.method !== req.method) continue;
        const params = layer.match ? layer.match(req.path) : {};
        if (!params) continue;
        const handlesErrors = layer.handler.length === 4;
        if ((error !== undefined) !== handlesErrors) continue;
        req.params = params;
        try {
          return handlesErrors ? layer.handler(error, req, res, next) : layer.handler(req, res, next);
        } catch (thrown) {
          return next(thrown);
        }
      }
      res.statusCode = error === undefined ? 404 : 500;
      res.end();
    };
    next();
  }
  const app = handle;
  app.get = add("GET");
  app.post = add("POST");
  app.put = add("PUT");
  app.delete = add("DELETE");
  app.use = (handler) => {
    stack.push({ method: null, match: null, handler });
    return app;
  };
  app.listen = (port, host, callback) => {
    const server = http.createServer(handle);
    server.listen(port, host, callback);
    return server;
  };
  return app;
}

express.json = () => (req, _res, next) => {
  if (!(req.headers["content-type"] ?? "").includes("application/json")) return next();
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const text = Buffer.concat(chunks).toString("utf8");
    if (text === "") return next();
    try {
      req.body = JSON.parse(text);
    } catch (error) {
      error.status = 400;
      return next(error);
    }
    next();
  });
};

export default express;
"""


def typescript_runner() -> list[str] | None:
    """How this machine's node runs a .ts file: type stripping is on by default from Node 22.18
    and 23.6, behind a flag from 22.6; older versions cannot run TypeScript at all (None)."""
    node = shutil.which("node")
    if node is None:
        return None
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    match = re.fullmatch(r"v(\d+)\.(\d+)\.\d+", version)
    if not match:
        return None
    major, minor = int(match.group(1)), int(match.group(2))
    if major >= 24 or (major == 23 and minor >= 6) or (major == 22 and minor >= 18):
        return [node]
    if major >= 23 or (major == 22 and minor >= 6):
        return [node, "--experimental-strip-types", "--no-warnings"]
    return None


def generate(prompt: str, language: str, framework: str | None = None) -> str:
    entry = {"python": "main.py", "typescript": "main.ts", "javascript": "main.js"}.get(language, "main.txt")
    return build_markdown(prompt, Requirements(language, framework, entry, prompt))


def write_files(markdown: str, folder: str) -> dict[str, str]:
    files = split_files(markdown)
    for path, content in files.items():
        full = os.path.join(folder, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as handle:
            handle.write(content)
    return files


def install_express_stand_in(folder: str) -> None:
    package = os.path.join(folder, "node_modules", "express")
    os.makedirs(package)
    with open(os.path.join(package, "package.json"), "w", encoding="utf-8") as handle:
        json.dump({"name": "express", "version": "0.0.0-test", "type": "module", "main": "index.js"}, handle)
    with open(os.path.join(package, "index.js"), "w", encoding="utf-8") as handle:
        handle.write(EXPRESS_STAND_IN)


def run(command: list[str], folder: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=folder, input=stdin, capture_output=True, text=True, timeout=60)


def call(base: str, method: str, path: str, body: Any = None, raw: bytes | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        return error.code, json.loads(text) if text else None


class Server:
    """A generated server started with PORT=0; its URL comes from its "Listening on" line."""

    def __init__(self, command: list[str], folder: str) -> None:
        env = {**os.environ, "PORT": "0", "HOST": "127.0.0.1"}
        self.proc = subprocess.Popen(
            command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the servers print it first, flushed
        match = re.search(r"Listening on (http://[\d.]+:\d+)", line)
        if not match:
            self.stop()
            raise AssertionError(f"the server did not say where it listens: {line!r}")
        self.url = match.group(1)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                call(self.url, "GET", "/health")
                break
            except OSError:
                time.sleep(0.05)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def temp_folder() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="atomic-generated-")
