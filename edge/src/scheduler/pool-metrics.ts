import { z } from "zod";
import { ErrorCode } from "../../../shared/src/index.ts";
import { NumberColumn, TextColumn } from "../storage/columns.ts";
import { emptyHistogram, HistogramState, observe } from "../metrics/histogram.ts";
import {
  COUNTERS,
  VERIFICATION_STATUSES,
  type Counter,
  type VerificationCount,
  type VerificationStatus,
} from "../metrics/snapshot.ts";

const CounterName = z.enum(COUNTERS);
/** The row of the counter of failed executions with one error code: `execution_failed:<code>`. */
const FAILURE_ROW = "execution_failed:";
/** The row of the counter of verified pipelines with one verdict and repair count: `verification:<status>:<repairs>`. */
const VERIFICATION_ROW = /^verification:(passed|failed|skipped):(\d{1,2})$/;
const VerificationStatusName = z.enum(VERIFICATION_STATUSES);

/** A pool's counters and latency histograms, kept in the scheduler's SQLite across restarts. */
export class PoolMetrics {
  readonly #sql: SqlStorage;
  readonly #counters = Object.fromEntries(COUNTERS.map((name) => [name, 0])) as Record<Counter, number>;
  readonly #failures = new Map<ErrorCode, number>();
  /** Verified pipelines, keyed `<status>:<repairs>`. */
  readonly #verifications = new Map<string, VerificationCount>();
  readonly #histograms = new Map<string, HistogramState>();

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS histograms (name TEXT PRIMARY KEY, body TEXT NOT NULL);`);
    for (const row of sql.exec("SELECT name, value FROM counters")) {
      const raw = TextColumn.parse(row["name"]);
      const name = CounterName.safeParse(raw);
      const code = ErrorCode.safeParse(raw.startsWith(FAILURE_ROW) ? raw.slice(FAILURE_ROW.length) : null);
      const verification = VERIFICATION_ROW.exec(raw);
      if (name.success) this.#counters[name.data] = NumberColumn.parse(row["value"]);
      else if (code.success) this.#failures.set(code.data, NumberColumn.parse(row["value"]));
      else if (verification) {
        const status = VerificationStatusName.parse(verification[1]);
        const repairs = Number(verification[2]);
        this.#verifications.set(`${status}:${repairs}`, { status, repairs, count: NumberColumn.parse(row["value"]) });
      }
    }
    for (const row of sql.exec("SELECT name, body FROM histograms")) {
      const state = HistogramState.safeParse(JSON.parse(TextColumn.parse(row["body"])));
      if (state.success) this.#histograms.set(TextColumn.parse(row["name"]), state.data);
    }
  }

  count(name: Counter): void {
    this.#counters[name] += 1;
    this.#sql.exec("INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)", name, this.#counters[name]);
  }

  /** Counts one failed `/api/execute` run under its error code. */
  countFailure(code: ErrorCode): void {
    const value = (this.#failures.get(code) ?? 0) + 1;
    this.#failures.set(code, value);
    this.#sql.exec("INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)", `${FAILURE_ROW}${code}`, value);
  }

  /** Counts one finished verified pipeline under its verdict and the repairs it used. */
  countVerification(status: VerificationStatus, repairs: number): void {
    const key = `${status}:${repairs}`;
    const entry = this.#verifications.get(key) ?? { status, repairs, count: 0 };
    entry.count += 1;
    this.#verifications.set(key, entry);
    this.#sql.exec("INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)", `verification:${key}`, entry.count);
  }

  verifications(): VerificationCount[] {
    return [...this.#verifications.values()].map((entry) => ({ ...entry }));
  }

  observe(name: string, ms: number): void {
    const state = this.#histograms.get(name) ?? emptyHistogram();
    observe(state, ms);
    this.#histograms.set(name, state);
    this.#sql.exec("INSERT OR REPLACE INTO histograms (name, body) VALUES (?, ?)", name, JSON.stringify(state));
  }

  /** The mean of a histogram in seconds, or null before its first observation. */
  meanSeconds(name: string): number | null {
    const state = this.#histograms.get(name);
    return state && state.count > 0 ? state.sum / state.count : null;
  }

  counters(): Record<Counter, number> {
    return { ...this.#counters };
  }

  failures(): Partial<Record<ErrorCode, number>> {
    return Object.fromEntries(this.#failures);
  }

  histograms(): Record<string, HistogramState> {
    return Object.fromEntries(this.#histograms);
  }
}
