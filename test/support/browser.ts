import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { z } from "zod";
import { ROOT } from "./edge.ts";

/** Where Debian's `chromium` package puts the browser (`.ci/run` installs it); ATOMIC_CHROMIUM overrides. */
const CHROMIUM = process.env["ATOMIC_CHROMIUM"] ?? "/usr/bin/chromium";

/** Where the browser tests save a screenshot of each view (README's pictures are picked from here). */
export const SCREENSHOT_DIR = process.env["ATOMIC_SCREENSHOT_DIR"] ?? join(ROOT, ".tsbuild", "screenshots");

/**
 * A real Chromium, headless. Missing, it fails the suite with how to install it: a page that was
 * never opened in a browser is not tested.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set ATOMIC_CHROMIUM`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
}

/** A page that records what a user would never want to see: console errors, CSP refusals, uncaught errors, dialogs. */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and uncaught exceptions, in order. */
  problems: string[];
  /** Any `alert`/`confirm`/`prompt` a page opened (a script that ran where text belonged would). */
  dialogs: string[];
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function openPage(
  browser: Browser,
  options: { width?: number; height?: number; bypassCSP?: boolean } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    bypassCSP: options.bypassCSP ?? false,
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const problems: string[] = [];
  const dialogs: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
  page.on("dialog", (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    page,
    context,
    problems,
    dialogs,
    async screenshot(name) {
      await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
    },
    async close() {
      await context.close();
    },
  };
}

const AxeViolation = z.object({
  id: z.string(),
  impact: z.string().nullable().optional(),
  help: z.string(),
  nodes: z.array(z.object({ target: z.array(z.unknown()), failureSummary: z.string().optional() })),
});
export type AxeViolation = z.infer<typeof AxeViolation>;
const AxeResult = z.object({ violations: z.array(AxeViolation) });

/**
 * Runs axe-core's WCAG 2 A/AA rules on the page as it is (contrast, names, labels, landmarks).
 * The page's CSP forbids injected scripts, so the page must come from a context opened with
 * `bypassCSP` (the CSP itself is tested elsewhere, with it on).
 */
export async function accessibilityViolations(page: Page): Promise<AxeViolation[]> {
  const source = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  await page.addScriptTag({ content: source });
  // A string, evaluated in the page: `axe` and `document` are the page's, not this process's.
  const result: unknown = await page.evaluate(
    `axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })`,
  );
  return AxeResult.parse(result).violations;
}
