import type { RequestHandler } from 'express';
import { z } from 'zod';
import { CALLBACK_DELIVERY_HEADER, CALLBACK_SIGNATURE_HEADER, tenantCallbackSecret } from '@jobline/libs';
import { json, named, operation } from '../http/api-operation';
import { tenantOf } from '../auth/auth';

export const CallbackSecret = z.object({
  secret: z.string(),
  signatureHeader: z.string(),
  deliveryHeader: z.string(),
  scheme: z.string(),
});
export type CallbackSecret = z.infer<typeof CallbackSecret>;

export const getCallbackSecret = operation('get', '/v1/callbacks/secret', {
  operationId: 'getCallbackSecret',
  summary: 'The tenant’s secret for verifying callbacks',
  description:
    'Each `callbackUrl` request carries `Jobline-Signature: t=<unix seconds>,v1=<hex>`, the HMAC-SHA256 of ' +
    '`<t>.<raw body>` keyed with this secret, and `Jobline-Delivery`, the same on every attempt of one delivery. ' +
    'Verify the HMAC in constant time and refuse old timestamps. Requests of `http` jobs and timers carry the same ' +
    '`Jobline-Signature`, with `Idempotency-Key` and `Jobline-Job-Id` (the job id).',
  tags: ['callbacks'],
  responses: {
    '200': { description: 'the secret and how it is used', ...json(named('CallbackSecret', CallbackSecret)) },
  },
});

/** `GET /v1/callbacks/secret`: the tenant's callback secret, derived from the deployment's key. */
export function callbackSecretRoute(signingKey: string): RequestHandler {
  return (req, res) => {
    res.set('Cache-Control', 'no-store').json({
      secret: tenantCallbackSecret(signingKey, tenantOf(req)),
      signatureHeader: CALLBACK_SIGNATURE_HEADER,
      deliveryHeader: CALLBACK_DELIVERY_HEADER,
      scheme: 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the secret>',
    } satisfies CallbackSecret);
  };
}
