// The layering check, run by scripts/run-tests.mjs before the tests (docs/architecture.md has the picture).
// dependency-cruiser 17 cannot read TypeScript 7 sources, so it cruises the compiled JavaScript (dist/src):
// imports of types alone are erased there and not seen. Paths below match src/<folder>/ anywhere in a path.
//
// Layers, top to bottom: app/server/cli (composition) → api → domain → store → model. recorder, storage,
// webhooks, sfu and jobs are services beside domain. A module never imports from a layer above it; every layer
// may import model (the shapes of what is stored), which imports nothing else of src.

/**
 * Known violations, each an import that is still there and why: this list only shrinks. A rule's exceptions
 * are built from it, so a new violation of the same rule elsewhere still fails.
 */
const KNOWN = {
  cycles: [],
  storageImportsDomain: [],
};

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: modules that cannot be understood, loaded or tested one at a time.',
      from: KNOWN.cycles.length > 0 ? { pathNot: KNOWN.cycles } : {},
      to: { circular: true },
    },
    {
      name: 'api-only-from-the-top',
      severity: 'error',
      comment: 'HTTP (routes, presenters, status codes) is the top layer: only the composition root imports it.',
      from: { path: 'src/(domain|store|storage|recorder|webhooks|jobs|sfu|auth|net|fleet)/' },
      to: { path: 'src/api/' },
    },
    {
      name: 'domain-not-up',
      severity: 'error',
      comment: 'The domain does not know the services that run its jobs, nor the composition root.',
      from: { path: 'src/domain/' },
      to: { path: ['src/(recorder|webhooks)/', 'src/(server|app|cli)\\.js$'] },
    },
    {
      name: 'store-not-up',
      severity: 'error',
      comment: 'Repositories (all SQL) are below the domain: the model and domain errors are what they may use.',
      from: { path: 'src/store/' },
      to: {
        path: ['src/(api|domain|recorder|storage|webhooks|sfu)/', 'src/(server|app|cli)\\.js$'],
        pathNot: ['src/domain/errors\\.js$'],
      },
    },
    {
      name: 'storage-not-up',
      severity: 'error',
      comment: 'Storage stores and uploads assets; it reports to the domain through events, not calls.',
      from: { path: 'src/storage/' },
      to: { path: ['src/(domain|recorder|webhooks|sfu)/'], pathNot: ['src/domain/errors\\.js$', ...KNOWN.storageImportsDomain] },
    },
    {
      name: 'model-at-the-bottom',
      severity: 'error',
      comment: 'The model (template shapes, job statuses, secret masking) is below every layer: it imports nothing else of src.',
      from: { path: 'src/model/' },
      to: { path: 'src/', pathNot: 'src/model/' },
    },
    {
      name: 'recorder-not-http',
      severity: 'error',
      comment: 'The recorder (and its handler process) knows no HTTP server, SFU or webhook delivery.',
      from: { path: 'src/recorder/' },
      to: { path: ['src/(sfu|webhooks)/', 'src/(server|app|cli)\\.js$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: 'src/',
    exclude: { path: 'src/web/' },
  },
};
