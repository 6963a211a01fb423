#!/usr/bin/env node
// The only file that must run on any Node: it checks the version before loading
// TypeScript sources, which need Node 24's native type stripping.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`hookd needs Node.js 24 or newer (this is ${process.version}): install Node.js 24, or run npx hookd in hookd's directory, which uses the Node.js 24 that npm install brought.\n`);
  process.exit(1);
}
await import('../src/main.ts');
