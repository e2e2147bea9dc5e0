/**
 * What the service remembers about answers after sending them: each question asked (so that feedback can
 * name an answer by its id, and the report can find what the knowledge base lacks) and each rating.
 * `sqlite-feedback-store.ts` implements it; a PostgreSQL backend can implement the same contract.
 */

/** One complete answer, recorded when it was sent. */
export interface AskedQuestion {
  /** The answer's `id` (the request id). */
  answerId: string;
  kb: string;
  question: string;
  found: boolean;
}

export type Rating = 'up' | 'down';

export interface Feedback {
  answerId: string;
  rating: Rating;
  comment?: string | undefined;
}

/** One line of the unanswered-questions report: a normalised question and how often it went unanswered. */
export interface UnansweredQuestion {
  kb: string;
  /** `normalizeQuestion` of the question: the grouping key. */
  normalized: string;
  /** The most recent wording asked. */
  question: string;
  /** Times asked and not found, plus times asked, found and rated down. */
  count: number;
  notFound: number;
  thumbsDown: number;
  /** ISO 8601 UTC of the most recent such asking. */
  lastAskedAt: string;
  /** The most recent comment left with a thumbs-down, if any. */
  lastComment?: string;
}

export interface UnansweredOptions {
  /** Only this knowledge base; default all. */
  kb?: string | undefined;
  /** Most lines, the most frequent first; default 100. */
  limit?: number | undefined;
  /** Only askings at or after this ISO 8601 time; default all. */
  since?: string | undefined;
}

export interface FeedbackStore {
  recordQuestion(question: AskedQuestion): void;
  /**
   * Records (or replaces: the last rating counts) the feedback on an answer.
   * @returns false when no answer has this id
   */
  recordFeedback(feedback: Feedback): boolean;
  /** The knowledge base an answer came from; undefined when no answer has this id (or it was deleted). */
  answerKb(answerId: string): string | undefined;
  unanswered(options?: UnansweredOptions): UnansweredQuestion[];
  /** Deletes the questions asked before `cutoff`, with their ratings; returns how many questions. */
  deleteAskedBefore(cutoff: Date): number;
}
