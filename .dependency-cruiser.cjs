// The layering check, run by scripts/run-tests.mjs before the tests (docs/architecture.md has the picture).
// dependency-cruiser 17 cannot read TypeScript 7 sources, so it cruises the compiled JavaScript (dist/src):
// imports of types alone are erased there and not seen. Paths below match src/<folder>/ anywhere in a path.
//
// Layers, top to bottom: app/server/cli (composition) → api → domain → store. recorder, storage, webhooks,
// sfu and jobs are services beside domain. A module never imports from a layer above it.

/**
 * Known violations, each an import that is still there and why: this list only shrinks. A rule's exceptions
 * are built from it, so a new violation of the same rule elsewhere still fails.
 */
const KNOWN = {
  // the SFU's room registry and its signaling import each other (src/sfu is being reworked on another branch)
  cycles: ['src/sfu/index\\.js$', 'src/sfu/signaling\\.js$'],
  // store/ reads the template model and the job status rules to map rows; they move to a model module below
  // both layers when templates are split into model, defaults and validation (issue 12).
  storeImportsDomain: ['src/domain/templates\\.js$', 'src/domain/recordingJob\\.js$'],
  // storage and the template model: settled with the split of templates into model, defaults and
  // validation (issue 12).
  storageImportsDomain: ['src/domain/templates\\.js$'],
};

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: modules that cannot be understood, loaded or tested one at a time.',
      from: { pathNot: KNOWN.cycles },
      to: { circular: true },
    },
    {
      name: 'api-only-from-the-top',
      severity: 'error',
      comment: 'HTTP (routes, presenters, status codes) is the top layer: only the composition root imports it.',
      from: { path: 'src/(domain|store|storage|recorder|webhooks|jobs|sfu|auth|net)/' },
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
      comment: 'Repositories (all SQL) are the bottom layer; domain errors are the one thing they may use.',
      from: { path: 'src/store/' },
      to: {
        path: ['src/(api|domain|recorder|storage|webhooks|sfu)/', 'src/(server|app|cli)\\.js$'],
        pathNot: ['src/domain/errors\\.js$', ...KNOWN.storeImportsDomain],
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
