/** The `npm run eval` entry point: owns argv and the exit code. */
import { runEvalCli } from './eval-cli.ts';

process.exitCode = await runEvalCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
