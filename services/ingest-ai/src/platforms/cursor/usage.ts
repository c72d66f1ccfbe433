// Cursor usage event (POST /teams/filtered-usage-events) -> AccessEvent: one
// model request by a person or a service account / cloud agent. Usage events
// carry no id, so the dedup key is a hash of the fields the reference names.
import { createHash } from 'node:crypto';
import {
  buildEvent, emptyActor, emptyScope, emptySrc, invalid, rest, safely, str, target, type Json,
} from '../../normalise/common.ts';
import { requireTime, timeText } from '../../normalise/time.ts';
import { API_ACTIVITY, OCSF_CLASS, ocsfClass } from '../../normalise/ocsf.ts';

export const normaliseCursorUsage = safely((rec, ctx) => {
  const time = requireTime('epoch_ms', rec.timestamp, 'cursor usage event');
  const serviceAccountId = str(rec.serviceAccountId);
  const email = str(rec.userEmail);
  const model = str(rec.model);
  if (!serviceAccountId && !email) throw invalid(`cursor usage event at ${timeText(rec.timestamp)}: neither userEmail nor serviceAccountId`);
  const actor = serviceAccountId
    ? { ...emptyActor('service_account'), service_account_id: serviceAccountId, name: str(rec.serviceAccountName) }
    : { ...emptyActor('human'), email };

  return buildEvent(
    {
      sourceEventId: usageEventId(rec),
      time,
      timeRaw: timeText(rec.timestamp)!,
      action: 'model.invoked',
      sourceType: 'usage_event',
      outcome: 'success',
      ocsf: ocsfClass(OCSF_CLASS.apiActivity, API_ACTIVITY.other),
      actor,
      targets: [
        ...target('model', model),
        ...target('cloud_agent', rec.cloudAgentId),
        ...target('automation', rec.automationId),
        ...target('conversation', rec.conversationId),
      ],
      scope: { ...emptyScope(), organization_id: ctx.organizationId ?? null },
      src: emptySrc(),
      // A service account's userEmail is the account's mailbox, not a person: kept here, not in actor.email.
      unmapped: rest(rec, ['timestamp', serviceAccountId ? '' : 'userEmail', 'serviceAccountId', 'serviceAccountName']),
    },
    ctx,
  );
});

/** Uniqueness of this combination is not confirmed by Cursor (reference 3.5). */
export function usageEventId(rec: Json): string {
  const parts = [rec.timestamp, rec.userEmail, rec.serviceAccountId, rec.conversationId, rec.model, rec.chargedCents].map((v) => (v === undefined || v === null ? '' : String(v)));
  return `usage-${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 24)}`;
}
