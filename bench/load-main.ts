/**
 * `npm run load [-- --clients 50 --seconds 30 --questions unique|repeat]`: the bounded load test. Prints
 * the figures as a table and one JSON line; exits 1 when a request failed or memory kept growing.
 */
import { parseArgs } from 'node:util';
import { judgeLoad, runLoad } from './load.ts';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '30' },
    questions: { type: 'string', default: 'unique' },
  },
});
const clients = Number(values.clients);
const seconds = Number(values.seconds);
const questions = values.questions;
if (
  !(Number.isInteger(clients) && clients > 0 && seconds > 0 && seconds <= 600) ||
  (questions !== 'unique' && questions !== 'repeat')
) {
  process.stderr.write(
    'usage: npm run load -- [--clients N] [--seconds 1..600] [--questions unique|repeat]\n',
  );
  process.exit(2);
}

process.stdout.write(
  `load: ${clients} clients for ${seconds} s against POST /ask (fake model, ${questions} questions)\n`,
);
const result = await runLoad({ clients, seconds, questions });
console.table([
  {
    'req/s': result.requestsPerSecond,
    requests: result.requests,
    errors: result.errors,
    'p50 ms': result.p50Ms,
    'p99 ms': result.p99Ms,
    'RSS start MB': result.rssStartMb,
    'RSS warm MB': result.rssWarmMb,
    'RSS end MB': result.rssEndMb,
    'RSS peak MB': result.rssPeakMb,
    'anon RSS end MB': result.anonEndMb,
    'full GCs': result.heapAfterGc.length,
  },
]);
const verdict = judgeLoad(result);
for (const line of verdict.lines) process.stdout.write(`${line}\n`);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exitCode = verdict.ok ? 0 : 1;
