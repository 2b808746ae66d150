/** Errors with a stable code (LUCIOLE_ERR_*) and, where it applies, the offending field. */
export class LucioleError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'LucioleError';
  }
}
