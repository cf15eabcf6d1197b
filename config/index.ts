// The one typed, validated configuration of the program: a declarative zod schema (schema.ts, one file per
// section under sections/), merged over the per-environment defaults (defaults.ts) and validated before any
// resource is created. Errors name the key path, the value and what is allowed.
export { ConfigError } from "./problems";
export { newerDefaultsNotice } from "./notice";
export { rawNamespace, resolveConfig, resolveStackConfig } from "./resolve";
export { stackFileJsonSchema, type PlatformConfig } from "./schema";
export type { AccessConfig } from "./sections/access";
export { ALERT_TYPES, type AlertDestination, type AlertsConfig, type AlertType } from "./sections/alerts";
export {
  AUTO_MODE_CAPACITY_TYPES,
  COMPUTE_MODES,
  type AutoModeCapacityType,
  type AutoModeConfig,
  type ClusterConfig,
  type ComputeMode,
} from "./sections/cluster";
export type { DrConfig } from "./sections/dr";
export type { ExternalSecretsConfig } from "./sections/externalSecrets";
export {
  EKS_ARGOCD_ROLES,
  PINNED_REVISION_RE,
  type EksArgoCdConfig,
  type ArgoCdConfig,
  type FluxConfig,
  type GitOpsConfig,
  type SyncConfig,
  type SyncWindow,
} from "./sections/gitops";
export { FLEET_ROLES, type FleetConfig, type FleetProject, type FleetSpoke } from "./sections/fleet";
export { IDENTITY_MODES, type IdentityMode } from "./sections/identity";
export type { KmsConfig } from "./sections/kms";
export type { NetworkConfig } from "./sections/network";
export { DEFAULT_NODE_GROUP, type NodeGroupConfig } from "./sections/nodeGroups";
