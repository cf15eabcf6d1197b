// Runs the policies without the Pulumi engine: each resource policy's validateResource against every resource,
// each stack policy's validateStack against all of them, with small fake args objects. Used by the unit tests
// (hand-written resources, and the resources captured by the program's mocks). Importing it starts nothing.
import type {
  Policy,
  PolicyResource,
  PolicyResourceOptions,
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { policies as allPolicies } from "./policies";

export interface HarnessResource {
  type: string;
  name: string;
  props: Record<string, unknown>;
}

export interface Violation {
  policy: string;
  resource: string;
  message: string;
}

const PROJECT = "gitops-platform";
const STACK = "test";

class NotApplicable extends Error {}

function urnOf(r: HarnessResource): string {
  return `urn:pulumi:${STACK}::${PROJECT}::${r.type}::${r.name}`;
}

const OPTS: PolicyResourceOptions = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  additionalSecretOutputs: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
} as unknown as PolicyResourceOptions;

/** Policy config as the engine would pass it: the defaults declared in the policy's configSchema. */
function configOf(p: Policy): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const properties = (p.configSchema && p.configSchema.properties) || {};
  for (const key of Object.keys(properties)) {
    const d = (properties[key] as { default?: unknown }).default;
    if (d !== undefined) out[key] = d;
  }
  return out;
}

function notApplicable(reason?: string): never {
  throw new NotApplicable(reason);
}

function typeMatcher(type: string) {
  // Resource classes from @pulumi/aws / @pulumi/kubernetes carry their token as __pulumiType.
  const matches = (cls: unknown) => (cls as { __pulumiType?: string }).__pulumiType === type;
  return matches;
}

function run(fn: () => void | Promise<void>, policy: string): void {
  try {
    const result = fn();
    if (result && typeof (result as Promise<void>).then === "function") {
      throw new Error(`policy ${policy} is asynchronous; runPolicies only runs synchronous policies`);
    }
  } catch (e) {
    if (!(e instanceof NotApplicable)) throw e;
  }
}

/**
 * Runs every policy (or the given ones) and returns the violations reported, in policy order. Enforcement
 * levels are not applied: advisory and mandatory violations are both returned.
 */
export function runPolicies(
  resources: HarnessResource[],
  policies: ReadonlyArray<ResourceValidationPolicy | StackValidationPolicy> = allPolicies,
): Violation[] {
  const violations: Violation[] = [];
  const byUrn = new Map(resources.map((r) => [urnOf(r), r.name] as [string, string]));

  for (const p of policies) {
    const rp = p as ResourceValidationPolicy;
    if (rp.validateResource) {
      const validations: ResourceValidation[] = Array.isArray(rp.validateResource)
        ? rp.validateResource
        : [rp.validateResource];
      for (const r of resources) {
        const report: ReportViolation = (message) =>
          violations.push({ policy: p.name, resource: r.name, message });
        const matches = typeMatcher(r.type);
        const args: ResourceValidationArgs = {
          type: r.type,
          props: r.props,
          urn: urnOf(r),
          name: r.name,
          opts: OPTS,
          stackTags: new Map(),
          isType: (cls) => matches(cls),
          asType: ((cls: unknown) =>
            matches(cls) ? r.props : undefined) as ResourceValidationArgs["asType"],
          getConfig: (<T extends object>() => configOf(p) as T) as ResourceValidationArgs["getConfig"],
          notApplicable,
        };
        for (const validate of validations) run(() => validate(args, report), p.name);
      }
    }
    const sp = p as StackValidationPolicy;
    if (sp.validateStack) {
      const stackResources: PolicyResource[] = resources.map((r) => {
        const matches = typeMatcher(r.type);
        return {
          type: r.type,
          props: r.props,
          urn: urnOf(r),
          name: r.name,
          opts: OPTS,
          dependencies: [],
          propertyDependencies: {},
          isType: (cls: unknown) => matches(cls),
          asType: (cls: unknown) => (matches(cls) ? r.props : undefined),
        } as unknown as PolicyResource;
      });
      const args: StackValidationArgs = {
        resources: stackResources,
        stackTags: new Map(),
        getConfig: (<T extends object>() => configOf(p) as T) as StackValidationArgs["getConfig"],
        notApplicable,
      };
      const report: ReportViolation = (message, urn) =>
        violations.push({ policy: p.name, resource: (urn && byUrn.get(urn)) || "<stack>", message });
      run(() => sp.validateStack(args, report), p.name);
    }
  }
  return violations;
}
