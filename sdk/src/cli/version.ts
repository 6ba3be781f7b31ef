import sdkPackage from "../../package.json" with { type: "json" };

/** The package's version (`atomic --version`); the bundle inlines it. */
export const VERSION: string = sdkPackage.version;
