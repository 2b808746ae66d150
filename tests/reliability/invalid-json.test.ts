import { describe, it } from 'vitest';
import { controllerBattery, gatewayBattery } from './invalid-json.js';

// The quick run of battery 3; invalid-json.soak.ts runs it at 10,000 per message type.
describe('battery 3 (quick): invalid payloads into the controller and a gateway', () => {
  it('controller: 1,000 invalid payloads per up channel', async () => {
    console.log(`[battery] invalid JSON (quick), ${await controllerBattery(1000)}`);
  }, 60_000);
  it('gateway: 1,000 invalid payloads per down channel', async () => {
    console.log(`[battery] invalid JSON (quick), ${await gatewayBattery(1000)}`);
  }, 60_000);
});
