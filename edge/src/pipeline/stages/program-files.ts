import { requirementsOf } from "../rules.ts";
import { splitFiles, type GeneratedFile } from "../split-files.ts";
import type { StageContext } from "../stage.ts";

/** The program's files: as VERIFYING or REPAIRING settled them, else cut from the generated text. */
export function programFiles(ctx: StageContext): GeneratedFile[] {
  const settled = ctx.program();
  if (settled !== null) return settled;
  const requirements = requirementsOf(ctx.record);
  return splitFiles(ctx.content(), requirements.entry_file, requirements.language);
}
