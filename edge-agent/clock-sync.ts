/**
 * Before this instant a gateway's clock has not been set: no Luciole gateway ran earlier, and an
 * RTC that lost its battery restarts in 1970 or 2000. 2024-01-01T00:00:00Z.
 */
export const CLOCK_SANE_AFTER = Date.UTC(2024, 0, 1);

/**
 * The clock cannot be trusted to place dusk and dawn: before CLOCK_SANE_AFTER, or the driver (or
 * the OS through it, e.g. timedatectl's NTPSynchronized=no) says it is not synchronised.
 */
export function clockUnsynced(now: number, driverSaysSynced: boolean | undefined): boolean {
  return !(now >= CLOCK_SANE_AFTER) || driverSaysSynced === false;
}
