/**
 * The widget's client for `POST /feedback`: a thumbs up or down on an answer, named by its id.
 */

export type Rating = 'up' | 'down';

export interface SendFeedbackOptions {
  /** The `/feedback` URL. */
  url: string;
  /** Sent as `Authorization: Bearer <key>` when set (`data-key`). */
  key?: string | undefined;
  answerId: string;
  rating: Rating;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
}

/**
 * Sends one rating. Like `askStream`, without a key the body goes as `text/plain` (no CORS preflight).
 *
 * @throws Error when the request fails or the server refuses it
 * @example
 * await sendFeedback({ url: 'https://kb.example/feedback', answerId: 'b1c…', rating: 'up' });
 */
export async function sendFeedback(options: SendFeedbackOptions): Promise<void> {
  const headers: Record<string, string> = options.key
    ? { 'Content-Type': 'application/json', Authorization: `Bearer ${options.key}` }
    : { 'Content-Type': 'text/plain;charset=UTF-8' };
  const response = await (options.fetch ?? fetch)(options.url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ answerId: options.answerId, rating: options.rating }),
    credentials: 'omit',
  });
  if (!response.ok) throw new Error(`the server answered ${response.status}`);
}
