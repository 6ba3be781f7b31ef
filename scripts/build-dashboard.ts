/**
 * The dashboard's static assets in dashboard/dist, served by the Worker (wrangler.toml's [assets]):
 * esbuild bundles dashboard/src/main.tsx into app.js; index.html, app.css and _headers are copied.
 *
 * wrangler runs this before every `wrangler dev` and deploy, and the tests start many wranglers at
 * once, so builds race each other: a file is replaced only when its bytes change, and through a
 * temporary file and a rename, so a reader never sees half a file and an unchanged build leaves
 * every file (and wrangler's watcher) alone.
 */
import { build, type Plugin } from "esbuild";
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as zod from "zod";

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
writeIfChanged("app.js", script.contents);
for (const name of ["index.html", "app.css", "_headers"]) writeIfChanged(name, readFileSync(join(source, name)));
