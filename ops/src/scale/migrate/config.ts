/**
 * The deployment's tier in cdk.json (context "geusemaker:deployments" > name > "tier"), changed by migrate before
 * it deploys the target, as restore saves `retainedData` (restore/saved-config.ts): every later `cdk deploy` of
 * the deployment (the README's, a pipeline's) then deploys the tier it now runs on. Every other key and the file's
 * style (2-space JSON, trailing newline, mode) are kept; the write is a rename, so the file is never half written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEPLOYMENTS_CONTEXT_KEY } from '../../restore/saved-config';

export type TierConfigState =
  | { readonly kind: 'writable'; readonly cdkJson: string; readonly current?: string }
  | { readonly kind: 'blocked'; readonly cdkJson: string; readonly reason: string; readonly lines: readonly string[] };

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

function entryOf(document: unknown, name: string): Json | undefined {
  if (!isObject(document) || !isObject(document.context)) return undefined;
  const deployments = document.context[DEPLOYMENTS_CONTEXT_KEY];
  if (!isObject(deployments)) return undefined;
  const entry = deployments[name];
  return isObject(entry) ? entry : undefined;
}

export function inspectTierConfig(cdkJson: string, name: string, tier: string): TierConfigState {
  const lines = [`"${name}": { "tier": "${tier}" }   (in ${cdkJson}, under "context" > "${DEPLOYMENTS_CONTEXT_KEY}"; keep its other keys)`];
  let document: unknown;
  try {
    document = JSON.parse(fs.readFileSync(cdkJson, 'utf8'));
  } catch (error) {
    return { kind: 'blocked', cdkJson, reason: `${cdkJson} cannot be read as JSON (${(error as Error).message.split('\n')[0]})`, lines };
  }
  const entry = entryOf(document, name);
  if (!entry) return { kind: 'blocked', cdkJson, reason: `"${name}" is not declared in ${cdkJson} (declared with -c only?)`, lines };
  try {
    fs.accessSync(cdkJson, fs.constants.W_OK);
    fs.accessSync(path.dirname(cdkJson), fs.constants.W_OK);
  } catch {
    return { kind: 'blocked', cdkJson, reason: `${cdkJson} is not writable`, lines };
  }
  return { kind: 'writable', cdkJson, current: typeof entry.tier === 'string' ? entry.tier : undefined };
}

/** Sets the deployment's tier; returns the tier it had (undefined: none written, the schema's default). */
export function saveTier(cdkJson: string, name: string, tier: string | undefined): string | undefined {
  const document = JSON.parse(fs.readFileSync(cdkJson, 'utf8')) as unknown;
  const entry = entryOf(document, name);
  if (!entry) throw new Error(`"${name}" is not declared in ${cdkJson}`);
  const previous = typeof entry.tier === 'string' ? entry.tier : undefined;
  if (tier === undefined) delete entry.tier;
  else entry.tier = tier;
  const mode = fs.statSync(cdkJson).mode;
  const temporary = path.join(path.dirname(cdkJson), `.${path.basename(cdkJson)}.gm-ops-${process.pid}`);
  fs.writeFileSync(temporary, `${JSON.stringify(document, null, 2)}\n`, { mode });
  fs.renameSync(temporary, cdkJson);
  return previous;
}
