/**
 * A small HTTP client for load: node:http over keep-alive connections (cheaper per request than
 * fetch, so the client takes less of the machine's CPU from the stack it measures).
 */
import http from "node:http";

export interface HttpAnswer {
  /** The status, or 0 when the request failed without one (see `error`). */
  status: number;
  body: string;
  /** Milliseconds from sending to the end of the body. */
  ms: number;
  /** When it ended, on performance.now()'s clock. */
  endedAt: number;
  error?: string;
}

export class HttpClient {
  readonly #agent: http.Agent;
  readonly #base: URL;

  constructor(baseUrl: string) {
    this.#base = new URL(baseUrl);
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024 });
  }

  get(path: string): Promise<HttpAnswer> {
    return this.#request("GET", path, undefined);
  }

  post(path: string, body: unknown): Promise<HttpAnswer> {
    return this.#request("POST", path, JSON.stringify(body));
  }

  #request(method: string, path: string, body: string | undefined): Promise<HttpAnswer> {
    const started = performance.now();
    return new Promise((resolve) => {
      const headers: Record<string, string | number> = {};
      if (body !== undefined) {
        headers["Content-Type"] = "application/json";
        headers["Content-Length"] = Buffer.byteLength(body);
      }
      const request = http.request(
        {
          host: this.#base.hostname,
          port: this.#base.port,
          path,
          method,
          headers,
          agent: this.#agent,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            const endedAt = performance.now();
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks).toString("utf8"),
              ms: endedAt - started,
              endedAt,
            });
          });
          response.on("error", (error: NodeJS.ErrnoException) => {
            const endedAt = performance.now();
            resolve({ status: 0, body: "", ms: endedAt - started, endedAt, error: error.code ?? error.message });
          });
        },
      );
      request.on("error", (error: NodeJS.ErrnoException) => {
        const endedAt = performance.now();
        resolve({ status: 0, body: "", ms: endedAt - started, endedAt, error: error.code ?? error.message });
      });
      request.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** Parses a JSON body; null when it is not JSON. */
export function jsonOf(answer: HttpAnswer): unknown {
  try {
    return JSON.parse(answer.body) as unknown;
  } catch {
    return null;
  }
}

/** How a failed answer is counted: its status, or the network error. */
export function errorKey(answer: HttpAnswer): string {
  return answer.status === 0 ? `network:${answer.error ?? "unknown"}` : String(answer.status);
}
