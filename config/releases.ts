// Which release's defaults a stack file was written against (`gitops-platform:defaults`), as AWS CDK's feature
// flags in cdk.json: a default that changes belongs to a release and reaches a stack file only when it says so,
// so pulling a newer program never changes what an existing file means. A file without the key gets the first
// release's defaults. A new defaults release is added at the end here and chosen per field with byDefaults (defaults.ts).
export const DEFAULTS_RELEASES = ["2026-11", "2026-12"] as const;
export type DefaultsRelease = (typeof DEFAULTS_RELEASES)[number];
/** What a stack file without the key gets: the defaults of v0.1.0, the first release. */
export const FIRST_DEFAULTS: DefaultsRelease = DEFAULTS_RELEASES[0];
/** What new stack files (the README's, the shipped ones) state. */
export const LATEST_DEFAULTS: DefaultsRelease = DEFAULTS_RELEASES[DEFAULTS_RELEASES.length - 1];
