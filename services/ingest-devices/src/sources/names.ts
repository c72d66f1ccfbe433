// The device inventory sources registered in services/ingest-ai/src/sources.ts:
// sources of devices, not AI platforms of people and keys (ingest-ai's `Platform`).
export type DeviceSourceName = 'fleet' | 'intune' | 'jamf';
