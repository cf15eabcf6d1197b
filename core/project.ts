// What every part of the program agrees on: the Pulumi project's name (the config namespace, the URN prefix)
// and the environments it knows.
export const PROJECT = "gitops-platform";

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
