/**
 * The `keys` entry point (`npm run keys -- create --name NAME`): the only place that reads `process.argv`
 * and sets the exit code.
 */
import { runKeysCli } from './keys.ts';

process.exitCode = await runKeysCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
