import { describe, it } from 'vitest';
import { controllerBattery, gatewayBattery } from './invalid-json.js';

describe('battery 3: 10,000 invalid payloads per message type', () => {
  it('controller: 10,000 per up channel', async () => {
    console.log(`[battery] invalid JSON, ${await controllerBattery(10_000)}`);
  });
  it('gateway: 10,000 per down channel', async () => {
    console.log(`[battery] invalid JSON, ${await gatewayBattery(10_000)}`);
  });
});
