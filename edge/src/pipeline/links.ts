import type { PipelineLinks } from "../../../shared/src/index.ts";

/** Where a pipeline and its artifacts live, as paths on this edge (clients resolve them against its origin). */
export function pipelineLinks(id: string): PipelineLinks {
  const base = `/api/pipelines/${encodeURIComponent(id)}`;
  return {
    self: base,
    events_ws: `/ws/pipelines/${encodeURIComponent(id)}`,
    events_sse: `${base}/events`,
    cancel: `${base}/cancel`,
    artifacts: `${base}/artifacts`,
  };
}

export function artifactFileUrl(id: string, path: string): string {
  return `/api/pipelines/${encodeURIComponent(id)}/artifacts/${path.split("/").map(encodeURIComponent).join("/")}`;
}

/** R2 keys of one pipeline's artifacts. */
export const artifactKeys = {
  prefix: (id: string) => `pipelines/${id}/`,
  manifest: (id: string) => `pipelines/${id}/manifest.json`,
  bundle: (id: string) => `pipelines/${id}/bundle.tar`,
  file: (id: string, path: string) => `pipelines/${id}/files/${path}`,
};
