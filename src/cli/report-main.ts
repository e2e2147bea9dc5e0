/**
 * The `report` entry point (`npm run report -- --days 30`): the only place that reads `process.argv` and
 * sets the exit code.
 */
import { runReportCli } from './report.ts';

process.exitCode = await runReportCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
