// Every upstream Helm chart the program installs or the gitops/ template references, pinned exactly, in one
// place: the components read their chart, repository and version from here, and tests hold gitops/, the README
// and the upstream chart data (`npm run test-data`) to the same pins. Bump a chart here and nowhere else.
export interface ChartPin {
  /** The chart's name in its repository. */
  chart: string;
  /** The Helm repository URL, exactly as Argo CD and Flux are given it. */
  repo: string;
  /** Exact: a rebuild installs what was tested. */
  version: string;
  /** Installed by this program (the stack), or by the gitops/ template for these engines (the cluster pulls it). */
  installedBy: "program" | { gitops: readonly ("argocd" | "flux")[] };
}

export const CHARTS = {
  argoCd: {
    chart: "argo-cd",
    repo: "https://argoproj.github.io/argo-helm",
    version: "10.1.1",
    installedBy: "program",
  },
  flux: {
    chart: "flux2",
    repo: "https://fluxcd-community.github.io/helm-charts",
    version: "2.18.3",
    installedBy: "program",
  },
  externalSecrets: {
    chart: "external-secrets",
    repo: "https://charts.external-secrets.io",
    version: "2.9.0",
    installedBy: "program",
  },
  argoRollouts: {
    chart: "argo-rollouts",
    repo: "https://argoproj.github.io/argo-helm",
    version: "2.40.5",
    installedBy: { gitops: ["argocd"] },
  },
  awsLoadBalancerController: {
    chart: "aws-load-balancer-controller",
    repo: "https://aws.github.io/eks-charts",
    version: "1.17.0",
    installedBy: { gitops: ["argocd", "flux"] },
  },
  metricsServer: {
    chart: "metrics-server",
    repo: "https://kubernetes-sigs.github.io/metrics-server/",
    version: "3.13.0",
    installedBy: { gitops: ["argocd", "flux"] },
  },
  prometheus: {
    chart: "prometheus",
    repo: "https://prometheus-community.github.io/helm-charts",
    version: "29.27.0",
    installedBy: { gitops: ["argocd", "flux"] },
  },
  flagger: {
    chart: "flagger",
    repo: "https://flagger.app",
    version: "1.44.0",
    installedBy: { gitops: ["flux"] },
  },
} as const satisfies Record<string, ChartPin>;

export type ChartName = keyof typeof CHARTS;

/** Helm repositories the gitops/ template's Argo CD Applications pull charts from: the AppProject admits them. */
export const ARGOCD_TEMPLATE_CHART_REPOS = [
  ...new Set(
    Object.values(CHARTS as Record<string, ChartPin>)
      .filter((p) => p.installedBy !== "program" && p.installedBy.gitops.includes("argocd"))
      .map((p) => p.repo),
  ),
];
