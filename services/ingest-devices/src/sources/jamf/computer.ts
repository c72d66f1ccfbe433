// Jamf Pro computers inventory (`/api/v1/computers-inventory`, sections
// GENERAL, HARDWARE, USER_AND_LOCATION; reference §A4) to a device reading.
// Pure; any JSON value in, a reading or a typed error out.
//
// - Key: hardware.serialNumber (`serial:<SERIAL>`, as Fleet and Intune);
//   else the Jamf id (`jamf:<id>`), which changes when the record is recreated.
// - Assignee: userAndLocation.email (set by an admin or from the directory).
// - Addresses: general.lastReportedIp (the device's own, sent with its
//   inventory report) at reportDate, general.lastIpAddress (the address the
//   server saw it from) at lastContactTime; when only one time is given,
//   both at it.
// - managed: general.remoteManagement.managed. Compliance is not in these
//   sections: unknown.
import { deviceKey, type Observation } from '../../device-reading.ts';
import {
  MAX_HOSTNAME_CHARS, address, field, flag, guardedRead, identifier, invalid, ipAddresses, isObject, observedTime, optionalTime, text, type ReadContext,
} from '../../fields.ts';
import type { DeviceRead } from '../device-inventory.ts';

export const COMPUTER_SECTIONS = ['GENERAL', 'HARDWARE', 'USER_AND_LOCATION'] as const;

export function readJamfComputer(record: unknown, ctx: ReadContext): DeviceRead {
  return guardedRead('computer', (notes) => {
    if (!isObject(record)) throw invalid('computer is not an object');
    const id = identifier(record.id, 'id');
    if (id === null) throw invalid('computer has no id');
    const general = record.general;
    const key = deviceKey(identifier(field(record.hardware, 'serialNumber'), 'hardware.serialNumber'), `jamf:${id}`);
    const reported = observedTime(field(general, 'reportDate'), 'general.reportDate', ctx);
    const contacted = observedTime(field(general, 'lastContactTime'), 'general.lastContactTime', ctx);
    const own = ipAddresses([['general.lastReportedIp', field(general, 'lastReportedIp')]], notes);
    const seenFrom = ipAddresses([['general.lastIpAddress', field(general, 'lastIpAddress')]], notes);
    const observations: Observation[] =
      reported && contacted ? [{ at: reported, ips: own }, { at: contacted, ips: seenFrom }]
      : reported ?? contacted ? [{ at: (reported ?? contacted)!, ips: [...new Set([...own, ...seenFrom])] }]
      : [];
    if (observations.length === 0) throw invalid('computer has neither a general.reportDate nor a general.lastContactTime');
    const os = [text(field(record.operatingSystem, 'name'), 'operatingSystem.name'), text(field(record.operatingSystem, 'version'), 'operatingSystem.version')].filter((s) => s !== null).join(' ');
    return {
      reading: {
        platform: 'jamf',
        recordId: id,
        deviceId: key.deviceId,
        serial: key.serial,
        hostname: identifier(field(general, 'name'), 'general.name', MAX_HOSTNAME_CHARS),
        os: os === '' ? text(field(general, 'platform'), 'general.platform') : os,
        managed: flag(field(field(general, 'remoteManagement'), 'managed')) === true,
        compliant: null,
        active: true,
        assignedEmail: address(field(record.userAndLocation, 'email'), 'userAndLocation.email', notes),
        enrolledAt: optionalTime(field(general, 'lastEnrolledDate'), 'general.lastEnrolledDate', ctx, notes),
        assignedAt: null,
        observations,
      },
    };
  });
}
