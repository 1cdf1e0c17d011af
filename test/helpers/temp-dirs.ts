import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const created: string[] = [];

// Registered when a test file first imports this module: every folder made through it goes when that file is done.
afterAll(() => {
  for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A new folder under the system temp folder, removed after the test file's last test. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}
