import { z } from "zod";
import { TextColumn } from "../storage/columns.ts";
import type { EdgeLogger } from "../log.ts";
import { PipelineRecord } from "./record.ts";

/** The program's files as a stage settled them, and their text when it differs from the round's. */
const ProgramRow = z.object({
  files: z.array(z.object({ path: z.string(), content: z.string(), language: z.string().nullable() })),
  text: z.string().nullable(),
});
export type StoredProgram = z.infer<typeof ProgramRow>;

const ProgressRow = z.object({
  job_id: z.string(),
  attempt: z.number(),
  last_seq: z.number(),
  content_chars: z.number(),
});

/**
 * A pipeline's record in its object's SQLite: one row with the whole record, written on every
 * transition, and one small progress row written per job event (the job's last stored seq and
 * the content length), folded back into the record when it is loaded.
 */
export class PipelineStore {
  readonly #sql: SqlStorage;
  /** Whether the tables exist: a new pipeline's object creates them with its first write. */
  #created: boolean;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#created =
      sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'pipeline'").toArray().length > 0;
  }

  /** The stored record, or null for an object that holds no pipeline (or one that no longer parses). */
  load(log: EdgeLogger): PipelineRecord | null {
    if (!this.#created) return null;
    const row = this.#sql.exec("SELECT body FROM pipeline WHERE id = 1").toArray()[0];
    if (!row) return null;
    const parsed = PipelineRecord.safeParse(JSON.parse(TextColumn.parse(row["body"])));
    if (!parsed.success) {
      log.error("stored pipeline record does not parse", { issues: parsed.error.issues.slice(0, 3) });
      return null;
    }
    const record = parsed.data;
    const progress = ProgressRow.safeParse(
      this.#sql.exec("SELECT job_id, attempt, last_seq, content_chars FROM progress WHERE id = 1").toArray()[0],
    );
    if (
      progress.success &&
      record.job?.job_id === progress.data.job_id &&
      record.job.attempt === progress.data.attempt
    ) {
      record.job.last_seq = Math.max(record.job.last_seq, progress.data.last_seq);
      record.content_chars = Math.max(record.content_chars, progress.data.content_chars);
    }
    return record;
  }

  /** The program's files as VERIFYING or REPAIRING settled them, or null before either has. */
  loadProgram(): StoredProgram | null {
    if (!this.#created) return null;
    const row = this.#sql.exec("SELECT body FROM program WHERE id = 1").toArray()[0];
    if (!row) return null;
    const parsed = ProgramRow.safeParse(JSON.parse(TextColumn.parse(row["body"])));
    return parsed.success ? parsed.data : null;
  }

  /** Written only when a stage settles the files: once per verification round, not per event. */
  saveProgram(program: StoredProgram): void {
    this.#create();
    this.#sql.exec("INSERT OR REPLACE INTO program (id, body) VALUES (1, ?)", JSON.stringify(program));
  }

  save(record: PipelineRecord): void {
    this.#create();
    this.#sql.exec("INSERT OR REPLACE INTO pipeline (id, body) VALUES (1, ?)", JSON.stringify(record));
  }

  saveProgress(record: PipelineRecord): void {
    const job = record.job;
    if (!job) return;
    this.#create();
    this.#sql.exec(
      "INSERT OR REPLACE INTO progress (id, job_id, attempt, last_seq, content_chars) VALUES (1, ?, ?, ?, ?)",
      job.job_id,
      job.attempt,
      job.last_seq,
      record.content_chars,
    );
  }

  #create(): void {
    if (this.#created) return;
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS pipeline (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS progress (id INTEGER PRIMARY KEY CHECK (id = 1), job_id TEXT NOT NULL, attempt INTEGER NOT NULL, last_seq INTEGER NOT NULL, content_chars INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS program (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);`);
    this.#created = true;
  }
}
