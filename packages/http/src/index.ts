export { webhook, WebhookSink, backoffDelay, parseRetryAfter, type WebhookStats } from './webhook.js';
export { webhookSource, WebhookSource, type WebhookEvent, type WebhookSourceStats } from './webhook-source.js';
export { sign, verify, secretKey, generateSecret, type VerifyInput } from './signature.js';
export { checkUrl, isPrivateAddress, guardedLookup } from './address-guard.js';
export { HttpError, httpErrorCodes, type HttpErrorCode, type HttpErrorOptions } from './errors.js';
export {
  resolveWebhookOptions,
  resolveWebhookSourceOptions,
  webhookDefaults,
  webhookSourceDefaults,
  type RetryOptions,
  type WebhookOptions,
  type ResolvedWebhookOptions,
  type WebhookSourceOptions,
  type ResolvedWebhookSourceOptions,
} from './options.js';
export { parseFilter, compileFilter, filterParams, FilterError, type FilterNode, type Operand, type Predicate, type Scalar } from './filter.js';
export { Grants, type Grant, type GrantKey, type GrantScope, type GrantsOptions, type IssueOptions } from './grants.js';
export { Gateway } from './gateway.js';
export { publisher, type Publisher, type PublishOptions } from './publisher.js';
export { Subscription, type SubscriptionSpec } from './subscription.js';
export {
  resolveGatewayOptions,
  gatewayDefaults,
  type GatewayOptions,
  type GatewayTopicOptions,
  type ResolvedGatewayOptions,
} from './options.js';
export { runGateway, loadGatewayConfig, type RunGatewayOptions } from './run-gateway.js';
