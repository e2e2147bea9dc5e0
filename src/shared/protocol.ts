/**
 * The wire protocol of `/ask`, defined once: the server, the widget, the CLIs and the tests import these
 * types (the widget with `import type`, so nothing here may need a runtime dependency).
 */

export type Role = 'user' | 'assistant';

export interface HistoryMessage {
  role: Role;
  content: string;
}

/** `POST /ask` body. */
export interface AskRequest {
  question: string;
  /** Knowledge base name; default `default`. */
  kb?: string;
  /** Earlier turns, oldest first; the server trims them to the model's token budget, oldest first. */
  history?: HistoryMessage[];
  /** Answer as server-sent events (also chosen by `Accept: text/event-stream`). */
  stream?: boolean;
  /** Most sources to use, 1 to 20; default `TOP_K`. */
  topK?: number;
  /** Sampling temperature, 0 to 2; default `TEMPERATURE`. */
  temperature?: number;
  /** A chat model from `ALLOWED_MODELS`; default `CHAT_MODEL`. */
  model?: string;
  /**
   * Continue this server-side conversation (the `conversationId` of an earlier response): the server
   * supplies its history, so `history` must not be sent with it. Without it a new conversation starts.
   */
  conversationId?: string;
}

/** A passage the answer may cite as `[index]`. */
export interface Source {
  /** 1-based, the `n` of `[n]` in the answer. */
  index: number;
  documentId: number;
  /** Path of the document relative to the ingested folder. */
  path: string;
  title: string;
  /** Heading path of the passage (`Guide > Install`), '' when none. */
  heading: string;
  /** The passage, shortened for display. */
  snippet: string;
  /** Fused retrieval score (reciprocal rank fusion); only comparable within one answer. */
  score: number;
  /** 1-based page, for PDFs. */
  page?: number;
  /** Link to the document when `SOURCE_BASE_URL` is set. */
  url?: string;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** `POST /ask` 200 response, and the payload of the `done` stream event. */
export interface AskResponse {
  id: string;
  answer: string;
  sources: Source[];
  /** False when the knowledge base had nothing relevant: `answer` is then the not-found message. */
  found: boolean;
  /** `llm`: written by the chat model; `extractive`: quoted from the sources (no chat model configured). */
  mode: 'llm' | 'extractive';
  usage: Usage;
  /** The chat model that answered, or `extractive`. */
  model: string;
  kb: string;
  /**
   * The server-side conversation this turn was stored in; send it back to continue. Always present on
   * `/ask` responses; absent only where no conversation is kept (`answerQuestion` used locally).
   */
  conversationId?: string;
  /**
   * True when served from the answer cache (nothing was sent upstream, `usage` is zero): the same
   * normalised question, knowledge base revision and model settings, without history, within
   * `CACHE_TTL_SECONDS`.
   */
  cached?: boolean;
}

/** One turn of a stored conversation. */
export interface TranscriptMessage {
  role: Role;
  content: string;
  /** The sources an assistant turn cited by `[n]`. */
  sources?: Source[];
  /** ISO 8601 UTC. */
  createdAt: string;
}

/** `GET /conversations/:id` 200 response. */
export interface ConversationTranscript {
  id: string;
  kb: string;
  /** ISO 8601 UTC. */
  createdAt: string;
  /** ISO 8601 UTC of the last turn; the conversation is deleted `CONVERSATION_RETENTION_DAYS` after it. */
  updatedAt: string;
  /** Oldest first. */
  messages: TranscriptMessage[];
}

export interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}

/**
 * Server-sent events of a streamed answer, in order: one `sources`, any number of `delta`, then exactly
 * one `done` or `error`.
 */
export interface StreamEvents {
  sources: { sources: Source[] };
  delta: { text: string };
  done: AskResponse;
  error: ErrorBody;
}

export type StreamEventName = keyof StreamEvents;
