import type { PlatformConfig } from "../config";
import type { Topology } from "./contract";
import { hub } from "./hub";
import { single } from "./single";
import { spoke } from "./spoke";

export type { Topology, TopologyInputs, TopologyOutputs } from "./contract";

const TOPOLOGIES = { single, hub, spoke } satisfies Record<string, Topology>;

export function topologyOf(cfg: PlatformConfig): Topology {
  return TOPOLOGIES[cfg.fleet?.role ?? "single"];
}
