#!/usr/bin/env node
import { LucioleError } from '../core/errors.js';
import { useFrugalHeap } from '../core/heap.js';
import { main } from './main.js';

useFrugalHeap();

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof LucioleError) {
    process.stderr.write(`luciole: ${e.message} [${e.code}${e.field ? `, field ${e.field}` : ''}]\n`);
    process.exit(2);
  }
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'EADDRINUSE') {
    process.stderr.write(`luciole: port already in use (${err.message}); choose another with --http-port / --mqtt-port\n`);
    process.exit(2);
  }
  process.stderr.write(`luciole: ${err?.stack ?? String(e)}\n`);
  process.exit(1);
});
