#!/usr/bin/env node
// The `ingest` bin: TypeScript sources run through tsx, as `npm run ingest` does.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
