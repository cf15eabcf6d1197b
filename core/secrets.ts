// The Secrets Manager entries the program creates empty for a person to fill (under the environment's prefix),
// named once: the stack seeds them, config checks they collide with nothing, the engines read them.

/** Entries the GitOps engine reads, when configured. */
export const GITOPS_SECRETS = { repository: "gitops/repository", argocdOidc: "argocd/oidc" } as const;

/** The entry holding one alert destination's credential. */
export const alertSecret = (destination: string) => `alerts/${destination}`;

/** The resource name a seed secret gets (components/externalSecrets.ts): '/' as '-'. */
export function seedResourceName(secret: string): string {
  return secret.replace(/\//g, "-");
}

/** What decides which entries the program seeds besides `externalSecrets.seedSecrets`. */
export interface SeededBy {
  privateRepository: boolean;
  sso: boolean;
  alertDestinations: readonly string[];
}

/** The entries the program seeds of its own accord, for the features a stack turned on. */
export function programSeedSecrets(s: SeededBy): string[] {
  return [
    ...(s.privateRepository ? [GITOPS_SECRETS.repository] : []),
    ...(s.sso ? [GITOPS_SECRETS.argocdOidc] : []),
    ...s.alertDestinations.map(alertSecret),
  ];
}
