export { openPortalAudit, type PortalAudit } from '../features/audit/service.ts';
export { createPortal, type Portal, type PortalOptions, portalFileKek } from './app.ts';
export { OPERATOR_TENANT } from './context.ts';
export { type MailTransport, memoryTransport, smtpTransport, startSmtpSink } from './mail.ts';
export {
  type RelayGateway,
  RelayGatewayError,
  type RelayGatewayOptions,
  relayGateway,
} from './relay-gateway.ts';
export { type SmsTransport, smsSink } from './sms.ts';
