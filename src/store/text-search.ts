import { queryTerms } from '../text/segment.ts';
import { bm25Score, ftsTable } from './kb-tables.ts';
import type { StatementCache } from './statements.ts';
import type { TextHit } from './store.ts';

/**
 * BM25 search over a knowledge base's `fts_<id>` table, with a bound on the work per query.
 *
 * FTS5 has to score every chunk that matches any term of an OR query before it can sort, at ~0.6 µs of
 * CPU per matching chunk, so at 100k chunks a question containing a word found in a tenth of them costs
 * ~6 ms and one found in most of them ~60 ms. The terms that match the most chunks are also the ones
 * BM25 weighs least (FTS5's IDF is ~0 for a term in over half the chunks), so the search keeps the
 * query's rarest terms, in order of document frequency, while their total document frequency stays
 * within `POSTINGS_BUDGET`, and always keeps at least the rarest one. Queries whose terms match fewer
 * chunks than that in total (most queries on small knowledge bases) lose nothing.
 *
 * Measured at 100k synthetic chunks (with FTS5 sorting every match, before the query below): CPU ms per
 * query and the share of the unpruned top 10 kept: unbounded p50 13-15, p95 43-102, overlap 1; budget
 * 20 000: 12-13, 20-25, 0.93; 10 000: 6-8, 10-14, 0.70-0.78; 5 000: 2-6, 5-8, 0.42-0.59. And by
 * whether the chunk a question was taken from (its opening words) is in the top 10 (400 questions, one
 * run): unbounded 0.675 at p50 28 ms; 10 000: 0.650 at 8.0 ms; 8 000: 0.635 at 7.0 ms; 7 000: 0.625 at
 * 6.2 ms; 5 000: 0.565 at 4.2 ms. The query below takes ~40% less at every budget.
 *
 * Document frequencies are counted with FTS5 itself (a `MATCH` on the single term, which applies the
 * same tokenizer and stemmer as indexing), capped just past the budget, and cached per knowledge base.
 * Counting a common word costs up to ~1 ms at 100k chunks, so a freshly opened knowledge base answers
 * its first few hundred questions ~30% slower; the cache therefore survives writes that change the
 * number of chunks by at most `RECOUNT_CHANGE` since it was filled (an ingest run that edits a few
 * files), and is refilled after larger ones. A stale count only moves the cut between kept and left-out
 * terms for words near it; the scores of the kept terms are always FTS5's own.
 */

/**
 * The most matching chunks (summed over kept terms) one query scores: the latency/ranking trade-off
 * above, chosen for the 10 ms retrieval target at 100k chunks (whole retrieval p50 ~8.7 ms there, of
 * which vector search ~2 ms).
 */
export const POSTINGS_BUDGET = 10_000;
/** Cached document frequencies per knowledge base, at most; the cache is cleared when full. */
const MAX_CACHED_TERMS = 10_000;
/** Share of the chunk count a knowledge base may change by before its cached frequencies are recounted. */
export const RECOUNT_CHANGE = 0.1;

interface FrequencyCache {
  revision: number;
  /** Chunks in the knowledge base when the cache was started. */
  chunkCount: number;
  frequencies: Map<string, number>;
}

/**
 * The FTS5 query for these terms: each quoted (so no user text is read as FTS5 syntax), OR-joined.
 * Kept terms come from `queryTerms`, so index and query segment CJK text alike.
 *
 * @example
 * orExpression(['rebuild', '知识']) // '"rebuild" OR "知识"'
 */
export function orExpression(terms: readonly string[]): string {
  return terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' OR ');
}

/**
 * @example
 * const search = new TextSearch(new StatementCache(db));
 * search.search({ id: kb.id, revision: kb.revision, chunkCount: 120 }, 'how do I configure the proxy', 10); // [{ chunkId, score }, ...]
 */
