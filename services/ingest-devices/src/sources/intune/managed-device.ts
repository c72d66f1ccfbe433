// Microsoft Intune managedDevice (Graph v1.0; reference §A3) to a device
// reading. Pure; any JSON value in, a reading or a typed error out.
//
// - Key: serialNumber (`serial:<SERIAL>`, as Fleet and Jamf, so the sources
//   meet on one device); a placeholder or missing serial keys by the Intune
//   id (`intune:<id>`), which is per enrolment.
// - Assignee: userPrincipalName, else emailAddress; a guest's UPN
//   (`…#EXT#@tenant`) is no mailbox, so its emailAddress is taken first.
// - Times: enrolledDateTime starts the enrolment, lastSyncDateTime is the
//   check-in the state was reported at. Intune gives no addresses.
// - managed: an MDM management agent (Exchange ActiveSync alone, or Defender
//   for Endpoint's security settings agent, manage nothing on the device);
//   compliant from complianceState (grace period counts as not compliant;
//   unknown, conflict, error and Configuration Manager's as unknown).
import { deviceKey } from '../../device-reading.ts';
import {
  MAX_HOSTNAME_CHARS, address, guardedRead, identifier, invalid, isObject, observedTime, optionalTime, text, type ReadContext,
} from '../../fields.ts';
import type { DeviceRead } from '../device-inventory.ts';

/** The fields the source asks Graph for ($select). */
export const MANAGED_DEVICE_FIELDS = [
  'id', 'deviceName', 'serialNumber', 'userPrincipalName', 'emailAddress', 'userId', 'operatingSystem', 'osVersion',
  'complianceState', 'managedDeviceOwnerType', 'managementAgent', 'enrolledDateTime', 'lastSyncDateTime', 'azureADDeviceId',
] as const;

const NOT_MDM_AGENTS = new Set(['eas', 'unknown', 'msSense']);
const COMPLIANCE: Readonly<Record<string, boolean>> = { compliant: true, noncompliant: false, inGracePeriod: false };

export function readIntuneDevice(record: unknown, ctx: ReadContext): DeviceRead {
  return guardedRead('managed device', (notes) => {
    if (!isObject(record)) throw invalid('managed device is not an object');
    const id = identifier(record.id, 'id');
    if (id === null) throw invalid('managed device has no id');
    const key = deviceKey(identifier(record.serialNumber, 'serialNumber'), `intune:${id}`);
    const lastSync = observedTime(record.lastSyncDateTime, 'lastSyncDateTime', ctx);
    const enrolledAt = optionalTime(record.enrolledDateTime, 'enrolledDateTime', ctx, notes);
    const checkIn = lastSync ?? enrolledAt;
    if (checkIn === null) throw invalid('managed device has neither a lastSyncDateTime nor an enrolledDateTime');
    const upn = address(record.userPrincipalName, 'userPrincipalName', notes);
    const email = address(record.emailAddress, 'emailAddress', notes);
    const agent = text(record.managementAgent, 'managementAgent');
    const compliance = text(record.complianceState, 'complianceState') ?? '';
    const os = [text(record.operatingSystem, 'operatingSystem'), text(record.osVersion, 'osVersion')].filter((s) => s !== null).join(' ');
    return {
      reading: {
        platform: 'intune',
        recordId: id,
        deviceId: key.deviceId,
        serial: key.serial,
        hostname: identifier(record.deviceName, 'deviceName', MAX_HOSTNAME_CHARS),
        os: os === '' ? null : os,
        managed: agent !== null && !NOT_MDM_AGENTS.has(agent),
        compliant: Object.hasOwn(COMPLIANCE, compliance) ? COMPLIANCE[compliance]! : null,
        // A retired or wiped device leaves the list; what is listed is enrolled.
        active: true,
        assignedEmail: upn !== null && upn.includes('#ext#') && email !== null ? email : (upn ?? email),
        enrolledAt,
        assignedAt: null,
        observations: [{ at: checkIn, ips: [] }],
      },
    };
  });
}
