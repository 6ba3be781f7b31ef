import { z } from "zod";
import { NumberColumn, TextColumn } from "../storage/columns.ts";
import { emptyHistogram, HistogramState, observe } from "../metrics/histogram.ts";
import { COUNTERS, type Counter } from "../metrics/snapshot.ts";

const CounterName = z.enum(COUNTERS);

/** A pool's counters and latency histograms, kept in the scheduler's SQLite across restarts. */
export class PoolMetrics {
  readonly #sql: SqlStorage;
  readonly #counters = Object.fromEntries(COUNTERS.map((name) => [name, 0])) as Record<Counter, number>;
  readonly #histograms = new Map<string, HistogramState>();

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS histograms (name TEXT PRIMARY KEY, body TEXT NOT NULL);`);
    for (const row of sql.exec("SELECT name, value FROM counters")) {
      const name = CounterName.safeParse(row["name"]);
      if (name.success) this.#counters[name.data] = NumberColumn.parse(row["value"]);
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

  histograms(): Record<string, HistogramState> {
    return Object.fromEntries(this.#histograms);
  }
}
