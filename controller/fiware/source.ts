import type { ControllerApi } from '../api.js';
import type { FiwareSource } from './entities.js';

/** What the FIWARE export needs, read through the dashboard's view of the controller. */
export function fiwareSourceOf(controller: ControllerApi): FiwareSource {
  const lamps: Array<FiwareSource['lamps'][number]> = [];
  for (const live of controller.listLamps()) {
    const record = controller.getLamp(live.id);
    if (record) lamps.push({ record, live: live.lastTs === null ? undefined : live });
  }
  return {
    town: controller.town(),
    lamps,
    cabinets: controller.listCabinets(),
    alerts: controller.listAlerts(),
    plan: controller.currentPlan(),
  };
}
