import { ArtifactManifest } from "../../shared/src/protocol/api.ts";
import { RETRY_IDEMPOTENT, type Transport } from "./transport.ts";

interface Options {
  signal?: AbortSignal | undefined;
}

function base(id: string): string {
  return `api/pipelines/${encodeURIComponent(id)}/artifacts`;
}

/** `client.artifacts`: what a pipeline packaged. */
export class Artifacts {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** The manifest: each file's path, size, sha256 and language, the bundle, and the verification verdict. */
  async manifest(id: string, options: Options = {}): Promise<ArtifactManifest> {
    return this.#transport.json(base(id), ArtifactManifest, {
      signal: options.signal,
      retry: RETRY_IDEMPOTENT,
      idempotent: true,
    });
  }

  /** One file's bytes (`path` as the manifest names it). */
  async file(id: string, path: string, options: Options = {}): Promise<Uint8Array> {
    const encoded = path.split("/").map(encodeURIComponent).join("/");
    const response = await this.#transport.call(`${base(id)}/${encoded}`, {
      signal: options.signal,
      headers: { Accept: "*/*" },
      retry: RETRY_IDEMPOTENT,
      idempotent: true,
    });
    return new Uint8Array(await response.arrayBuffer());
  }

  /** Every file in one tar (and `.atomic/verification.json` for a verified pipeline), as a stream. */
  async tar(id: string, options: Options = {}): Promise<ReadableStream<Uint8Array>> {
    const response = await this.#transport.call(`${base(id)}.tar`, {
      signal: options.signal,
      headers: { Accept: "application/x-tar" },
      retry: RETRY_IDEMPOTENT,
      idempotent: true,
      timeout: false,
    });
    if (!response.body) return new Blob([]).stream();
    return response.body;
  }
}
