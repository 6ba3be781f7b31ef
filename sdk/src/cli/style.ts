import { styleText } from "node:util";

/** How output is written: colour and a redrawn progress line only for a person at a terminal. */
export interface Style {
  /** stdout is a terminal, NO_COLOR is unset and TERM is not `dumb`: colours, a spinner, redrawn lines. */
  readonly live: boolean;
  ok(text: string): string;
  bad(text: string): string;
  warn(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
  accent(text: string): string;
}

type Format = Parameters<typeof styleText>[0];

/** The style for `stream` in `env` (https://no-color.org: any non-empty NO_COLOR turns colour off). */
export function styleFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Style {
  const live = stream.isTTY === true && !env["NO_COLOR"] && env["TERM"] !== "dumb";
  const paint = (format: Format) => (text: string) =>
    live ? styleText(format, text, { validateStream: false }) : text;
  return {
    live,
    ok: paint("green"),
    bad: paint("red"),
    warn: paint("yellow"),
    dim: paint("dim"),
    bold: paint("bold"),
    accent: paint("cyan"),
  };
}
