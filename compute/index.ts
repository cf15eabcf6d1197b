// Chooses the compute once, from `cluster.compute`. Adding a choice: one file here and one line below.
import type { PlatformConfig } from "../config";
import { AutoModeCompute } from "./autoMode";
import type { Compute } from "./contract";
import { NodeGroupsCompute } from "./nodeGroups";

export type { Compute } from "./contract";

export function chooseCompute(cfg: Pick<PlatformConfig, "cluster" | "nodeGroups">): Compute {
  const choices = {
    nodeGroups: () => new NodeGroupsCompute(cfg.nodeGroups),
    autoMode: () => new AutoModeCompute(cfg.cluster.autoMode),
  } satisfies Record<PlatformConfig["cluster"]["compute"], () => Compute>;
  return choices[cfg.cluster.compute]();
}
