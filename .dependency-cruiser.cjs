// The architecture rules the imports must keep, checked by `npm run lint:deps` (and CI).
// Type-only imports count: a cycle of types is a cycle of design.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules that import each other cannot be understood, tested or moved one at a time.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-depends-on-nothing',
      severity: 'error',
      comment: "src/domain holds hookd's words and rules; everything else builds on it, it builds on nothing of hookd's.",
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/domain/' },
    },
    {
      name: 'store-below-its-callers',
      severity: 'error',
      comment: 'Storage serves delivery, the API and auth; it never reaches up into them (nor into config or the app wiring).',
      from: { path: '^src/store/' },
      to: { path: '^src/(api|auth|delivery|ingest|retention|cli|ui|app\\.ts|config\\.ts|main\\.ts|metrics\\.ts)' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/ui/client/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
