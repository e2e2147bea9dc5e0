/**
 * Closed-loop HTTP load: `clients` workers, each sending its next request as soon as the previous one is
 * answered, until `seconds` have passed. Bounded in time: it stops by itself.
 */

export interface ClientLoadOptions {
  /** The URL every request goes to. */
  url: string;
  clients: number;
  seconds: number;
  /** The JSON body of the `i`-th request (0-based, counted across all clients). */
  body: (i: number) => unknown;
  /** Called about once a second while the load runs (memory sampling). */
  onTick?: () => void;
}

export interface ClientLoadResult {
  /** Latency of every request, in milliseconds. */
  times: number[];
  /** Requests that did not answer 200 (or did not answer). */
  errors: number;
  /** Statuses of the failed requests, `0` for network errors, with counts. */
  errorStatuses: Record<string, number>;
  elapsedSeconds: number;
}

/**
 * Runs the load and returns every latency. Bodies are drained, so keep-alive connections are reused.
 *
 * @example
 * const { times, errors } = await runClients({ url: `${url}/ask`, clients: 50, seconds: 30, body: (i) => ({ question: `q${i}` }) });
 */
export async function runClients(options: ClientLoadOptions): Promise<ClientLoadResult> {
  const deadline = performance.now() + options.seconds * 1000;
  const times: number[] = [];
  const errorStatuses: Record<string, number> = {};
  let errors = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const t = performance.now();
      const res = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(options.body(next++)),
      }).catch(() => undefined);
      await res?.text();
      if (res?.status !== 200) {
        errors += 1;
        const status = String(res?.status ?? 0);
        errorStatuses[status] = (errorStatuses[status] ?? 0) + 1;
      }
      times.push(performance.now() - t);
    }
  };
  const ticker = options.onTick ? setInterval(options.onTick, 1000) : undefined;
  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: options.clients }, worker));
  } finally {
    clearInterval(ticker);
  }
  return { times, errors, errorStatuses, elapsedSeconds: (performance.now() - started) / 1000 };
}
