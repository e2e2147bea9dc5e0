/**
 * The vocabulary cache: a BytePairEncoder's lookup tables (bpe.ts) saved to one binary file, so that a
 * process counts tokens without loading gpt-tokenizer's rank table.
 *
 * Why: the first count of a process used to `require` the 2.4 MB JavaScript rank table of o200k_base
 * (115 ms in plain Node, 140–180 ms under tsx) and hash its 200k tokens into our tables (70–150 ms), about
 * 0.3 s before the first chunk of an ingest, a third of the time of ingesting a 1 MB documentation folder.
 * Reading the same tables back from this file takes about 15 ms (9 MB, mostly the hash table).
 *
 * The file lives in `node_modules/.cache/kb-answers/`, next to the gpt-tokenizer it was built from, and
 * is named after the rank file's size and mtime and this format's version: another gpt-tokenizer gives
 * another file. It is written once (to a temporary name, then renamed, so a reader never sees half a
 * file); a cache that cannot be read or written (read-only install, full disk) only costs the build.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { dirname, join } from 'node:path';
import type { BpeTables } from './bpe.ts';

/** Bump when the layout below or what bpe.ts keeps in BpeTables changes. */
const FORMAT = 1;
/** 'kbbp': also tells a file written on a machine of the other byte order from ours. */
const MAGIC = 0x6b626270;
const HEADER_WORDS = 8;

/**
 * Where the tables built from the rank table at `ranksPath` are cached; undefined outside a
 * node_modules folder (then nothing is cached).
 *
 * @example
 * cacheFileFor('/app/node_modules/gpt-tokenizer/cjs/bpeRanks/o200k_base.js', 'o200k_base')
 * // '/app/node_modules/.cache/kb-answers/o200k_base-2431443-1763762940000-v1.bin'
 */
export function cacheFileFor(ranksPath: string, name: string): string | undefined {
  const end = Math.max(ranksPath.lastIndexOf('/node_modules/'), ranksPath.lastIndexOf('\\node_modules\\'));
  if (end < 0) return undefined;
  try {
    const { size, mtimeMs } = statSync(ranksPath);
    const root = ranksPath.slice(0, end + '/node_modules'.length);
    return join(root, '.cache', 'kb-answers', `${name}-${size}-${Math.trunc(mtimeMs)}-v${FORMAT}.bin`);
  } catch {
    return undefined;
  }
}

/**
 * Layout, in native int32s: header [MAGIC, FORMAT, pairs, packed, long count, long bytes, 0, 0], then
 * pairs, packed slots, long tokens' ranks, their byte lengths, and their bytes.
 *
 * @example
 * const copy = decodeTables(encodeTables(bpe.tables())); // the same tables
 */
export function encodeTables(tables: BpeTables): Uint8Array {
  const longKeys = [...tables.long.keys()];
  const longBytes = longKeys.reduce((n, k) => n + k.length, 0);
  const words = HEADER_WORDS + tables.pairs.length + tables.packed.length + 2 * longKeys.length;
  const out = new Uint8Array(words * 4 + longBytes);
  const ints = new Int32Array(out.buffer, 0, words);
  ints.set([MAGIC, FORMAT, tables.pairs.length, tables.packed.length, longKeys.length, longBytes]);
  let at = HEADER_WORDS;
  ints.set(tables.pairs, at);
  at += tables.pairs.length;
  ints.set(tables.packed, at);
  at += tables.packed.length;
  let byte = words * 4;
  longKeys.forEach((key, k) => {
    ints[at + k] = tables.long.get(key)!;
    ints[at + longKeys.length + k] = key.length;
    for (let i = 0; i < key.length; i++) out[byte++] = key.charCodeAt(i);
  });
  return out;
}

/** The tables of `encodeTables`, or undefined for any other content (truncated, other format). */
export function decodeTables(file: Uint8Array): BpeTables | undefined {
  if (file.byteLength < HEADER_WORDS * 4) return undefined;
  // Int32Array views need 4-byte alignment: copy the rare buffer that does not start on one.
  const bytes = file.byteOffset % 4 === 0 ? file : file.slice();
  const header = new Int32Array(bytes.buffer, bytes.byteOffset, HEADER_WORDS);
  const [magic, format, pairs, packed, longCount, longBytes] = header as unknown as number[];
  if (magic !== MAGIC || format !== FORMAT) return undefined;
  const words = HEADER_WORDS + pairs! + packed! + 2 * longCount!;
  if (bytes.byteLength !== words * 4 + longBytes!) return undefined;
  const ints = new Int32Array(bytes.buffer, bytes.byteOffset, words);
  let at = HEADER_WORDS;
  const pairTable = ints.subarray(at, (at += pairs!));
  const packedTable = ints.subarray(at, (at += packed!));
  const long = new Map<string, number>();
  // One latin1 decode of all the keys, then slices: a String.fromCharCode per key took 47 ms, this 6–10 ms.
  const keys = Buffer.from(bytes.buffer, bytes.byteOffset + words * 4, longBytes).toString('latin1');
  for (let k = 0, from = 0; k < longCount!; k++) {
    const length = ints[at + longCount! + k]!;
    long.set(keys.slice(from, from + length), ints[at + k]!);
    from += length;
  }
  return { pairs: pairTable, packed: packedTable, long };
}

/** The cached tables at `file`, or undefined when there are none (or they cannot be read). */
export function readCachedTables(file: string): BpeTables | undefined {
  try {
    return decodeTables(readFileSync(file));
  } catch {
    return undefined;
  }
}

/** Saves `tables` to `file` for the next process; failures are ignored (the cache is only a shortcut). */
export function writeCachedTables(file: string, tables: BpeTables): void {
  // Per process and thread: the ingest worker thread may build the same tables as the main thread.
  const temporary = `${file}.${process.pid}-${threadId}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(temporary, encodeTables(tables));
    renameSync(temporary, file);
  } catch {
    rmSync(temporary, { force: true });
    // Read-only or full: counting works the same, the next process builds the tables again.
  }
}
