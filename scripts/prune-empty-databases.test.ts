import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isEmptySqliteDatabase, pruneEmptyDatabases } from "./prune-empty-databases.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "atomic-prune-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A database file made by SQLite itself, closed, with `sql` run in it. */
function database(path: string, sql: string): string {
  const db = new DatabaseSync(path);
  db.exec(sql);
  db.close();
  return path;
}

const id = (n: number) => n.toString(16).padStart(64, "0");

describe("isEmptySqliteDatabase", () => {
  it("is true for a database whose tables were all dropped and that was vacuumed to one page", () => {
    const path = database(join(dir, "a.sqlite"), "CREATE TABLE t (x); INSERT INTO t VALUES (1); DROP TABLE t; VACUUM;");
    expect(readFileSync(path).length).toBe(4096);
    expect(isEmptySqliteDatabase(readFileSync(path))).toBe(true);
  });

  it("is false for a database that has a table, even an empty one on its first page", () => {
    const path = database(join(dir, "b.sqlite"), "CREATE TABLE t (x); VACUUM;");
    expect(isEmptySqliteDatabase(readFileSync(path))).toBe(false);
  });

  it("is false for a dropped table's pages not yet vacuumed away, and for what is not SQLite", () => {
    const path = database(
      join(dir, "c.sqlite"),
      "CREATE TABLE t (x); INSERT INTO t VALUES (zeroblob(9000)); DROP TABLE t;",
    );
    expect(isEmptySqliteDatabase(readFileSync(path))).toBe(false);
    expect(isEmptySqliteDatabase(new Uint8Array(4096))).toBe(false);
    expect(isEmptySqliteDatabase(new TextEncoder().encode("SQLite format 3"))).toBe(false);
  });
});

describe("pruneEmptyDatabases", () => {
  it("removes only closed, one-page, empty object databases, and leaves every other file", () => {
    const namespace = join(dir, "v3", "do", "atomic-orchestrator-PipelineDO");
    mkdirSync(namespace, { recursive: true });
    const empty = "CREATE TABLE t (x); DROP TABLE t; VACUUM;";
    database(join(namespace, `${id(1)}.sqlite`), empty);
    database(join(namespace, `${id(2)}.sqlite`), empty);
    database(join(namespace, `${id(3)}.sqlite`), "CREATE TABLE kept (x); INSERT INTO kept VALUES (1);");
    // Named as no object is: the namespace's own metadata.
    database(join(namespace, "metadata.sqlite"), empty);
    // One with a write-ahead log beside it, and one this process holds open.
    database(join(namespace, `${id(4)}.sqlite`), empty);
    writeFileSync(join(namespace, `${id(4)}.sqlite-wal`), "");
    database(join(namespace, `${id(5)}.sqlite`), empty);
    const held = new DatabaseSync(join(namespace, `${id(5)}.sqlite`), { readOnly: true });
    held.prepare("SELECT count(*) FROM sqlite_schema").get();
    try {
      const result = pruneEmptyDatabases(dir);
      expect(result).toEqual({ examined: 5, removed: 2, removedBytes: 8192 });
    } finally {
      held.close();
    }
    expect(readdirSync(namespace).sort()).toEqual(
      [`${id(3)}.sqlite`, `${id(4)}.sqlite`, `${id(4)}.sqlite-wal`, `${id(5)}.sqlite`, "metadata.sqlite"].sort(),
    );
  });

  it("does nothing where there is no state yet", () => {
    expect(pruneEmptyDatabases(join(dir, "nothing-here"))).toEqual({ examined: 0, removed: 0, removedBytes: 0 });
  });
});
