/**
 * The floor under `/ask` throughput: an HTTP server that does none of the service's work, run as a child
 * process by the ask benchmark (`node --import tsx bench/floor-server.ts MODE [MODEL_URL]`). It prints
 * `listening PORT` once it listens.
 *
 * - `bare`: node:http reads the JSON body and answers a JSON object the size of an `/ask` answer.
 * - `sdk`: the same, after one non-streamed chat completion through the official `openai` SDK at
 *   MODEL_URL, as a JSON `/ask` makes with a model configured.
 *
 * What a request costs here (server CPU, and load generator plus fake model CPU in the bench process) is
 * the part of `/ask`'s cost no retrieval or prompt work can remove on this machine.
 */
import { createServer } from 'node:http';
import OpenAI from 'openai';

const [mode, modelUrl] = process.argv.slice(2);
if (mode !== 'bare' && !(mode === 'sdk' && modelUrl)) {
  console.error('usage: floor-server.ts bare | sdk MODEL_URL');
  process.exit(2);
}
const client = mode === 'sdk' ? new OpenAI({ apiKey: 'sk-bench', baseURL: modelUrl, maxRetries: 0 }) : null;
// About the size of a JSON `/ask` answer over the sample guide (six sources with snippets).
const padding = 'x'.repeat(3000);

const server = createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  const { question } = JSON.parse(body) as { question: string };
  let answer = question;
  if (client) {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: question }],
    });
    answer = completion.choices[0]?.message.content ?? '';
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ answer, padding }));
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : ''}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
