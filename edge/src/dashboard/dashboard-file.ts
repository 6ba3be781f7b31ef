import { z } from "zod";

/** One file of the built dashboard, as scripts/build-dashboard.ts writes it and the Worker serves it. */
export const DashboardFile = z.object({ content_type: z.string(), etag: z.string(), body: z.string() });
export type DashboardFile = z.infer<typeof DashboardFile>;

/** dashboard/dist/files.json: the file served at each path. */
export const DashboardFiles = z.record(z.string(), DashboardFile);
