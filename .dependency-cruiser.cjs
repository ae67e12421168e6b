/**
 * Dependency rules for the FarmIQ tree (issue 9, DESIGN.md §8 "Layout rule": a contract sits below everything
 * that uses it, so no module imports upward). `npm run lint` runs `depcruise` with this file; any `error` fails it.
 *
 * Layers, lowest first. A module may import its own layer or any layer below it, never one above:
 *   0 domain       domain/** (domain/temporal/ holds the workflow ids and search attributes) and the
 *                  contracts workflows import as values, listed in temporal/workflow-contracts.json
 *   1 platform     platform/, config/, db/: the process kit (logger, lifecycle, settings, pool, transactions)
 *   2 context      ingest/, flocks/, sync/, cloud/, weighvision/, insights/, notifications/, auth/, messaging/
 *   3 activities   activities/
 *   4 workflows    workflows/
 *   5 edge of the process: gateways/, workers/, temporal/, scripts/, cli/, simulator/, demo/
 * test/ and bench/ sit outside the layers and may import anything; nothing else may import them.
 *
 * Type-only imports count for the layer rules too: a contract type that lives above its user is exactly the
 * upward import the issue removes. They are only special for workflows (rule `workflow-imports`), where an
 * erased `import type` is how a workflow names its activities without pulling them into the sandbox bundle.
 */

/**
 * The contracts workflows import as values, kept in the contexts' homes; one list, which the bundle
 * staleness check (temporal/bundles.ts) reads too.
 */
const workflowContracts = require('./temporal/workflow-contracts.json');

/** Modules that are pure (no I/O, no Node built-ins, no settings) and so belong to layer 0 wherever they sit. */
const pure = ['^domain/', ...workflowContracts.map((f) => `^${f.replace(/[.]/g, '[.]')}$`)];

const layers = [
  { name: 'domain', path: pure },
  { name: 'platform', path: ['^(platform|config|db)/'] },
  { name: 'context', path: ['^(alarms|ingest|flocks|sync|cloud|weighvision|insights|notifications|auth|messaging)/'] },
  { name: 'activities', path: ['^activities/'] },
  { name: 'workflows', path: ['^workflows/'] },
  { name: 'process edge', path: ['^(gateways|workers|temporal|scripts|cli|simulator|demo)/'] },
];

/** One rule per layer: its modules (pure ones excepted, they are layer 0) may not import any higher layer. */
const upwardRules = layers.slice(0, -1).map((layer, i) => ({
  name: `no-upward-from-${layer.name.replace(/ /g, '-')}`,
  comment: `A ${layer.name} module imports from a higher layer (${layers
    .slice(i + 1)
    .map((l) => l.name)
    .join(', ')}). Move the contract it needs down (DESIGN.md §8).`,
  severity: 'error',
  from: { path: layer.path, ...(i === 0 ? {} : { pathNot: pure }) },
  to: { path: layers.slice(i + 1).flatMap((l) => l.path), pathNot: pure },
}));

/** npm packages a workflow (or a pure module it reaches) may import as a value: the sandbox-safe ones. */
const workflowSafeNpm = ['^node_modules/@temporalio/(workflow|common)/'];

module.exports = {
  forbidden: [
    {
      name: 'workflow-imports',
      comment:
        'Workflow code runs in the Temporal sandbox. A workflows/ file may import as a value only @temporalio/workflow, ' +
        '@temporalio/common, other workflows/ files and pure modules (domain/ and the contracts in ' +
        'temporal/workflow-contracts.json); anything else, activities included, only with `import type`.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: {
        dependencyTypesNot: ['type-only'],
        pathNot: ['^workflows/', ...pure, ...workflowSafeNpm],
      },
    },
    {
      name: 'pure-modules-stay-pure',
      comment:
        'A pure module (domain/ or a context contract) may import as a value only ' +
        'other pure modules, zod, @temporalio/workflow and @temporalio/common; workflows import it, so it must stay ' +
        'free of I/O. Two files are exempt because they hash with node:crypto and no workflow imports them: ' +
        "domain/sync/request-signing.ts (HMAC) and domain/ids.ts (name-based UUIDs). Temporal's bundler refuses " +
        'node:crypto, so a workflow that reached them would fail at bundle time.',
      severity: 'error',
      from: { path: pure, pathNot: ['^domain/sync/request-signing[.]ts$', '^domain/ids[.]ts$'] },
      to: {
        dependencyTypesNot: ['type-only'],
        pathNot: [...pure, ...workflowSafeNpm, '^node_modules/zod/'],
      },
    },
    ...upwardRules,
    {
      name: 'no-circular',
      comment: 'This module is part of an import cycle. Break it by moving the shared part down a layer.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-test',
      comment: 'Production code must not import from test/ or bench/.',
      severity: 'error',
      from: { pathNot: ['^(test|bench)/'] },
      to: { path: ['^(test|bench)/'] },
    },
    {
      name: 'not-to-dev-dep',
      comment:
        'Production code imports a devDependency: it would be missing after `npm ci --omit=dev`. Move it to ' +
        'dependencies, or keep the import in test/ or bench/. Type-only imports (of @types packages) are erased.',
      severity: 'error',
      from: { path: '^[^/]+/', pathNot: ['^(test|bench)/'] },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'dashboard-stays-in-the-browser',
      comment:
        'dashboard-web/ runs in the browser and talks to the cloud only over its HTTP API (docs/api.md): it imports ' +
        'its own modules and packages, never server code; and no server module imports it.',
      severity: 'error',
      from: { path: '^dashboard-web/src/' },
      to: { pathNot: ['^dashboard-web/', '^node_modules/'] },
    },
    {
      name: 'nothing-imports-the-dashboard',
      comment: 'A server module imports dashboard-web/: the dashboard is built by Vite and served as files, never imported.',
      severity: 'error',
      from: { pathNot: ['^dashboard-web/'] },
      to: { path: ['^dashboard-web/'] },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'This import resolves to nothing on disk: a typo, or a package missing from package.json.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-non-package-json',
      comment: 'This module uses an npm package that is not in package.json (it only resolves by hoisting).',
      severity: 'error',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    // The TS tree only: tsconfig.json's folders. Everything below is either generated, runtime state or not TS.
    exclude: { path: ['^(node_modules|dist|\\.run|\\.venv|ml|models|coverage)/', '^bench/results/', '^dashboard-web/dist/'] },
    doNotFollow: { path: ['node_modules'] },
    // Keep type-only imports in the graph (tsc erases them) so the rules above can see and classify them.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['main', 'types', 'typings'],
      extensions: ['.ts', '.tsx', '.js', '.json', '.node'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
