// Every upstream Helm chart the program installs or the gitops/ template references, pinned exactly, in one
// place: the components read their chart, repository and version from here, and tests hold gitops/, the README
// and the upstream chart data (`npm run test-data`) to the same pins. Bump a chart here and nowhere else.
/** Where upstream keeps a pinned artefact: raw files are read at `https://github.com/<repo>/raw/<commit>/<path>`. */
export interface UpstreamSource {
  /** GitHub `owner/name`. */
  repo: string;
  /** Folder in the repository. */
  path: string;
  /** The tag the release was cut from, for people; the commit is what is fetched. */
  tag: string;
  /** Full commit SHA: tags can move, a commit cannot. */
  commit: string;
}

/**
 * The CustomResourceDefinitions a chart installs, as the tests validate custom resources against them. `version`
 * is the app version they belong to: a test fails when the pinned chart's `Chart.yaml` ships another, so a chart
 * bump cannot leave the tests on stale CRDs.
 */
export interface CrdPin {
  /** Folder under the test-data cache's `crds/`. */
  folder: string;
  version: string;
  /**
   * How upstream lays the CRDs out: one file per CRD under `path` (`files`); one multi-document file per Flux
   * component (`flux-components`); or Flagger's single `crd.yaml` (`flagger-bundle`).
   */
  layout: "files" | "flux-components" | "flagger-bundle";
  source: UpstreamSource;
}

export interface ChartPin {
  /** The chart's name in its repository. */
  chart: string;
  /** The Helm repository URL, exactly as Argo CD and Flux are given it. */
  repo: string;
  /** Exact: a rebuild installs what was tested. */
  version: string;
  /** Installed by this program (the stack), or by the gitops/ template for these engines (the cluster pulls it). */
  installedBy: "program" | { gitops: readonly ("argocd" | "flux")[] };
  /** The chart's source at the released version: its Chart.yaml, values.yaml and values.schema.json are test data. */
  source: UpstreamSource;
  /** Subcharts whose values the program sets (under the subchart's name); the chart's Chart.yaml must agree. */
  dependencies?: readonly { chart: string; version: string; source: UpstreamSource }[];
  crds?: CrdPin;
}

export const CHARTS = {
  argoCd: {
    chart: "argo-cd",
    repo: "https://argoproj.github.io/argo-helm",
    version: "10.1.1",
    installedBy: "program",
    source: {
      repo: "argoproj/argo-helm",
      path: "charts/argo-cd",
      tag: "argo-cd-10.1.1",
      commit: "af0a9310bacbaa4636018dfe22c801a6d33a5c43",
    },
    dependencies: [
      {
        chart: "redis-ha",
        version: "4.38.0",
        source: {
          repo: "DandyDeveloper/charts",
          path: "charts/redis-ha",
          tag: "redis-ha-4.38.0",
          commit: "2e2539a8960ead2c268f48bdde3b2cdf2b2f1ac8",
        },
      },
    ],
    crds: {
      folder: "argo-cd",
      version: "v3.4.4",
      layout: "files",
      source: {
        repo: "argoproj/argo-cd",
        path: "manifests/crds",
        tag: "v3.4.4",
        commit: "443415b5527ac55366e0760c93ef0e1abd0cf273",
      },
    },
  },
  flux: {
    chart: "flux2",
    repo: "https://fluxcd-community.github.io/helm-charts",
    version: "2.18.3",
    installedBy: "program",
    source: {
      repo: "fluxcd-community/helm-charts",
      path: "charts/flux2",
      tag: "flux2-2.18.3",
      commit: "82a385b005eb07cdac34a8cfe8fcbce7539ca0da",
    },
    crds: {
      folder: "flux",
      version: "2.8.5",
      layout: "flux-components",
      // Flux publishes its CRDs only inside release assets; flux-operator vendors those manifests verbatim in Git.
      source: {
        repo: "controlplaneio-fluxcd/flux-operator",
        path: "config/data/flux/v2.8.5",
        tag: "v2.8.5 (flux2 release manifests)",
        commit: "17c6aeaddd8dacd5fbd4dd9e1bfe23a0a59df1fb",
      },
    },
  },
  externalSecrets: {
    chart: "external-secrets",
    repo: "https://charts.external-secrets.io",
    version: "2.9.0",
    installedBy: "program",
    source: {
      repo: "external-secrets/external-secrets",
      path: "deploy/charts/external-secrets",
      tag: "helm-chart-2.9.0",
      commit: "cc5bfbc2234ace9cb0caff4ea89c435cf517b27b",
    },
    crds: {
      folder: "external-secrets",
      version: "v2.9.0",
      layout: "files",
      source: {
        repo: "external-secrets/external-secrets",
        path: "config/crds/bases",
        tag: "v2.9.0",
        commit: "378bdb622ed9712ef4a58370f6a17af033b7d343",
      },
    },
  },
  argoRollouts: {
    chart: "argo-rollouts",
    repo: "https://argoproj.github.io/argo-helm",
    version: "2.40.5",
    installedBy: { gitops: ["argocd"] },
    source: {
      repo: "argoproj/argo-helm",
      path: "charts/argo-rollouts",
      tag: "argo-rollouts-2.40.5",
      commit: "b5be9305101ba22de175ee7f0cb93bed825e5496",
    },
    crds: {
      folder: "argo-rollouts",
      version: "v1.8.3",
      layout: "files",
      source: {
        repo: "argoproj/argo-rollouts",
        path: "manifests/crds",
        tag: "v1.8.3",
        commit: "49fa1516cf71672b69e265267da4e1d16e1fe114",
      },
    },
  },
  awsLoadBalancerController: {
    chart: "aws-load-balancer-controller",
    repo: "https://aws.github.io/eks-charts",
    version: "1.17.0",
    installedBy: { gitops: ["argocd", "flux"] },
    source: {
      repo: "aws/eks-charts",
      path: "stable/aws-load-balancer-controller",
      tag: "version bump to 1.17.0",
      commit: "b9f90671dca7cae8877c9489997e676fec2f337e",
    },
  },
  metricsServer: {
    chart: "metrics-server",
    repo: "https://kubernetes-sigs.github.io/metrics-server/",
    version: "3.13.0",
    installedBy: { gitops: ["argocd", "flux"] },
    source: {
      repo: "kubernetes-sigs/metrics-server",
      path: "charts/metrics-server",
      tag: "metrics-server-helm-chart-3.13.0",
      commit: "1a64100c33acf2d7dfa4439f20c75bc64d86983f",
    },
  },
  prometheus: {
    chart: "prometheus",
    repo: "https://prometheus-community.github.io/helm-charts",
    version: "29.27.0",
    installedBy: { gitops: ["argocd", "flux"] },
    source: {
      repo: "prometheus-community/helm-charts",
      path: "charts/prometheus",
      tag: "prometheus-29.27.0",
      commit: "ca06aaef8a20ca639f06523f467cb0ef8a114feb",
    },
  },
  flagger: {
    chart: "flagger",
    repo: "https://flagger.app",
    version: "1.44.0",
    installedBy: { gitops: ["flux"] },
    source: {
      repo: "fluxcd/flagger",
      path: "charts/flagger",
      tag: "v1.44.0",
      commit: "15bd6ad555e6c935da55f0ab95977be74c149bd6",
    },
    crds: {
      folder: "flagger",
      version: "1.44.0",
      layout: "flagger-bundle",
      source: {
        repo: "fluxcd/flagger",
        path: "artifacts/flagger",
        tag: "v1.44.0",
        commit: "15bd6ad555e6c935da55f0ab95977be74c149bd6",
      },
    },
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
