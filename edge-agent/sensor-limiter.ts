/**
 * At most `max` detections per sensor in each window of `windowMs`: a chattering or tampered
 * sensor cannot flood the uplink or the controller's relay. Presence only ever raises light, so
 * what is dropped costs nothing but a refreshed hold. Pure: time is passed in.
 */
export class SensorLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private droppedCount = 0;

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    /** Sensors remembered at most (a gateway has at most 2000 lamps). */
    private readonly maxSensors = 10_000,
  ) {}

  allow(sensorId: string, now: number): boolean {
    let w = this.windows.get(sensorId);
    // A clock stepped back restarts the window rather than blocking the sensor until it catches up.
    if (!w || now - w.start >= this.windowMs || now < w.start) {
      if (!w && this.windows.size >= this.maxSensors) this.windows.clear();
      w = { start: now, count: 0 };
      this.windows.set(sensorId, w);
    }
    if (w.count >= this.max) {
      this.droppedCount++;
      return false;
    }
    w.count++;
    return true;
  }

  get dropped(): number {
    return this.droppedCount;
  }
}
