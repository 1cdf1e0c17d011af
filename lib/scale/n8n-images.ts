import * as fs from 'fs';
import * as path from 'path';

/** The manifest of pinned runtime versions the host tiers run (docker/versions.env): one n8n version everywhere. */
export const VERSIONS_FILE = path.join(__dirname, '..', '..', 'docker', 'versions.env');

/** The n8n image and its task-runner sidecar image at the same version. */
export interface N8nImages {
  /** `n8nio/n8n:<version>`. */
  readonly n8n: string;
  /** `n8nio/runners:<version>`: the launcher and the JavaScript and Python runners, built from the same n8n release. */
  readonly runners: string;
  readonly version: string;
}

/** Reads GM_N8N_IMAGE from the versions manifest; the runners image takes the same tag (n8n requires equal versions). */
export function n8nImages(file: string = VERSIONS_FILE): N8nImages {
  const line = fs.readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith('GM_N8N_IMAGE='));
  const image = line?.slice('GM_N8N_IMAGE='.length).trim();
  const match = image?.match(/^n8nio\/n8n:(\d+\.\d+\.\d+)$/);
  if (!match) throw new Error(`${file}: expected a line GM_N8N_IMAGE=n8nio/n8n:<x.y.z>, got ${line ?? 'none'}`);
  return { n8n: image!, runners: `n8nio/runners:${match[1]}`, version: match[1] };
}
