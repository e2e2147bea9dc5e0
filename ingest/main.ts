/**
 * The ingest entry point: the only place that reads `process.argv` and sets the exit code.
 * `npm run ingest -- ./docs` and the `ingest` bin both land here.
 */
import { runIngestCli } from './cli.ts';

process.exitCode = await runIngestCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
