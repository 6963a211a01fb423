#!/usr/bin/env node
// The only file that must run on any Node: it checks the version before loading
// TypeScript sources, which need Node 24's native type stripping.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`hookd needs Node.js 24 or newer (this is ${process.version}); run it through npm (npx hookd) or install Node 24.\n`);
  process.exit(1);
}
await import('../src/main.ts');
