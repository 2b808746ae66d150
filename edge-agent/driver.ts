import type { CabinetMeter, GatewayEvent, LampReading, Presence } from '../protocol/index.js';

/** A detection by a presence sensor, as the driver reports it (the `presence` message minus `v`). */
export type PresenceDetection = Omit<Presence, 'v'>;

/** Something the cabinet hardware observed (door contact, mains): the `event` message minus `v`. */
export type DriverEvent = Omit<GatewayEvent, 'v'>;

export interface DriverReading {
  lamps: LampReading[];
  cabinet?: CabinetMeter;
}

/**
 * The hardware seen by the gateway: simulated today, later Modbus / DALI / LoRaWAN.
 * start() begins observing (sensors, meters), stop() ends it and drops nothing but timers.
 */
export interface LampDriver {
  start(): void;
  stop(): void;
  lampIds(): string[];
  /** Output level 0..100 (% of nominal flux); 0 = off. */
  setLevel(lampId: string, level: number): void;
  /** Readings at clock time `now`; energy counters are integrated up to `now`. */
  read(now: number): DriverReading;
  /** Returns the function that removes the listener. */
  onPresence(listener: (d: PresenceDetection) => void): () => void;
  onEvent(listener: (e: DriverEvent) => void): () => void;
  /**
   * Optional: whether the system clock is synchronised (RTC valid, NTP or GNSS locked), as the
   * hardware or the OS knows it. false puts the gateway in continuous fail-safe lighting.
   */
  clockSynced?(): boolean;
}
