// `npm run mutate`: Stryker's CLI (config in stryker.config.mjs, see docs/architecture.md).
// Stryker 10 declares Node >= 22 and refuses to start below it; the project supports Node 20, on
// which Stryker's own code runs fine, so on Node 20 the version check is told 22.
const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  console.warn(`mutate: Node ${process.versions.node} is below Stryker's declared minimum (22); running anyway.`);
  Object.defineProperty(process, 'version', { value: 'v22.0.0' });
}
const { StrykerCli } = await import('@stryker-mutator/core');
new StrykerCli(process.argv).run();
