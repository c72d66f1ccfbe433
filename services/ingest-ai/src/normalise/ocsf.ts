// OCSF 1.8 ids the AI-platform events are aligned to (reference B7): API
// Activity for admin and API actions, Authentication for sign-in/out, User
// Access Management for role and membership grants.
import type { OcsfClass } from '#schemas';

export const OCSF_CLASS = {
  authentication: 3002,
  userAccessManagement: 3005,
  apiActivity: 6003,
} as const;

export const API_ACTIVITY = { unknown: 0, create: 1, read: 2, update: 3, delete: 4, other: 99 } as const;
export const AUTH_ACTIVITY = { logon: 1, logoff: 2, other: 99 } as const;
export const ACCESS_ACTIVITY = { assign: 1, revoke: 2 } as const;
export const SEVERITY = { informational: 1, low: 2, medium: 3 } as const;

/** class_uid = category * 1000 + class; type_uid = class_uid * 100 + activity (reference B1). */
export function ocsfClass(classUid: number, activityId: number, severityId: number = SEVERITY.informational): OcsfClass {
  return {
    category_uid: Math.floor(classUid / 1000),
    class_uid: classUid,
    activity_id: activityId,
    type_uid: classUid * 100 + activityId,
    severity_id: severityId,
  };
}

/** Past-tense verbs the platforms end their types with, to the API Activity they are. */
const VERB_ACTIVITY: Record<string, number> = {};
const verbs = (activity: number, list: string) => {
  for (const verb of list.split(/\s+/).filter(Boolean)) VERB_ACTIVITY[verb] = activity;
};
verbs(API_ACTIVITY.create, 'created added registered sent issued provisioned invited upserted uploaded published minted generated connected granted installed allowlisted assigned');
verbs(API_ACTIVITY.read, 'viewed accessed downloaded listed exported looked_up content_downloaded performed');
verbs(API_ACTIVITY.update, `updated changed toggled activated deactivated enabled disabled accepted rejected attached detached migrated
  completed started resolved requested declined transferred rotated renamed verified re_sent replaced upgraded renewed resumed scheduled
  decided approved instant_approved dismissed bulk_dismissed configured reported unblocked initiated restored regenerated`);
verbs(API_ACTIVITY.delete, 'deleted removed revoked archived disconnected left cancelled unassigned blocklisted removed_from_allowlist deletion_failed');
verbs(API_ACTIVITY.read, 'access_failed validated');
verbs(API_ACTIVITY.create, 'purchased recorded received');
// Outcomes rather than operations: the type names no operation OCSF has.
verbs(API_ACTIVITY.other, 'succeeded failed attempted success invalid signature_invalid blocked');

// Own entries only: verbs come from source type names, and `constructor` is not a verb.
export function apiActivityForVerb(verb: string): number {
  return Object.hasOwn(VERB_ACTIVITY, verb) ? VERB_ACTIVITY[verb]! : API_ACTIVITY.other;
}

export function isKnownVerb(verb: string): boolean {
  return Object.hasOwn(VERB_ACTIVITY, verb);
}
