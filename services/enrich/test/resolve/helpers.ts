import type { ConnectorVersion, DeviceVersion, NonHumanIdentityVersion, PersonVersion } from '#schemas';
import { IdentityStore } from '../../src/store/identity-store.ts';
import { keyOf } from '../fixtures/identities.ts';

type AnyVersion = PersonVersion | DeviceVersion | NonHumanIdentityVersion | ConnectorVersion;

/** A store holding the given versions, applied in the given (possibly shuffled) order. */
export function storeWith(...versions: AnyVersion[]): IdentityStore {
  const store = new IdentityStore();
  for (const v of versions) {
    if ('person_id' in v) store.apply('identityUsers', keyOf(v), v);
    else if ('device_id' in v) store.apply('identityDevices', keyOf(v), v);
    else if ('nhi_id' in v) store.apply('identityNhi', keyOf(v), v);
    else store.apply('identityConnectors', keyOf(v), v);
  }
  return store;
}
