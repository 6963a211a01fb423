// hookd's domain: the words, the records and the rules that every other part shares. It
// depends on nothing else of hookd's; config, store, signing, routing, delivery and API
// import it.
//
// Glossary
//   application   one of the user's customers (a tenant); everything below belongs to one
//   subscription  a target URL with its secret, event-type filter and delivery settings
//                 (an "endpoint" elsewhere)
//   destination   where a subscription's deliveries go when not to an HTTP target URL: a
//                 RabbitMQ exchange, a NATS JetStream subject or a Redis stream
//   event         one ingested payload, kept as the exact bytes received
//   delivery      one event bound for one subscription; the unit of work of the queue
//   attempt       one try of a delivery (an HTTP request), with its outcome
//   lease         a claim on a delivery by one worker: a random token and an expiry.
//                 Outcomes are written only while the token still matches (fencing).
//   circuit       a subscription's breaker: open after consecutive failures, probed after a
//                 cool-down
//   operational event  something hookd tells operators (delivery.failed, subscription.disabled)
//
// Times are integers: milliseconds since the Unix epoch, UTC. They come from the caller's
// clock so that retry schedules can be tested without waiting.
export * from './api-key.ts';
export * from './application.ts';
export * from './delivery.ts';
export * from './destination.ts';
export * from './event-type.ts';
export * from './operational-event.ts';
export * from './policies.ts';
export * from './secret.ts';
export * from './subscription.ts';
