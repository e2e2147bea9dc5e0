/**
 * The `ask` entry point (`npm run ask -- "question"`): the only place that reads `process.argv`, hands over
 * the process's streams and Ctrl-C, and sets the exit code.
 */
import { runAskCli } from './ask.ts';

process.exitCode = await runAskCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signals: process,
});
// stdin kept open by a session that ended on Ctrl-C or /exit would keep the process alive.
process.stdin.destroy();
