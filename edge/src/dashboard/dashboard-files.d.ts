/**
 * The built dashboard: scripts/build-dashboard.ts writes dashboard/dist/files.json, and
 * wrangler.toml's `alias` gives it this name, so the Worker's bundle carries the page. Its shape is
 * checked where it is read (dashboard-routes.ts).
 */
declare module "atomic-dashboard-files" {
  const files: unknown;
  export default files;
}
