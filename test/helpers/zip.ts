import * as fs from 'fs';
import * as path from 'path';
import { zipSync, Zippable } from 'fflate';

/** Zips a directory's files (relative names, no directory entries), as CDK's asset staging would for docker/. */
export function zipDirectory(dir: string, zipFile: string): void {
  const files: Zippable = {};
  const walk = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const name = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(name);
      else if (entry.isFile()) files[name] = fs.readFileSync(path.join(dir, name));
    }
  };
  walk('');
  fs.writeFileSync(zipFile, zipSync(files));
}
