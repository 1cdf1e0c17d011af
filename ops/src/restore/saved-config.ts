/**
 * The deployment's saved configuration (cdk.json, context "geusemaker:deployments") must carry the
 * retained file system a data stack was rebuilt around: `retainedData: { fileSystemId }`. Then every
 * later `cdk deploy` (restore's own, the README's, a pipeline's) imports that file system and the
 * retained secrets instead of trying to create new ones whose names are taken.
 *
 * Restore writes it before deploying, keeping every other key and the file's style (2-space JSON,
 * trailing newline). When it cannot (no entry for the deployment: it is declared with -c only; the
 * file is not writable or not plain JSON; another file system is already named), it prints the exact
 * lines to add and stops.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tier } from '../contract';

/** The context key of the declared deployments (lib/config/load-config.ts DEPLOYMENTS_CONTEXT_KEY). */
export const DEPLOYMENTS_CONTEXT_KEY = 'geusemaker:deployments';

export type SavedConfigState =
  | { readonly kind: 'saved'; readonly cdkJson: string }
  | { readonly kind: 'to-write'; readonly cdkJson: string }
  | { readonly kind: 'blocked'; readonly cdkJson: string; readonly reason: string; readonly lines: readonly string[] };

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Where the retained file system goes: the property to add inside the deployment's entry. */
export function retainedDataLines(fileSystemId: string): string[] {
  return [`"retainedData": { "fileSystemId": "${fileSystemId}" }`];
}

/** A whole entry for a deployment cdk.json does not declare. */
function entryLines(name: string, tier: Tier, fileSystemId: string): string[] {
  return [`"${name}": { "tier": "${tier}", "retainedData": { "fileSystemId": "${fileSystemId}" } }`];
}

function entryOf(document: unknown, name: string): Json | undefined {
  if (!isObject(document) || !isObject(document.context)) return undefined;
  const deployments = document.context[DEPLOYMENTS_CONTEXT_KEY];
  if (!isObject(deployments)) return undefined;
  const entry = deployments[name];
  return isObject(entry) ? entry : undefined;
}

function writable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.W_OK);
    fs.accessSync(path.dirname(file), fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether cdk.json already carries the file system, can be given it, or what to add by hand. */
export function inspectSavedConfig(cdkJson: string, name: string, tier: Tier, fileSystemId: string): SavedConfigState {
  const where = `in ${cdkJson}, under "context" > "${DEPLOYMENTS_CONTEXT_KEY}"`;
  const blocked = (reason: string, lines: string[]): SavedConfigState => ({ kind: 'blocked', cdkJson, reason, lines });
  let document: unknown;
  try {
    document = JSON.parse(fs.readFileSync(cdkJson, 'utf8'));
  } catch (error) {
    return blocked(`${cdkJson} cannot be read as JSON (${(error as Error).message})`, entryLines(name, tier, fileSystemId));
  }
  const entry = entryOf(document, name);
  if (!entry) {
    return blocked(`"${name}" is not declared ${where} (declared with -c only?)`, entryLines(name, tier, fileSystemId));
  }
  const saved = isObject(entry.retainedData) ? entry.retainedData.fileSystemId : undefined;
  if (saved === fileSystemId) return { kind: 'saved', cdkJson };
  if (saved !== undefined) {
    return blocked(`${cdkJson} keeps file system ${String(saved)} for "${name}", not ${fileSystemId}: restore does not overwrite it`, retainedDataLines(fileSystemId));
  }
  if (!writable(cdkJson)) return blocked(`${cdkJson} is not writable`, retainedDataLines(fileSystemId));
  return { kind: 'to-write', cdkJson };
}

/** Adds `retainedData` to the deployment's entry; a no-op when it is there already. */
export function saveRetainedData(cdkJson: string, name: string, fileSystemId: string): 'written' | 'unchanged' {
  const text = fs.readFileSync(cdkJson, 'utf8');
  const document = JSON.parse(text) as unknown;
  const entry = entryOf(document, name);
  if (!entry) throw new Error(`"${name}" is not declared in ${cdkJson}`);
  if (isObject(entry.retainedData) && entry.retainedData.fileSystemId === fileSystemId) return 'unchanged';
  entry.retainedData = { fileSystemId };
  const mode = fs.statSync(cdkJson).mode;
  const temporary = path.join(path.dirname(cdkJson), `.${path.basename(cdkJson)}.gm-ops-${process.pid}`);
  fs.writeFileSync(temporary, `${JSON.stringify(document, null, 2)}\n`, { mode });
  fs.renameSync(temporary, cdkJson);
  return 'written';
}

/** One line for the plan: where the retained file system is kept. */
export function describeSavedConfig(state: SavedConfigState, name: string, fileSystemId: string): string {
  const key = `"${DEPLOYMENTS_CONTEXT_KEY}" > "${name}" > "retainedData"`;
  switch (state.kind) {
    case 'saved':
      return `${key} in ${state.cdkJson} already names ${fileSystemId}`;
    case 'to-write':
      return `${fileSystemId} will be written to ${key} in ${state.cdkJson} before deploying`;
    case 'blocked':
      return `cannot be saved: ${state.reason}`;
  }
}
