import { z } from "zod";

/** What `--help` says about one environment variable. */
export interface SettingHelp {
  /** What the variable does, and what values it takes. */
  meaning: string;
  /** The default as a person would write it (or says it); undefined: the variable is required. */
  shownDefault: string | undefined;
}

/** The help of every variable declared with {@link envSetting}, looked up by its schema. */
export const settingHelp = z.registry<SettingHelp>();

/**
 * One environment variable: `parse` reads its text. Unset or empty takes `fallback`, which is the
 * text a person would write (`"4"`, `"./exports"`) and goes through the same `parse`, so the
 * default shown by `--help` is the one that applies. Without a fallback the variable is required.
 *
 * Every message `parse` gives reads after the variable's name (`must be ...`), which
 * `loadConfig` prepends.
 */
export function envSetting<T extends z.ZodType<unknown, string>>(
  help: { meaning: string; fallback: string | undefined; shownDefault?: string },
  parse: T,
) {
  const schema = z.preprocess(
    (raw) => (raw === undefined || raw === "" ? help.fallback : raw),
    z.string({ error: `is required: ${help.meaning}` }).pipe(parse),
  );
  settingHelp.add(schema, {
    meaning: help.meaning,
    shownDefault: help.shownDefault ?? help.fallback,
  });
  return schema;
}

/**
 * A whole number from `min` to `max`, written in plain decimal digits. Stricter than
 * `Number(text)`, which also takes `1e3`, `0x10` and `12.0`: a setting reads as the person wrote it.
 */
export function envInt(meaning: string, fallback: number, min: number, max: number) {
  const allowed = `a whole number from ${min} to ${max}`;
  return envSetting(
    { meaning: `${meaning} (${allowed})`, fallback: String(fallback) },
    z.string().transform((raw, ctx) => {
      const text = raw.trim();
      const value = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
      if (!(value >= min && value <= max)) {
        ctx.addIssue({ code: "custom", message: `must be ${allowed}` });
        return z.NEVER;
      }
      return value;
    }),
  );
}
