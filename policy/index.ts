// The policy pack entry point run by the Pulumi CLI (`pulumi preview --policy-pack policy`).
// `new PolicyPack` starts a gRPC server and never returns: never import this file from tests; import
// ./policies (the rules) or ./harness (runPolicies) instead.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("gitops-platform-guardrails", { policies });
