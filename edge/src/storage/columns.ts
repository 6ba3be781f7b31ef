import { z } from "zod";

/**
 * Schemas for single values read back from SQLite. They are built once here because building a
 * zod schema costs far more than running it: a schema built inside a hot path (per event, per
 * pipeline) showed up as a tenth of the edge's CPU in `npm run profile`.
 */
export const TextColumn = z.string();
export const NumberColumn = z.number();
