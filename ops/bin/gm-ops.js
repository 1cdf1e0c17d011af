#!/usr/bin/env node
'use strict';
// gm-ops entry point. The compiled sources live in ../dist (`npm run build --workspace ops`, run by `npm ci`).
const path = require('path');
const fs = require('fs');

const entry = path.join(__dirname, '..', 'dist', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('gm-ops: not built yet — run `npm run build --workspace ops` (or `npm ci` at the repository root)\n');
  process.exit(1);
}
require(entry).main(process.argv.slice(2));
