import { createServer, connect, type Server, type Socket } from "node:net";

type Pair = [client: Socket, upstream: Socket];

/**
 * A TCP proxy between a client and the edge that a test can cut (both sockets destroyed) or
 * stall (nothing forwarded, nothing closed), as a flaky network would.
 */
export class TcpProxy {
  readonly url: string;
  readonly #server: Server;
  readonly #live: Set<Pair>;
  readonly #stalled: Pair[] = [];
  readonly #accepted: { count: number };

  private constructor(server: Server, port: number, live: Set<Pair>, accepted: { count: number }) {
    this.#server = server;
    this.#live = live;
    this.#accepted = accepted;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Connections accepted so far. */
  get connections(): number {
    return this.#accepted.count;
  }

  static async start(target: string): Promise<TcpProxy> {
    const { hostname, port } = new URL(target);
    const live = new Set<Pair>();
    const accepted = { count: 0 };
    const server = createServer((client) => {
      const upstream = connect(Number(port), hostname);
      const pair: Pair = [client, upstream];
      live.add(pair);
      accepted.count++;
      client.pipe(upstream);
      upstream.pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        live.delete(pair);
      };
      client.on("error", drop).on("close", drop);
      upstream.on("error", drop).on("close", drop);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("the proxy has no port");
    return new TcpProxy(server, address.port, live, accepted);
  }

  /** Destroys every open connection, as a dropped network does. */
  cut(): void {
    for (const [client, upstream] of this.#live) {
      client.destroy();
      upstream.destroy();
    }
    this.#live.clear();
  }

  /** Stops forwarding on every open connection without closing it; later connections flow. */
  stall(): void {
    for (const pair of this.#live) {
      const [client, upstream] = pair;
      client.unpipe(upstream);
      upstream.unpipe(client);
      // Read and drop, so neither side sees back-pressure or an end.
      client.on("data", () => undefined);
      upstream.on("data", () => undefined);
      this.#stalled.push(pair);
    }
    this.#live.clear();
  }

  async close(): Promise<void> {
    this.cut();
    for (const [client, upstream] of this.#stalled) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
