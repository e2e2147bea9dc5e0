// The chunk worker's entry point (see chunk-pool.ts). Worker threads do not inherit tsx's module hooks on
// Node 20 (and `execArgv: ['--import', 'tsx']` fails there), so register them here, as bin.js does.
import { register } from 'tsx/esm/api';

register();
await import('./chunk-worker.ts');
