import { Hono } from "hono";
import type { Context } from "hono";
import { FINAL_STATES } from "../../../../shared/src/index.ts";
import type { ArtifactName } from "../../pipeline/artifact-store.ts";
import { artifactKeys } from "../../pipeline/links.ts";
import { safeRelativePath } from "../../pipeline/split-files.ts";
import { parseAfter } from "../after-param.ts";
import { PIPELINE_ID, type AppEnv } from "../context.ts";
import { ApiError } from "../errors.ts";
import { matchesEtag } from "../etag.ts";

export const pipelineRoutes = new Hono<AppEnv>();

function pipelineId(c: Context<AppEnv>): string {
  const id = c.req.param("id") ?? "";
  if (!PIPELINE_ID.test(id)) throw new ApiError("not_found", `no pipeline ${id}`);
  return id;
}

/**
 * Where an SSE stream resumes: the later of `?after` and `Last-Event-ID`. An EventSource keeps
 * its URL when it reconnects and sends the last id it saw, so the header is the newer of the two.
 */
function afterParam(c: Context<AppEnv>): number {
  const query = c.req.query("after");
  const header = c.req.header("Last-Event-ID");
  return Math.max(query === undefined ? 0 : parseAfter(query), header === undefined ? 0 : parseAfter(header));
}

/**
 * Throws 404 unless the pipeline exists and the caller may see it: another key's pipeline is "not
 * found" too, so an id is never confirmed to someone it does not belong to.
 */
async function requireAccess(c: Context<AppEnv>, id: string): Promise<void> {
  if (!(await c.env.PIPELINE.getByName(id).allows(c.get("caller"))))
    throw new ApiError("not_found", `no pipeline ${id}`);
}

/** `GET /api/pipelines/:id`: state, stage, progress, timings, result or error. */
pipelineRoutes.get("/api/pipelines/:id", async (c) => {
  const id = pipelineId(c);
  const view = await c.env.PIPELINE.getByName(id).view(c.get("caller"));
  if (!view) throw new ApiError("not_found", `no pipeline ${id}`);
  return c.json(view);
});

/** `POST /api/pipelines/:id/cancel`: cancels it, and its running job on the host. */
pipelineRoutes.post("/api/pipelines/:id/cancel", async (c) => {
  const id = pipelineId(c);
  const stub = c.env.PIPELINE.getByName(id);
  const before = await stub.view(c.get("caller"));
  if (!before) throw new ApiError("not_found", `no pipeline ${id}`);
  if (FINAL_STATES.has(before.state)) throw new ApiError("conflict", `pipeline ${id} already ended ${before.state}`);
  const view = await stub.cancel("cancelled by request");
  return c.json({ success: true, request_id: c.get("requestId"), pipeline_id: id, state: view?.state ?? "CANCELLED" });
});

/** `GET /api/pipelines/:id/events`: the event log as SSE, resumable with `Last-Event-ID` or `?after=`. */
pipelineRoutes.get("/api/pipelines/:id/events", async (c) => {
  const id = pipelineId(c);
  await requireAccess(c, id);
  const mode = c.req.query("mode") === "delta" ? "&mode=delta" : "";
  const response = await c.env.PIPELINE.getByName(id).fetch(`https://pipeline/sse?after=${afterParam(c)}${mode}`);
  if (response.status === 404) throw new ApiError("not_found", `no pipeline ${id}`);
  return new Response(response.body, { status: response.status, headers: response.headers });
});

/**
 * One of a pipeline's artifacts: from the pipeline's object when it holds the bytes, else from R2.
 * Throws 404 when the pipeline is not there (or not the caller's) and when the artifact is not.
 */
async function artifact(
  c: Context<AppEnv>,
  id: string,
  name: ArtifactName,
  missing: string,
): Promise<{ body: ReadableStream | Uint8Array<ArrayBuffer>; size: number; contentType: string; etag: string }> {
  const location = await c.env.PIPELINE.getByName(id).artifact(c.get("caller"), name);
  if (location === null) throw new ApiError("not_found", `no pipeline ${id}`);
  if (location.where === "here") {
    const { bytes, contentType, etag } = location.artifact;
    return { body: bytes, size: bytes.length, contentType, etag };
  }
  const key =
    name.kind === "file"
      ? artifactKeys.file(id, name.path)
      : name.kind === "bundle"
        ? artifactKeys.bundle(id)
        : artifactKeys.manifest(id);
  const object = location.where === "r2" ? await c.env.ARTIFACTS.get(key) : null;
  if (!object) throw new ApiError("not_found", missing);
  return {
    body: object.body,
    size: object.size,
    contentType: object.httpMetadata?.contentType ?? "application/octet-stream",
    etag: object.httpEtag,
  };
}

/** `GET /api/pipelines/:id/artifacts`: the manifest (or the tar bundle with `Accept: application/x-tar`). */
pipelineRoutes.get("/api/pipelines/:id/artifacts", async (c) => {
  const id = pipelineId(c);
  if ((c.req.header("Accept") ?? "").includes("application/x-tar")) return bundle(c, id);
  const manifest = await artifact(c, id, { kind: "manifest" }, `pipeline ${id} has no artifacts (yet)`);
  return new Response(manifest.body, { headers: { "Content-Type": "application/json; charset=utf-8" } });
});

/** `GET /api/pipelines/:id/artifacts.tar`: every file in one tar. */
pipelineRoutes.get("/api/pipelines/:id/artifacts.tar", async (c) => bundle(c, pipelineId(c)));

/** `GET /api/pipelines/:id/artifacts/<path>`: one file. */
pipelineRoutes.get("/api/pipelines/:id/artifacts/*", async (c) => {
  const id = pipelineId(c);
  const prefix = `/api/pipelines/${id}/artifacts/`;
  const raw = decodeURIComponent(new URL(c.req.url).pathname.slice(prefix.length));
  const path = safeRelativePath(raw);
  if (path === null) {
    await requireAccess(c, id);
    throw new ApiError("invalid_request", `not a file path inside the artifacts: ${raw}`);
  }
  const file = await artifact(c, id, { kind: "file", path }, `pipeline ${id} has no file ${path}`);
  if (matchesEtag(c.req.header("If-None-Match"), file.etag)) {
    if (file.body instanceof ReadableStream) await file.body.cancel();
    return new Response(null, { status: 304, headers: { ETag: file.etag } });
  }
  return new Response(file.body, {
    headers: { "Content-Type": file.contentType, "Content-Length": String(file.size), ETag: file.etag },
  });
});

async function bundle(c: Context<AppEnv>, id: string): Promise<Response> {
  const tar = await artifact(c, id, { kind: "bundle" }, `pipeline ${id} has no artifacts (yet)`);
  return new Response(tar.body, {
    headers: {
      "Content-Type": "application/x-tar",
      "Content-Length": String(tar.size),
      "Content-Disposition": `attachment; filename="${id}.tar"`,
    },
  });
}
