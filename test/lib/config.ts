// Config fixtures shared by the tests: a stack file's namespace as the program reads it, and the error a bad one gives.
import * as assert from "node:assert/strict";
import { ConfigError, rawNamespace, resolveConfig, resolveStackConfig } from "../../config";
import { loadStackConfig, withOverrides } from "../../scripts/engine";

/** A stack file's `gitops-platform:*` namespace, parsed as the program sees it. */
export function stackRaw(stack: string): Record<string, unknown> {
  return rawNamespace(loadStackConfig(stack).config);
}

/** The ConfigError message a raw namespace gives; fails the test when the config is accepted. */
export function configProblems(raw: Record<string, unknown>, region = "eu-west-1"): string {
  try {
    resolveConfig(raw, region);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    return err.message;
  }
  assert.fail("config was accepted");
}

/** The ConfigError message of a whole stack config (every key, as index.ts checks it) with `overrides` merged in. */
export function stackProblems(stack: string, overrides: Record<string, unknown>): string {
  try {
    resolveStackConfig(withOverrides(loadStackConfig(stack).config, overrides));
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    return err.message;
  }
  assert.fail("config was accepted");
}
