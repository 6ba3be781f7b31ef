import { z } from "zod";
import type { ClientEvent } from "../../../shared/src/index.ts";
import { ClientEvent as ClientEventSchema } from "../../../shared/src/index.ts";
import { NumberColumn } from "../storage/columns.ts";

/** An event as stored: the client event without `content`, which is derived when it is sent. */
export type StoredEvent = ClientEvent;

const Row = z.object({ seq: z.number(), body: z.string() });

/**
 * The pipeline's append-only event log in the Durable Object's SQLite. `seq` starts at 1 and has
 * no gaps, so `after=SEQ` replays exactly what a client missed.
 */
export class EventLog {
  #sql: SqlStorage;
  #lastSeq: number;

  /** Whether the table exists: a new pipeline's object creates it with its first write. */
  #created: boolean;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#created =
      sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'events'").toArray().length > 0;
    const row = this.#created ? sql.exec("SELECT COALESCE(MAX(seq), 0) AS last FROM events").one() : { last: 0 };
    this.#lastSeq = NumberColumn.parse(row["last"]);
  }

  createTable(): void {
    if (this.#created) return;
    this.#sql.exec("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)");
    this.#created = true;
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Stores an event under the next seq and returns it with that seq. */
  append<E extends DistributiveOmit<ClientEvent, "seq">>(event: E): E & { seq: number } {
    this.createTable();
    const seq = this.#lastSeq + 1;
    const stored = { ...event, seq };
    this.#sql.exec("INSERT INTO events (seq, body) VALUES (?, ?)", seq, JSON.stringify(stored));
    this.#lastSeq = seq;
    return stored;
  }

  /** Every stored event with seq greater than `after`, in order. */
  *since(after: number): Generator<StoredEvent> {
    if (!this.#created) return;
    for (const raw of this.#sql.exec("SELECT seq, body FROM events WHERE seq > ? ORDER BY seq", after)) {
      const row = Row.parse(raw);
      const parsed = ClientEventSchema.safeParse(JSON.parse(row.body));
      if (parsed.success) yield parsed.data;
    }
  }
}

export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * Follows the running text through a stream of events: a `stage` event that (re)starts GENERATING
 * or a REPAIRING round resets it, each chunk adds its delta, and a closing chunk that carries its
 * own `content` (the program after a repair replaced files) sets it.
 */
export class ContentTracker {
  text = "";

  /** Feeds one event; returns the running content after it when the event is a chunk. */
  feed(event: StoredEvent): string | undefined {
    if (event.type === "stage" && event.status === "started") {
      if (event.stage === "GENERATING" || event.stage === "REPAIRING") this.text = "";
    }
    if (event.type === "chunk") {
      this.text = event.content ?? this.text + event.delta;
      return this.text;
    }
    return undefined;
  }
}
