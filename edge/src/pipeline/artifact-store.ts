import { z } from "zod";
import type { ArtifactManifest } from "../../../shared/src/index.ts";
import { artifactKeys } from "./links.ts";

/** Which artifact of a pipeline: its manifest, its tar bundle, or one file by path. */
export type ArtifactName = { kind: "manifest" } | { kind: "bundle" } | { kind: "file"; path: string };

/** An artifact as it is served. */
export interface StoredArtifact {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
  /** A strong entity tag, quoted. */
  etag: string;
}

/** Where an artifact is: here (with its bytes), in the R2 bucket under its key, or nowhere (yet). */
export type ArtifactLocation = { where: "here"; artifact: StoredArtifact } | { where: "r2" } | { where: "none" };

/** One file of the program as packaging wrote it. */
export interface PackagedFile {
  path: string;
  bytes: Uint8Array;
  sha256: string;
}

/** How `save` stored a pipeline's artifacts. */
export type ArtifactPlacement = "here" | "r2";

/** An artifact's row as read back: a body of null means the bytes are in R2. */
const ArtifactRow = z.object({
  body: z.instanceof(ArrayBuffer).nullable(),
  content_type: z.string(),
  etag: z.string(),
});

const FILE_TYPE = "text/plain; charset=utf-8";
const BUNDLE_TYPE = "application/x-tar";
const MANIFEST_TYPE = "application/json; charset=utf-8";

function rowName(name: ArtifactName): string {
  return name.kind === "file" ? `files/${name.path}` : name.kind;
}

/**
 * A pipeline's artifacts: in its own object's SQLite when the bundle is at most `inlineMaxBytes`
 * (`ATOMIC_ARTIFACTS_INLINE_MAX_BYTES`), else in the R2 bucket as one object each.
 *
 * Most programs are a few kilobytes, and each R2 object is a write of its own (and, in the local
 * runtime, a request through the bucket's simulator, a SQLite commit and a file); rows here are
 * written in the same commit, read by the object that checks access anyway, and go with its
 * storage at retention. The table has one row per artifact either way; an R2 artifact's row has
 * no body and says only that it is there, so the clean-up knows whether to ask R2 at all.
 */
export class ArtifactStore {
  readonly #storage: DurableObjectStorage;
  readonly #bucket: R2Bucket;
  readonly #inlineMaxBytes: number;

  constructor(storage: DurableObjectStorage, bucket: R2Bucket, inlineMaxBytes: number) {
    this.#storage = storage;
    this.#bucket = bucket;
    this.#inlineMaxBytes = inlineMaxBytes;
  }

  /**
   * Stores the files, the bundle and the manifest. The manifest goes last, so a manifest that can
   * be read always names files that can be read.
   */
  async save(
    id: string,
    files: readonly PackagedFile[],
    bundle: Uint8Array,
    manifest: ArtifactManifest,
  ): Promise<ArtifactPlacement> {
    const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest));
    const bundleEtag = quoted(manifest.bundle.sha256);
    const manifestEtag = quoted(`${manifest.bundle.sha256}-manifest`);
    if (bundle.length <= this.#inlineMaxBytes) {
      this.#storage.transactionSync(() => {
        this.#create();
        for (const file of files)
          this.#put(rowName({ kind: "file", path: file.path }), file.bytes, FILE_TYPE, quoted(file.sha256));
        this.#put("bundle", bundle, BUNDLE_TYPE, bundleEtag);
        this.#put("manifest", manifestBytes, MANIFEST_TYPE, manifestEtag);
      });
      return "here";
    }
    // Recorded first: should the object go down between the uploads, its clean-up still looks in R2.
    this.#storage.transactionSync(() => {
      this.#create();
      for (const file of files)
        this.#put(rowName({ kind: "file", path: file.path }), null, FILE_TYPE, quoted(file.sha256));
      this.#put("bundle", null, BUNDLE_TYPE, bundleEtag);
    });
    // The uploads are independent: issued together, not one round trip after another.
    await Promise.all([
      ...files.map((file) =>
        this.#bucket.put(artifactKeys.file(id, file.path), file.bytes, {
          httpMetadata: { contentType: FILE_TYPE },
          sha256: file.sha256,
        }),
      ),
      this.#bucket.put(artifactKeys.bundle(id), bundle, { httpMetadata: { contentType: BUNDLE_TYPE } }),
    ]);
    await this.#bucket.put(artifactKeys.manifest(id), manifestBytes, { httpMetadata: { contentType: MANIFEST_TYPE } });
    this.#storage.transactionSync(() => this.#put("manifest", null, MANIFEST_TYPE, manifestEtag));
    return "r2";
  }

  /**
   * Where `name` is; its bytes when they are here. `packagedBefore` says the pipeline was packaged
   * by an edge that kept every artifact in R2 and had no table for them.
   */
  locate(name: ArtifactName, packagedBefore: boolean): ArtifactLocation {
    if (!this.#exists()) return packagedBefore ? { where: "r2" } : { where: "none" };
    const found = this.#storage.sql
      .exec("SELECT body, content_type, etag FROM artifact WHERE name = ?", rowName(name))
      .toArray()[0];
    if (!found) return { where: "none" };
    const row = ArtifactRow.parse(found);
    if (row.body === null) return { where: "r2" };
    return {
      where: "here",
      artifact: { bytes: new Uint8Array(row.body), contentType: row.content_type, etag: row.etag },
    };
  }

  /**
   * Deletes what this pipeline put in R2 (its rows go with the object's storage). `packagedBefore`
   * as for {@link locate}.
   */
  async purgeRemote(id: string, packagedBefore: boolean): Promise<void> {
    const remote = this.#exists()
      ? this.#storage.sql.exec("SELECT 1 FROM artifact WHERE body IS NULL LIMIT 1").toArray().length > 0
      : packagedBefore;
    if (!remote) return;
    // Listed rather than named: an upload that was cut short may have left any of them.
    const listed = await this.#bucket.list({ prefix: artifactKeys.prefix(id) });
    if (listed.objects.length > 0) await this.#bucket.delete(listed.objects.map((object) => object.key));
  }

  #put(name: string, body: Uint8Array | null, contentType: string, etag: string): void {
    this.#storage.sql.exec(
      "INSERT OR REPLACE INTO artifact (name, body, content_type, etag) VALUES (?, ?, ?, ?)",
      name,
      body,
      contentType,
      etag,
    );
  }

  #exists(): boolean {
    return (
      this.#storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'artifact'").toArray()
        .length > 0
    );
  }

  #create(): void {
    this.#storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS artifact (name TEXT PRIMARY KEY, body BLOB, content_type TEXT NOT NULL, etag TEXT NOT NULL)",
    );
  }
}

function quoted(tag: string): string {
  return `"${tag}"`;
}
