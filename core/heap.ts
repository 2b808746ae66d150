import v8 from 'node:v8';

/**
 * Asks V8 to grow the heap by half at most between full collections. By default it lets the heap
 * reach about 4× what survived the last one before collecting again: for a 100,000-lamp town,
 * RSS peaked at 478–484 MB with about 125 MB live. With 50 % it stays near 300 MB, and the
 * ingest ceiling did not move (docs/performance.md). Called first thing by every process that
 * runs Luciole: the `luciole` command, and the bench's server process, which stands for it.
 */
export function useFrugalHeap(): void {
  v8.setFlagsFromString('--heap-growing-percent=50');
}
