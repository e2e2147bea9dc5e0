import type Database from 'better-sqlite3';
import { normalizeQuestion } from '../text/normalize-question.ts';
import type {
  AskedQuestion,
  Feedback,
  FeedbackStore,
  UnansweredOptions,
  UnansweredQuestion,
} from './feedback-store.ts';

interface UnansweredRow {
  kb: string;
  normalized: string;
  question: string;
  count: number;
  not_found: number;
  thumbs_down: number;
  last_asked_at: string;
  last_comment: string | null;
}

/**
 * Questions that found nothing or were rated down, grouped by knowledge base and normalised question. The
 * latest wording and comment come from correlated subqueries over the same filter; `ORDER BY` puts the
 * most frequent gaps first, then the most recent.
 */
const UNANSWERED_SQL = `
  WITH gaps AS (
    SELECT q.kb, q.normalized, q.question, q.found, q.asked_at, f.rating, f.comment
    FROM asked_questions q LEFT JOIN answer_feedback f ON f.answer_id = q.answer_id
    WHERE (q.found = 0 OR f.rating = 'down')
      AND (@kb IS NULL OR q.kb = @kb) AND (@since IS NULL OR q.asked_at >= @since)
  )
  SELECT g.kb, g.normalized, count(*) AS count,
         sum(g.found = 0) AS not_found, sum(g.rating IS 'down') AS thumbs_down,
         max(g.asked_at) AS last_asked_at,
         (SELECT question FROM gaps l WHERE l.kb = g.kb AND l.normalized = g.normalized
          ORDER BY l.asked_at DESC LIMIT 1) AS question,
         (SELECT comment FROM gaps l WHERE l.kb = g.kb AND l.normalized = g.normalized AND l.comment IS NOT NULL
          ORDER BY l.asked_at DESC LIMIT 1) AS last_comment
  FROM gaps g
  GROUP BY g.kb, g.normalized
  ORDER BY count DESC, last_asked_at DESC
  LIMIT @limit`;

/**
 * The `FeedbackStore` over the service's SQLite connection (see `openSqliteDatabase`; the tables come from
 * its migrations). Statements are prepared once: `recordQuestion` runs on every answer.
 *
 * @example
 * const db = openSqliteDatabase('data/kb.sqlite');
 * const feedback = sqliteFeedbackStore(db);
 * feedback.recordQuestion({ answerId: 'req-1', kb: 'default', question: 'Where are backups?', found: false });
 */
export function sqliteFeedbackStore(db: Database.Database): FeedbackStore {
  const insertQuestion = db.prepare(
    `INSERT OR IGNORE INTO asked_questions (answer_id, kb, question, normalized, found, asked_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const answerKb = db.prepare('SELECT kb FROM asked_questions WHERE answer_id = ?').pluck();
  const deleteAsked = db.prepare('DELETE FROM asked_questions WHERE asked_at < ?');
  const upsertFeedback = db.prepare(
    `INSERT INTO answer_feedback (answer_id, rating, comment, created_at)
     SELECT answer_id, ?, ?, ? FROM asked_questions WHERE answer_id = ?
     ON CONFLICT (answer_id) DO UPDATE SET rating = excluded.rating, comment = excluded.comment,
       created_at = excluded.created_at`,
  );
  const unanswered = db.prepare(UNANSWERED_SQL);
  return {
    recordQuestion(q: AskedQuestion) {
      const now = new Date().toISOString();
      insertQuestion.run(q.answerId, q.kb, q.question, normalizeQuestion(q.question), q.found ? 1 : 0, now);
    },
    answerKb(answerId: string) {
      return answerKb.get(answerId) as string | undefined;
    },
    recordFeedback(f: Feedback) {
      const now = new Date().toISOString();
      return upsertFeedback.run(f.rating, f.comment ?? null, now, f.answerId).changes > 0;
    },
    unanswered(options: UnansweredOptions = {}): UnansweredQuestion[] {
      const rows = unanswered.all({
        kb: options.kb ?? null,
        since: options.since ?? null,
        limit: options.limit ?? 100,
      }) as UnansweredRow[];
      return rows.map((r) => ({
        kb: r.kb,
        normalized: r.normalized,
        question: r.question,
        count: r.count,
        notFound: r.not_found,
        thumbsDown: r.thumbs_down,
        lastAskedAt: r.last_asked_at,
        ...(r.last_comment === null ? {} : { lastComment: r.last_comment }),
      }));
    },
    deleteAskedBefore(cutoff: Date) {
      // Ratings go with their question (ON DELETE CASCADE; foreign keys are on for the connection).
      return deleteAsked.run(cutoff.toISOString()).changes;
    },
  };
}
