import type { StageHandler } from "../stage.ts";
import { exportingStage } from "./exporting.ts";
import { generatingStage } from "./generating.ts";
import { packagingStage } from "./packaging.ts";
import { parsingStage } from "./parsing.ts";
import { repairingStage } from "./repairing.ts";
import { verifyingStage } from "./verifying.ts";

/** The registered stages, in the order a pipeline runs them. */
export const STAGES: readonly StageHandler[] = [
  parsingStage,
  generatingStage,
  verifyingStage,
  repairingStage,
  packagingStage,
  exportingStage,
];