export class TextSearch {
  readonly #statements: StatementCache;
  readonly #budget: number;
  readonly #caches = new Map<number, FrequencyCache>();

  /** `postingsBudget` (default `POSTINGS_BUDGET`) exists for benchmarks that trade ranking for time. */
  constructor(statements: StatementCache, options: { postingsBudget?: number } = {}) {
    this.#statements = statements;
    this.#budget = options.postingsBudget ?? POSTINGS_BUDGET;
  }

  /**
   * BM25 hits for raw user text, best first; `[]` when it has no searchable terms. `kb.chunkCount`
   * bounds every term's document frequency: when even that many per term fits the budget, no term is
   * dropped and their frequencies are not counted (small knowledge bases).
   */
  search(kb: { id: number; revision: number; chunkCount: number }, query: string, k: number): TextHit[] {
    const terms = queryTerms(query);
    if (terms.length === 0 || k <= 0) return [];
    const table = ftsTable(kb.id);
    const affordable = terms.length === 1 || terms.length * kb.chunkCount <= this.#budget;
    const kept = affordable ? terms : this.#affordableTerms(kb, terms);
    // bm25() as a column, ordered outside FTS5: `ORDER BY rank` makes FTS5 sort every match before the
    // LIMIT applies, while SQLite's own sorter keeps only the best k. Same hits, ~40% less time at 100k
    // chunks (p50 6.9 → 4.3 ms for the same queries).
    const rows = this.#statements
      .get(
        `SELECT id, score FROM (
           SELECT rowid AS id, ${bm25Score(table)} AS score FROM ${table} WHERE ${table} MATCH ?)
         ORDER BY score LIMIT ?`,
      )
      .all(orExpression(kept), k) as { id: number; score: number }[];
    return rows.map((r) => ({ chunkId: r.id, score: -r.score }));
  }

  /** Drops a knowledge base's frequency cache (after the knowledge base is deleted). */
  forget(kbId: number): void {
    this.#caches.delete(kbId);
  }

  /** The rarest terms whose document frequencies fit the budget (at least one), in query order. */
  #affordableTerms(kb: { id: number; revision: number; chunkCount: number }, terms: string[]): string[] {
    const frequencies = this.#frequencies(kb);
    const table = ftsTable(kb.id);
    const count = this.#statements
      .get(`SELECT count(*) FROM (SELECT 1 FROM ${table} WHERE ${table} MATCH ? LIMIT ?)`)
      .pluck();
    const withFrequency = terms.map((term, position) => {
      let frequency = frequencies.get(term);
      if (frequency === undefined) {
        // Capped one past the budget: beyond that the exact number no longer changes the choice.
        frequency = count.get(orExpression([term]), this.#budget + 1) as number;
        if (frequencies.size >= MAX_CACHED_TERMS) frequencies.clear();
        frequencies.set(term, frequency);
      }
      return { term, position, frequency };
    });
    withFrequency.sort((a, b) => a.frequency - b.frequency || a.position - b.position);
    const kept: typeof withFrequency = [];
    let total = 0;
    for (const entry of withFrequency) {
      if (kept.length > 0 && total + entry.frequency > this.#budget) break;
      kept.push(entry);
      total += entry.frequency;
    }
    return kept.sort((a, b) => a.position - b.position).map((e) => e.term);
  }

  #frequencies(kb: { id: number; revision: number; chunkCount: number }): Map<string, number> {
    const cache = this.#caches.get(kb.id);
    if (cache?.revision === kb.revision) return cache.frequencies;
    if (cache && Math.abs(kb.chunkCount - cache.chunkCount) <= cache.chunkCount * RECOUNT_CHANGE) {
      cache.revision = kb.revision;
      return cache.frequencies;
    }
    const fresh = {
      revision: kb.revision,
      chunkCount: kb.chunkCount,
      frequencies: new Map<string, number>(),
    };
    this.#caches.set(kb.id, fresh);
    return fresh.frequencies;
  }
}
