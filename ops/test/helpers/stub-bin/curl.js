#!/usr/bin/env node
'use strict';
// A stub of curl for the health script: answers from $FAKE_DOCKER_STATE's `curl` map
// {url: {code, time, exit, error}}; unknown URLs are refused (exit 7) like a closed port.
const fs = require('fs');
const state = JSON.parse(fs.readFileSync(process.env.FAKE_DOCKER_STATE, 'utf8'));
const args = process.argv.slice(2);
const url = args[args.length - 1];
const answer = (state.curl || {})[url] || { code: 0, time: 0.0003, exit: 7, error: `curl: (7) Failed to connect to ${url}: Connection refused` };
process.stdout.write(`${String(answer.code).padStart(3, '0')} ${answer.time}`);
if (answer.exit) process.stderr.write(`${answer.error || `curl: (${answer.exit}) error`}\n`);
process.exit(answer.exit || 0);
