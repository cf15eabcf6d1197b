// The GitOps engines this program can install, and what the rest of the program must know of each without
// building it: config validates against these facts, topology asks which can run a fleet's hub, and each
// engine's folder (engines/<name>/) reads its own. The code of an engine is in its folder, never here.

export interface EngineFacts {
  /** Where its root objects (root app, cluster Secret or bridge ConfigMap) and its credentials live. */
  namespace: string;
  /** The entry point of the gitops/ template it reads: gitops/clusters/<environment>/<templateDir>. */
  templateDir: string;
  /** It runs Argo CD: sync windows and the automated-sync gate apply (Flux always reconciles). */
  argoCd: boolean;
  /** It can run a fleet's hub, spokes registering with it. */
  hub: boolean;
  /** `gitops.argocd` settings it cannot honour, each with the reason given when a stack sets one. */
  refusedArgoCdSettings: Readonly<Record<string, string>>;
}

export const ENGINE_FACTS = {
  argocd: {
    namespace: "argocd",
    templateDir: "argocd",
    argoCd: true,
    hub: true,
    refusedArgoCdSettings: {},
  },
  flux: {
    namespace: "flux-system",
    templateDir: "flux",
    argoCd: false,
    hub: false,
    refusedArgoCdSettings: {},
  },
  // The managed Argo CD watches one namespace for its Applications, chosen at creation; `argocd` keeps the
  // gitops/ template's ApplicationSets (metadata.namespace: argocd) working unchanged. AWS runs, sizes and
  // upgrades it, and it signs people in only through IAM Identity Center (README, "Self-managed or managed
  // Argo CD"): what the self-managed one lets a stack tune is refused by the key the stack set, not ignored.
  "eks-argocd": {
    namespace: "argocd",
    templateDir: "argocd",
    argoCd: true,
    hub: true,
    refusedArgoCdSettings: {
      sso: "cannot be used with gitops.engine eks-argocd: the managed Argo CD signs in only through IAM Identity Center; set gitops.eksArgocd.identityCenter and gitops.eksArgocd.rbac instead",
      url: "cannot be used with gitops.engine eks-argocd: EKS gives the managed Argo CD its URL",
      adminGroups:
        "cannot be used with gitops.engine eks-argocd: map IAM Identity Center groups to ADMIN in gitops.eksArgocd.rbac instead",
      ha: "cannot be used with gitops.engine eks-argocd: AWS runs and scales the managed Argo CD, there are no replicas to set",
      chartVersion:
        "cannot be used with gitops.engine eks-argocd: AWS chooses and upgrades the managed Argo CD's version",
    },
  },
} as const satisfies Record<string, EngineFacts>;

export type Engine = keyof typeof ENGINE_FACTS;
export const ENGINES = Object.keys(ENGINE_FACTS) as [Engine, ...Engine[]];
/** The engines that can run a fleet's hub. */
export type HubEngine = { [E in Engine]: (typeof ENGINE_FACTS)[E]["hub"] extends true ? E : never }[Engine];
export const HUB_ENGINES = ENGINES.filter((e): e is HubEngine => ENGINE_FACTS[e].hub) as [
  HubEngine,
  ...HubEngine[],
];
