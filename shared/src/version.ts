/**
 * The product's version, reported by the edge (`/health`, the OpenAPI document) and by every
 * host-agent in its hello. One number for both sides: they ship from one repository and one
 * release. Kept equal to the `version` of package.json and host-agent/package.json.
 */
export const VERSION = "0.1.0";
