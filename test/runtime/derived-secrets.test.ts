/**
 * lib.sh's derivation of the derived secrets (contract: SECRET_PURPOSES with source 'derived'), under bash,
 * against Node's own HMAC-SHA256: keys shorter and longer than SHA-256's 64-byte block, non-ASCII bytes.
 */
import { spawnSync } from 'child_process';
import { createHmac } from 'crypto';
import * as path from 'path';
import { DERIVED_SECRET_PURPOSES } from '../../ops/src/contract';
import { HOST_SCRIPTS_DIR } from './helpers/fake-host';

/** Runs lib.sh's function on each key (given on stdin, one per line) and returns its outputs. */
function bash(fn: string, keys: string[], argument: string): string[] {
  const script = `source ${JSON.stringify(path.join(HOST_SCRIPTS_DIR, 'lib.sh'))}
while IFS= read -r key; do ${fn} "$key" "$1" || echo FAILED; echo; done`;
  const result = spawnSync('bash', ['-c', script, 'bash', argument], { input: keys.map((k) => `${k}\n`).join(''), encoding: 'utf8' });
  expect(result.stderr).toBe('');
  return result.stdout.split('\n').slice(0, keys.length);
}

const KEYS = ['Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6l', 'x', 'K'.repeat(64), 'é'.repeat(40), `q"u'o\\te$s`];
const hmac = (key: string, message: string) => createHmac('sha256', Buffer.from(key, 'utf8')).update(message).digest('hex');

describe('gm_hmac_sha256_hex and gm_derive_secret (lib.sh)', () => {
  test('HMAC-SHA256 equals Node\'s for short, block-sized, longer and non-ASCII keys', () => {
    expect(bash('gm_hmac_sha256_hex', KEYS, 'geusemaker/qdrant-api-key')).toEqual(KEYS.map((k) => hmac(k, 'geusemaker/qdrant-api-key')));
  });

  test('a derived secret is the first 48 hex digits of HMAC(key, "geusemaker/<purpose>"), different per purpose', () => {
    const key = KEYS[0];
    const values = DERIVED_SECRET_PURPOSES.map(({ purpose }) => bash('gm_derive_secret', [key], purpose)[0]);
    expect(values).toEqual(DERIVED_SECRET_PURPOSES.map(({ purpose }) => hmac(key, `geusemaker/${purpose}`).slice(0, 48)));
    expect(new Set(values).size).toBe(values.length);
  });

  test('an empty key or a purpose that is not a plain name derives nothing', () => {
    expect(bash('gm_derive_secret', [''], 'qdrant-api-key')).toEqual(['FAILED']);
    expect(bash('gm_derive_secret', ['key'], '../qdrant')).toEqual(['FAILED']);
  });
});
