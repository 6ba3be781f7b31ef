/**
 * The dashboard, built for the Worker to serve (edge/src/dashboard/): esbuild bundles
 * dashboard/src/main.tsx into app.js, and dashboard/dist/files.json holds it with index.html and
 * app.css, each with its content type and ETag. wrangler.toml aliases `atomic-dashboard-files` to
 * that file, so the Worker's bundle carries the page and no asset server sits in front of the API.
 *
 * wrangler runs this before every `wrangler dev` and deploy, and the tests start many wranglers at
 * once, so builds race each other: the file is replaced only when its bytes change, and through a
 * temporary file and a rename, so a reader never sees half a file and an unchanged build leaves
 * it (and wrangler's watcher) alone.
 */
import { build, type Plugin } from "esbuild";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as zod from "zod";
import type { DashboardFile } from "../edge/src/dashboard/dashboard-file.ts";

const ROOT = resolve(import.meta.dirname, "..");
const source = join(ROOT, "dashboard", "src");
const dist = join(ROOT, "dashboard", "dist");

function writeIfChanged(name: string, bytes: Uint8Array): void {
  const target = join(dist, name);
  let current: Buffer | null = null;
  try {
    current = readFileSync(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  if (current !== null && Buffer.compare(current, bytes) === 0) return;
  const temporary = `${target}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(temporary, bytes);
  renameSync(temporary, target);
}

/** Every `z.<name>` the browser code and the modules it imports name, that zod has at run time. */
function zodMembers(): string[] {
  const names = new Set<string>();
  for (const folder of ["dashboard/src", "sdk/src", "shared/src"]) {
    for (const entry of readdirSync(join(ROOT, folder), { recursive: true, encoding: "utf8" })) {
      if (!/\.tsx?$/.test(entry)) continue;
      for (const match of readFileSync(join(ROOT, folder, entry), "utf8").matchAll(/\bz\.([A-Za-z_$][\w$]*)/g)) {
        const name = match[1];
        if (name !== undefined && name in zod) names.add(name);
      }
    }
  }
  return [...names].sort();
}

/**
 * `import { z } from "zod"` makes esbuild keep every member of the `z` namespace, its locales in
 * dozens of languages and the JSON Schema converters included: about 300 KB the page never runs.
 * The bundle gets a `z` holding only the members the code names instead.
 */
const leanZod: Plugin = {
  name: "lean-zod",
  setup(context) {
    context.onResolve({ filter: /^zod$/ }, (args) =>
      args.namespace === "lean-zod" ? undefined : { path: "zod", namespace: "lean-zod" },
    );
    context.onLoad({ filter: /.*/, namespace: "lean-zod" }, () => {
      const members = zodMembers();
      const imports = members.map((name, index) => `${name} as m${index}`).join(", ");
      const fields = members.map((name, index) => `${JSON.stringify(name)}: m${index}`).join(", ");
      return {
        contents: `import { ${imports} } from "zod";\nexport const z = { ${fields} };\n`,
        resolveDir: ROOT,
        loader: "js",
      };
    });
  },
};

const bundle = await build({
  entryPoints: [join(source, "main.tsx")],
  bundle: true,
  write: false,
  outfile: join(dist, "app.js"),
  format: "esm",
  platform: "browser",
  target: "es2022",
  jsx: "automatic",
  jsxImportSource: "preact",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
  plugins: [leanZod],
});

mkdirSync(dist, { recursive: true });
const [script] = bundle.outputFiles;
if (script === undefined) throw new Error("esbuild wrote no app.js");

/** A file of the page as the Worker serves it: the ETag is the first 128 bits of its sha256. */
function served(contentType: string, bytes: Uint8Array): DashboardFile {
  const digest = createHash("sha256").update(bytes).digest("hex").slice(0, 32);
  return {
    content_type: contentType,
    etag: `"${digest}"`,
    body: new TextDecoder("utf-8", { fatal: true }).decode(bytes),
  };
}

const files = {
  "/": served("text/html; charset=utf-8", readFileSync(join(source, "index.html"))),
  "/app.js": served("text/javascript; charset=utf-8", script.contents),
  "/app.css": served("text/css; charset=utf-8", readFileSync(join(source, "app.css"))),
};
writeIfChanged("files.json", new TextEncoder().encode(`${JSON.stringify(files)}\n`));
